"""Workbook/CSV import: validate the whole file first, then write everything or nothing.

The format is ../shared/design/import-format.md; docs/import.md records every decision the
contract left open. Validation never writes. `import_workbook` takes a backup, then writes all
sheets in one transaction with idempotent upserts keyed by each sheet's natural key, logs the
import (import_log, one row per sheet) and records an audit entry in the same transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import math
import re
import stat
import sys
import threading
import time
import unicodedata
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from data.services.progress import report_rule_problems
from data.storage.db import Database
from data.storage.identity import clean_text, code_key, normalize_code, normalize_name, strip_invisible
from data.storage.plan import PLAN_TASKS
from data.storage.scope import Scope
from metrics.cn import cn_date
from metrics.registry import UNIT_KINDS

TOWNSHIP = "乡镇（街道）"
DEFAULT_UPLOAD_LIMIT_MB = 20
MIN_DATE = dt.date(2000, 1, 1)
ERROR_COLUMNS = ("工作表", "行号", "列", "值", "问题")

TRUE_WORDS = {"是", "Y", "YES", "1", "TRUE", "真"}
FALSE_WORDS = {"否", "N", "NO", "0", "FALSE", "假"}


# -- the contract as data ---------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    label: str                 # Chinese header, exactly as import-format.md writes it
    field: str                 # database column
    kind: str                  # text, unit, date, bool, enum, int, score, catalog
    required: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    future_ok: bool = False    # a date that may lie after today (使用期限至)
    note: str = ""             # shown in the template's 说明 sheet


@dataclass(frozen=True)
class Sheet:
    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]       # natural key, as database fields
    owner: str | None          # the field naming the unit a 单位 user must be (None: see code)
    example: tuple[Any, ...]   # the template's example row, in column order

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


def _c(label, field_name, kind, required=False, **kw) -> Column:
    return Column(label, field_name, kind, required, **kw)


YES_NO = ("是", "否")
D = dt.date

SHEETS: tuple[Sheet, ...] = (
    Sheet("单位", "units", (
        _c("单位名称", "name", "text", True, note="单位全称；全角/半角、空格不影响匹配"),
        _c("单位类型", "kind", "enum", True, choices=UNIT_KINDS),
        _c("领导小组成员单位", "is_member", "bool"),
    ), ("name",), "name", ("县大数据发展中心", "县直部门", "是")),
    Sheet("责任人", "contacts", (
        _c("单位名称", "unit_id", "unit", True),
        _c("角色", "role", "enum", True, choices=("分管领导", "经办人")),
        _c("姓名", "name", "text", True),
        _c("职务", "title", "text"),
        _c("联系电话", "phone", "text"),
        _c("明确日期", "named_on", "date", True),
    ), ("unit_id", "role"), "unit_id",
        ("县大数据发展中心", "经办人", "张三", "科员", "0793-2220000", D(2023, 5, 20))),
    Sheet("数据目录", "catalog_items", (
        _c("目录编码", "code", "text", True),
        _c("资源名称", "name", "text", True),
        _c("提供单位", "unit_id", "unit", True),
        _c("资源摘要", "summary", "text"),
        _c("资源格式", "format", "enum", True, choices=("库表", "文件", "接口")),
        _c("共享类型", "share_type", "enum", True, choices=("无条件共享", "有条件共享", "不予共享")),
        _c("共享条件", "share_condition", "text", note="有条件共享时填写"),
        _c("不予共享依据", "nonshare_basis", "text", note="不予共享时必须填写法律法规或政策依据"),
        _c("开放类型", "open_type", "enum", choices=("无条件开放", "有条件开放", "不予开放")),
        _c("更新周期", "update_cycle", "enum", True,
           choices=("实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期")),
        _c("发布日期", "published_on", "date", True),
        _c("最近更新日期", "last_updated_on", "date"),
        _c("挂接日期", "mounted_on", "date"),
        _c("信息项数", "item_count", "int", low=0),
    ), ("code",), "unit_id",
        ("示例-0001", "示例资源", "县大数据发展中心", "资源摘要示例", "库表", "无条件共享", None, None,
         "无条件开放", "每月", D(2023, 6, 1), D(2023, 8, 1), D(2023, 6, 15), 12)),
    Sheet("需求清单", "demands", (
        _c("需求编号", "code", "text", True),
        _c("需求单位", "unit_id", "unit", True),
        _c("需求内容", "content", "text", True),
        _c("目标目录编码", "target_code", "catalog", note="须为已有或本工作簿中的目录编码"),
        _c("提出日期", "raised_on", "date", True),
        _c("对接日期", "matched_on", "date"),
    ), ("code",), "unit_id",
        ("示例-XQ-0001", "县大数据发展中心", "需求内容示例", "示例-0001", D(2023, 6, 5), D(2023, 6, 20))),
    Sheet("共享申请", "share_requests", (
        _c("申请编号", "code", "text", True),
        _c("申请单位", "requester_id", "unit", True),
        _c("提供单位", "provider_id", "unit", True),
        _c("目录编码", "catalog_code", "catalog", note="须为已有或本工作簿中的目录编码"),
        _c("用途", "purpose", "text", True),
        _c("使用期限至", "use_until", "date", future_ok=True),
        _c("提交日期", "received_on", "date", True),
        _c("初审日期", "reviewed_on", "date", note="不得早于提交日期"),
        _c("初审结果", "review_result", "enum", choices=("通过", "退回")),
        _c("转送日期", "forwarded_on", "date"),
        _c("答复日期", "replied_on", "date", note="不得早于转送日期（未转送的不得早于初审日期）"),
        _c("答复结果", "reply_result", "enum", choices=("同意", "部分同意", "不同意"),
           note="填写答复结果时必须填写答复日期"),
        _c("法律政策依据", "legal_basis", "text", note="不同意、部分同意时应填写"),
        _c("不予共享理由", "refusal_reason", "text", note="不同意、部分同意时应填写"),
    ), ("code",), "provider_id",
        ("示例-SQ-0001", "县公安局", "县大数据发展中心", "示例-0001", "用途示例", D(2024, 12, 31),
         D(2023, 7, 3), D(2023, 7, 5), "通过", D(2023, 7, 5), D(2023, 7, 12), "同意", None, None)),
    Sheet("任务进展", "progress_reports", (
        _c("任务序号", "task_no", "int", True, low=1, high=15, note="附件2的任务序号 1–15"),
        _c("单位名称", "unit_id", "unit", True),
        _c("报送日期", "reported_on", "date", True),
        _c("状态", "status", "enum", True, choices=("未启动", "推进中", "已完成")),
        _c("完成比例", "percent", "int", low=0, high=100, note="0–100 的整数"),
        _c("完成日期", "completed_on", "date", note="已完成时必须填写，且不得晚于报送日期"),
        _c("进展说明", "note", "text"),
    ), ("task_no", "unit_id", "reported_on"), "unit_id",
        (1, "县大数据发展中心", D(2023, 5, 8), "已完成", 100, D(2023, 5, 6), "进展说明示例")),
    Sheet("信息系统", "systems", (
        _c("系统名称", "name", "text", True),
        _c("单位名称", "unit_id", "unit", True),
        _c("是否涉密", "classified", "bool", True),
        _c("是否已注册", "registered", "bool", note="留空时：填了注册日期视为是，否则为否"),
        _c("注册日期", "registered_on", "date"),
        _c("是否联通共享平台", "connected", "bool", note="留空时：填了联通日期视为是，否则为否"),
        _c("联通日期", "connected_on", "date"),
        _c("是否提供共享数据", "provides_data", "bool"),
    ), ("unit_id", "name"), "unit_id",
        ("示例系统", "县大数据发展中心", "否", "是", D(2023, 6, 1), "是", D(2023, 7, 1), "是")),
    Sheet("业务专网", "networks", (
        _c("专网名称", "name", "text", True),
        _c("单位名称", "unit_id", "unit", True),
        _c("是否涉密", "classified", "bool", True),
        _c("是否已迁移", "migrated", "bool", note="留空时：填了迁移日期视为是，否则为否"),
        _c("迁移日期", "migrated_on", "date"),
    ), ("unit_id", "name"), "unit_id", ("示例专网", "县大数据发展中心", "否", "是", D(2023, 10, 1))),
    Sheet("安全措施", "security_assessments", (
        _c("单位名称", "unit_id", "unit", True),
        _c("评估日期", "assessed_on", "date", True),
        _c("数据脱敏", "desensitization", "bool", True),
        _c("数据加密", "encryption", "bool", True),
        _c("访问认证", "access_auth", "bool", True),
        _c("备注", "note", "text"),
    ), ("unit_id", "assessed_on"), "unit_id",
        ("县大数据发展中心", D(2023, 11, 1), "是", "是", "否", "备注示例")),
    Sheet("质量检查", "quality_checks", (
        _c("目录编码", "catalog_code", "catalog", True, note="须为已有或本工作簿中的目录编码"),
        _c("检查日期", "checked_on", "date", True),
        _c("完整性", "completeness", "score", True, low=0, high=100, note="0–100 分"),
        _c("准确性", "accuracy", "score", True, low=0, high=100, note="0–100 分"),
        _c("可用性", "usability", "score", True, low=0, high=100, note="0–100 分"),
        _c("时效性", "timeliness", "score", True, low=0, high=100, note="0–100 分"),
        _c("发现问题数", "issues_found", "int", low=0),
        _c("已整改数", "issues_fixed", "int", low=0, note="不得大于发现问题数"),
    ), ("catalog_code", "checked_on"), None,
        ("示例-0001", D(2023, 9, 1), 95, 90, 88, 92, 3, 2)),
    Sheet("外网覆盖", "village_coverage", (
        _c("乡镇（街道）", "unit_id", "unit", True, note="类型为乡镇（街道）的单位"),
        _c("统计日期", "counted_on", "date", True),
        _c("行政村（社区）数", "villages", "int", True, low=0),
        _c("已接入数", "connected", "int", True, low=0, note="不得大于行政村（社区）数"),
    ), ("unit_id", "counted_on"), "unit_id", ("示例镇", D(2023, 12, 1), 12, 10)),
)
SHEET_BY_NAME = {s.name: s for s in SHEETS}
# The 说明 sheet of the template is not data.
IGNORED_SHEETS = {"说明"}


# -- results ----------------------------------------------------------------------------------
class UnreadableFile(Exception):
    """The file is not a spreadsheet this import reads (exit code 2). The message is Chinese."""


def _issues_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"工作表": pl.String, "行号": pl.Int64, "列": pl.String, "值": pl.String, "问题": pl.String},
        orient="row",
    )


def format_issue(sheet: str, row: int | None, column: str, value: str, problem: str) -> str:
    """「共享申请」第 7 行「初审日期」：2023-02-30 不是有效日期"""
    where = f"「{sheet}」" if sheet else ""
    if row:
        where += f"第 {row} 行"
    if column:
        where += f"「{column}」"
    text = f"{value} {problem}" if value else problem
    return f"{where}：{text}" if where else text


@dataclass
class ValidationResult:
    file_name: str
    counts: dict[str, int]            # data rows read per recognised sheet
    errors: pl.DataFrame              # 工作表, 行号, 列, 值, 问题
    warnings: pl.DataFrame
    fatal: str | None = None          # set when the file cannot be read at all (exit code 2)
    records: dict[str, list[dict]] = field(default_factory=dict, repr=False)
    present: dict[str, set[str]] = field(default_factory=dict, repr=False)
    sha256: str = ""
    error_total: int = 0              # errors found; only the first import_max_errors are listed
    warning_total: int = 0

    @property
    def errors_not_listed(self) -> int:
        return max(self.error_total - self.errors.height, 0)

    @property
    def warnings_not_listed(self) -> int:
        return max(self.warning_total - self.warnings.height, 0)

    @property
    def ok(self) -> bool:
        return self.fatal is None and self.errors.height == 0

    def error_messages(self) -> list[str]:
        return [format_issue(*r) for r in self.errors.iter_rows()]

    def warning_messages(self) -> list[str]:
        return [format_issue(*r) for r in self.warnings.iter_rows()]

    def counts_frame(self) -> pl.DataFrame:
        """工作表, 数据行数: the preview shown before the import is confirmed."""
        return pl.DataFrame({"工作表": list(self.counts), "数据行数": list(self.counts.values())},
                            schema={"工作表": pl.String, "数据行数": pl.Int64})


@dataclass
class ImportResult:
    validation: ValidationResult
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    import_id: int | None = None
    backup_path: str | None = None
    batch_id: int | None = None       # a 单位 user's submission, waiting for the office

    @property
    def ok(self) -> bool:
        return self.validation.ok and (self.import_id is not None or self.batch_id is not None)

    def summary_frame(self) -> pl.DataFrame:
        """工作表, 数据行数, 新增, 更新: what an import did."""
        sheets = list(self.validation.counts)
        return pl.DataFrame({
            "工作表": sheets,
            "数据行数": [self.validation.counts[s] for s in sheets],
            "新增": [self.inserted.get(s, 0) for s in sheets],
            "更新": [self.updated.get(s, 0) for s in sheets],
        }, schema={"工作表": pl.String, "数据行数": pl.Int64, "新增": pl.Int64, "更新": pl.Int64})

    def summary_lines(self) -> list[str]:
        if self.batch_id is not None:
            return [f"「{sheet}」：共 {self.validation.counts.get(sheet, 0)} 行" for sheet in self.validation.counts]
        return [
            f"「{sheet}」：共 {self.validation.counts.get(sheet, 0)} 行，新增 {self.inserted.get(sheet, 0)} 行，"
            f"更新 {self.updated.get(sheet, 0)} 行"
            for sheet in self.validation.counts
        ]


# -- limits -----------------------------------------------------------------------------------
MB = 1024 * 1024
INT32_MAX = 2**31 - 1
CSV_FIELD_LIMIT = 131_072   # the csv module's default field limit, kept: a longer field is refused
NAME_MAX_CHARS = 2_000      # names and codes
TEXT_MAX_CHARS = 10_000     # every other text cell


@dataclass(frozen=True)
class ImportLimits:
    """Caps checked before (or while) a file is parsed; each is a setting (docs/security.md)."""

    upload_mb: float = float(DEFAULT_UPLOAD_LIMIT_MB)   # settings.upload_limit_mb
    max_uncompressed_mb: float = 100.0           # settings.import_max_uncompressed_mb (xlsx zip members)
    max_rows: int = 30_000                       # settings.import_max_rows (data rows per sheet)
    max_columns: int = 64                        # settings.import_max_columns
    max_errors: int = 200                        # settings.import_max_errors (errors listed)
    timeout_seconds: float = 60.0                # settings.import_timeout_seconds


LIMIT_SETTINGS = {
    "upload_mb": "upload_limit_mb",
    "max_uncompressed_mb": "import_max_uncompressed_mb",
    "max_rows": "import_max_rows",
    "max_columns": "import_max_columns",
    "max_errors": "import_max_errors",
    "timeout_seconds": "import_timeout_seconds",
}


def import_limits(db: Database) -> ImportLimits:
    """The limits in force: each setting when it is a positive number, else the default."""
    stored = dict(db.rows("SELECT key, value FROM settings WHERE key IN ("
                          + ", ".join("?" for _ in LIMIT_SETTINGS) + ")", list(LIMIT_SETTINGS.values())))
    values = {}
    for attr, key in LIMIT_SETTINGS.items():
        default = getattr(ImportLimits, attr)
        try:
            number = float(json.loads(stored[key])) if key in stored else default
        except (TypeError, ValueError):
            number = default
        if not math.isfinite(number) or number <= 0:
            number = default
        values[attr] = int(number) if isinstance(default, int) else number
    return ImportLimits(**values)


def upload_limit_mb(db: Database) -> float:
    return import_limits(db).upload_mb


class ValidationTimeout(UnreadableFile):
    """The check ran past import_timeout_seconds (exit code 2)."""


class _Deadline:
    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise ValidationTimeout(
                f"检查超过 {show(float(self.seconds))} 秒仍未完成，已停止：文件过大或过于复杂，请拆分后分批导入。")


DAMAGED = "文件已损坏或不完整（可能上传中断），无法读取。"


# -- reading files ----------------------------------------------------------------------------
def _read_bytes(path_or_bytes: str | Path | bytes, limit_mb: float | None = None) -> bytes:
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
        raise UnreadableFile(_too_big(info.st_size, limit_mb))
    try:
        with path.open("rb") as fh:
            data = fh.read(int(limit_mb * MB) + 1 if limit_mb is not None else -1)
    except OSError as exc:
        raise UnreadableFile(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
    if limit_mb is not None and len(data) > limit_mb * MB:   # grew while being read
        raise UnreadableFile(_too_big(len(data), limit_mb))
    return data


def _too_big(size: int, limit_mb: float) -> str:
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


def _xlsx_sheets(data: bytes, limits: ImportLimits, deadline: _Deadline) -> list[RawSheet]:
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


def _sheet_rows(wb, ws, limits: ImportLimits, deadline: _Deadline) -> list[tuple]:
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


def _csv_rows(data: bytes, limits: ImportLimits, deadline: _Deadline, title: str) -> list[tuple]:
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
                deadline: _Deadline | None = None) -> list[RawSheet]:
    """Every sheet of the file with its state; raises UnreadableFile."""
    limits = limits or ImportLimits()
    deadline = deadline or _Deadline(None)
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


# -- cell parsing -----------------------------------------------------------------------------
_DATE_SEP = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_DATE_CN = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_INT = re.compile(r"^[+-]?\d+(\.0+)?$")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class _Bad(Exception):
    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def show(value: Any) -> str:
    """How a cell value is quoted in a message."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return cn_date(value.date()) if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return cn_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not strip_invisible(value).strip())


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise _Bad("不是有效日期（不应带时间）")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        m = _DATE_SEP.match(text) or _DATE_CN.match(text)
        if m:
            year, month, day = (int(g) for g in m.groups() if g not in "-/.")
            try:
                return dt.date(year, month, day)
            except ValueError:
                pass
    raise _Bad("不是有效日期")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().upper()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise _Bad("不是有效的是/否值（可填 是/否、Y/N、1/0、TRUE/FALSE）")


