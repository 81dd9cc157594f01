"""The plan loaded on first start: units, aliases, the 15 tasks, group expansion, idempotent init."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from data.storage.plan import OFFICE, expand_assignments, load_plan, parse_deadline

D = dt.date

# product.md, "The 15 tasks of annex 2, normalised": (no, section, deadline text, due date, ongoing)
EXPECTED_TASKS = [
    (1, "加强组织领导", "2023年5月初", D(2023, 5, 10), False),
    (2, "加强组织领导", "2023年6月初", D(2023, 6, 10), False),
    (3, "夯实基础设施体系", "2023年12月底", D(2023, 12, 31), False),
    (4, "夯实基础设施体系", "2024年12月底", D(2024, 12, 31), False),
    (5, "夯实基础设施体系", "持续并长期坚持", None, True),
    (6, "提升政务数据共享管理服务水平", "2023年9月底", D(2023, 9, 30), False),
    (7, "提升政务数据共享管理服务水平", "2023年12月底", D(2023, 12, 31), False),
    (8, "提升政务数据共享管理服务水平", "2023年12月底", D(2023, 12, 31), False),
    (9, "提升政务数据共享管理服务水平", "2023年12月底", D(2023, 12, 31), False),
    (10, "提升政务数据共享管理服务水平", "2023年12月底", D(2023, 12, 31), False),
    (11, "构建政务数据共享安全保障体系", "2023年12月底", D(2023, 12, 31), False),
    (12, "构建政务数据共享安全保障体系", "2023年12月底", D(2023, 12, 31), False),
    (13, "保障措施", "2023年5月底", D(2023, 5, 31), False),
    (14, "保障措施", "持续并长期坚持", None, True),
    (15, "保障措施", "2023年12月底", D(2023, 12, 31), False),
]

# Annex 1 names 38 county departments (incl. the office) and 3 telecoms; 二(二)3 adds 4 service
# companies and the central bank branch: 38 + 7 + 1 = 46.
EXPECTED_KIND_COUNTS = {"县直部门": 38, "公共服务企业": 7, "其他": 1}


def _unit_id(db, name: str) -> int:
    return db.scalar("SELECT unit_id FROM units WHERE name = ?", [name])


def _assigned(db, task_no: int) -> set[str]:
    return {
        r[0]
        for r in db.rows(
            "SELECT u.name FROM task_assignments a JOIN units u USING (unit_id) WHERE a.task_no = ?", [task_no]
        )
    }


def test_46_plan_units_with_kinds(db):
    assert db.scalar("SELECT count(*) FROM units") == 46
    kinds = dict(db.rows("SELECT kind, count(*) FROM units GROUP BY kind"))
    assert kinds == EXPECTED_KIND_COUNTS
    named = dict(db.rows("SELECT name, kind FROM units"))
    assert named[OFFICE] == "县直部门"
    assert named["县委保密机要局"] == "县直部门"
    assert named["县供电公司"] == "公共服务企业"
    assert named["利泰燃气公司"] == "公共服务企业"
    assert named["人民银行玉山支行"] == "其他"
    assert db.scalar("SELECT count(*) FROM units WHERE is_member") == 39  # annex 1's member units
    assert db.scalar("SELECT count(DISTINCT unit_id) FROM units") == 46


def test_aliases_point_at_the_units(db):
    aliases = dict(
        db.rows("SELECT a.alias, u.name FROM unit_aliases a JOIN units u USING (unit_id)")
    )
    assert aliases["县网信中心"] == "县委网信中心"
    assert aliases["医保局"] == "县医疗保障局"
    assert aliases["县大数据发展服务中心"] == OFFICE


def test_15_tasks_with_due_dates_exactly_as_product_md(db):
    rows = db.rows("SELECT task_no, section, deadline_text, due_date, is_ongoing FROM tasks ORDER BY task_no")
    assert rows == EXPECTED_TASKS


def test_task_texts_kept_as_written(db):
    title, units_text = db.rows("SELECT title, units_text FROM tasks WHERE task_no = 3")[0]
    assert title == "升级整合电子政务网络"
    assert units_text == "县大数据发展中心、县委保密机要局、县有关单位，各乡镇（街道）"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023年5月初", D(2023, 5, 10)),      # 月初 = the 10th (上旬 ends)
        ("2023年6月初", D(2023, 6, 10)),
        ("2023年9月底", D(2023, 9, 30)),      # 月底 = last day
        ("2024年2月底", D(2024, 2, 29)),      # leap year
        ("2023年2月底", D(2023, 2, 28)),
        ("2023年12月底", D(2023, 12, 31)),
        ("2023年12月", D(2023, 12, 31)),      # no word: the whole month
        ("2023年7月上旬", D(2023, 7, 10)),
        ("2023年7月中旬", D(2023, 7, 20)),
        ("2023年7月下旬", D(2023, 7, 31)),
        ("持续并长期坚持", None),
        (" 持续并长期坚持 ", None),
    ],
)
def test_parse_deadline(text, expected):
    assert parse_deadline(text) == expected


def test_parse_deadline_rejects_unknown_text():
    with pytest.raises(ValueError, match="无法识别"):
        parse_deadline("尽快完成")


def test_four_milestones(db):
    rows = db.rows("SELECT code, due_date, task_nos FROM milestones ORDER BY code")
    assert [(c, d) for c, d, _t in rows] == [
        ("M1", D(2023, 5, 31)), ("M2", D(2023, 9, 30)), ("M3", D(2023, 12, 31)), ("M4", D(2024, 12, 31)),
    ]
    assert rows[1][2] == [6]


def test_default_settings_and_sla(db):
    weights = json.loads(db.scalar("SELECT value FROM settings WHERE key = 'weights'"))
    assert sum(weights.values()) == 100
    assert weights["reply_ontime_rate"] == 15 and weights["task_ontime_rate"] == 15
    assert json.loads(db.scalar("SELECT value FROM settings WHERE key = 'grades'")) == [
        ["优秀", 90], ["良好", 75], ["合格", 60]
    ]
    assert db.rows("SELECT review_days, reply_days FROM sla_rules") == [(3, 10)]


def test_task_2_goes_to_every_county_department_and_the_office(db):
    departments = {r[0] for r in db.rows("SELECT name FROM units WHERE kind = '县直部门'")}
    assert len(departments) == 38
    assert _assigned(db, 2) == departments
    assert OFFICE in _assigned(db, 2)
    assert "县电信公司" not in _assigned(db, 2)


def test_named_units_only(db):
    assert _assigned(db, 1) == {OFFICE}
    assert _assigned(db, 11) == {OFFICE, "县委网信中心", "县公安局"}  # 县网信中心 is the alias
    assert _assigned(db, 13) == {"县财政局", "县发改委", OFFICE}
    assert _assigned(db, 14) == {"县人社局", OFFICE}
    assert _assigned(db, 15) == {"县委组织部", "县政府办", "县人社局", OFFICE}


def test_assignment_total(db):
    # 9 group tasks (2,3,4,6,7,8,9,10,12) x 38 departments + named-only tasks 1,5,11,13,14,15:
    # 1 + 1 + 3 + 3 + 2 + 4 = 14  ->  342 + 14 = 356
    assert db.scalar("SELECT count(*) FROM task_assignments") == 356


def test_a_new_township_gets_task_3_on_reexpansion(db):
    assert db.scalar("SELECT count(*) FROM units WHERE kind = '乡镇（街道）'") == 0
    with db.transaction() as cur:
        cur.execute("INSERT INTO units (unit_id, name, kind, origin) VALUES (1001, '演示镇', '乡镇（街道）', 'import')")
        added = expand_assignments(cur)
    assert added == 1
    tasks = [r[0] for r in db.rows("SELECT task_no FROM task_assignments WHERE unit_id = 1001")]
    assert tasks == [3]
    origin = db.scalar("SELECT origin FROM task_assignments WHERE unit_id = 1001")
    assert origin == "各乡镇（街道）"


def test_a_new_department_gets_the_group_tasks(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO units (unit_id, name, kind, origin) VALUES (1002, '县新设局', '县直部门', 'import')")
        expand_assignments(cur)
    tasks = sorted(r[0] for r in db.rows("SELECT task_no FROM task_assignments WHERE unit_id = 1002"))
    assert tasks == [2, 3, 4, 6, 7, 8, 9, 10, 12]


def test_editable_group_mapping(db):
    """The office maps 县有关单位 also to public-service companies: task 3 reaches them."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO assignment_groups VALUES ('县有关单位', '公共服务企业')")
        added = expand_assignments(cur)
    assert added == 7
    assert "县供电公司" in _assigned(db, 3)
    assert "县供电公司" not in _assigned(db, 2)


