"""The checks of a parsed row beyond its cells: one checker per sheet (cross-column and
cross-sheet consistency), the share-request steps every writer of a request shares, and the
column ownership of a 单位 user's rows. Errors make a row fail; warnings are only recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from data.imports.results import Issues
from data.imports.spec import COMMITMENTS, NOT_YOURS, OFFICE_SHEETS, TOWNSHIP, Reader, Sheet, column_owner
from data.storage.plan import OFFICE
from metrics.cn import cn_date


@dataclass
class Known:
    """What the rows are checked against: the database as it stands and what earlier sheets of the
    same workbook add (the 单位 sheet's units, the 数据目录 sheet's codes)."""

    kinds: dict[str, str]                    # unit name -> kind, in the database
    tasks: set[int]
    assignments: set[tuple]                  # (task_no, unit name) and (task_no, "kind:" + kind)
    db_catalog: dict[str, str]               # code -> provider name, in the database
    new_units: dict[str, str] = field(default_factory=dict)    # name -> kind, from the 单位 sheet
    wb_catalog: dict[str, str] = field(default_factory=dict)   # code -> provider, from 数据目录

    def kind_of(self, unit: str) -> str | None:
        return self.new_units.get(unit, self.kinds.get(unit))


def report_rule_problems(
    status: str | None, reported_on: dt.date | None, percent: int | None, completed_on: dt.date | None,
) -> list[tuple[str, str]]:
    """The one rule a progress report obeys, shared by the form and the import.

    Returns (field, Chinese problem without final punctuation) pairs, in the order a reader
    checks them; the form shows the first, the import lists each against its column."""
    problems: list[tuple[str, str]] = []
    if percent is not None and not 0 <= int(percent) <= 100:
        problems.append(("percent", "完成进度须在0到100之间"))
    if status == "已完成":
        if completed_on is None:
            problems.append(("completed_on", "状态为“已完成”时须填写完成日期"))
        elif reported_on is not None and completed_on > reported_on:
            problems.append(("completed_on", "完成日期不能晚于报送日期"))
    elif completed_on is not None:
        problems.append(("completed_on", "只有状态为“已完成”时才填写完成日期"))
    return problems


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


def _check_catalog_refs(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> None:
    fields = {c.field for c in sheet.columns}
    for f in ("catalog_code", "target_code"):
        code = rec.get(f)
        if code is not None and f in fields and code not in known.db_catalog and code not in known.wb_catalog:
            issues.error(sheet.name, row_no, sheet.column(f).label, code,
                         "不是已有的目录编码（数据库和本工作簿的「数据目录」中都没有）")


def _check_request(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> None:
    for column, value, problem in request_step_problems(rec):
        issues.error(sheet.name, row_no, column, value, problem)
    if rec.get("reply_result") in ("不同意", "部分同意"):
        for f in ("legal_basis", "refusal_reason"):
            if not rec.get(f):
                label = sheet.column(f).label
                issues.warn(sheet.name, row_no, label, "",
                            f"答复结果为{rec['reply_result']}，但未填写{label}（计入拒绝依据完备率）")


def _check_catalog(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> None:
    if rec.get("share_type") == "不予共享" and not rec.get("nonshare_basis"):
        issues.warn(sheet.name, row_no, "不予共享依据", "", "共享类型为不予共享，但未填写不予共享依据")


def _check_progress(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> None:
    n, task, unit = sheet.name, rec["task_no"], rec["unit_id"]
    if task not in known.tasks:
        issues.error(n, row_no, "任务序号", task, "不是已有的任务序号")
    elif (task, unit) not in known.assignments and (
            unit not in known.new_units or (task, "kind:" + known.new_units[unit]) not in known.assignments):
        issues.error(n, row_no, "单位名称", unit, f"不是任务 {task} 的责任单位")
    for f, problem in report_rule_problems(rec.get("status"), rec.get("reported_on"), rec.get("percent"),
                                           rec.get("completed_on")):
        issues.error(n, row_no, sheet.column(f).label, rec.get(f), problem)


def _check_quality(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> None:
    found, fixed = rec.get("issues_found"), rec.get("issues_fixed")
    if fixed is not None and found is not None and fixed > found:
        issues.error(sheet.name, row_no, "已整改数", fixed, f"大于发现问题数（{found}）")
    elif fixed is not None and found is None:
        issues.error(sheet.name, row_no, "已整改数", fixed, "填了已整改数，但没有发现问题数")


def _check_coverage(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> None:
    if known.kind_of(rec["unit_id"]) != TOWNSHIP:
        issues.error(sheet.name, row_no, "乡镇（街道）", rec["unit_id"], "不是乡镇（街道）类型的单位")
    if rec["connected"] > rec["villages"]:
        issues.error(sheet.name, row_no, "已接入数", rec["connected"], f"大于行政村（社区）数（{rec['villages']}）")


def _fill_flags(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> None:
    """信息系统 / 业务专网: a blank 是否已注册/联通/迁移 follows whether its date is filled."""
    for flag, day in (("registered", "registered_on"), ("connected", "connected_on"),
                      ("migrated", "migrated_on")):
        if (day in rec or flag in rec) and rec.get(flag) is None:
            rec[flag] = rec.get(day) is not None


Checker = Callable[[Sheet, int, dict, Known, Issues], None]
CHECKERS: dict[str, Checker] = {
    "数据目录": _check_catalog,
    "共享申请": _check_request,
    "任务进展": _check_progress,
    "质量检查": _check_quality,
    "外网覆盖": _check_coverage,
    "信息系统": _fill_flags,
    "业务专网": _fill_flags,
}


def check_row(sheet: Sheet, row_no: int, rec: dict, known: Known, issues: Issues) -> bool:
    """The sheet's checker after the catalog references: False when the row has an error."""
    errors_before = issues.error_count
    _check_catalog_refs(sheet, row_no, rec, known, issues)
    checker = CHECKERS.get(sheet.name)
    if checker is not None:
        checker(sheet, row_no, rec, known, issues)
    return issues.error_count == errors_before


