"""The check of a whole file against the contract (import-format.md); nothing is written.

`validate_workbook` reads the file (read.py), parses every cell (cells.py) and runs the sheet's
checker (checks.py) on each row, sheet by sheet in contract order so that a unit or a catalog code
added by an earlier sheet is known to a later one; then the supervision sheets. `validate_upload`
is the page's: off the script thread, with a time limit, once per file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from data.imports.cells import (
    CellError,
    blank,
    cell_text,
    is_example,
    parse_cell,
    parse_date,
    parse_month,
    parse_number,
    show,
)
from data.imports.checks import Known, check_row, check_supervision_row, owned
from data.imports.read import (
    Deadline,
    RawSheet,
    UnreadableFile,
    column_positions,
    pick_sheets,
    read_bytes,
    read_sheets,
    timeout_message,
    too_big,
)
from data.imports.results import Issues, ValidationResult, fatal_result, issues_frame
from data.imports.spec import INTERVIEWS, MB, SHEETS, SUPERVISION_SHEETS, Reader, Sheet, import_limits
from data.storage.db import Database
from data.storage.identity import code_key, normalize_name
from data.storage.plan import PLAN_TASKS
from data.storage.scope import SYSTEM, Scope


def _today() -> dt.date:
    return dt.date.today()


def _db_reader(db: Database) -> Reader:
    return lambda sql, params: db.rows(sql, params)


def unit_lookup(read: Reader) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    """normalised name or alias -> canonical name; canonical name -> kind / unit_id."""
    units = read("SELECT unit_id, name, kind FROM units", None)
    names = {normalize_name(n): n for _i, n, _k in units}
    for alias, name in read("SELECT a.alias, u.name FROM unit_aliases a JOIN units u USING (unit_id)", None):
        names.setdefault(normalize_name(alias), name)
    return names, {n: k for _i, n, k in units}, {n: i for i, n, _k in units}


def _data_rows(sheet: Sheet, rows: list[tuple], positions: dict[str, int], issues: Issues, deadline: Deadline,
               *, blank_by_columns: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """(Excel row number, cells by field) of each data row below the header: a blank row is
    skipped (blank_by_columns: blank in the sheet's known columns), the template's untouched
    example row is skipped with a notice."""
    for row_no, row in enumerate(rows[1:], start=2):
        if row_no % 500 == 0:
            deadline.check()
        cells = {f: (row[i] if i < len(row) else None) for f, i in positions.items()}
        if all(blank(v) for v in (cells.values() if blank_by_columns else row)):
            continue
        if is_example(sheet, cells):
            issues.warn(sheet.name, row_no, "", "", "模板示例行，未导入")
            continue
        yield row_no, cells


def _repeated(sheet: Sheet, row_no: int, rec: dict, seen: dict[tuple, int], issues: Issues) -> bool:
    """Whether the row repeats an earlier row's natural key (an error); else it is remembered."""
    key = tuple(rec.get(k) for k in sheet.key)
    if key in seen:
        issues.error(sheet.name, row_no, "、".join(sheet.column(k).label for k in sheet.key),
                     "/".join(show(k) for k in key if k is not None), f"与第 {seen[key]} 行重复（同一条记录只能出现一次）")
        return True
    seen[key] = row_no
    return False


def _validate_sheets(
    read: Reader,
    sheets: list[RawSheet],
    scope: Scope,
    issues: Issues,
    today: dt.date,
    deadline: Deadline | None = None,
) -> tuple[dict[str, int], dict[str, list[dict]], dict[str, set[str]]]:
    deadline = deadline or Deadline(None)
    names, kinds, ids = unit_lookup(read)
    own_name = next((n for n, i in ids.items() if i == scope.unit_id), None) if scope.unit_id else None
    assignments = {(t, u) for t, u in read(
        "SELECT a.task_no, u.name FROM task_assignments a JOIN units u USING (unit_id)", None)}
    # A unit added by this workbook's 单位 sheet gets the tasks its kind's group words assign.
    group_kinds = dict(read("SELECT group_word, list(unit_kind) FROM assignment_groups GROUP BY ALL", None))
    for no, *_rest, groups in PLAN_TASKS:
        for word in groups:
            for kind in group_kinds.get(word, []):
                assignments.add((no, "kind:" + kind))
    known = Known(
        kinds=kinds,
        tasks={r[0] for r in read("SELECT task_no FROM tasks", None)},
        assignments=assignments,
        db_catalog=dict(read("SELECT c.code, u.name FROM catalog_items c JOIN units u USING (unit_id)", None)),
    )
    # Codes match case-folded and after NFKC: code_key -> the spelling stored, per table.
    codes = {t: {code_key(c): c for (c,) in read(f"SELECT code FROM {t}", None)}
             for t in ("catalog_items", "demands", "share_requests")}
    stored_cache: dict[str, dict[str, dict]] = {}
    by_name, supervision_rows = pick_sheets(sheets, issues)

    counts: dict[str, int] = {}
    records: dict[str, list[dict]] = {}
    present: dict[str, set[str]] = {}
    for sheet in SHEETS:  # contract order: 单位 first, then 数据目录 before what refers to it
        if sheet.name not in by_name:
            continue
        rows = by_name[sheet.name]
        positions, missing = column_positions(sheet, rows, issues)
        present[sheet.name] = set(positions)
        out: list[dict] = []
        seen: dict[tuple, int] = {}
        count = 0
        for row_no, cells in _data_rows(sheet, rows, positions, issues, deadline):
            count += 1
            if missing:
                continue
            rec = _parse_row(sheet, row_no, cells, names, codes, issues, today)
            if rec is None or _repeated(sheet, row_no, rec, seen, issues):
                continue
            if not check_row(sheet, row_no, rec, known, issues):
                continue
            if scope.role == "单位" and not owned(sheet, row_no, rec, own_name, read, issues, positions,
                                                  stored_cache):
                continue
            rec["_row"] = row_no
            out.append(rec)
            if sheet.name == "单位":
                known.new_units[rec["name"]] = rec["kind"]
                names.setdefault(normalize_name(rec["name"]), rec["name"])
            if sheet.name == "数据目录":
                known.wb_catalog[rec["code"]] = rec["unit_id"]
                codes["catalog_items"].setdefault(code_key(rec["code"]), rec["code"])
        counts[sheet.name] = count
        records[sheet.name] = out
    _validate_supervision(read, supervision_rows, scope, issues, today, deadline, counts, records, present)
    return counts, records, present


def _parse_row(sheet, row_no, cells, names, codes, issues, today) -> dict | None:
    rec: dict[str, Any] = {}
    good = True
    for col in sheet.columns:
        if col.field not in cells:
            continue
        raw = cells[col.field]
        if blank(raw):
            if col.required:
                hint = "（只有空格或不可见字符）" if raw is not None and str(raw) != "" and str(raw).strip() else ""
                issues.error(sheet.name, row_no, col.label, "", "必填项为空" + hint)
                good = False
            rec[col.field] = None
            continue
        try:
            rec[col.field] = parse_cell(col, raw, names, today)
            if col.field == "code" or col.kind == "catalog":
                table = "catalog_items" if col.kind == "catalog" else sheet.table
                rec[col.field] = codes[table].get(code_key(rec[col.field]), rec[col.field])
        except CellError as bad:
            issues.error(sheet.name, row_no, col.label, raw, bad.problem)
            good = False
    if not good:
        return None
    if sheet.name == "单位":
        # A name that already exists (after normalisation or as an alias) updates that unit.
        rec["name"] = names.get(normalize_name(rec["name"]), normalize_name(rec["name"]))
    return rec


# -- the supervision sheets: 约谈记录 and 整改承诺, after the others (docs/import.md) ------------------
def _indicators() -> dict[str, str]:
    from metrics.registry import KPIS

    out = {k.label: k.code for k in KPIS}
    out.update({k.code: k.code for k in KPIS})
    return out


def _parse_supervision_cell(col, raw, rec: dict, names, ids, kpis, today: dt.date) -> Any:
    if col.kind == "month":
        return parse_month(raw)
    if col.kind == "unit":
        name = names.get(normalize_name(show(raw)))
        if name is None:
            raise ValueError("不是已登记的单位名称")
        rec["_unit"] = name
        return ids[name]
    if col.kind == "date":
        day = parse_date(raw)
        if not col.future_ok and day > today:
            raise ValueError("日期不能晚于今天")
        return day
    if col.kind in ("int", "score"):
        number = parse_number(raw, col.kind == "int")
        if col.low is not None and number < col.low or (col.high is not None and number > col.high):
            raise ValueError("超出允许范围")
        return number
    if col.field == "indicator":
        code = kpis.get(cell_text(raw))
        if code is None:
            raise ValueError("不是考评指标的名称")
        return code
    return cell_text(raw)


def _validate_supervision(read: Reader, rows_by_sheet: dict[str, list[tuple]], scope: Scope, issues: Issues,
                          today: dt.date, deadline: Deadline, counts: dict, records: dict, present: dict) -> None:
    """Check the two sheets (header row first) and add their records to the import's dicts."""
    if not rows_by_sheet:
        return
    names, _kinds, ids = unit_lookup(read)
    kpis = _indicators()
    from metrics.registry import KPI_BY_CODE

    assigned = {(t, u) for t, u in read("SELECT task_no, unit_id FROM task_assignments", None)}
    held = {(m, u): d for m, u, d in read("SELECT month, unit_id, held_on FROM interviews", None)}
    for sheet in SUPERVISION_SHEETS:
        if sheet.name not in rows_by_sheet:
            continue
        rows = rows_by_sheet[sheet.name]
        if not scope.is_admin:
            issues.error(sheet.name, None, "", "", "约谈记录和整改承诺仅限领导小组办公室导入")
            continue
        pos, missing = column_positions(sheet, rows, issues, strict=False)
        present[sheet.name] = set(pos)
        if missing:
            continue
        out, seen, count = [], {}, 0
        for row_no, cells in _data_rows(sheet, rows, pos, issues, deadline, blank_by_columns=True):
            count += 1
            rec, ok = {"_row": row_no}, True
            for col in sheet.columns:
                raw = cells.get(col.field)
                if blank(raw):
                    if col.required:
                        issues.error(sheet.name, row_no, col.label, raw, "必填，不能为空")
                        ok = False
                    rec[col.field] = None
                    continue
                try:
                    rec[col.field] = _parse_supervision_cell(col, raw, rec, names, ids, kpis, today)
                except Exception as exc:  # noqa: BLE001 - every parse problem becomes a row error
                    issues.error(sheet.name, row_no, col.label, raw, getattr(exc, "problem", str(exc)))
                    ok = False
            if not ok or not check_supervision_row(sheet, row_no, rec, held, assigned, KPI_BY_CODE, issues):
                continue
            if _repeated(sheet, row_no, rec, seen, issues):
                continue
            out.append(rec)
            if sheet.name == INTERVIEWS:
                held[(rec["month"], rec["unit_id"])] = rec["held_on"]
        counts[sheet.name] = count
        records[sheet.name] = out


# -- the check of one file ----------------------------------------------------------------------
def validate_workbook(
    db: Database,
    path_or_bytes: str | Path | bytes,
    file_name: str | None = None,
    scope: Scope | None = None,
    *,
    today: dt.date | None = None,
) -> ValidationResult:
    """Check a workbook or CSV against import-format.md; nothing is written."""
    scope = scope or SYSTEM
    scope.require_write()
    if file_name is None:
        file_name = Path(str(path_or_bytes)).name if not isinstance(path_or_bytes, bytes) else "upload.xlsx"
    limits = import_limits(db)
    deadline = Deadline(limits.timeout_seconds)
    issues = Issues(limits.max_errors)
    try:
        data = read_bytes(path_or_bytes, limits.upload_mb)
        if len(data) > limits.upload_mb * MB:
            raise UnreadableFile(too_big(len(data), limits.upload_mb))
        sheets = read_sheets(data, file_name, limits, deadline)
        counts, records, present = _validate_sheets(_db_reader(db), sheets, scope, issues, today or _today(),
                                                    deadline)
    except UnreadableFile as exc:
        return fatal_result(file_name, str(exc))
    return ValidationResult(
        file_name, counts, issues_frame(issues.errors), issues_frame(issues.warnings), None,
        records, present, hashlib.sha256(data).hexdigest(), issues.error_count, issues.warning_count,
    )


# -- the page's entry point: once per file, off the script thread, with a time limit ------------
_VALIDATIONS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import-check")
_CACHE: OrderedDict[tuple, ValidationResult] = OrderedDict()
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


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
        return fatal_result(file_name, timeout_message(limits.timeout_seconds))
    except Exception:  # a defect of ours must not show the user a traceback; it is logged
        logging.getLogger(__name__).exception("validation of %s failed", file_name)
        return fatal_result(file_name, "检查文件时出错，未导入任何数据：请把这个文件交给系统管理员查看。")
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result