def _snapshot(db) -> dict:
    return {
        t: db.rows(f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("units", "unit_aliases", "assignment_groups", "tasks", "task_assignments", "milestones",
                  "settings", "sla_rules")
    }


def test_load_plan_twice_leaves_no_duplicates(db):
    before = _snapshot(db)
    calendar_before = db.scalar("SELECT count(*) FROM calendar_days")
    load_plan(db)
    load_plan(db)
    assert _snapshot(db) == before
    assert db.scalar("SELECT count(*) FROM calendar_days") == calendar_before


def test_load_plan_keeps_office_edits(db):
    with db.transaction() as cur:
        cur.execute("UPDATE tasks SET due_date = DATE '2024-01-31', deadline_text = '2024年1月底' WHERE task_no = 9")
        cur.execute("UPDATE settings SET value = '5' WHERE key = 'praise_top_n'")
        cur.execute("UPDATE units SET kind = '其他' WHERE name = '县档案馆'")
    load_plan(db)
    assert db.rows("SELECT due_date, deadline_text FROM tasks WHERE task_no = 9") == [(D(2024, 1, 31), "2024年1月底")]
    assert db.scalar("SELECT value FROM settings WHERE key = 'praise_top_n'") == "5"
    assert db.scalar("SELECT kind FROM units WHERE name = '县档案馆'") == "其他"
    assert db.scalar("SELECT count(*) FROM units WHERE name = '县档案馆'") == 1
