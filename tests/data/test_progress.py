"""data.services.progress: who may report or verify, what is refused, and the audit entry of each write."""

from __future__ import annotations

import datetime as dt

import pytest

from data.services.progress import ReportError, submit_report, verify_report
from data.storage.facts import load_facts
from data.storage.scope import PermissionDenied, Scope
from tests.pages import small_county as sc

ADMIN, LEADER, UNIT2, UNIT3 = (Scope(**s) for s in (sc.ADMIN, sc.LEADER, sc.UNIT2, sc.UNIT3))
TODAY = dt.date(2023, 11, 10)


@pytest.fixture
def county(db):
    sc.fill(db)
    return db


def _reports(db, task_no, unit_id):
    return db.rows("SELECT reported_on, status, percent, completed_on, verified, submitted_by, verified_by "
                   "FROM progress_reports WHERE task_no = ? AND unit_id = ? ORDER BY reported_on",
                   [task_no, unit_id])


def _audit(db):
    return db.rows("SELECT username, action, target, detail, counts_before, counts_after FROM audit_log ORDER BY id")


def test_office_report_is_verified_and_audited(county):
    verified = submit_report(ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 1), "已完成", None,
                             dt.date(2023, 10, 28), "已明确经办人", today=TODAY, db=county)
    assert verified is True
    assert _reports(county, 2, sc.ZHENGFUBAN)[-1] == (
        dt.date(2023, 11, 1), "已完成", 100, dt.date(2023, 10, 28), True, "office", "office")
    assert _audit(county) == [("office", "报送进展", "任务2·县政府办", "2023-11-01 已完成",
                               '{"进展报告": 1, "待核验": 0}', '{"进展报告": 2, "待核验": 0}')]


def test_unit_report_waits_and_counts_only_after_verification(county):
    version = county.version
    assert submit_report(UNIT3, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "已完成", 100,
                         dt.date(2023, 11, 1), "", today=TODAY, db=county) is False
    assert county.version != version                       # caches keyed on the version move on
    reports = load_facts(county).reports
    assert dt.date(2023, 11, 2) not in reports["reported_on"].to_list()   # unverified: not in the engine
    with pytest.raises(PermissionDenied):
        verify_report(UNIT3, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), db=county)
    verify_report(ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), db=county)
    assert dt.date(2023, 11, 2) in load_facts(county).reports["reported_on"].to_list()
    assert [a[1] for a in _audit(county)] == ["报送进展", "核验进展"]
    assert _audit(county)[1][4:] == ('{"进展报告": 2, "待核验": 1}', '{"进展报告": 2, "待核验": 0}')
    with pytest.raises(ReportError, match="已经核验过"):
        verify_report(ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), db=county)


