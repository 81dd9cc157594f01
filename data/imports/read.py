"""Reading a file: its bytes (a regular file within the upload limit), then every sheet of an
.xlsx workbook or the one sheet of a .csv, bounded by the row, column, size and time limits; then
which sheets the contract knows (sheet names and states) and where each column stands (header
normalisation). Raises UnreadableFile (exit code 2) with a Chinese message."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import stat
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data.imports.cells import blank, show
from data.imports.results import Issues
from data.imports.spec import (
    CSV_FIELD_LIMIT,
    IGNORED_SHEETS,
    MB,
    SHEETS,
    SUPERVISION_BY_NAME,
    Column,
    ImportLimits,
    Sheet,
)
from data.storage.identity import clean_text, normalize_name


class UnreadableFile(Exception):
    """The file is not a spreadsheet this import reads (exit code 2). The message is Chinese."""


class ValidationTimeout(UnreadableFile):
    """The check ran past import_timeout_seconds (exit code 2)."""


def timeout_message(seconds: float) -> str:
    return f"检查超过 {show(float(seconds))} 秒仍未完成，已停止：文件过大或过于复杂，请拆分后分批导入。"


class Deadline:
    """The time limit of one check, looked at every few hundred rows."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise ValidationTimeout(timeout_message(self.seconds))


DAMAGED = "文件已损坏或不完整（可能上传中断），无法读取。"


