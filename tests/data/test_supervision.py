"""Storage of the supervision loop: extension requests (timing, one pending, approve/refuse, audit,
scoping), interviews and commitments, and what the engine then sees."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data.services.audit import read_audit
from data.services.supervision import (
    SupervisionError,
    approve_extension,
    extension_requests,
    refuse_extension,
    request_extension,
)
from data.storage.facts import load_facts
from data.storage.scope import PermissionDenied, Scope
from metrics.tasks import assignment_status

D = dt.date
OFFICE = Scope("office", "管理员")
LEADER = Scope("leader", "领导")
WEIBAN = Scope("weiban", "单位", unit_id=2)      # 县委办: task 6 (due 2023-09-30) among others
ZFB = Scope("zfb", "单位", unit_id=3)            # 县政府办


def _status(db, as_of, task_no=6, unit_id=2):
    frame = assignment_status(load_facts(db), as_of)
    return frame.filter((pl.col("task_no") == task_no) & (pl.col("unit_id") == unit_id)).row(0, named=True)


def test_request_then_approve_changes_the_due_date_and_is_audited(db):
    rid = request_extension(WEIBAN, 6, 2, "系统改造需要招标", D(2023, 11, 30), today=D(2023, 9, 20), db=db)
    assert _status(db, D(2023, 10, 10))["status"] == "逾期未完成"          # still waiting: plan date holds
    approve_extension(OFFICE, rid, D(2023, 10, 31), today=D(2023, 9, 25), db=db)
    row = _status(db, D(2023, 10, 10))
    # 21 days before the new date: green; on 10-20 (11 days left) yellow
    assert (row["due_date"], row["status"], row["light"]) == (D(2023, 10, 31), "未启动", "green")
    assert _status(db, D(2023, 10, 20))["light"] == "yellow"
    # before the approval date the plan's date still holds (as-of rule)
    assert _status(db, D(2023, 9, 24))["due_date"] == D(2023, 9, 30)
    req = extension_requests(OFFICE, db=db).row(0, named=True)
    assert (req["status"], req["approved_due"], req["decided_by"], req["due_at_request"]) == (
        "已批准", D(2023, 10, 31), "office", D(2023, 9, 30))
    log = read_audit(db, OFFICE)
    assert {"延期申请", "审批延期"} <= set(log["操作"].to_list())
    assert "批准延期至2023-10-31（原时限2023-09-30）" in log["说明"].to_list()


def test_refused_request_keeps_the_plan_date_and_tells_why(db):
    rid = request_extension(WEIBAN, 6, 2, "人手不足", D(2023, 11, 30), today=D(2023, 9, 20), db=db)
    with pytest.raises(SupervisionError, match="驳回理由"):
        refuse_extension(OFFICE, rid, " ", today=D(2023, 9, 21), db=db)
    refuse_extension(OFFICE, rid, "理由不充分，请按原时限完成", today=D(2023, 9, 21), db=db)
    assert _status(db, D(2023, 10, 10))["status"] == "逾期未完成"
    req = extension_requests(WEIBAN, db=db).row(0, named=True)
    assert (req["status"], req["refusal_reason"]) == ("已驳回", "理由不充分，请按原时限完成")
    with pytest.raises(SupervisionError, match="已已驳回|已驳回，不能再次审批"):
        approve_extension(OFFICE, rid, today=D(2023, 9, 22), db=db)


def test_a_request_after_the_due_date_is_refused_with_a_clear_message(db):
    with pytest.raises(SupervisionError, match="完成时限2023年9月30日已过，不能再申请延期"):
        request_extension(WEIBAN, 6, 2, "来不及", D(2023, 11, 30), today=D(2023, 10, 1), db=db)
    # on the due date itself it is still in time
    request_extension(WEIBAN, 6, 2, "来不及", D(2023, 11, 30), today=D(2023, 9, 30), db=db)
    assert extension_requests(OFFICE, db=db).height == 1


def test_one_pending_request_per_assignment_and_other_checks(db):
    request_extension(WEIBAN, 6, 2, "理由", D(2023, 11, 30), today=D(2023, 9, 1), db=db)
    with pytest.raises(SupervisionError, match="已有一份待审批的延期申请"):
        request_extension(WEIBAN, 6, 2, "再申请", D(2023, 12, 31), today=D(2023, 9, 2), db=db)
    with pytest.raises(SupervisionError, match="须晚于现行完成时限2023年6月10日"):
        request_extension(WEIBAN, 2, 2, "理由", D(2023, 6, 1), today=D(2023, 5, 20), db=db)
    with pytest.raises(SupervisionError, match="持续性任务"):
        request_extension(OFFICE, 5, 1, "理由", D(2023, 12, 31), today=D(2023, 5, 20), db=db)
    with pytest.raises(SupervisionError, match="没有承担任务11"):
        request_extension(WEIBAN, 11, 2, "理由", D(2024, 3, 31), today=D(2023, 5, 20), db=db)
    assert extension_requests(OFFICE, db=db).height == 1   # nothing half-written


def test_extension_permissions_are_enforced_in_the_data_layer(db):
    with pytest.raises(PermissionDenied):
        request_extension(ZFB, 6, 2, "替别人申请", D(2023, 11, 30), today=D(2023, 9, 1), db=db)
    with pytest.raises(PermissionDenied):
        request_extension(LEADER, 6, 2, "理由", D(2023, 11, 30), today=D(2023, 9, 1), db=db)
    rid = request_extension(WEIBAN, 6, 2, "理由", D(2023, 11, 30), today=D(2023, 9, 1), db=db)
    with pytest.raises(PermissionDenied):
        approve_extension(WEIBAN, rid, today=D(2023, 9, 2), db=db)
    with pytest.raises(PermissionDenied):
        refuse_extension(LEADER, rid, "不行", today=D(2023, 9, 2), db=db)
    assert extension_requests(ZFB, db=db).is_empty()
    assert extension_requests(WEIBAN, db=db).height == 1


# -- 约谈 and 整改承诺 --------------------------------------------------------------------------------
from data.services.supervision import (  # noqa: E402
    add_commitment,
    authorisations,
    commitments,
    inspection_list,
    interviews,
    record_interview,
    suggested_reasons,
)


def _report(db, task_no, unit_id, day, status="已完成"):
    with db.transaction() as cur:
        cur.execute("INSERT INTO progress_reports (task_no, unit_id, reported_on, status, percent, completed_on) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [task_no, unit_id, day, status, 100, day])


def test_interview_with_reasons_prefilled_and_commitments_followed_up(db):
    # 县委办 (2) has not completed task 2 (due 2023-06-10): a red light in the June review.
    reasons = suggested_reasons(OFFICE, "2023-06", 2, db=db)
    assert reasons.startswith("红灯任务1项：任务2“") and "（时限2023年6月10日）" in reasons
    assert "失分较多的指标：" in reasons
    iid = record_interview(OFFICE, "2023-06", 2, D(2023, 7, 5), "县委办分管领导、经办人",
                           commitments=[{"task_no": 2, "due_on": D(2023, 7, 31)},
                                        {"indicator": "contacts_named", "target": 1.0, "due_on": D(2023, 8, 31)}], db=db)
    row = interviews(OFFICE, db=db).row(0, named=True)
    assert (row["interview_id"], row["unit"], row["reasons"]) == (iid, "县委办", reasons)
    states = commitments(WEIBAN, D(2023, 7, 20), db=db)
    assert states["state"].to_list() == ["整改中", "整改中"]
    assert states["promise"].to_list()[1] == "明确分管领导和经办人达到100%"
    _report(db, 2, 2, D(2023, 7, 25))            # the unit completes task 2 in time for its promise
    after = commitments(WEIBAN, D(2023, 9, 1), db=db)
    assert after["state"].to_list() == ["已整改", "逾期未整改"]   # no contacts named by 8-31
    assert inspection_list(LEADER, D(2023, 9, 1), db=db)["unit"].to_list() == ["县委办"]
    log = read_audit(db, OFFICE)
    assert "约谈" in log["操作"].to_list()


def test_interview_is_all_or_nothing_and_validated(db):
    with pytest.raises(SupervisionError, match="没有承担任务11"):
        record_interview(OFFICE, "2023-06", 2, D(2023, 7, 5), "张三", "红灯",
                         [{"task_no": 2, "due_on": D(2023, 7, 31)}, {"task_no": 11, "due_on": D(2023, 7, 31)}], db=db)
    assert interviews(OFFICE, db=db).is_empty()
    with pytest.raises(SupervisionError, match="不能早于约谈日期"):
        record_interview(OFFICE, "2023-06", 2, D(2023, 7, 5), "张三", "红灯",
                         [{"task_no": 2, "due_on": D(2023, 7, 1)}], db=db)
    with pytest.raises(SupervisionError, match="0%到100%"):
        record_interview(OFFICE, "2023-06", 2, D(2023, 7, 5), "张三", "红灯",
                         [{"indicator": "share_rate", "target": 90, "due_on": D(2023, 7, 31)}], db=db)
    with pytest.raises(SupervisionError, match="不约谈自身"):
        record_interview(OFFICE, "2023-06", 1, D(2023, 7, 5), "张三", "红灯", db=db)
    iid = record_interview(OFFICE, "2023-06", 2, D(2023, 7, 5), "张三", "红灯", db=db)
    with pytest.raises(SupervisionError, match="已有约谈记录"):
        record_interview(OFFICE, "2023-06", 2, D(2023, 7, 6), "张三", "红灯", db=db)
    add_commitment(OFFICE, iid, {"task_no": 2, "due_on": D(2023, 7, 31)}, db=db)
    assert commitments(OFFICE, D(2023, 7, 10), db=db).height == 1


def test_interview_permissions_and_scoping(db):
    for scope in (WEIBAN, LEADER):
        with pytest.raises(PermissionDenied):
            record_interview(scope, "2023-06", 2, D(2023, 7, 5), "张三", "红灯", db=db)
    with pytest.raises(PermissionDenied):
        suggested_reasons(WEIBAN, "2023-06", 2, db=db)
    record_interview(OFFICE, "2023-06", 2, D(2023, 7, 5), "张三", "红灯",
                     [{"task_no": 2, "due_on": D(2023, 7, 31)}], db=db)
    record_interview(OFFICE, "2023-06", 3, D(2023, 7, 5), "李四", "红灯",
                     [{"task_no": 2, "due_on": D(2023, 7, 31)}], db=db)
    assert interviews(WEIBAN, db=db)["unit"].to_list() == ["县委办"]
    assert commitments(ZFB, D(2023, 8, 1), db=db)["unit"].to_list() == ["县政府办"]
    assert interviews(LEADER, db=db).height == 2
    with pytest.raises(PermissionDenied):
        inspection_list(WEIBAN, D(2023, 8, 1), db=db)


def test_authorisation_register_is_scoped_to_the_units_involved(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO share_requests (code, requester_id, provider_id, purpose, use_until, received_on, "
                    "replied_on, reply_result) VALUES ('R1', 2, 3, '核验', DATE '2023-10-20', DATE '2023-09-01', "
                    "DATE '2023-09-05', '同意'), ('R2', 4, 5, '统计', DATE '2024-01-01', DATE '2023-09-01', "
                    "DATE '2023-09-05', '部分同意'), ('R3', 2, 5, '统计', NULL, DATE '2023-09-01', "
                    "DATE '2023-09-05', '不同意')")
    office = authorisations(OFFICE, D(2023, 9, 30), db=db)
    assert dict(zip(office["code"], office["state"], strict=True)) == {"R1": "即将到期", "R2": "有效"}
    mine = authorisations(WEIBAN, D(2023, 9, 30), db=db)
    assert mine.select("code", "requester", "provider").rows() == [("R1", "县委办", "县政府办")]


# -- import sheets 约谈记录 / 整改承诺 -------------------------------------------------------------------
from data.imports.importer import import_workbook  # noqa: E402
from data.imports.validate import validate_workbook  # noqa: E402
from tests.fixtures.workbooks import TODAY, workbook_bytes  # noqa: E402

INTERVIEW_HEAD = ["考评月份", "单位名称", "约谈日期", "参加人员", "约谈事由"]
COMMIT_HEAD = ["考评月份", "单位名称", "指标", "目标值", "任务序号", "整改期限", "备注"]


def test_import_interviews_and_commitments_then_reimport_updates(db):
    book = workbook_bytes({
        "约谈记录": [INTERVIEW_HEAD, ["2023年10月", "县委办", D(2023, 11, 3), "分管领导", None]],
        "整改承诺": [COMMIT_HEAD, ["2023-10", "县委办", "目录挂接率", 90, None, D(2023, 12, 31), "年底前挂接"],
                     ["2023-10", "县委办", None, None, 6, D(2023, 11, 30), None]],
    })
    result = import_workbook(db, book, "约谈.xlsx", OFFICE, today=TODAY)
    assert result.ok, result.validation.error_messages()
    assert result.inserted == {"约谈记录": 1, "整改承诺": 2}
    talk = interviews(OFFICE, db=db).row(0, named=True)
    assert (talk["month"], talk["unit"], talk["held_on"]) == ("2023-10", "县委办", D(2023, 11, 3))
    assert talk["reasons"] == suggested_reasons(OFFICE, "2023-10", 2, db=db)    # pre-filled when left empty
    rows = commitments(OFFICE, D(2023, 11, 10), db=db).sort("commitment_id")
    assert rows.select("indicator", "target", "task_no").rows() == [("catalog_mounted_rate", 0.9, None),
                                                                     (None, None, 6)]
    again = import_workbook(db, workbook_bytes({"整改承诺": [COMMIT_HEAD, [
        "2023-10", "县委办", "目录挂接率", 95, None, D(2024, 1, 31), None]]}), "改.xlsx", OFFICE, today=TODAY)
    assert again.ok and again.inserted == {"整改承诺": 0} and again.updated == {"整改承诺": 1}
    assert commitments(OFFICE, D(2023, 11, 10), db=db).sort("commitment_id")["target"].to_list()[0] == 0.95


def test_import_errors_name_sheet_row_and_column_and_write_nothing(db):
    book = workbook_bytes({
        "约谈记录": [INTERVIEW_HEAD, ["2023-13", "县委办", D(2023, 11, 3), "分管领导", "x"],
                     ["2023-10", "县大数据发展中心", D(2023, 11, 3), "主任", "x"]],
        "整改承诺": [COMMIT_HEAD, ["2023-09", "县政府办", None, None, 6, D(2023, 11, 30), None],
                     ["2023-10", "县委办", "不存在的指标", 90, None, D(2023, 12, 31), None]],
    })
    check = validate_workbook(db, book, "错.xlsx", OFFICE, today=TODAY)
    messages = check.error_messages()
    assert not check.ok
    assert check.errors.select("工作表", "行号", "列").rows() == [
        ("约谈记录", 2, "考评月份"), ("约谈记录", 3, "单位名称"), ("整改承诺", 2, "考评月份"), ("整改承诺", 3, "指标")]
    assert any("没有约谈记录" in m for m in messages) and any("不是考评指标的名称" in m for m in messages)
    assert not import_workbook(db, book, "错.xlsx", OFFICE, today=TODAY).ok
    assert interviews(OFFICE, db=db).is_empty()
    unit = validate_workbook(db, workbook_bytes({"约谈记录": [INTERVIEW_HEAD, [
        "2023-10", "县委办", D(2023, 11, 3), "分管领导", "x"]]}), "单位.xlsx", WEIBAN, today=TODAY)
    assert unit.error_messages() and "仅限领导小组办公室导入" in unit.error_messages()[0]


def test_template_has_the_supervision_sheets():
    import io

    from openpyxl import load_workbook

    from data.imports.template import template_bytes

    wb = load_workbook(io.BytesIO(template_bytes()))
    assert [c.value for c in wb["约谈记录"][1]] == INTERVIEW_HEAD
    assert [c.value for c in wb["整改承诺"][1]] == COMMIT_HEAD
