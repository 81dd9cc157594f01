"""The audit log: written inside the caller's transaction, read by the office only."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from data.services import audit
from data.storage import audit_log
from data.storage.scope import PermissionDenied, Scope

OFFICE = Scope("office1", "管理员", display_name="办公室")
LEADER = Scope("leader1", "领导")
HANDLER = Scope("handler1", "单位", unit_id=13)


def _raw(db):
    return db.rows("SELECT username, action, target, detail, counts_before, counts_after FROM audit_log ORDER BY id")


def test_record_writes_one_row_with_json_counts(db):
    with db.transaction() as cur:
        audit_log.record(cur, OFFICE, "导入", "目录.xlsx", "导入目录", before={"目录": 10}, after={"目录": 12})
    assert _raw(db) == [("office1", "导入", "目录.xlsx", "导入目录", '{"目录": 10}', '{"目录": 12}')]
    assert json.loads(_raw(db)[0][5]) == {"目录": 12}


def test_record_defaults(db):
    with db.transaction() as cur:
        audit_log.record(cur, OFFICE, "备份")
    assert _raw(db) == [("office1", "备份", "", "", None, None)]


def test_record_rolls_back_with_the_change(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("UPDATE settings SET value = '9' WHERE key = 'praise_top_n'")
            audit_log.record(cur, OFFICE, "修改设置", "praise_top_n", before={"值": 3}, after={"值": 9})
            raise RuntimeError("validation failed after the audit row")
    assert _raw(db) == []
    assert db.scalar("SELECT value FROM settings WHERE key = 'praise_top_n'") == "3"


def test_record_refuses_an_empty_action(db):
    with pytest.raises(ValueError):
        with db.transaction() as cur:
            audit_log.record(cur, OFFICE, "")


def test_read_audit_chinese_columns_newest_first(db):
    with db.transaction() as cur:
        audit_log.record(cur, OFFICE, "导入", "a.xlsx", before={"目录": 1, "申请": 2}, after={"目录": 3, "申请": 2})
        audit_log.record(cur, HANDLER, "报送进展", "任务2", "推进中")
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


# -- the labels the 操作日志 page shows (data/services/audit_labels.py) ---------------------------------------

def test_labels_of_objects_fields_units_and_users():
    from data.services.audit_labels import describe_change, object_label, person

    units = {21: "县财政局"}
    users = {"nongye": "农业农村局经办人", "admin": "办公室"}
    assert describe_change(None, {"role": "单位", "unit_id": 21, "disabled": False, "display_name": "经办人"},
                           units) == "角色：单位；单位：县财政局；已停用：否；显示名：经办人"
    assert describe_change({"role": "单位", "unit_id": 21, "disabled": False},
                           {"role": "领导", "unit_id": None, "disabled": False}, units) == (
        "角色：单位 → 领导；单位：县财政局 → —")
    assert describe_change('{"units": 24, "task_assignments": 96}', '{"units": 25, "task_assignments": 96}',
                           units) == "单位数：24 → 25"
    assert describe_change({"workdays": 3, "days_present": 5}, None, units) == "已删除：工作日天数：3；已有天数：5"
    assert describe_change(None, None, units) == "—"
    assert describe_change({"a": 1}, {"a": 1}, units) == "无变化"
    weights = describe_change({"weights": None}, {"weights": {"contacts_named": 5}}, units)
    assert weights == "指标权重：— → 明确分管领导和经办人 5"
    assert describe_change({"grades": [["优秀", 90]]}, {"grades": [["优秀", 85]]}, units) == "等次分数线：优秀≥90 → 优秀≥85"
    assert object_label("calendar", "修改日历", users) == "工作日历"
    assert object_label("weights", "修改设置", users) == "指标权重"
    assert object_label("sla:2000-01-01", "修改设置", users) == "时限规则（自方案施行起）"
    assert object_label("sla:2024-03-01", "修改设置", users) == "时限规则（2024年3月1日起施行）"
    assert object_label("2024-05", "发布月度", users) == "2024年5月"
    assert object_label("nongye", "登录", users) == "农业农村局经办人（nongye）"
    assert object_label("", "登录", users) == "—"
    assert object_label("county（种子 1）", "演示数据", users) == "县级规模（种子 1）"
    assert person("system", users) == "系统" and person("gone", users) == "gone"


def test_audit_table_is_for_the_office_only_and_labels_each_row(db):
    from data.services.audit_labels import audit_table

    with db.transaction() as cur:
        audit_log.record(cur, OFFICE, "修改日历", "calendar", "修改工作日历2天",
                     before={"workdays": 1, "days_present": 2}, after={"workdays": 2, "days_present": 2})
    with pytest.raises(PermissionDenied):
        audit_table(db, LEADER)
    table = audit_table(db, OFFICE, action="修改日历")
    assert table.columns == ["时间", "用户", "操作", "对象", "说明", "变更内容"]
    assert table.row(0)[1:] == ("office1", "修改日历", "工作日历", "修改工作日历2天", "工作日天数：1 → 2")


def test_a_weights_change_names_the_indicators(db):
    from data.services import settings_store
    from data.services.audit_labels import audit_table
    from data.storage.plan import DEFAULT_WEIGHTS

    weights = {**DEFAULT_WEIGHTS, "catalog_mounted_rate": 5, "catalog_fresh_rate": 15}
    settings_store.set_weights(OFFICE, weights, db=db)
    row = audit_table(db, OFFICE, action="修改设置").row(0, named=True)
    assert row["对象"] == "指标权重"
    assert row["变更内容"] == "目录挂接率：10 → 5；目录更新及时率：10 → 15"