def parse_number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise _Bad("不是数字")
    if isinstance(value, int | float):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if not _NUM.match(text):
            raise _Bad("不是整数" if integer else "不是数字")
        number = float(text)
    if isinstance(number, float) and not math.isfinite(number):
        raise _Bad("不是有效数字（超出可表示的范围）")
    if integer:
        if float(number) != int(number):
            raise _Bad("不是整数")
        return int(number)
    return float(number)


def _text(value: Any) -> str:
    """Text as stored: trimmed; a leading = + - @ stays as typed (stored, never evaluated)."""
    if isinstance(value, dt.datetime):
        return show(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return strip_invisible(str(value)).strip()


# -- validation -------------------------------------------------------------------------------
def _norm_header(label: Any) -> str:
    text = unicodedata.normalize("NFKC", str(label or "")).strip()
    return re.sub(r"\s+", "", text.rstrip("*").rstrip())


Reader = Callable[[str, Sequence[Any] | None], list[tuple]]


SHOWN_VALUE_CHARS = 200   # a cell quoted in a message is cut to this length


def _quote(value: Any) -> str:
    text = show(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + f"…（共 {len(text):,} 个字符）"


class _Issues:
    """Errors and warnings; only the first `cap` of each are kept, the rest are counted."""

    def __init__(self, cap: int = ImportLimits.max_errors):
        self.cap = cap
        self.errors: list[tuple] = []
        self.warnings: list[tuple] = []
        self.error_count = 0
        self.warning_count = 0

    def error(self, sheet: str, row: int | None, column: str, value: Any, problem: str) -> None:
        self.error_count += 1
        if len(self.errors) < self.cap:
            self.errors.append((sheet, row, column, _quote(value), problem))

    def warn(self, sheet: str, row: int | None, column: str, value: Any, problem: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < self.cap:
            self.warnings.append((sheet, row, column, _quote(value), problem))


def _unit_lookup(read: Reader) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    """normalised name or alias -> canonical name; canonical name -> kind / unit_id."""
    units = read("SELECT unit_id, name, kind FROM units", None)
    names = {normalize_name(n): n for _i, n, _k in units}
    for alias, name in read("SELECT a.alias, u.name FROM unit_aliases a JOIN units u USING (unit_id)", None):
        names.setdefault(normalize_name(alias), name)
    return names, {n: k for _i, n, k in units}, {n: i for i, n, _k in units}


def _canon(value: Any) -> str | None:
    """A cell reduced to how it reads, to recognise the template's untouched example row."""
    return None if _blank(value) else show(value).strip()


def _example_key(sheet: Sheet) -> tuple:
    return tuple(_canon(v) for v in sheet.example)


def _today() -> dt.date:
    return dt.date.today()


def _validate_sheets(
    read: Reader,
    sheets: list[RawSheet],
    scope: Scope,
    issues: _Issues,
    today: dt.date,
    deadline: _Deadline | None = None,
) -> tuple[dict[str, int], dict[str, list[dict]], dict[str, set[str]]]:
    deadline = deadline or _Deadline(None)
    names, kinds, _ids = _unit_lookup(read)
    own_name = next((n for n, i in _ids.items() if i == scope.unit_id), None) if scope.unit_id else None
    tasks = {r[0] for r in read("SELECT task_no FROM tasks", None)}
    assignments = {(t, u) for t, u in read(
        "SELECT a.task_no, u.name FROM task_assignments a JOIN units u USING (unit_id)", None)}
    # A unit added by this workbook's 单位 sheet gets the tasks its kind's group words assign.
    group_kinds = dict(read("SELECT group_word, list(unit_kind) FROM assignment_groups GROUP BY ALL", None))
    for no, *_rest, groups in PLAN_TASKS:
        for word in groups:
            for kind in group_kinds.get(word, []):
                assignments.add((no, "kind:" + kind))
    db_catalog = dict(read("SELECT c.code, u.name FROM catalog_items c JOIN units u USING (unit_id)", None))
    # Codes match case-folded and after NFKC: code_key -> the spelling stored, per table.
    codes = {t: {code_key(c): c for (c,) in read(f"SELECT code FROM {t}", None)}
             for t in ("catalog_items", "demands", "share_requests")}
    stored_cache: dict[str, dict[str, dict]] = {}

    by_name: dict[str, list[tuple]] = {}
    titles: dict[str, str] = {}
    wanted_sheets = {normalize_name(s.name): s for s in SHEETS}
    from data.imports import supervision_sheets as sup
    sup_rows = {}
    for raw in sheets:
        norm = normalize_name(raw.title)
        match = wanted_sheets.get(norm)
        name = match.name if match is not None else (norm if norm in sup.SHEET_NAMES else None)
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
            sup_rows[name] = raw.rows
        else:
            by_name[match.name] = raw.rows
    if not by_name and not sup_rows and not issues.error_count:
        issues.error("", None, "", "", "文件中没有可导入的工作表（工作表名称应为：" + "、".join(s.name for s in SHEETS) + "）")

    counts: dict[str, int] = {}
    records: dict[str, list[dict]] = {}
    present: dict[str, set[str]] = {}
    new_units: dict[str, str] = {}      # canonical name -> kind, from the 单位 sheet
    wb_catalog: dict[str, str] = {}     # code -> provider name, from the 数据目录 sheet

    for sheet in SHEETS:  # contract order: 单位 first, then 数据目录 before what refers to it
        if sheet.name not in by_name:
            continue
        rows = by_name[sheet.name]
        header = rows[0] if rows else ()
        wanted = {_norm_header(c.label): c for c in sheet.columns}
        positions: dict[str, int] = {}
        for idx, label in enumerate(header):
            if _blank(label):
                continue
            col = wanted.get(_norm_header(label))
            letter_col = show(label).strip()
            if col is None:
                issues.warn(sheet.name, 1, letter_col, "", "不是本工作表的列，已忽略")
            elif col.field in positions:
                issues.error(sheet.name, 1, col.label, "", "列名重复")
            else:
                positions[col.field] = idx
        missing = [c for c in sheet.columns if c.required and c.field not in positions]
        for col in missing:
            issues.error(sheet.name, 1, col.label, "", "缺少必填列")
        present[sheet.name] = set(positions)
        example = _example_key(sheet)
        out: list[dict] = []
        seen: dict[tuple, int] = {}
        count = 0
        for row_no, row in enumerate(rows[1:], start=2):
            if row_no % 500 == 0:
                deadline.check()
            if all(_blank(v) for v in row):
                continue
            cells = {f: (row[i] if i < len(row) else None) for f, i in positions.items()}
            if tuple(_canon(cells.get(c.field)) for c in sheet.columns) == example:
                issues.warn(sheet.name, row_no, "", "", "模板示例行，未导入")
                continue
            count += 1
            if missing:
                continue
            rec = _parse_row(sheet, row_no, cells, names, codes, issues, today)
            if rec is None:
                continue
            key = tuple(rec.get(k) for k in sheet.key)
            if key in seen:
                issues.error(sheet.name, row_no, "、".join(sheet.column(k).label for k in sheet.key),
                             "/".join(show(k) for k in key), f"与第 {seen[key]} 行重复（同一条记录只能出现一次）")
                continue
            seen[key] = row_no
            if not _check_row(sheet, row_no, rec, kinds, new_units, tasks, assignments,
                              db_catalog, wb_catalog, issues):
                continue
            if scope.role == "单位" and not _owned(sheet, row_no, rec, own_name, db_catalog, wb_catalog,
                                                   read, issues, positions, stored_cache):
                continue
            rec["_row"] = row_no
            out.append(rec)
            if sheet.name == "单位":
                new_units[rec["name"]] = rec["kind"]
                names.setdefault(normalize_name(rec["name"]), rec["name"])
            if sheet.name == "数据目录":
                wb_catalog[rec["code"]] = rec["unit_id"]
                codes["catalog_items"].setdefault(code_key(rec["code"]), rec["code"])
        counts[sheet.name] = count
        records[sheet.name] = out
    sup.validate(read, sup_rows, scope, issues, today, counts, records, present)
    return counts, records, present


def _parse_row(sheet, row_no, cells, names, codes, issues, today) -> dict | None:
    rec: dict[str, Any] = {}
    good = True
    for col in sheet.columns:
        if col.field not in cells:
            continue
        raw = cells[col.field]
        if _blank(raw):
            if col.required:
                hint = "（只有空格或不可见字符）" if raw is not None and str(raw) != "" and str(raw).strip() else ""
                issues.error(sheet.name, row_no, col.label, "", "必填项为空" + hint)
                good = False
            rec[col.field] = None
            continue
        try:
            rec[col.field] = _parse_cell(col, raw, names, today)
            if col.field == "code" or col.kind == "catalog":
                table = "catalog_items" if col.kind == "catalog" else sheet.table
                rec[col.field] = codes[table].get(code_key(rec[col.field]), rec[col.field])
        except _Bad as bad:
            issues.error(sheet.name, row_no, col.label, raw, bad.problem)
            good = False
    if not good:
        return None
    if sheet.name == "单位":
        # A name that already exists (after normalisation or as an alias) updates that unit.
        rec["name"] = names.get(normalize_name(rec["name"]), normalize_name(rec["name"]))
    return rec


def _limited(col: Column, text: str) -> str:
    limit = NAME_MAX_CHARS if col.field in ("name", "code") or col.kind in ("unit", "catalog") else TEXT_MAX_CHARS
    if len(text) > limit:
        raise _Bad(f"超过 {limit:,} 个字符的长度上限（共 {len(text):,} 个字符）")
    return text


def _parse_cell(col: Column, raw: Any, names: dict[str, str], today: dt.date) -> Any:
    if col.kind == "text" and col.field == "code" or col.kind == "catalog":
        return normalize_code(_limited(col, _text(raw)))
    if col.kind == "text":
        return _limited(col, _text(raw))
    if col.kind == "unit":
        name = names.get(normalize_name(_limited(col, _text(raw))))
        if name is None:
            raise _Bad("不是已登记的单位名称（新单位请先在「单位」工作表中填写）")
        return name
    if col.kind == "enum":
        text = _text(raw)
        if text not in col.choices:
            raise _Bad("不是允许的取值（可选：" + "、".join(col.choices) + "）")
        return text
    if col.kind == "bool":
        return parse_bool(raw)
    if col.kind == "date":
        day = parse_date(raw)
        if day < MIN_DATE:
            raise _Bad("早于2000年1月1日")
        if day > today and not col.future_ok:
            raise _Bad(f"晚于今天（{cn_date(today)}）")
        return day
    if col.kind in ("int", "score"):
        number = parse_number(raw, integer=col.kind == "int")
        # INTEGER columns are 32-bit in the database: a larger count is refused here, not at commit.
        high = col.high if col.high is not None else (INT32_MAX if col.kind == "int" else None)
        if col.low is not None and number < col.low:
            if col.high is None:
                raise _Bad(f"不能小于 {show(float(col.low))}")
            raise _Bad(f"超出范围（应在 {show(float(col.low))}–{show(float(col.high))} 之间）")
        if high is not None and number > high:
            if col.high is None:
                raise _Bad(f"超过上限 {high}")
            raise _Bad(f"超出范围（应在 {show(float(col.low))}–{show(float(col.high))} 之间）")
        return number
    raise AssertionError(col.kind)


def request_step_problems(rec: dict) -> list[tuple[str, Any, str]]:
    """Every step of a share request in order, as (column label, value, problem).

    提交 ≤ 初审 ≤ 转送 ≤ 答复; 使用期限至 not before 提交日期; 初审结果 only with 初审日期; nothing
    after 退回 (no 转送, no 答复); no request to oneself. The one checker for requests: any form
    that writes a request must call it too."""
    out: list[tuple[str, Any, str]] = []
    received, reviewed, forwarded, replied = (rec.get(k) for k in (
        "received_on", "reviewed_on", "forwarded_on", "replied_on"))
    if rec.get("requester_id") is not None and rec.get("requester_id") == rec.get("provider_id"):
        out.append(("提供单位", rec["provider_id"], "与申请单位相同：单位不能向本单位申请共享"))
    use_until = rec.get("use_until")
    if use_until and received and use_until < received:
        out.append(("使用期限至", use_until, f"早于提交日期（{cn_date(received)}）"))
    # Each step against the latest earlier step that is filled.
    earlier = [("提交日期", received)]
    for label, day in (("初审日期", reviewed), ("转送日期", forwarded), ("答复日期", replied)):
        if day:
            prev_label, prev = next(((pl_, d) for pl_, d in reversed(earlier) if d), ("", None))
            if prev and day < prev:
                out.append((label, day, f"早于{prev_label}（{cn_date(prev)}）"))
        earlier.append((label, day))
    if rec.get("review_result") and not reviewed:
        out.append(("初审结果", rec["review_result"], "已填初审结果但没有初审日期"))
    if rec.get("review_result") == "退回":
        for label, field_name in (("转送日期", "forwarded_on"), ("答复日期", "replied_on"),
                                  ("答复结果", "reply_result")):
            if rec.get(field_name):
                out.append((label, rec[field_name], "初审结果为退回，退回后不应再有转送或答复"))
    if rec.get("reply_result") and not replied:
        out.append(("答复结果", rec["reply_result"], "已填答复结果但没有答复日期"))
    return out


def _check_row(sheet, row_no, rec, kinds, new_units, tasks, assignments, db_catalog, wb_catalog,
               issues: _Issues) -> bool:
    """Cross-column and cross-sheet consistency: errors return False, warnings are recorded."""
    n = sheet.name
    errors_before = issues.error_count

    def label(f):
        return sheet.column(f).label

    def kind_of(unit):
        return new_units.get(unit, kinds.get(unit))

    for f in ("catalog_code", "target_code"):
        code = rec.get(f)
        if code is not None and f in {c.field for c in sheet.columns} and (
                code not in db_catalog and code not in wb_catalog):
            issues.error(n, row_no, label(f), code, "不是已有的目录编码（数据库和本工作簿的「数据目录」中都没有）")
    if n == "共享申请":
        for column, value, problem in request_step_problems(rec):
            issues.error(n, row_no, column, value, problem)
        if rec.get("reply_result") in ("不同意", "部分同意"):
            for f in ("legal_basis", "refusal_reason"):
                if not rec.get(f):
                    issues.warn(n, row_no, label(f), "",
                                f"答复结果为{rec['reply_result']}，但未填写{label(f)}（计入拒绝依据完备率）")
    elif n == "数据目录":
        if rec.get("share_type") == "不予共享" and not rec.get("nonshare_basis"):
            issues.warn(n, row_no, "不予共享依据", "", "共享类型为不予共享，但未填写不予共享依据")
    elif n == "任务进展":
        if rec["task_no"] not in tasks:
            issues.error(n, row_no, "任务序号", rec["task_no"], "不是已有的任务序号")
        elif (rec["task_no"], rec["unit_id"]) not in assignments and (
                rec["unit_id"] not in new_units
                or (rec["task_no"], "kind:" + new_units[rec["unit_id"]]) not in assignments):
            issues.error(n, row_no, "单位名称", rec["unit_id"], f"不是任务 {rec['task_no']} 的责任单位")
        for f, problem in report_rule_problems(rec.get("status"), rec.get("reported_on"), rec.get("percent"),
                                               rec.get("completed_on")):
            issues.error(n, row_no, label(f), rec.get(f), problem)
    elif n == "质量检查":
        found, fixed = rec.get("issues_found"), rec.get("issues_fixed")
        if fixed is not None and found is not None and fixed > found:
            issues.error(n, row_no, "已整改数", fixed, f"大于发现问题数（{found}）")
        elif fixed is not None and found is None:
            issues.error(n, row_no, "已整改数", fixed, "填了已整改数，但没有发现问题数")
    elif n == "外网覆盖":
        if kind_of(rec["unit_id"]) != TOWNSHIP:
            issues.error(n, row_no, "乡镇（街道）", rec["unit_id"], "不是乡镇（街道）类型的单位")
        if rec["connected"] > rec["villages"]:
            issues.error(n, row_no, "已接入数", rec["connected"], f"大于行政村（社区）数（{rec['villages']}）")
    elif n in ("信息系统", "业务专网"):
        for flag, day in (("registered", "registered_on"), ("connected", "connected_on"),
                          ("migrated", "migrated_on")):
            if day in rec or flag in rec:
                if rec.get(flag) is None:
                    rec[flag] = rec.get(day) is not None
    return issues.error_count == errors_before


# -- column ownership for 单位 users (docs/security.md "Column ownership per sheet") -------------
# office: only the leading-group office writes it; unit: the unit named in the sheet's owner
# column; requester / provider: the unit that is the request's 申请单位 / 提供单位.
_OFFICE_SHEETS = {"单位": "单位名单只能由领导小组办公室导入",
                  "质量检查": "数据质量检查由领导小组办公室组织并导入，单位账号不能导入"}
_SPECIAL_OWNERS = {
    "需求清单": {"matched_on": "office"},
    "共享申请": {
        "code": "requester", "requester_id": "requester", "provider_id": "requester",
        "catalog_code": "requester", "purpose": "requester", "use_until": "requester",
        "received_on": "requester",
        "reviewed_on": "office", "review_result": "office", "forwarded_on": "office",
        "replied_on": "provider", "reply_result": "provider", "legal_basis": "provider",
        "refusal_reason": "provider",
    },
}
_NOT_YOURS = {
    "office": "由领导小组办公室填写（初审、转送、对接），单位账号不能填写或修改",
    "requester": "由申请单位填写，本单位作为提供单位不能填写或修改",
    "provider": "由提供单位答复，本单位作为申请单位不能填写或修改",
}


def column_owner(sheet: Sheet, field_name: str) -> str:
    """Who may write a column when a 单位 user imports: office, unit, requester or provider."""
    if sheet.name in _OFFICE_SHEETS:
        return "office"
    return _SPECIAL_OWNERS.get(sheet.name, {}).get(field_name, "unit")


def _stored_rows(read: Reader, sheet: Sheet, cache: dict) -> dict[str, dict]:
    """code -> the stored row (unit columns as names), read once per sheet."""
    if sheet.table not in cache:
        fields = [c.field for c in sheet.columns]
        units = {c.field for c in sheet.columns if c.kind == "unit"}
        select = ", ".join(f"(SELECT name FROM units u WHERE u.unit_id = t.{f})" if f in units else f"t.{f}"
                           for f in fields)
        cache[sheet.table] = {r[0]: dict(zip(fields, r, strict=True))
                              for r in read(f"SELECT {select} FROM {sheet.table} t", None)}
    return cache[sheet.table]


def _owned(sheet, row_no, rec, own_name, db_catalog, wb_catalog, read, issues, present, cache) -> bool:
    """A 单位 user may write only its own unit's rows and, in them, only the columns it owns."""
    if sheet.name in _OFFICE_SHEETS:
        first = sheet.owner or sheet.columns[0].field
        issues.error(sheet.name, row_no, sheet.column(first).label, rec[first], _OFFICE_SHEETS[sheet.name])
        return False
    stored = _stored_rows(read, sheet, cache).get(rec["code"]) if "code" in rec else None
    if sheet.table == "share_requests":
        parties = stored or rec
        roles = {"requester": parties["requester_id"] == own_name, "provider": parties["provider_id"] == own_name}
        if not any(roles.values()):
            issues.error(sheet.name, row_no, "申请编号", rec["code"],
                         "不是本单位作为申请单位或提供单位的共享申请，单位账号不能导入")
            return False
        if stored is None and not roles["requester"]:
            issues.error(sheet.name, row_no, "申请单位", rec["requester_id"],
                         "新的共享申请只能由申请单位提交")
            return False
    else:
        unit, label = rec[sheet.owner], sheet.column(sheet.owner).label
        if unit != own_name:
            issues.error(sheet.name, row_no, label, unit, "不是本单位的数据，单位账号只能导入本单位的数据")
            return False
        if stored is not None and stored[sheet.owner] != own_name:
            issues.error(sheet.name, row_no, sheet.column("code").label, rec["code"],
                         "已登记为其他单位的数据，单位账号不能修改")
            return False
        roles = {}
    good = True
    reviewed = bool(stored and stored.get("reviewed_on"))
    for col in sheet.columns:
        owner = column_owner(sheet, col.field)
        frozen = owner == "requester" and reviewed   # what was reviewed is what was received
        if col.field not in present or owner == "unit" or (roles.get(owner) and not frozen):
            continue
        before = stored.get(col.field) if stored else None
        if rec.get(col.field) != before:
            problem = "申请已经初审，申请内容和提交日期不能再由单位修改" if frozen and roles.get(owner) else _NOT_YOURS[owner]
            issues.error(sheet.name, row_no, col.label, rec.get(col.field), problem)
            good = False
    return good


def _db_reader(db: Database) -> Reader:
    return lambda sql, params: db.rows(sql, params)


def validate_workbook(
    db: Database,
    path_or_bytes: str | Path | bytes,
    file_name: str | None = None,
    scope: Scope | None = None,
    *,
    today: dt.date | None = None,
) -> ValidationResult:
    """Check a workbook or CSV against import-format.md; nothing is written."""
    from data.storage.scope import SYSTEM

    scope = scope or SYSTEM
    scope.require_write()
    if file_name is None:
        file_name = Path(str(path_or_bytes)).name if not isinstance(path_or_bytes, bytes) else "upload.xlsx"
    limits = import_limits(db)
    deadline = _Deadline(limits.timeout_seconds)
    issues = _Issues(limits.max_errors)
    empty = ValidationResult(file_name, {}, _issues_frame([]), _issues_frame([]))
    try:
        data = _read_bytes(path_or_bytes, limits.upload_mb)
        if len(data) > limits.upload_mb * MB:
            raise UnreadableFile(_too_big(len(data), limits.upload_mb))
        sheets = read_sheets(data, file_name, limits, deadline)
        counts, records, present = _validate_sheets(_db_reader(db), sheets, scope, issues, today or _today(),
                                                    deadline)
    except UnreadableFile as exc:
        empty.fatal = str(exc)
        empty.errors = _issues_frame([("", None, "", file_name, str(exc))])
        empty.error_total = 1
        return empty
    return ValidationResult(
        file_name, counts, _issues_frame(issues.errors), _issues_frame(issues.warnings), None,
        records, present, hashlib.sha256(data).hexdigest(), issues.error_count, issues.warning_count,
    )


# -- the page's entry point: once per file, off the script thread, with a time limit ------------
_VALIDATIONS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import-check")
_CACHE: OrderedDict[tuple, ValidationResult] = OrderedDict()
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


def _fatal_result(file_name: str, message: str) -> ValidationResult:
    return ValidationResult(file_name, {}, _issues_frame([("", None, "", file_name, message)]),
                            _issues_frame([]), message, error_total=1)


def validate_upload(
    db: Database, data: bytes, file_name: str, scope: Scope, *, today: dt.date | None = None,
) -> ValidationResult:
    """`validate_workbook` for the 数据导入 page: run on a worker thread (at most two at a time in
    the process, so one hostile file cannot starve everyone's pages) and stopped at
    import_timeout_seconds; the result is kept per (file SHA-256, name, user, data version, day),
    so a rerun of the page does not check the same file again."""
    today = today or _today()
    key = (hashlib.sha256(data).hexdigest(), file_name, scope, str(db.path), db.version, today)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    limits = import_limits(db)
    future = _VALIDATIONS.submit(validate_workbook, db, data, file_name, scope, today=today)
    try:
        # The check stops itself at the deadline; the margin covers a queue behind another file.
        result = future.result(timeout=2 * limits.timeout_seconds + 5)
    except FutureTimeout:
        return _fatal_result(file_name, str(ValidationTimeout(
            f"检查超过 {show(float(limits.timeout_seconds))} 秒仍未完成，已停止：文件过大或过于复杂，请拆分后分批导入。")))
    except Exception:  # a defect of ours must not show the user a traceback; it is logged
        logging.getLogger(__name__).exception("validation of %s failed", file_name)
        return _fatal_result(file_name, "检查文件时出错，未导入任何数据：请把这个文件交给系统管理员查看。")
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


# -- writing ----------------------------------------------------------------------------------
_TABLES = ("units", "contacts", "catalog_items", "demands", "share_requests", "progress_reports", "systems",
           "networks", "security_assessments", "quality_checks", "village_coverage")


def table_counts(read: Reader) -> dict[str, int]:
    return {t: read(f"SELECT count(*) FROM {t}", None)[0][0] for t in _TABLES}


def _write_units(cur, recs: list[dict], fields: set[str]) -> tuple[int, int]:
    existing = {r[0]: r[1:] for r in cur.execute("SELECT name, kind, is_member FROM units").fetchall()}
    next_id, order = cur.execute(
        "SELECT coalesce(max(unit_id), 0) + 1, coalesce(max(sort_order), 0) + 1 FROM units").fetchone()
    inserted = updated = 0
    for rec in recs:
        old = existing.get(rec["name"])
        member = rec.get("is_member") if "is_member" in fields else None
        if old is None:
            cur.execute(
                "INSERT INTO units (unit_id, name, kind, is_member, origin, sort_order) VALUES (?, ?, ?, ?, 'import', ?)",
                [next_id, rec["name"], rec["kind"], bool(member), order])
            next_id += 1
            order += 1
            inserted += 1
        else:
            new = (rec["kind"], old[1] if member is None else member)
            if new != old:
                cur.execute("UPDATE units SET kind = ?, is_member = ? WHERE name = ?", [*new, rec["name"]])
                updated += 1
    return inserted, updated


def _write_rows(cur, sheet: Sheet, recs: list[dict], fields: set[str], submitter: str,
                verifier: str | None) -> tuple[int, int]:
    ids = dict(cur.execute("SELECT name, unit_id FROM units").fetchall())
    unit_fields = {c.field for c in sheet.columns if c.kind == "unit"}
    data_fields = [c.field for c in sheet.columns if c.field in fields or c.field in sheet.key]
    derived = [f for f in ("registered", "connected", "migrated")
               if f in {c.field for c in sheet.columns} and f not in data_fields
               and f"{f}_on" in data_fields]
    data_fields += derived
    extra: list[str] = []
    if sheet.table == "progress_reports":
        extra = ["verified", "submitted_by", "verified_by", "verified_at"]
    columns = data_fields + extra
    existing = {
        tuple(r[: len(sheet.key)]): r[len(sheet.key):]
        for r in cur.execute(
            f"SELECT {', '.join(sheet.key)}, {', '.join(columns)} FROM {sheet.table}").fetchall()
    }
    now = dt.datetime.now().replace(microsecond=0)
    inserts: list[list] = []
    updates: list[list] = []
    for rec in recs:
        values = [ids[rec[f]] if f in unit_fields and rec.get(f) is not None else rec.get(f) for f in data_fields]
        key = tuple(values[data_fields.index(k)] for k in sheet.key)
        old = existing.get(key)
        compare = list(values)
        old_compare = list(old[: len(data_fields)]) if old is not None else None
        office = verifier is not None
        if extra and old is not None and office:
            # The office importing a report a unit submitted verifies it.
            compare.append(True)
            old_compare.append(old[len(data_fields)])
        if old is not None and compare == old_compare:
            continue
        if extra:
            values = values + [office, submitter, verifier, now if office else None]
        (inserts if old is None else updates).append(values)
    # Set-wise writes: one INSERT … SELECT and one UPDATE … FROM over a registered frame, not a
    # statement per row (a year of requests is 20,000 rows).
    schema = _frame_schema(cur, sheet.table, columns)
    if inserts:
        cur.register("_import_rows", pl.DataFrame(inserts, schema=schema, orient="row").to_arrow())
        cur.execute(f"INSERT INTO {sheet.table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _import_rows")
        cur.unregister("_import_rows")
    if updates:
        sets = [c for c in columns if c not in sheet.key]
        cur.register("_import_rows", pl.DataFrame(updates, schema=schema, orient="row").to_arrow())
        cur.execute(
            f"UPDATE {sheet.table} AS t SET {', '.join(f'{c} = u.{c}' for c in sets)} FROM _import_rows AS u "
            f"WHERE {' AND '.join(f't.{k} = u.{k}' for k in sheet.key)}")
        cur.unregister("_import_rows")
    return len(inserts), len(updates)


def _write_catalog_updates(cur, recs: list[dict]) -> None:
    """Record every 最近更新日期 of the sheet in the update history (catalog_updates), set-wise.

    Unchanged rows too, so a history that lacks a date gains it; a pair already known is left
    alone, so importing the same workbook again adds nothing. The sheet's counts stay those of
    catalog_items (the history is a by-product, not rows of the sheet)."""
    pairs = pl.DataFrame(
        [(rec["code"], rec["last_updated_on"]) for rec in recs if rec.get("last_updated_on") is not None],
        schema={"code": pl.String, "updated_on": pl.Date},
        orient="row",
    ).unique()
    if pairs.is_empty():
        return
    cur.register("_import_updates", pairs.to_arrow())
    try:
        cur.execute(
            "INSERT INTO catalog_updates (code, updated_on) SELECT u.code, u.updated_on FROM _import_updates AS u "
            "WHERE NOT EXISTS (SELECT 1 FROM catalog_updates AS c WHERE c.code = u.code AND c.updated_on = u.updated_on)")
    finally:
        cur.unregister("_import_updates")


_POLARS_TYPES = {"VARCHAR": pl.String, "INTEGER": pl.Int64, "BIGINT": pl.Int64, "DATE": pl.Date,
                 "BOOLEAN": pl.Boolean, "DOUBLE": pl.Float64, "TIMESTAMP": pl.Datetime("us")}


def _frame_schema(cur, table: str, columns: list[str]) -> dict[str, pl.DataType]:
    types = dict(cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]).fetchall())
    return {c: _POLARS_TYPES.get(types[c], pl.String) for c in columns}


def _record_audit(cur, scope: Scope, file_name: str, detail: str, before: dict, after: dict) -> None:
    from data.services import audit

    audit.record(cur, scope, "导入", file_name, detail, before, after)


def _backup(db: Database) -> str:
    from data.storage import backup

    return str(backup.backup(db, keep=10))


def import_workbook(
    db: Database,
    data: str | Path | bytes,
    file_name: str | None = None,
    scope: Scope | None = None,
    *,
    today: dt.date | None = None,
    validation: ValidationResult | None = None,
) -> ImportResult:
    """Validate, and when there is no error: the office's import is backed up and written in one
    transaction; a 单位 user's import is kept as a submission (import_batches, 待核验) and written
    only when the office verifies it (data.imports.batches.verify_batch)."""
    from data.storage.scope import SYSTEM

    scope = scope or SYSTEM
    scope.require_write()
    result = validation or validate_workbook(db, data, file_name, scope, today=today)
    out = ImportResult(result)
    if not result.ok:
        return out
    if not scope.is_admin:
        from data.imports.batches import submit_batch

        content = _read_bytes(data, import_limits(db).upload_mb)
        out.batch_id = submit_batch(db, scope, result, content)
        return out
    return write_validated(db, result, scope, submitter=scope.username)


def write_validated(db: Database, result: ValidationResult, actor: Scope, *, submitter: str,
                    action: str = "导入", note: str = "", inside=None) -> ImportResult:
    """Back up, then write a validated file in one transaction with its import_log rows and its
    audit entry; `inside(cur, import_id)` runs in the same transaction (a batch's status)."""
    from data.storage.plan import expand_assignments

    actor.require_admin()
    out = ImportResult(result)
    out.backup_path = _backup(db)
    with db.transaction() as cur:
        def read(sql, params):
            return cur.execute(sql, list(params) if params else []).fetchall()

        before = table_counts(read)
        for sheet in SHEETS:
            if sheet.name not in result.records:
                continue
            recs, fields = result.records[sheet.name], result.present[sheet.name]
            if sheet.table == "units":
                ins, upd = _write_units(cur, recs, fields)
                if ins or upd:
                    expand_assignments(cur)
            else:
                ins, upd = _write_rows(cur, sheet, recs, fields, submitter, actor.username)
                if sheet.table == "catalog_items" and "last_updated_on" in fields:
                    _write_catalog_updates(cur, recs)
            out.inserted[sheet.name], out.updated[sheet.name] = ins, upd
        from data.imports.supervision_sheets import write as write_supervision
        write_supervision(cur, actor, result.records, out)
        import_id = read("SELECT nextval('import_seq')", None)[0][0]
        for sheet_name in result.counts:
            cur.execute(
                "INSERT INTO import_log (id, username, file_name, file_sha256, sheet, inserted, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [import_id, actor.username, result.file_name, result.sha256, sheet_name,
                 out.inserted.get(sheet_name, 0), out.updated.get(sheet_name, 0)])
        if inside is not None:
            inside(cur, import_id)
        after = table_counts(read)
        detail = note + "；".join(out.summary_lines()) + f"；SHA-256 {result.sha256}"
        if action == "导入":
            _record_audit(cur, actor, result.file_name, detail, before, after)
        else:
            from data.services import audit

            audit.record(cur, actor, action, result.file_name, detail, before, after)
        out.import_id = import_id
    return out


