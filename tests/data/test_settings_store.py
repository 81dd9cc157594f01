"""data/services/settings_store.py: validated, audited settings writes that reach the engine on the next read."""

import datetime as dt

import pytest

from data.services import settings_store as store
from data.services.settings_store import SettingsError
from data.storage.db import Database
from data.storage.facts import load_facts, read_settings
from data.storage.plan import DEFAULT_WEIGHTS
from data.storage.schema import prepare_database
from data.storage.scope import SYSTEM, PermissionDenied, Scope


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "s.duckdb")
    prepare_database(database)
    yield database
    database.close()


def audits(db):
    return db.rows("SELECT username, target, detail FROM audit_log WHERE action = '修改设置' ORDER BY id")


def test_weights_must_sum_to_100(db):
    weights = dict(DEFAULT_WEIGHTS)
    weights["share_rate"] = 10  # 100 + 5 = 105
    with pytest.raises(SettingsError, match="之和须为100，当前为105"):
        store.set_weights(SYSTEM, weights, db=db)
    assert read_settings(db)["weights"] == DEFAULT_WEIGHTS
    assert audits(db) == []


def test_weights_refuse_unknown_codes_and_negative_values(db):
    with pytest.raises(SettingsError, match="未知指标"):
        store.set_weights(SYSTEM, {"bogus": 100}, db=db)
    with pytest.raises(SettingsError, match="0到100之间"):
        store.set_weights(SYSTEM, {"share_rate": 110, "report_rate": -10}, db=db)


def test_new_weights_reach_the_engine_on_the_next_read(db):
    load_facts(db)
    version = db.version
    weights = dict(DEFAULT_WEIGHTS, share_rate=0, quality_score=5)  # 5 moved to quality, share dropped
    saved = store.set_weights(SYSTEM, weights, db=db)
    assert "share_rate" not in saved and saved["quality_score"] == 5 and sum(saved.values()) == 100
    assert db.version == version + 1
    assert load_facts(db).settings["weights"] == saved
    assert audits(db) == [("system", "weights", "修改指标权重")]


def test_only_admins_change_settings(db):
    with pytest.raises(PermissionDenied):
        store.set_windows(Scope("boss", "领导"), 10, 3, db=db)


def test_grades_strictly_falling_and_distinct(db):
    with pytest.raises(SettingsError, match="严格递减"):
        store.set_grades(SYSTEM, [["优秀", 90], ["良好", 90]], "不合格", db=db)
    with pytest.raises(SettingsError, match="不能重复"):
        store.set_grades(SYSTEM, [["优秀", 90], ["合格", 60]], "合格", db=db)
    store.set_grades(SYSTEM, [["优秀", 85], ["良好", 70], ["合格", 60]], "不合格", db=db)
    assert read_settings(db)["grades"] == [["优秀", 85], ["良好", 70], ["合格", 60]]


def test_windows(db):
    with pytest.raises(SettingsError, match="0到90天"):
        store.set_windows(SYSTEM, 91, 3, db=db)
    store.set_windows(SYSTEM, 10, 5, db=db)
    settings = read_settings(db)
    assert (settings["yellow_window_days"], settings["warning_workdays"]) == (10, 5)


def test_sla_rules_add_correct_and_keep_the_first(db):
    regulation = dt.date(2025, 8, 1)
    store.save_sla_rule(SYSTEM, regulation, 3, 10, "政务数据共享条例", db=db)
    store.save_sla_rule(SYSTEM, regulation, 5, 15, "政务数据共享条例（更正）", db=db)
    assert store.sla_rules(db).rows() == [
        (dt.date(2000, 1, 1), 3, 10, "玉山县实施方案：初审3个工作日、答复10个工作日"),
        (regulation, 5, 15, "政务数据共享条例（更正）"),
    ]
    assert [d for _, _, d in audits(db)] == ["新增时限规则（2025年8月1日起施行）", "修改时限规则（2025年8月1日起施行）"]
    with pytest.raises(SettingsError, match="最早的一条"):
        store.delete_sla_rule(SYSTEM, dt.date(2000, 1, 1), db=db)
    store.delete_sla_rule(SYSTEM, regulation, db=db)
    assert store.sla_rules(db).height == 1