def read_bytes(path_or_bytes: str | Path | bytes, limit_mb: float | None = None) -> bytes:
    """The file's bytes; a path must name a regular file no larger than the upload limit, checked
    before a byte is read (a device, a FIFO or a directory is refused, never opened)."""
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        return bytes(path_or_bytes)
    path = Path(path_or_bytes)
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise UnreadableFile(f"找不到文件：{path}") from exc
    except OSError as exc:
        raise UnreadableFile(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        what = "文件夹" if stat.S_ISDIR(info.st_mode) else "设备、管道或其他特殊文件"
        raise UnreadableFile(f"{path} 是{what}，不是普通文件：只能导入 .xlsx 工作簿或 .csv 文件。")
    if limit_mb is not None and info.st_size > limit_mb * MB:
        raise UnreadableFile(too_big(info.st_size, limit_mb))
    try:
        with path.open("rb") as fh:
            data = fh.read(int(limit_mb * MB) + 1 if limit_mb is not None else -1)
    except OSError as exc:
        raise UnreadableFile(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
    if limit_mb is not None and len(data) > limit_mb * MB:   # grew while being read
        raise UnreadableFile(too_big(len(data), limit_mb))
    return data


def too_big(size: int, limit_mb: float) -> str:
    return f"文件大小 {size / MB:.1f} MB，超过上限 {show(float(limit_mb))} MB。"


def _cell_value(value: Any) -> Any:
    """Plain Python values; a formula object (array/data-table formula) becomes its text."""
    if value is None or isinstance(value, str | int | float | bool | dt.datetime | dt.date | dt.time):
        return value
    text = getattr(value, "text", None)
    return str(text if text is not None else value)


@dataclass
class RawSheet:
    title: str
    rows: list[tuple]          # cell values, Excel's row numbers kept (rows[0] is row 1)
    state: str = "visible"     # visible / hidden / veryHidden


def _xlsx_sheets(data: bytes, limits: ImportLimits, deadline: Deadline) -> list[RawSheet]:
    from openpyxl import load_workbook

    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UnreadableFile("这是旧版 Excel（.xls）或加密的工作簿，不能直接导入：请在 Excel 中“另存为”.xlsx 格式后再导入。")
    if not data.startswith(b"PK"):
        raise UnreadableFile("文件不是有效的 Excel 工作簿（.xlsx），无法读取。")
    # The zip's members are sized before anything is inflated: a few MB can expand to gigabytes.
    # zipfile never inflates a member past its declared size (a lying header is a damaged file).
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise UnreadableFile(DAMAGED) from exc
    if inflated > limits.max_uncompressed_mb * MB:
        raise UnreadableFile(
            f"文件解压后有 {inflated / MB:.0f} MB，超过上限 {show(float(limits.max_uncompressed_mb))} MB"
            "（可能是异常构造的文件），未读取。")
    try:
        # data_only=False: a formula is read as its text and never evaluated.
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise UnreadableFile(DAMAGED) from exc
    except Exception as exc:  # openpyxl raises KeyError/InvalidFileException/… on non-workbooks
        raise UnreadableFile("文件不是有效的 Excel 工作簿（.xlsx），无法读取。") from exc
    try:
        return [RawSheet(ws.title, _sheet_rows(wb, ws, limits, deadline), ws.sheet_state) for ws in wb.worksheets]
    except UnreadableFile:
        raise
    except Exception as exc:  # a bad shared-string index, an overflowing date, broken XML, …
        raise UnreadableFile(DAMAGED) from exc
    finally:
        wb.close()


def _sheet_rows(wb, ws, limits: ImportLimits, deadline: Deadline) -> list[tuple]:
    """The cell values of a read-only sheet, row by row, without trailing empty cells or rows.

    The sheet's XML is parsed directly, cell by cell, and only cells holding a value are kept:
    the stored used range is ignored (a careless export that formats one empty cell at XFD1048576
    claims a million rows of 16,384 columns, and padding every row to that exhausted memory). Rows
    keep their position, so row numbers stay Excel's. A value beyond the row or column limit stops
    the read."""
    from openpyxl.worksheet._reader import WorkSheetParser

    cells_by_row: list[tuple[int, dict[int, Any]]] = []
    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=False, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for count, (row_no, cells) in enumerate(parser.parse()):
            if count % 500 == 0:
                deadline.check()
            values = {c["column"]: c["value"] for c in cells
                      if c["value"] is not None and c["value"] != ""}
            if not values:
                continue
            if row_no > limits.max_rows + 1:
                raise UnreadableFile(
                    f"工作表「{ws.title}」超过 {limits.max_rows} 行数据的上限（第 {row_no} 行仍有内容），未读取："
                    "请拆分后分批导入。")
            widest = max(values)
            if widest > limits.max_columns:
                raise UnreadableFile(
                    f"工作表「{ws.title}」第 {row_no} 行超过 {limits.max_columns} 列的上限，未读取。")
            cells_by_row.append((row_no, values))
    if not cells_by_row:
        return []
    rows: list[tuple] = [()] * cells_by_row[-1][0]
    for row_no, values in cells_by_row:
        rows[row_no - 1] = tuple(_cell_value(values.get(i)) for i in range(1, max(values) + 1))
    return rows


def _csv_rows(data: bytes, limits: ImportLimits, deadline: Deadline, title: str) -> list[tuple]:
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("CSV 文件的编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV。")
    if "\x00" in text:
        raise UnreadableFile("文件不是文本格式的 CSV，无法读取。")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple] = []
    try:
        for row in reader:
            if reader.line_num % 500 == 0:
                deadline.check()
            width = len(row)
            while width and not row[width - 1].strip():
                width -= 1
            if width and len(rows) > limits.max_rows:
                raise UnreadableFile(
                    f"工作表「{title}」超过 {limits.max_rows} 行数据的上限，未读取：请拆分后分批导入。")
            if width > limits.max_columns:
                raise UnreadableFile(f"工作表「{title}」第 {len(rows) + 1} 行超过 {limits.max_columns} 列的上限，未读取。")
            rows.append(tuple(row[:width]))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise UnreadableFile(
                f"CSV 第 {reader.line_num} 行有一个单元格超过 {CSV_FIELD_LIMIT:,} 个字符，未读取：请检查文件"
                "（可能缺少配对的引号）。") from exc
        raise UnreadableFile(f"CSV 第 {reader.line_num} 行格式有误（{_csv_problem(exc)}），无法读取。") from exc
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "NUL" in text:
        return "含有空字符"
    if "EOF" in text or "quote" in text.lower():
        return "引号不配对"
    return "无法解析"


def read_sheets(data: bytes, file_name: str, limits: ImportLimits | None = None,
                deadline: Deadline | None = None) -> list[RawSheet]:
    """Every sheet of the file with its state; raises UnreadableFile."""
    limits = limits or ImportLimits()
    deadline = deadline or Deadline(None)
    if not data:
        raise UnreadableFile("文件为空（0 字节），无法读取。")
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xls":
        raise UnreadableFile("不支持旧版 Excel（.xls）格式：请在 Excel 中“另存为”.xlsx 格式后再导入。")
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_sheets(data, limits, deadline)
    if suffix == ".csv":
        title = clean_text(Path(file_name).stem)
        return [RawSheet(title, _csv_rows(data, limits, deadline, title))]
    raise UnreadableFile(f"不支持的文件类型「{suffix or file_name}」：请导入 .xlsx 工作簿或 .csv 文件。")


# -- which sheets, and where their columns stand -----------------------------------------------
def pick_sheets(sheets: list[RawSheet], issues: Issues) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """The rows of each sheet the contract knows, by its contract name: the data sheets, then the
    supervision sheets. An unknown sheet is a warning; a hidden sheet, or a second sheet whose name
    reads the same, is an error and is not read."""
    by_name: dict[str, list[tuple]] = {}
    supervision: dict[str, list[tuple]] = {}
    titles: dict[str, str] = {}
    wanted_sheets = {normalize_name(s.name): s for s in SHEETS}
    for raw in sheets:
        norm = normalize_name(raw.title)
        match = wanted_sheets.get(norm)
        name = match.name if match is not None else (norm if norm in SUPERVISION_BY_NAME else None)
        if name is None:
            if norm not in IGNORED_SHEETS:
                hidden = "（隐藏的工作表）" if raw.state != "visible" else ""
                issues.warn(raw.title, None, "", "", f"不是导入模板中的工作表{hidden}，已忽略")
            continue
        if name in titles:
            issues.error(raw.title, None, "", "",
                         f"与工作表「{titles[name]}」名称相同（忽略空格、全角半角后都是「{name}」），"
                         "请合并为一个工作表")
            continue
        titles[name] = raw.title
        if raw.state != "visible":
            how = "深度隐藏（只能用宏取消）" if raw.state == "veryHidden" else "隐藏"
            issues.error(raw.title, None, "", "",
                         f"是{how}的工作表：隐藏的数据不会导入，请在 Excel 中取消隐藏并核对后重新上传，或删除该工作表")
            continue
        if match is None:
            supervision[name] = raw.rows
        else:
            by_name[match.name] = raw.rows
    if not by_name and not supervision and not issues.error_count:
        issues.error("", None, "", "", "文件中没有可导入的工作表（工作表名称应为：" + "、".join(s.name for s in SHEETS) + "）")
    return by_name, supervision


def norm_header(label: Any) -> str:
    text = unicodedata.normalize("NFKC", str(label or "")).strip()
    return re.sub(r"\s+", "", text.rstrip("*").rstrip())


def column_positions(sheet: Sheet, rows: list[tuple], issues: Issues, *,
                     strict: bool = True) -> tuple[dict[str, int], list[Column]]:
    """field -> position of each column the header row names, and the required columns it lacks
    (each an error). strict: a column the sheet does not have is a warning and a repeated one an
    error; otherwise both pass silently (a repeated column: the last one counts)."""
    header = rows[0] if rows else ()
    wanted = {norm_header(c.label): c for c in sheet.columns}
    positions: dict[str, int] = {}
    for idx, label in enumerate(header):
        if blank(label):
            continue
        col = wanted.get(norm_header(label))
        if col is None:
            if strict:
                issues.warn(sheet.name, 1, show(label).strip(), "", "不是本工作表的列，已忽略")
        elif col.field in positions and strict:
            issues.error(sheet.name, 1, col.label, "", "列名重复")
        else:
            positions[col.field] = idx
    missing = [c for c in sheet.columns if c.required and c.field not in positions]
    for col in missing:
        issues.error(sheet.name, 1, col.label, "", "缺少必填列")
    return positions, missing
