"""任务督办: the 15 tasks × responsible units as lights, deadlines against the as-of date, one
task's goal, status by unit and report history; recording and verifying progress reports."""

import datetime as dt

import streamlit as st

from data.services import formulas, tasks, workspace
from data.services.progress import STATUSES, ReportError, return_report, submit_report, verify_report
from data.storage.scope import PermissionDenied
from reports import charts
from ui import fmt, report_forms, widgets

scope, as_of = widgets.page_context("pages/tasks.py")

st.caption(f"考评日：{fmt.fmt_date(as_of)}。{formulas.formula(scope, as_of, 'light')}只有办公室核验过的进展计入考评。")
flash = st.session_state.pop("tasks_flash", None)
if flash:
    st.toast(fmt.md_escape(flash), icon="✅")  # seen wherever the user has scrolled to

lights = tasks.assignment_lights(scope, as_of)
if lights.is_empty():
    st.info("本单位没有承担实施方案附件2中的任务。")
    st.stop()

st.subheader("任务 × 责任单位")
shown = widgets.unit_filters(lights, "tasks_matrix")
chosen = widgets.unit_choice("tasks_matrix")  # the same filter for the matrix and the task's units
MATRIX_UNITS = 120  # a wider matrix is unreadable and slow to draw
if shown["unit"].n_unique() > MATRIX_UNITS:
    st.caption(f"单位较多，图中只显示红灯、黄灯最多的前{MATRIX_UNITS}个单位；请用单位类型或查找缩小范围。")
widgets.show_figure(charts.light_matrix(tasks.light_matrix(scope, as_of, *chosen, MATRIX_UNITS)), key="tasks_matrix_fig")

st.subheader("完成时限")
widgets.show_figure(charts.deadline_timeline(tasks.task_timeline(scope, as_of), as_of), key="tasks_timeline")

st.subheader("单项任务")
assigned = {t["task_no"]: t for t in tasks.assigned_tasks(scope, as_of).iter_rows(named=True)}
task_no = st.selectbox("选择任务", list(assigned), format_func=lambda n: f"任务{n} {assigned[n]['title']}",
                       key="tasks_task")
task = assigned[task_no]
st.markdown(f"**工作目标**：{fmt.md_escape(task['goal'])}")
st.markdown(f"**完成时限**：{fmt.md_escape(task['deadline_text'])}"
            + (f"（按{fmt.fmt_date(task['due_date'])}考核）" if task["due_date"] else "（持续性任务，按月报送进展）")
            + f"　**责任单位**：{fmt.md_escape(task['units_text'])}")
mine = tasks.assignment_lights(scope, as_of, *chosen, task_no)
widgets.show_table(
    mine.select("unit", "status", "light", "completed_on", "last_report_on", "percent", "extension")
    .with_columns(mine["light"].replace_strict(charts.LIGHT_NAMES, default="")),
    labels={"percent": "最近报告进度（%）", "extension": "延期"}, key="tasks_status",
)
history = workspace.report_rows(scope, as_of, task_no)
st.markdown("**进展报送记录**（截至考评日）")
widgets.show_table(
    history.select("reported_on", "unit", "status", "percent", "completed_on", "note", "submitted_by",
                   "review_state", "returned_reason"),
    labels=report_forms.LABELS, empty="截至考评日还没有进展报告。", key="tasks_history",
)

if not scope.can_write:
    st.caption("领导账号为只读：进展由各单位报送、办公室核验。")
    st.stop()

if not scope.is_admin:
    report_forms.returned_section(scope)

st.subheader("报送进展" if not scope.is_admin else "录入进展")
if flash:
    st.success(fmt.md_escape(flash))
unit_ids = dict(mine.select("unit", "unit_id").iter_rows())
with st.form("tasks_report", clear_on_submit=False):
    unit = st.selectbox("单位", list(unit_ids), key="tasks_form_unit")
    left, right = st.columns(2)
    reported_on = left.date_input("报送日期", value=dt.date.today(), max_value=dt.date.today(), key="tasks_form_date")
    status = right.selectbox("进展状态", STATUSES, index=1, key="tasks_form_status")
    percent = left.number_input("完成进度（%）", 0, 100, 50, step=5, key="tasks_form_percent")
    completed_on = right.date_input("完成日期（已完成时填写）", value=None, key="tasks_form_completed")
    note = st.text_area("进展说明", key="tasks_form_note")
    submitted = st.form_submit_button("提交")
if submitted:
    unit_id = int(unit_ids[unit])
    try:
        verified = submit_report(scope, task_no, unit_id, reported_on, status, int(percent),
                                 completed_on, note)
    except (ReportError, PermissionDenied) as exc:
        st.error(fmt.md_escape(str(exc)))
    else:
        st.session_state["tasks_flash"] = (f"已录入{unit}任务{task_no}的进展。" if verified
                                           else f"已报送{unit}任务{task_no}的进展，待办公室核验后计入考评。")
        st.rerun()

pending = workspace.pending_reports(scope, dt.date.today())
st.subheader("待核验的进展报告")
if pending.is_empty():
    st.info("没有待核验的进展报告。")
    st.stop()
widgets.show_table(pending.select("task_no", "unit", "reported_on", "status", "percent", "completed_on", "note",
                                  "submitted_by", "returned_reason"), labels=report_forms.LABELS,
                   key="tasks_pending")
if scope.is_admin:
    keys = [(r["task_no"], r["unit_id"], r["reported_on"]) for r in pending.iter_rows(named=True)]
    names = dict(zip(pending["unit_id"].to_list(), pending["unit"].to_list(), strict=True))
    choice = st.selectbox("选择要核验的报告", range(len(keys)), key="tasks_verify_pick",
                          format_func=lambda i: f"任务{keys[i][0]}·{names[keys[i][1]]}·{fmt.fmt_date(keys[i][2])}")
    reason = st.text_input("退回理由（退回时必填）", key="tasks_return_reason",
                           placeholder="例如：请补充已编制目录的条数")
    ok_col, back_col, _ = st.columns([1, 1, 4])
    verify = ok_col.button("核验通过", key="tasks_verify", type="primary")
    send_back = back_col.button("退回", key="tasks_return")
    if verify or send_back:
        try:
            if verify:
                verify_report(scope, *keys[choice])
            else:
                return_report(scope, *keys[choice], reason)
        except (ReportError, PermissionDenied) as exc:
            st.error(fmt.md_escape(str(exc)))
        else:
            st.session_state["tasks_flash"] = ("已核验，该进展从现在起计入考评。" if verify
                                               else "已退回，单位将看到退回理由并修改后重新报送。")
            st.rerun()
