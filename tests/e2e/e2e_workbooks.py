"""Workbooks the browser and fault tests upload: valid ones of a chosen size, and broken files.

Sheet and column names are those of ../shared/design/import-format.md. Unit names are the plan's
(data/storage/plan.py), so the rows validate against any database that has the plan loaded.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

from openpyxl import Workbook

REQUEST_HEADERS = [
    "申请编号", "申请单位", "提供单位", "用途", "提交日期",
    "初审日期", "初审结果", "转送日期", "答复日期", "答复结果",
]
CATALOG_HEADERS = [
    "目录编码", "资源名称", "提供单位", "资源格式", "共享类型", "更新周期", "发布日期", "最近更新日期", "挂接日期",
]
REQUESTERS = ["县财政局", "县人社局", "县民政局", "县市监局", "县卫健委"]
PROVIDERS = ["县公安局", "县自然资源局", "县住建局", "县教体局", "县医疗保障局"]


def request_rows(n: int, prefix: str, start: dt.date = dt.date(2024, 3, 4)) -> list[list]:
    """`n` answered requests, reviewed next day and agreed three days later (all on time)."""
    rows = []
    for i in range(n):
        received = start + dt.timedelta(days=i % 200)
        rows.append([
            f"{prefix}-{i + 1:06d}",
            REQUESTERS[i % len(REQUESTERS)],
            PROVIDERS[i % len(PROVIDERS)],
            "端到端测试：业务协同核验",
            received,
            received + dt.timedelta(days=1),
            "通过",
            received + dt.timedelta(days=1),
            received + dt.timedelta(days=3),
            "同意",
        ])
    return rows


def catalog_rows(n: int, prefix: str, unit: str, published: dt.date = dt.date(2024, 1, 15)) -> list[list]:
    """`n` catalog items of `unit`, shared unconditionally, mounted, updated monthly."""
    return [
        [f"{prefix}-{i + 1:05d}", f"端到端测试资源{i + 1}", unit, "库表", "无条件共享", "每月",
         published, published + dt.timedelta(days=30), published]
        for i in range(n)
    ]


def write_workbook(path: Path, sheets: dict[str, tuple[list[str], list[list]]]) -> Path:
    """One sheet per entry, header row first; write-only mode keeps big sheets fast."""
    wb = Workbook(write_only=True)
    for title, (headers, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(headers)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def requests_workbook(path: Path, n: int, prefix: str = "E2E") -> Path:
    return write_workbook(path, {"共享申请": (REQUEST_HEADERS, request_rows(n, prefix))})


def catalog_workbook(path: Path, n: int, unit: str, prefix: str = "E2EML") -> Path:
    return write_workbook(path, {"数据目录": (CATALOG_HEADERS, catalog_rows(n, prefix, unit))})


# -- broken files ------------------------------------------------------------------------------
def truncated_xlsx(path: Path) -> Path:
    """A real workbook cut off halfway, as an interrupted download leaves it."""
    buf = io.BytesIO()
    wb = Workbook()
    ws = wb.active
    ws.title = "共享申请"
    ws.append(REQUEST_HEADERS)
    for row in request_rows(200, "TRUNC"):
        ws.append(row)
    wb.save(buf)
    data = buf.getvalue()
    path.write_bytes(data[: len(data) // 2])
    return path


def renamed_binary(path: Path) -> Path:
    """An executable renamed to .xlsx."""
    shutil.copyfile("/bin/true" if Path("/bin/true").exists() else __file__, path)
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def huge_sheet(path: Path, rows: int = 30_000) -> Path:
    """A sheet as a careless export leaves it: 30,000 catalog rows plus one formatted empty cell in
    the very last cell of the grid (XFD1048576), so the sheet's used range claims a million rows
    and 16,384 columns. A reader that pads rows to the used range runs out of memory."""
    from openpyxl.styles import PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "数据目录"
    ws.append(CATALOG_HEADERS)
    for row in catalog_rows(rows, "HUGE", "县公安局"):
        ws.append(row)
    ws.cell(row=1_048_576, column=16_384).fill = PatternFill("solid", fgColor="FFFF00")
    wb.save(path)
    return path
