"""本单位共享申请 (单位 only, opened at /requests): every review/reply step of the unit's requests
on the working-day clock, as provider and as requester; overdue and due-soon first."""

import streamlit as st

from data.services import formulas, requests, units, workspace
from ui import fmt, widgets
from ui import unit_workspace as uw

scope, as_of = widgets.page_context("pages/my_requests.py")

st.caption(f"{units.unit_name(scope)}　考评日：{fmt.fmt_date(as_of)}。" + formulas.with_settings(
    scope, as_of, "办公室收到申请后{review_days}个工作日内初审（不含收到当日），提供单位在转送后{reply_days}个工作日内答复；"
    "红色为已逾期，黄色为{warning_workdays}个工作日内到期。"))

uw.request_metrics(workspace.request_counts(scope, as_of))
st.subheader("未办结的申请")
uw.open_requests(scope, as_of, "my_requests_open")

st.subheader("不予共享缺少依据或理由")
refusals = requests.refusals_lacking(scope, as_of)
widgets.show_table(refusals.select("code", "requester", "provider", "replied_on", "reply_result", "legal_basis",
                                   "refusal_reason"), empty="本单位没有缺少依据或理由的不同意、部分同意答复。",
                   key="my_requests_refusals")

with st.expander("已办结的环节"):
    uw.finished_requests(scope, as_of, "my_requests")
