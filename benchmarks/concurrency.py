"""Concurrency benchmark: `bash scripts/cli benchmarks.concurrency --sessions 12 --db FILE`.

Issue 13's target: "12 concurrent sessions plus an import at county scale: median page < 1 s,
p95 < 3 s, no error". This is judged by a run of this script, by hand, not by a test.

What it does, with the machinery of the browser tests (tests/e2e: Debian's /usr/bin/chromium
driven by Playwright, never a downloaded browser):
- copies `--db` into a temporary folder (the file given is never written), adds the logins of the
  browser tests there through `python -m data user add` (the office 管理员 and a 领导);
- starts the real server on the copy (`python -m streamlit run serve.py`, as the harness does);
- opens `--sessions` reader sessions (own browser context each: own cookies, own Streamlit
  session; a quarter of them as the office, the rest as the leader; logging in two at a time),
  and once all are in, each visits the pages in turn (`--pages`), over and over;
- one more session, the office's, uploads a `--import-rows` request workbook on 数据导入 and
  confirms it (`python -m data import` is refused while the server holds the database, so the
  import goes through the page, as tests/e2e/test_concurrency.py does) once the readers have
  made their first round;
- the readers stop `--after` seconds after the import finished (or at `--limit`).

A page time is from the click on the menu entry to the end of the script run it causes (the same
measure as the browser tests). Printed: the data size, the load average before and after, the
median / p95 / max page time overall, while the import ran and per page, the import's duration,
and every error (an exception or traceback on a page, a timeout, a failed login or import).
Exit code 1 when any error happened.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from e2e_harness import (  # noqa: E402
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    LEADER,
    StreamlitServer,
    add_user,
    copy_db,
    db_values,
)
from e2e_workbooks import requests_workbook  # noqa: E402
from test_concurrency import READ_PAGES, Tally, check_page, importer, login, nav  # noqa: E402


@dataclass
class Timeline:
    """Every page time with the moment it ended, and the import's window."""

    times: list[tuple[float, str, float]] = field(default_factory=list)  # (ended at, page, seconds)
    import_window: tuple[float, float] | None = None


@dataclass
class Gate:
    """Logins two at a time (the first load of a session fetches the app's scripts: a dozen at
    once on a loaded 2-core machine time out), and the reading starts once every session is in."""

    sessions: int
    logins: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    arrived: int = 0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    def arrive(self) -> None:
        self.arrived += 1
        if self.arrived >= self.sessions:
            self.all_in.set()


async def reader(browser, url, account, who, tally: Tally, line: Timeline, pages, stop: asyncio.Event,
                 first_round: asyncio.Event, gate: Gate) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_navigation_timeout(180_000)
    page = await context.new_page()
    try:
        try:
            async with gate.logins:
                await login(page, url, account)
        finally:
            gate.arrive()  # a failed login is an error of the run, not a reason to wait forever
        await gate.all_in.wait()
        failures = 0
        while failures < 3 and not stop.is_set():
            for title in pages:
                try:
                    seconds = await nav(page, title)
                    if await check_page(page, who, tally):
                        tally.op(seconds)
                        line.times.append((time.monotonic(), title, seconds))
                    failures = 0
                except Exception as exc:  # a timeout or a vanished element is an error of the run
                    tally.error(who, f"{title}: {exc!r}")
                    failures += 1
                if stop.is_set():
                    break
            first_round.set()
    except Exception as exc:
        tally.error(who, f"session: {exc!r}")
    finally:
        await context.close()


async def run(url: str, sessions: int, pages: list[str], book: Path | None, after: float, limit: float,
              tally: Tally, line: Timeline, result: dict) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stop, first_round, gate = asyncio.Event(), asyncio.Event(), Gate(sessions)
        offices = max(1, sessions // 4)

        async def later(n: float, coro):
            await asyncio.sleep(n)
            await coro

        readers = [asyncio.create_task(later(n, reader(
            browser, url, ADMIN if n < offices else LEADER, f"{'office' if n < offices else 'leader'}{n}",
            tally, line, pages, stop, first_round, gate))) for n in range(sessions)]
        started = time.monotonic()
        if book is not None:
            try:
                await asyncio.wait_for(first_round.wait(), timeout=limit)
            except TimeoutError:
                tally.error("run", "no reader finished a round")
            began = time.monotonic()
            try:
                await asyncio.wait_for(importer(browser, url, book, "office-import", tally, result),
                                       timeout=max(1.0, limit - (began - started)))
            except TimeoutError:
                tally.error("office-import", f"not done within {limit:.0f}s of the start")
            line.import_window = (began, time.monotonic())
        remaining = limit - (time.monotonic() - started)
        await asyncio.sleep(max(0.0, min(after, remaining)))
        stop.set()
        await asyncio.gather(*readers, return_exceptions=True)
        await browser.close()


def _stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    ordered = sorted(values)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return (f"n={len(ordered)} median={statistics.median(ordered):.2f}s p95={p95:.2f}s "
            f"max={ordered[-1]:.2f}s")


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the database to copy and serve (e.g. a county demo database)")
    parser.add_argument("--sessions", type=int, default=12, help="reader sessions (default 12)")
    parser.add_argument("--pages", nargs="+", default=READ_PAGES, help="menu entries each reader visits in turn")
    parser.add_argument("--import-rows", type=int, default=3000, help="rows of the imported workbook (0: no import)")
    parser.add_argument("--after", type=float, default=60.0, help="seconds the readers go on after the import")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds after which the run stops anyway")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        folder = Path(tmp)
        db = copy_db(Path(args.db), folder / "bench.duckdb")
        for account in (ADMIN, LEADER):
            add_user(db, account)
        units, requests = db_values(db, "SELECT count(*) FROM units", "SELECT count(*) FROM share_requests")
        book = requests_workbook(folder / "共享申请-并发导入.xlsx", args.import_rows, prefix="BENCH") \
            if args.import_rows else None
        print(f"data: {units} units, {requests} requests ({args.db}); {args.sessions} reader sessions, "
              f"pages {' '.join(args.pages)}; import of {args.import_rows} rows; load before {_load()}", flush=True)
        server = StreamlitServer(db, folder, "server").start()
        tally, line, result = Tally(), Timeline(), {}
        started = time.monotonic()
        try:
            asyncio.run(run(server.url, args.sessions, args.pages, book, args.after, args.limit, tally, line, result))
        finally:
            alive = server.alive()
            server.stop()
        wall = time.monotonic() - started
        if not alive:
            tally.error("server", "died under load")
        if book is not None and not result.get("ok"):
            tally.error("office-import", "the import did not complete")

    times = [s for _, _, s in line.times]
    print(f"wall {wall:.0f}s, load after {_load()}, operations {tally.ops}, errors {tally.error_count}")
    print(f"page times, all:          {_stats(times)}")
    if line.import_window:
        begin, end = line.import_window
        during = [s for at, _, s in line.times if at >= begin and at - s <= end]  # overlapping it
        print(f"page times, during import: {_stats(during)}; import {result.get('seconds', float('nan')):.1f}s "
              f"(upload, check, confirm)")
    for title in args.pages:
        print(f"  {title}: {_stats([s for _, t, s in line.times if t == title])}")
    for error in tally.errors:
        print(f"error: {error}")
    return 1 if tally.error_count else 0


if __name__ == "__main__":
    raise SystemExit(main())
