"""What a check and an import return: the issues found (sheet, row, column, value, problem, in
Chinese), the validated records, and what the write did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from data.imports.cells import show
from data.imports.spec import ImportLimits

SHOWN_VALUE_CHARS = 200   # a cell quoted in a message is cut to this length


def _quote(value: Any) -> str:
    text = show(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + f"…（共 {len(text):,} 个字符）"


class Issues:
    """Errors and warnings; only the first `cap` of each are kept, the rest are counted."""

    def __init__(self, cap: int = ImportLimits.max_errors):
        self.cap = cap
        self.errors: list[tuple] = []
        self.warnings: list[tuple] = []
        self.error_count = 0
        self.warning_count = 0

    def error(self, sheet: str, row: int | None, column: str, value: Any, problem: str) -> None:
        self.error_count += 1
        self._keep(self.errors, (sheet, row, column, value, problem))

    def warn(self, sheet: str, row: int | None, column: str, value: Any, problem: str) -> None:
        self.warning_count += 1
        self._keep(self.warnings, (sheet, row, column, value, problem))

    def _keep(self, kept: list[tuple], issue: tuple) -> None:
        if len(kept) < self.cap:
            sheet, row, column, value, problem = issue
            kept.append((sheet, row, column, _quote(value), problem))


def issues_frame(rows: list[tuple]) -> pl.DataFrame:
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


def fatal_result(file_name: str, message: str) -> ValidationResult:
    """The result of a file that could not be read or checked at all (exit code 2)."""
    return ValidationResult(file_name, {}, issues_frame([("", None, "", file_name, message)]),
                            issues_frame([]), message, error_total=1)