# -- column ownership for 单位 users (the owners are declared in spec.py) ------------------------
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


def owned(sheet: Sheet, row_no: int, rec: dict, own_name: str | None, read: Reader, issues: Issues,
          present: dict[str, int], cache: dict) -> bool:
    """A 单位 user may write only its own unit's rows and, in them, only the columns it owns."""
    if sheet.name in OFFICE_SHEETS:
        first = sheet.owner or sheet.columns[0].field
        issues.error(sheet.name, row_no, sheet.column(first).label, rec[first], OFFICE_SHEETS[sheet.name])
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
            problem = "申请已经初审，申请内容和提交日期不能再由单位修改" if frozen and roles.get(owner) else NOT_YOURS[owner]
            issues.error(sheet.name, row_no, col.label, rec.get(col.field), problem)
            good = False
    return good


# -- the supervision sheets (office only) -------------------------------------------------------
def check_supervision_row(sheet: Sheet, row_no: int, rec: dict, held: dict, assigned: set, kpi_by_code: dict,
                          issues: Issues) -> bool:
    """约谈记录 and 整改承诺: never the office itself; a commitment needs its interview (in the
    database or the workbook) and either an indicator with a target or a task of the unit."""
    if rec.get("_unit") == OFFICE:
        issues.error(sheet.name, row_no, "单位名称", OFFICE, "领导小组办公室不约谈自身")
        return False
    if sheet.name != COMMITMENTS:
        return True
    if (rec.get("indicator") is None) == (rec.get("task_no") is None):
        issues.error(sheet.name, row_no, "指标/任务序号", "", "每行须填写指标（及目标值）或任务序号，二者选一")
        return False
    day = held.get((rec["month"], rec["unit_id"]))
    if day is None:
        issues.error(sheet.name, row_no, "考评月份", rec["month"], f"{rec['_unit']}在该月没有约谈记录")
        return False
    if rec["due_on"] < day:
        issues.error(sheet.name, row_no, "整改期限", rec["due_on"], f"不能早于约谈日期{cn_date(day)}")
        return False
    if rec.get("indicator") is not None:
        if rec.get("target") is None:
            issues.error(sheet.name, row_no, "目标值", "", "填写指标时须填写目标值")
            return False
        if kpi_by_code[rec["indicator"]].kind in ("rate", "flag"):
            if rec["target"] > 100:
                issues.error(sheet.name, row_no, "目标值", rec["target"], "比率的目标值须在 0 到 100 之间（百分数）")
                return False
            rec["target"] = rec["target"] / 100
    elif (rec["task_no"], rec["unit_id"]) not in assigned:
        issues.error(sheet.name, row_no, "任务序号", rec["task_no"], f"{rec['_unit']}没有承担该任务")
        return False
    return True