def test_correct_one_calendar_day(db):
    day = dt.date(2024, 2, 4)  # a make-up working day in the package
    assert db.scalar("SELECT is_workday FROM calendar_days WHERE day = ?", [day]) is True
    store.set_calendar_days(SYSTEM, [(day, False, "县里调整")], db=db)
    assert db.rows("SELECT is_workday, source, note FROM calendar_days WHERE day = ?", [day]) == [
        (False, "office", "县里调整")
    ]


def test_add_next_year_from_the_notice(db):
    # An invented 2027 notice: New Year's Day off, Sunday 2027-01-03 worked instead.
    written = store.add_year(SYSTEM, 2027, [dt.date(2027, 1, 1)], [dt.date(2027, 1, 3)], db=db)
    assert written == 365
    rows = dict(db.rows("SELECT day, is_workday FROM calendar_days WHERE year(day) = 2027"))
    assert len(rows) == 365
    assert rows[dt.date(2027, 1, 1)] is False   # Friday, holiday
    assert rows[dt.date(2027, 1, 2)] is False   # Saturday
    assert rows[dt.date(2027, 1, 3)] is True    # Sunday, make-up day
    assert rows[dt.date(2027, 1, 4)] is True    # Monday
    # 2027 has 261 weekdays; minus one holiday, plus one make-up day
    assert sum(rows.values()) == 261
    assert db.rows("SELECT action, detail FROM audit_log ORDER BY id DESC LIMIT 1") == [
        ("修改日历", "修改工作日历365天（2027年1月1日至2027年12月31日）")
    ]


def test_year_days_refuses_contradictions():
    with pytest.raises(SettingsError, match="既是放假日又是调休"):
        store.year_days(2027, [dt.date(2027, 1, 1)], [dt.date(2027, 1, 1)])
    with pytest.raises(SettingsError, match="2027年内"):
        store.year_days(2027, [dt.date(2028, 1, 1)], [])


def test_parse_day_list_reads_dates_and_ranges():
    text = "2027-01-01\n2027年2月10日至2027年2月12日，2027/10/1~2027/10/2\n\n2027-01-01"
    assert store.parse_day_list(text) == [
        dt.date(2027, 1, 1), dt.date(2027, 2, 10), dt.date(2027, 2, 11), dt.date(2027, 2, 12),
        dt.date(2027, 10, 1), dt.date(2027, 10, 2),
    ]
    with pytest.raises(SettingsError, match="无法识别的日期"):
        store.parse_day_list("明年元旦")
    with pytest.raises(SettingsError, match="结束早于开始"):
        store.parse_day_list("2027-02-12至2027-02-10")


def test_group_words_re_expand_and_keep_reported_assignments(db):
    # Two townships: one has reported on task 3, the other has not.
    with db.transaction() as cur:
        cur.execute("INSERT INTO units (unit_id, name, kind) VALUES (901, '示例甲镇', '乡镇（街道）'), "
                    "(902, '示例乙乡', '乡镇（街道）')")
        from data.storage.plan import expand_assignments

        expand_assignments(cur)
        cur.execute("INSERT INTO progress_reports (task_no, unit_id, reported_on, status) "
                    "VALUES (3, 901, DATE '2023-07-01', '推进中')")
    departments = db.scalar("SELECT count(*) FROM units WHERE kind = '县直部门'")
    assert db.scalar("SELECT count(*) FROM task_assignments WHERE unit_id IN (901, 902)") == 2  # task 3 each

    # 各乡镇（街道） narrowed to 县直部门 only: 902's task 3 goes, 901's stays (it reported), and the
    # departments gain task 3 through this word only where another word did not assign it already.
    result = store.set_group_kinds(SYSTEM, "各乡镇（街道）", ["县直部门"], db=db)
    assert result == {"added": 0, "removed": 1, "kept": 1}
    assert db.rows("SELECT unit_id FROM task_assignments WHERE unit_id IN (901, 902)") == [(901,)]

    # 县直各单位 widened to the public-service companies: tasks 2, 4, 6–10 reach the 7 companies.
    companies = db.scalar("SELECT count(*) FROM units WHERE kind = '公共服务企业'")
    result = store.set_group_kinds(SYSTEM, "县直各单位", ["县直部门", "公共服务企业"], db=db)
    assert result == {"added": 7 * companies, "removed": 0, "kept": 0}
    assert departments == 38
    assert db.scalar("SELECT count(*) FROM audit_log WHERE target LIKE '任务分工：%'") == 2
    groups = store.assignment_groups(db)
    assert groups.filter(groups["group_word"] == "县直各单位")["unit_kinds"][0] == "公共服务企业、县直部门"


