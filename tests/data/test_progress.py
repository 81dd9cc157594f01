"""data.progress: who may report or verify, what is refused, and the audit entry of each write."""

from __future__ import annotations

import datetime as dt

import pytest

from data.facts import load_facts
from data.progress import ReportError, submit_report, verify_report
from data.scope import PermissionDenied, Scope
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
    verified = submit_report(county, ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 1), "已完成", None,
                             dt.date(2023, 10, 28), "已明确经办人", today=TODAY)
    assert verified is True
    assert _reports(county, 2, sc.ZHENGFUBAN)[-1] == (
        dt.date(2023, 11, 1), "已完成", 100, dt.date(2023, 10, 28), True, "office", "office")
    assert _audit(county) == [("office", "报送进展", "任务2·县政府办", "2023-11-01 已完成",
                               '{"进展报告": 1, "待核验": 0}', '{"进展报告": 2, "待核验": 0}')]


def test_unit_report_waits_and_counts_only_after_verification(county):
    version = county.version
    assert submit_report(county, UNIT3, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "已完成", 100,
                         dt.date(2023, 11, 1), "", today=TODAY) is False
    assert county.version != version                       # caches keyed on the version move on
    reports = load_facts(county).reports
    assert dt.date(2023, 11, 2) not in reports["reported_on"].to_list()   # unverified: not in the engine
    with pytest.raises(PermissionDenied):
        verify_report(county, UNIT3, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2))
    verify_report(county, ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2))
    assert dt.date(2023, 11, 2) in load_facts(county).reports["reported_on"].to_list()
    assert [a[1] for a in _audit(county)] == ["报送进展", "核验进展"]
    assert _audit(county)[1][4:] == ('{"进展报告": 2, "待核验": 1}', '{"进展报告": 2, "待核验": 0}')
    with pytest.raises(ReportError, match="已经核验过"):
        verify_report(county, ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2))


def test_units_cannot_report_for_others_and_leaders_not_at_all(county):
    with pytest.raises(PermissionDenied):
        submit_report(county, UNIT2, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", 50, today=TODAY)
    with pytest.raises(PermissionDenied):
        submit_report(county, LEADER, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", 50, today=TODAY)
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
        submit_report(county, ADMIN, task_no, unit_id, reported_on, status, 50, completed_on, today=TODAY)
    assert county.scalar("SELECT count(*) FROM progress_reports") == before
    assert _audit(county) == []


def test_percent_out_of_range(county):
    with pytest.raises(ReportError, match="0到100"):
        submit_report(county, ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2), "推进中", 120, today=TODAY)


def test_verifying_a_missing_report(county):
    with pytest.raises(ReportError, match="找不到"):
        verify_report(county, ADMIN, 2, sc.ZHENGFUBAN, dt.date(2023, 11, 2))
