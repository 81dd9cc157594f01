"""任务督办 page: lights, one task's status and history, recording and verifying reports."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.storage.facts import load_facts
from metrics.tasks import assignment_status
from tests.pages.conftest import run_page, table_by_key, texts
from tests.pages.small_county import ADMIN, AS_OF, EARLIER, LEADER, UNIT3, ZHENGFUBAN


def _status_table(at):
    return table_by_key(at, "tasks_status").set_index("单位名称")


def test_task_two_status_by_unit_matches_the_engine(county):
    at = run_page("tasks", ADMIN, AS_OF, tasks_task=2)
    assert not at.exception
    assert at.title[0].value == "任务督办"
    table = _status_table(at)
    engine = assignment_status(load_facts(county), AS_OF).filter(pl.col("task_no") == 2)
    assert len(table) == engine.height == 38
    # 县委办 completed on 2023-06-01 (due 2023-06-10); 县政府办 is still 推进中 after the deadline.
    assert table.loc["县委办", "状态"] == "按期完成" and table.loc["县委办", "灯色"] == "绿灯"
    assert table.loc["县政府办", "状态"] == "逾期未完成" and table.loc["县政府办", "灯色"] == "红灯"
    assert table.loc["县委办", "完成日期"] == "2023年6月1日"
    history = table_by_key(at, "tasks_history")
    assert list(history["单位名称"]) == ["县政府办", "县委办"]      # newest first
    assert "明确各部门单位政务数据共享工作分管负责人和经办人" in texts(at)


def test_earlier_as_of_hides_later_reports(county):
    at = run_page("tasks", ADMIN, dt.date(2023, 6, 8), tasks_task=2)
    assert not at.exception
    table = _status_table(at)
    assert table.loc["县委办", "状态"] == "按期完成"
    assert table.loc["县政府办", "状态"] == "未启动" and table.loc["县政府办", "灯色"] == "黄灯"
    assert list(table_by_key(at, "tasks_history")["单位名称"]) == ["县委办"]
    at = run_page("tasks", ADMIN, EARLIER, tasks_task=2)
    assert _status_table(at).loc["县政府办", "状态"] == "逾期未完成"


def test_unit_user_sees_only_its_own_assignments_and_reports_pending(county):
    at = run_page("tasks", UNIT3, AS_OF, tasks_task=6)
    assert not at.exception
    assert list(_status_table(at).index) == ["县政府办"]
    assert at.selectbox(key="tasks_form_unit").options == ["县政府办"]
    at.date_input(key="tasks_form_date").set_value(dt.date(2023, 11, 5))
    at.selectbox(key="tasks_form_status").set_value("推进中")
    at.number_input(key="tasks_form_percent").set_value(80)
    at.text_area(key="tasks_form_note").input("目录已初步编制")
    at.button[0].click().run()
    assert not at.exception
    assert "待办公室核验" in texts(at)
    stored = county.rows("SELECT percent, verified, submitted_by FROM progress_reports "
                         "WHERE task_no = 6 AND unit_id = ? AND reported_on = '2023-11-05'", [ZHENGFUBAN])
    assert stored == [(80, False, "zfb")]
    assert county.scalar("SELECT count(*) FROM audit_log WHERE action = '报送进展'") == 1
    assert "核验通过" not in [b.label for b in at.button]


def test_a_completed_report_needs_its_completion_date(county):
    at = run_page("tasks", ADMIN, AS_OF, tasks_task=2, tasks_form_unit="县政府办")
    at.date_input(key="tasks_form_date").set_value(dt.date(2023, 10, 30))
    at.selectbox(key="tasks_form_status").set_value("已完成")
    at.button[0].click().run()
    assert "须填写完成日期" in texts(at)
    assert county.scalar("SELECT count(*) FROM progress_reports WHERE task_no = 2 AND unit_id = 3") == 1


def test_office_records_and_verifies(county):
    at = run_page("tasks", ADMIN, AS_OF, tasks_task=2, tasks_form_unit="县政府办")
    at.date_input(key="tasks_form_date").set_value(dt.date(2023, 10, 30))
    at.selectbox(key="tasks_form_status").set_value("已完成")
    at.date_input(key="tasks_form_completed").set_value(dt.date(2023, 10, 20))
    at.button[0].click().run()
    assert not at.exception
    assert "已录入县政府办任务2的进展" in texts(at)
    assert county.rows("SELECT percent, verified FROM progress_reports WHERE task_no = 2 AND unit_id = 3 "
                       "AND reported_on = '2023-10-30'") == [(100, True)]     # the form said 50
    # The cache key moved with the data version: the light turned yellow (逾期完成).
    assert _status_table(at).loc["县政府办", "状态"] == "逾期完成"
    # The 县政府办 report on task 6 waits; the office verifies it.
    pending = table_by_key(at, "tasks_pending")
    assert list(pending["任务序号"]) == [6]
    at.button(key="tasks_verify").click().run()
    assert not at.exception
    assert "已核验" in texts(at)
    assert county.scalar("SELECT count(*) FROM progress_reports WHERE NOT verified") == 0


def test_leader_reads_but_cannot_record(county):
    at = run_page("tasks", LEADER, AS_OF, tasks_task=2)
    assert not at.exception
    assert "领导账号为只读" in texts(at)
    assert len(at.button) == 0


def test_history_names_the_submitter_and_the_review_state(county):
    at = run_page("tasks", ADMIN, AS_OF, tasks_task=6)
    assert not at.exception
    history = table_by_key(at, "tasks_history")
    row = history[history["单位名称"] == "县政府办"].iloc[0]
    assert row["报送人"] == "县政府办经办人"            # the display name, not the login zfb
    assert row["核验状态"] == "待核验"


def test_office_returns_a_report_and_the_unit_resubmits_it(county):
    at = run_page("tasks", ADMIN, AS_OF, tasks_task=6)
    at.button(key="tasks_return").click().run()            # no reason: refused, nothing written
    assert "须填写退回理由" in texts(at)
    assert county.scalar("SELECT count(*) FROM progress_reports WHERE returned") == 0
    at.text_input(key="tasks_return_reason").input("请写明已编制目录的条数")
    at.button(key="tasks_return").click().run()
    assert not at.exception
    assert "已退回" in texts(at)
    assert county.rows("SELECT returned, returned_reason FROM progress_reports WHERE task_no = 6") == [
        (True, "请写明已编制目录的条数")]
    assert "没有待核验的进展报告" in texts(at)

    unit = run_page("tasks", UNIT3, AS_OF, tasks_task=6)
    assert not unit.exception
    assert "办公室退回了1份进展报告" in texts(unit)
    returned = table_by_key(unit, "tasks_returned")
    assert list(returned["退回理由"]) == ["请写明已编制目录的条数"]
    assert list(returned["退回人"]) == ["办公室"]
    unit.number_input(key="tasks_re_percent").set_value(70)
    unit.text_area(key="tasks_re_note").input("已编制目录12条")
    unit.button(key="FormSubmitter:tasks_resubmit-重新报送").click().run()
    assert not unit.exception
    assert "已重新报送任务6的进展" in texts(unit)
    assert "被退回的进展报告" not in texts(unit)
    assert county.rows("SELECT percent, note, verified, returned FROM progress_reports WHERE task_no = 6") == [
        (70, "已编制目录12条", False, False)]
    # Back in the office's queue, with the earlier reason beside it.
    at = run_page("tasks", ADMIN, AS_OF, tasks_task=6)
    pending = table_by_key(at, "tasks_pending")
    assert list(pending["退回理由"]) == ["请写明已编制目录的条数"]