def test_group_words_refuse_unknown_words_empty_kinds_and_non_admins(db):
    with pytest.raises(SettingsError, match="不是任务分工表中的单位统称"):
        store.set_group_kinds(SYSTEM, "全县各单位", ["县直部门"], db=db)
    with pytest.raises(SettingsError, match="至少选择一种"):
        store.set_group_kinds(SYSTEM, "县直各单位", [], db=db)
    with pytest.raises(PermissionDenied):
        store.set_group_kinds(Scope("leader", "领导"), "县直各单位", ["县直部门"], db=db)


@pytest.mark.parametrize(("criterion", "op", "threshold", "message"), [
    ("no_such_rate", ">=", 90, "未知的指标或任务：no_such_rate"),
    ("task:5", ">=", 1, "未知的指标或任务：task:5"),            # ongoing: never "completed"
    ("reply_ontime_rate", "==", 90, "比较方式须为"),
    ("contacts_named", ">=", 0.5, "明确分管领导和经办人的达标线须为1（是）或0（否）。"),
    ("tasks_overdue_open", "<=", 1.5, "红灯任务数的达标线须为不小于0的整数。"),
    ("quality_score", ">=", 120, "数据质量得分的达标线须在0到100分之间。"),
])
def test_milestone_criteria_are_validated(db, criterion, op, threshold, message):
    with pytest.raises(SettingsError) as err:
        store.save_milestone_criterion(SYSTEM, "M3", criterion, dt.date(2025, 1, 1), op, threshold, ["县直部门"], db=db)
    assert message in err.value.message_cn
    assert db.scalar("SELECT count(*) FROM milestone_criteria WHERE effective_from = DATE '2025-01-01'") == 0


def test_a_withdrawn_criterion_stops_counting_from_its_date(db):
    from metrics.milestones import criteria_in_force

    store.save_milestone_criterion(SYSTEM, "M3", "quality_score", dt.date(2025, 1, 1), ">=", 60,
                                   ["县直部门"], active=False, db=db)
    facts = load_facts(db)
    assert "quality_score" in criteria_in_force(facts, dt.date(2024, 12, 31)).filter(
        store.pl.col("milestone") == "M3")["criterion"].to_list()
    assert "quality_score" not in criteria_in_force(facts, dt.date(2025, 1, 1)).filter(
        store.pl.col("milestone") == "M3")["criterion"].to_list()
    with pytest.raises(PermissionDenied):
        store.save_milestone_criterion(Scope("leader", "领导", None), "M3", "quality_score",
                                       dt.date(2025, 2, 1), ">=", 60, ["县直部门"], db=db)


def test_parameters_are_range_checked_and_reach_the_engine(db):
    from data.services.settings_store import SettingsError, parameters, set_parameters
    from data.storage.facts import load_facts
    from data.storage.scope import SYSTEM, Scope
    from metrics.registry import setting

    with pytest.raises(SettingsError, match="授权即将到期提示天数”须在1到365之间"):
        set_parameters(SYSTEM, {"authorisation_warning_days": 0}, db=db)
    with pytest.raises(SettingsError, match="须为整数"):
        set_parameters(SYSTEM, {"praise_top_n": 2.5}, db=db)
    with pytest.raises(SettingsError, match="须为是或否"):
        set_parameters(SYSTEM, {"extension_applies": "否"}, db=db)
    with pytest.raises(PermissionDenied):
        set_parameters(Scope(username="l", role="领导"), {"praise_top_n": 2}, db=db)
    assert set_parameters(SYSTEM, {"praise_top_n": 2, "red_light_penalty": 20}, db=db) == {"praise_top_n": 2}
    assert setting(load_facts(db), "praise_top_n") == 2
    in_force = {p["key"]: p["value"] for p in parameters(db)}
    assert in_force["praise_top_n"] == 2 and in_force["login_free_attempts"] == 5