# -- command line -----------------------------------------------------------------------------
def run_import_command(db: Database, paths: Iterable[str | Path], scope: Scope | None = None,
                       *, out=None, err=None) -> int:
    """`python -m data import FILE...`: 0 imported, 1 validation errors (nothing written),
    2 a file could not be read (nothing written). Every file is validated before any is written."""
    from data.storage.scope import SYSTEM

    out, err = out or sys.stdout, err or sys.stderr
    scope = scope or SYSTEM
    paths = list(paths)
    results = [validate_workbook(db, p, Path(p).name, scope) for p in paths]
    for res in results:
        for msg in res.warning_messages():
            print(f"{res.file_name} 提示：{msg}", file=out)
    fatal = [r for r in results if r.fatal]
    bad = [r for r in results if not r.ok and not r.fatal]
    if fatal or bad:
        for res in fatal:
            print(f"{res.file_name}：{res.fatal}", file=err)
        for res in bad:
            for msg in res.error_messages():
                print(f"{res.file_name} 错误：{msg}", file=err)
        total = sum(r.errors.height for r in bad)
        print(f"未导入任何数据：{len(fatal)} 个文件无法读取，{total} 处错误。 / Nothing imported: "
              f"{len(fatal)} unreadable file(s), {total} validation error(s).", file=err)
        return 2 if fatal else 1
    for res, path in zip(results, paths, strict=False):
        imported = import_workbook(db, path, res.file_name, scope, validation=res)
        print(f"{res.file_name} 已导入：", file=out)
        for line in imported.summary_lines():
            print(f"  {line}", file=out)
    return 0
