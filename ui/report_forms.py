"""The returned-report section a 单位 user sees on 任务督办 and on its workspace: every report
the office sent back (退回) with the reason, and a form to correct and resubmit one.

The rules live in data.services.progress.resubmit_report (own unit only, same checks as a new report);
this module only draws and passes on what the user typed.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from data.services import workspace
from data.services.progress import STATUSES, ReportError, resubmit_report
from data.storage.scope import PermissionDenied, Scope
from ui import fmt, widgets

LABELS = {
    "review_state": "核验状态",
    "returned_reason": "退回理由",
    "returned_by": "退回人",
    "returned_at": "退回时间",
}


def returned_section(scope: Scope, key: str = "tasks") -> None:
    """List the scope's returned reports with their reasons and offer the resubmission form."""
    returned = workspace.returned_reports(scope, dt.date.today())
    if returned.is_empty():
        return
    st.subheader("被退回的进展报告")
    st.warning(f"办公室退回了{returned.height}份进展报告，请按退回理由修改后重新报送；重新报送后仍须办公室核验才计入考评。")
    shown = returned.with_columns(returned["returned_at"].dt.strftime("%Y-%m-%d %H:%M"))
    widgets.show_table(shown.select("task_no", "unit", "reported_on", "status", "percent", "note", "returned_reason",
                                    "returned_by", "returned_at"), labels=LABELS, key=f"{key}_returned")
    rows = list(returned.iter_rows(named=True))
    pick = st.selectbox(
        "选择要重新报送的报告", range(len(rows)), key=f"{key}_resubmit_pick",
        format_func=lambda i: f"任务{rows[i]['task_no']}·{fmt.fmt_date(rows[i]['reported_on'])}"
                              f"（退回理由：{rows[i]['returned_reason']}）",
    )
    row = rows[pick]
    with st.form(f"{key}_resubmit", clear_on_submit=False):
        st.caption(f"任务{row['task_no']}，报送日期{fmt.fmt_date(row['reported_on'])}。")
        left, right = st.columns(2)
        status = left.selectbox("进展状态", STATUSES, index=STATUSES.index(row["status"]), key=f"{key}_re_status")
        percent = right.number_input("完成进度（%）", 0, 100, int(row["percent"] or 0), step=5, key=f"{key}_re_percent")
        completed_on = left.date_input("完成日期（已完成时填写）", value=row["completed_on"], key=f"{key}_re_completed")
        note = st.text_area("进展说明", value=row["note"] or "", key=f"{key}_re_note")
        sent = st.form_submit_button("重新报送")
    if sent:
        try:
            resubmit_report(scope, row["task_no"], row["unit_id"], row["reported_on"], status,
                            int(percent), completed_on, note)
        except (ReportError, PermissionDenied) as exc:
            st.error(str(exc))
        else:
            st.session_state["tasks_flash"] = f"已重新报送任务{row['task_no']}的进展，待办公室核验后计入考评。"
            st.rerun()
