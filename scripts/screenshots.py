"""Copy the main page screenshots of the last e2e run into docs/screenshots/, small enough to commit.

The browser tests (tests/e2e/test_pages.py, test_auth.py) write a full-page PNG of every page they
visit to test-artifacts/screenshots/. This picks the README's five, crops each to at most
MAX_HEIGHT pixels (the top of a page is what a reader looks at), scales to at most MAX_WIDTH,
reduces to a 256-colour palette and writes an optimised PNG under MAX_BYTES.

    python scripts/screenshots.py            # after: python -m pytest tests/e2e -k "pages or logout"
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "test-artifacts" / "screenshots"
TARGET = REPO / "docs" / "screenshots"
MAX_WIDTH = 1400
MAX_HEIGHT = 2000
MAX_BYTES = 300_000

# docs name -> screenshot written by the e2e run
MAIN = {
    "login.png": "登录.png",
    "overview.png": "管理员_总览.png",
    "scorecards.png": "管理员_单位考评.png",
    "tasks.png": "管理员_任务督办.png",
    "requests.png": "管理员_共享申请.png",
}


def shrink(source: Path, target: Path) -> int:
    image = Image.open(source).convert("RGB")
    if image.height > MAX_HEIGHT:
        image = image.crop((0, 0, image.width, MAX_HEIGHT))
    if image.width > MAX_WIDTH:
        image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.LANCZOS)
    for colours in (256, 128, 64):
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        if target.stat().st_size <= MAX_BYTES:
            break
    while target.stat().st_size > MAX_BYTES and image.height > 600:
        image = image.crop((0, 0, image.width, int(image.height * 0.8)))
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    return target.stat().st_size


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    missing = [src for src in MAIN.values() if not (SOURCE / src).is_file()]
    if missing:
        print(f"missing in {SOURCE}: {', '.join(missing)} (run the e2e suite first)", file=sys.stderr)
        return 1
    for name, src in MAIN.items():
        size = shrink(SOURCE / src, TARGET / name)
        print(f"{TARGET / name}: {size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
