"""系统设置 page: weights that must sum to 100, grades, windows, SLA rules, the calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.services import users
from data.storage.connect import close_db, get_db
from data.storage.facts import read_settings
from data.storage.plan import DEFAULT_WEIGHTS
from data.storage.scope import SYSTEM
from tests.pages.conftest import table as table_with

# AppTest puts pages/ on sys.path when it runs a page directly, where pages/requests.py would
# shadow the `requests` package that streamlit-authenticator imports: import it first.
import ui.auth  # noqa: E402, F401  isort: skip

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"username": "admin", "role": "管理员", "unit_id": None, "display_name": "办公室"}
LEADER = {"username": "leader", "role": "领导", "unit_id": None, "display_name": "张组长"}


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    path = tmp_path / "settings.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    users.add_user(SYSTEM, "admin", "abcdefgh12", "管理员", display_name="办公室", db=db)
    users.add_user(SYSTEM, "leader", "abcdefgh12", "领导", display_name="张组长", db=db)
    yield db
    close_db(path)


def open_page(scope=ADMIN, section: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=30)
    at.session_state["scope"] = scope
    at = at.run()
    if section is not None and scope is ADMIN:
        at = at.radio(key="settings_section").set_value(section).run()
    return at


def test_page_shows_the_current_weights(app_db):
    at = open_page()
    assert not at.exception
    assert [t.value for t in at.title] == ["系统设置"]
    assert at.number_input(key="settings_w_reply_ontime_rate").label == "答复按时率"
    assert at.number_input(key="settings_w_reply_ontime_rate").value == 15.0
    assert at.number_input(key="settings_w_quality_score").value == 0.0
    assert "当前合计：100" in [m.value for m in at.markdown]


def test_weights_not_summing_to_100_are_refused(app_db):
    at = open_page()
    at.number_input(key="settings_w_share_rate").set_value(10.0)
    at = at.button(key="FormSubmitter:settings_weights-保存权重").click().run()
    assert [e.value for e in at.error] == ["各指标权重之和须为100，当前为105。"]
    assert read_settings(app_db)["weights"] == DEFAULT_WEIGHTS


def test_moving_weight_is_saved_and_audited(app_db):
    at = open_page()
    at.number_input(key="settings_w_share_rate").set_value(0.0)
    at.number_input(key="settings_w_quality_score").set_value(5.0)
    at = at.button(key="FormSubmitter:settings_weights-保存权重").click().run()
    assert [s.value for s in at.success] == ["指标权重已保存。"]
    saved = read_settings(app_db)["weights"]
    assert saved["quality_score"] == 5 and "share_rate" not in saved
    assert app_db.rows("SELECT username, action FROM audit_log WHERE target = 'weights'") == [("admin", "修改设置")]


def test_grades_and_windows(app_db):
    at = open_page(section="等次与预警")
    at.number_input(key="settings_grade_bound_0").set_value(85.0)
    at = at.button(key="FormSubmitter:settings_grades-保存等次").click().run()
    assert read_settings(app_db)["grades"] == [["优秀", 85], ["良好", 75], ["合格", 60]]
    at.number_input(key="settings_yellow").set_value(10)
    at = at.button(key="FormSubmitter:settings_windows-保存预警窗口").click().run()
    assert [s.value for s in at.success] == ["预警窗口已保存。"]
    assert read_settings(app_db)["yellow_window_days"] == 10


def test_add_an_sla_rule(app_db):
    at = open_page(section="时限规则")
    at.date_input(key="settings_sla_from").set_value(dt.date(2025, 8, 1))
    at.number_input(key="settings_sla_reply").set_value(15)
    at.text_input(key="settings_sla_name").input("政务数据共享条例")
    at = at.button(key="FormSubmitter:settings_sla-保存规则").click().run()
    assert [s.value for s in at.success] == ["2025年8月1日起施行的时限规则已保存。"]
    table = table_with(at, "初审时限（工作日）")  # the rules table
    assert table.values.tolist()[-1] == ["2025年8月1日", 3, 15, "政务数据共享条例"]


def test_enter_next_year_from_the_notice(app_db):
    at = open_page(section="工作日历")
    assert at.number_input(key="settings_year_year").value == 2027  # the package covers up to 2026
    at.text_area(key="settings_year_off").input("2027-01-01")
    at.text_area(key="settings_year_on").input("2027-01-03")
    at = at.button(key="FormSubmitter:settings_year-保存全年").click().run()
    assert [s.value for s in at.success] == ["2027年工作日历已保存（放假1天，调休上班1天）。"]
    assert app_db.scalar("SELECT count(*) FILTER (WHERE is_workday) FROM calendar_days WHERE year(day) = 2027") == 261
    assert "工作日历已覆盖：2004年至2027年。" in [c.value for c in at.caption]


def test_a_bad_date_in_the_notice_is_refused(app_db):
    at = open_page(section="工作日历")
    at.text_area(key="settings_year_off").input("元旦")
    at = at.button(key="FormSubmitter:settings_year-保存全年").click().run()
    assert "无法识别的日期：元旦" in at.error[0].value


def test_a_leader_is_refused(app_db):
    at = open_page(LEADER)
    assert [e.value for e in at.error] == ["您的账号无权打开此页面。如需使用，请联系领导小组办公室。"]
    assert at.number_input == []


def test_group_word_widened_on_the_page_reaches_the_assignments(app_db):
    at = open_page(section="任务分工")
    before = app_db.scalar("SELECT count(*) FROM task_assignments")
    at.selectbox(key="settings_group_word").set_value("县直各单位")
    at.multiselect(key="settings_group_kinds").set_value(["县直部门", "公共服务企业"])
    at.button(key="FormSubmitter:settings_groups-保存并重新展开").click().run()
    assert not at.exception
    assert "「县直各单位」的展开范围已保存，任务分工已重新展开。" in [s.value for s in at.success]
    # Tasks 2, 4, 6–10 now reach the 7 public-service companies of the plan.
    assert app_db.scalar("SELECT count(*) FROM task_assignments") == before + 7 * 7


def test_saving_keeps_the_section_open(app_db):
    at = open_page(section="等次与预警")
    at.number_input(key="settings_yellow").set_value(10)
    at = at.button(key="FormSubmitter:settings_windows-保存预警窗口").click().run()
    assert [s.value for s in at.success] == ["预警窗口已保存。"]
    assert at.radio(key="settings_section").value == "等次与预警"
    assert at.number_input(key="settings_yellow").value == 10


def test_milestone_criteria_are_listed_with_their_threshold(app_db):
    at = open_page(section="工作目标达标线")
    assert not at.exception
    rows = table_with(at, "达标线")
    m3 = rows[rows["工作目标"] == "M3 平台能力到位、质量改善"]
    assert "答复按时率 ≥ 90%" in set(m3["达标线"]) and "安全措施落实率 ≥ 66.7%" in set(m3["达标线"])
    assert set(rows["施行日期"]) == {"2023年1月1日"} and set(rows["状态"]) == {"施行"}
    # In the order of the defaults: M1's task 1 first; kinds written out unless all four.
    assert rows.iloc[0]["达标线"] == "任务1「建立县级议事协调机制」完成"
    assert rows.iloc[0]["适用单位类型"] == "全部单位"
    assert set(rows[rows["达标线"] == "目录已发布：是"]["适用单位类型"]) == {"县直部门"}


def test_a_new_criterion_row_takes_effect_from_its_date(app_db):
    at = open_page(section="工作目标达标线")
    at.selectbox(key="settings_crit_milestone").set_value("M3")
    at.selectbox(key="settings_crit_criterion").set_value("reply_ontime_rate")
    at.number_input(key="settings_crit_threshold").set_value(85.0)
    at.date_input(key="settings_crit_from").set_value(dt.date(2025, 1, 1))
    at.text_input(key="settings_crit_note").input("领导小组会议纪要")
    at = at.button(key="FormSubmitter:settings_criterion-保存达标线").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["M3「答复按时率」的达标线自2025年1月1日起施行。"]
    assert at.radio(key="settings_section").value == "工作目标达标线"
    assert app_db.rows("SELECT effective_from, op, threshold, active, note FROM milestone_criteria "
                       "WHERE milestone = 'M3' AND criterion = 'reply_ontime_rate' ORDER BY effective_from") == [
        (dt.date(2023, 1, 1), ">=", 0.9, True, "默认达标线"),
        (dt.date(2025, 1, 1), ">=", 0.85, True, "领导小组会议纪要"),
    ]
    assert app_db.rows("SELECT username, action, target FROM audit_log WHERE target LIKE '工作目标达标线%'") == [
        ("admin", "修改设置", "工作目标达标线：M3 reply_ontime_rate")]
    assert "答复按时率 ≥ 85%" in set(table_with(at, "达标线")["达标线"])


def test_a_rate_threshold_above_100_is_refused(app_db):
    at = open_page(section="工作目标达标线")
    at.selectbox(key="settings_crit_criterion").set_value("reply_ontime_rate")
    at.number_input(key="settings_crit_threshold").set_value(120.0)
    at = at.button(key="FormSubmitter:settings_criterion-保存达标线").click().run()
    assert [e.value for e in at.error] == ["答复按时率的达标线须在0%到100%之间。"]
    assert app_db.scalar("SELECT count(*) FROM milestone_criteria WHERE threshold > 1 AND criterion LIKE '%rate'") == 0
    at.multiselect(key="settings_crit_kinds").set_value([])
    at.number_input(key="settings_crit_threshold").set_value(90.0)
    at = at.button(key="FormSubmitter:settings_criterion-保存达标线").click().run()
    assert "请选择达标线适用的单位类型" in at.error[0].value


def test_other_parameters_are_shown_with_their_defaults_and_saved_audited(app_db):
    at = open_page(section="其他参数")
    assert not at.exception
    praise = at.number_input(key="settings_p_praise_min_units")
    assert praise.label == "单位数不少于多少的类别才自动表扬（默认4）" and praise.value == 4
    assert at.checkbox(key="settings_p_extension_applies").value is True
    assert at.number_input(key="settings_p_session_idle_minutes").value == 30
    assert at.number_input(key="settings_p_import_max_rows").value == 30000
    praise.set_value(6)
    at.checkbox(key="settings_p_extension_applies").uncheck()
    at = at.button(key="FormSubmitter:settings_parameters-保存参数").click().run()
    assert [s.value for s in at.success] == ["其他参数已保存。"]
    assert at.radio(key="settings_section").value == "其他参数"
    saved = read_settings(app_db)
    assert saved["praise_min_units"] == 6 and saved["extension_applies"] is False
    assert "session_idle_minutes" not in saved  # unchanged parameters are not written
    assert app_db.rows("SELECT username, action, detail FROM audit_log WHERE target = 'parameters'") == [
        ("admin", "修改设置", "修改其他参数")]
