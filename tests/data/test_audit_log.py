"""The audit log: written inside the caller's transaction, read by the office only."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from data import audit
from data.scope import PermissionDenied, Scope

OFFICE = Scope("office1", "管理员", display_name="办公室")
LEADER = Scope("leader1", "领导")
HANDLER = Scope("handler1", "单位", unit_id=13)


def _raw(db):
    return db.rows("SELECT username, action, target, detail, counts_before, counts_after FROM audit_log ORDER BY id")


def test_record_writes_one_row_with_json_counts(db):
    with db.transaction() as cur:
        audit.record(cur, OFFICE, "导入", "目录.xlsx", "导入目录", before={"目录": 10}, after={"目录": 12})
    assert _raw(db) == [("office1", "导入", "目录.xlsx", "导入目录", '{"目录": 10}', '{"目录": 12}')]
    assert json.loads(_raw(db)[0][5]) == {"目录": 12}


def test_record_defaults(db):
    with db.transaction() as cur:
        audit.record(cur, OFFICE, "备份")
    assert _raw(db) == [("office1", "备份", "", "", None, None)]


def test_record_rolls_back_with_the_change(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("UPDATE settings SET value = '9' WHERE key = 'praise_top_n'")
            audit.record(cur, OFFICE, "修改设置", "praise_top_n", before={"值": 3}, after={"值": 9})
            raise RuntimeError("validation failed after the audit row")
    assert _raw(db) == []
    assert db.scalar("SELECT value FROM settings WHERE key = 'praise_top_n'") == "3"


def test_record_refuses_an_empty_action(db):
    with pytest.raises(ValueError):
        with db.transaction() as cur:
            audit.record(cur, OFFICE, "")


def test_read_audit_chinese_columns_newest_first(db):
    with db.transaction() as cur:
        audit.record(cur, OFFICE, "导入", "a.xlsx", before={"目录": 1, "申请": 2}, after={"目录": 3, "申请": 2})
        audit.record(cur, HANDLER, "报送进展", "任务2", "推进中")
    frame = audit.read_audit(db, OFFICE)
    assert frame.columns == ["时间", "用户", "操作", "对象", "说明", "变更前", "变更后"]
    assert frame["用户"].to_list() == ["handler1", "office1"]  # same second: the later id first
    assert frame["变更前"].to_list() == [None, "目录 1；申请 2"]
    assert frame["变更后"].to_list() == [None, "目录 3；申请 2"]
    assert frame["时间"].dtype.is_temporal()


def _insert(db, when: dt.datetime, user: str, action: str):
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO audit_log (logged_at, username, action, target, detail) VALUES (?, ?, ?, '', '')",
            [when, user, action],
        )


def test_read_audit_filters(db):
    _insert(db, dt.datetime(2024, 3, 1, 9, 0), "a", "导入")
    _insert(db, dt.datetime(2024, 3, 2, 23, 59, 59), "b", "修改设置")
    _insert(db, dt.datetime(2024, 3, 3, 0, 0), "a", "修改设置")
    _insert(db, dt.datetime(2024, 3, 5, 8, 30), "b", "导入")

    def users(**kw):
        return audit.read_audit(db, OFFICE, **kw)["用户"].to_list()

    assert users() == ["b", "a", "b", "a"]
    # dates are whole days, both ends inclusive
    assert users(since=dt.date(2024, 3, 2), until=dt.date(2024, 3, 3)) == ["a", "b"]
    assert users(until=dt.date(2024, 3, 2)) == ["b", "a"]
    assert users(since=dt.date(2024, 3, 4)) == ["b"]
    # datetimes are exact, both ends inclusive
    assert users(since=dt.datetime(2024, 3, 2, 23, 59, 59), until=dt.datetime(2024, 3, 3, 0, 0)) == ["a", "b"]
    assert users(username="a") == ["a", "a"]
    assert users(action="导入") == ["b", "a"]
    assert users(username="b", action="修改设置") == ["b"]
    assert users(action="发布月度") == []


def test_only_the_office_reads_the_log(db):
    with pytest.raises(PermissionDenied):
        audit.read_audit(db, LEADER)
    with pytest.raises(PermissionDenied):
        audit.read_audit(db, HANDLER)


def test_actions_are_chinese_and_unique():
    assert len(set(audit.ACTIONS)) == len(audit.ACTIONS)
    for name in ("导入", "报送进展", "核验进展", "修改设置", "用户管理", "发布月度", "撤销发布", "备份", "恢复"):
        assert name in audit.ACTIONS