def test_units_cannot_report_for_others_and_leaders_not_at_all(county):
    with pytest.raises(PermissionDenied):
        submit_report(UNIT2, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", 50, today=TODAY, db=county)
    with pytest.raises(PermissionDenied):
        submit_report(LEADER, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", 50, today=TODAY, db=county)
    assert len(_reports(county, 2, sc.ZHENGFUBAN)) == 1
    assert _audit(county) == []


@pytest.mark.parametrize(
    ("task_no", "unit_id", "reported_on", "status", "completed_on", "message"),
    [
        (2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "已完成", None, "须填写完成日期"),
        (2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "已完成", dt.date(2023, 11, 3), "不能晚于报送日期"),
        (2, sc.ZHENGFUBAN, dt.date(2023, 11, 11), "推进中", None, "不能晚于今天"),
        (2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", dt.date(2023, 11, 1), "只有状态为“已完成”"),
        (2, sc.ZHENGFUBAN, dt.date(2023, 6, 20), "推进中", None, "请勿重复报送"),
        (1, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", None, "没有承担任务1"),
        (2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "完成", None, "进展状态只能是"),
    ],
)
def test_invalid_reports_are_refused_in_chinese_and_nothing_is_written(
        county, task_no, unit_id, reported_on, status, completed_on, message):
    before = county.scalar("SELECT count(*) FROM progress_reports")
    with pytest.raises(ReportError, match=message):
        submit_report(ADMIN, task_no, unit_id, reported_on, status, 50, completed_on, today=TODAY, db=county)
    assert county.scalar("SELECT count(*) FROM progress_reports") == before
    assert _audit(county) == []


def test_percent_out_of_range(county):
    with pytest.raises(ReportError, match="0到100"):
        submit_report(ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", 120, today=TODAY, db=county)


def test_verifying_a_missing_report(county):
    with pytest.raises(ReportError, match="找不到"):
        verify_report(ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), db=county)


# -- return (退回) and resubmission ----------------------------------------------------------------

PENDING_DAY = dt.date(2023, 10, 25)   # 县政府办's unverified task-6 report in the small county


def _state(db, day=PENDING_DAY):
    return db.rows("SELECT status, percent, note, verified, returned, returned_reason, returned_by, "
                   "resubmitted_at IS NOT NULL FROM progress_reports "
                   "WHERE task_no = 6 AND unit_id = ? AND reported_on = ?", [sc.ZHENGFUBAN, day])


def test_office_returns_with_a_reason_unit_resubmits_office_verifies(county):
    from data.services.progress import resubmit_report, return_report

    return_report(ADMIN, 6, sc.ZHENGFUBAN, PENDING_DAY, "  请写明已编制目录的条数  ", db=county)
    assert _state(county) == [("推进中", 60, "目录编制中", False, True, "请写明已编制目录的条数", "office", False)]
    assert _audit(county)[-1] == ("office", "退回进展", "任务6·县政府办", "2023-10-25 退回理由：请写明已编制目录的条数",
                                  '{"进展报告": 1, "待核验": 1, "已退回": 0}',
                                  '{"进展报告": 1, "待核验": 0, "已退回": 1}')
    # A returned report cannot be verified, nor returned twice, and never reaches the engine.
    with pytest.raises(ReportError, match="已退回"):
        verify_report(ADMIN, 6, sc.ZHENGFUBAN, PENDING_DAY, db=county)
    with pytest.raises(ReportError, match="已经退回"):
        return_report(ADMIN, 6, sc.ZHENGFUBAN, PENDING_DAY, "再退一次", db=county)
    assert PENDING_DAY not in load_facts(county).reports["reported_on"].to_list()

    resubmit_report(UNIT3, 6, sc.ZHENGFUBAN, PENDING_DAY, "推进中", 70, None, "已编制目录12条", today=TODAY, db=county)
    # Waiting again, the reason kept for the office, still outside the KPIs until verified.
    assert _state(county) == [("推进中", 70, "已编制目录12条", False, False, "请写明已编制目录的条数", "office", True)]
    assert PENDING_DAY not in load_facts(county).reports["reported_on"].to_list()
    assert _audit(county)[-1][:4] == ("zfb", "重新报送进展", "任务6·县政府办", "2023-10-25 推进中（待核验）")
    verify_report(ADMIN, 6, sc.ZHENGFUBAN, PENDING_DAY, db=county)
    assert PENDING_DAY in load_facts(county).reports["reported_on"].to_list()


def test_return_is_office_only_and_needs_a_reason(county):
    from data.services.progress import return_report

    for who in (UNIT3, UNIT2, LEADER):
        with pytest.raises(PermissionDenied):
            return_report(who, 6, sc.ZHENGFUBAN, PENDING_DAY, "理由", db=county)
    with pytest.raises(ReportError, match="须填写退回理由"):
        return_report(ADMIN, 6, sc.ZHENGFUBAN, PENDING_DAY, "   ", db=county)
    with pytest.raises(ReportError, match="已经核验通过"):
        return_report(ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 6, 20), "理由", db=county)
    with pytest.raises(ReportError, match="找不到"):
        return_report(ADMIN, 6, sc.ZHENGFUBAN, dt.date(2023, 10, 26), "理由", db=county)
    assert _state(county)[0][4] is False
    assert _audit(county) == []


def test_resubmission_is_checked_like_a_new_report_and_only_by_the_unit(county):
    from data.services.progress import resubmit_report, return_report

    with pytest.raises(ReportError, match="只有被办公室退回"):
        resubmit_report(UNIT3, 6, sc.ZHENGFUBAN, PENDING_DAY, "推进中", 70, today=TODAY, db=county)
    return_report(ADMIN, 6, sc.ZHENGFUBAN, PENDING_DAY, "进度有误", db=county)
    with pytest.raises(PermissionDenied):
        resubmit_report(UNIT2, 6, sc.ZHENGFUBAN, PENDING_DAY, "推进中", 70, today=TODAY, db=county)
    with pytest.raises(PermissionDenied):
        resubmit_report(ADMIN, 6, sc.ZHENGFUBAN, PENDING_DAY, "推进中", 70, today=TODAY, db=county)
    with pytest.raises(ReportError, match="须填写完成日期"):
        resubmit_report(UNIT3, 6, sc.ZHENGFUBAN, PENDING_DAY, "已完成", 100, None, today=TODAY, db=county)
    # The refused resubmission wrote nothing: the returned report is still there, unchanged.
    assert _state(county) == [("推进中", 60, "目录编制中", False, True, "进度有误", "office", False)]
