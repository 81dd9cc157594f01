"""共享申请: on-time rates of the review and reply steps, county-wide and per provider; overdue and
warning lists; refusals lacking a basis or reason; the monthly view."""

import calendar

import streamlit as st

from data.services import formulas, requests
from metrics.registry import STATUS_LABELS, STEP_LABELS
from reports import charts
from ui import fmt, widgets

scope, as_of = widgets.page_context("pages/requests.py")

st.caption(f"考评日：{fmt.fmt_date(as_of)}。{formulas.formula(scope, as_of, 'request_deadlines')}")
if not scope.sees_all:
    st.info("单位用户只看到本单位作为申请方或提供方的申请，以及全县汇总数。")

county = requests.county_request_rates(scope, as_of)
cols = st.columns(2)
for col, row in zip(cols, county.iter_rows(named=True), strict=True):
    col.metric(f"{STEP_LABELS[row['step']]}按时率（全县）", fmt.fmt_pct(row["rate"]),
               help=f"按时{row['on_time']}件，超时办结{row['late']}件，逾期未办{row['overdue']}件")

st.subheader("各提供单位答复按时率")
providers = widgets.unit_filters(requests.provider_rates(scope, as_of), "requests_providers")
widgets.show_table(providers.select("unit", "unit_kind", "judged", "on_time", "late", "overdue", "rate"),
                   rates=("rate",), labels={"judged": "应计入件数", "on_time": "按时", "late": "超时办结",
                                            "overdue": "逾期未办", "rate": "答复按时率"},
                   empty="截至考评日没有已到期或已办结的答复环节。", key="requests_provider_table")
if providers.height:
    widgets.show_figure(charts.rate_bars(providers, "unit", "rate", "各提供单位答复按时率", "答复按时率",
                                         limit=widgets.CHART_UNITS), key="requests_provider_fig")


def steps_table(frame, extra):
    return frame.select("code", "requester", "provider", "step", "started_on", "deadline", *extra).with_columns(
        frame["step"].replace_strict(STEP_LABELS, default=""))


st.subheader("逾期未办")
overdue = requests.overdue_steps(scope, as_of)
widgets.show_table(steps_table(overdue, ["workdays_overdue"]), empty="截至考评日没有逾期未办的申请。",
                   key="requests_overdue")

st.subheader("即将到期（预警）")
warning = requests.warning_list(scope, as_of)
widgets.show_table(steps_table(warning, ["workdays_left"]), empty=formulas.with_settings(scope, as_of, "未来{warning_workdays}个工作日内没有到期的申请环节。"),
                   key="requests_warning")

st.subheader("不予共享缺少依据或理由")
refusals = requests.refusals_lacking(scope, as_of)
widgets.show_table(refusals.select("code", "requester", "provider", "replied_on", "reply_result", "legal_basis",
                                   "refusal_reason"), empty="没有缺少依据或理由的不同意、部分同意答复。",
                   key="requests_refusals")

st.subheader("月度情况")
months = requests.request_months(scope, as_of)
month = st.selectbox("选择月份", months, format_func=fmt.fmt_month, key="requests_month")
if month == as_of.strftime("%Y-%m") and as_of.day != calendar.monthrange(as_of.year, as_of.month)[1]:
    st.caption(f"只统计截止日期落在该月的环节。该月尚未结束：按考评日（{fmt.fmt_date(as_of)}）的办理情况判断，"
               "考评日之后的办理不计入，考评日之后到期的环节计为未到期。")
else:
    st.caption("只统计截止日期落在该月的环节，按该月最后一天的办理情况判断。")
monthly = requests.month_rates(scope, month, as_of)
widgets.show_table(
    monthly.select("unit", "step", "on_time", "late", "overdue", "pending", "ontime_rate")
    .with_columns(monthly["step"].replace_strict(STEP_LABELS, default="")),
    rates=("ontime_rate",), labels={"unit": "办理单位", "on_time": STATUS_LABELS["on_time"],
                                    "late": STATUS_LABELS["late"], "overdue": STATUS_LABELS["overdue"],
                                    "pending": STATUS_LABELS["pending"], "ontime_rate": "按时率"},
    empty="该月没有到期的申请环节。", key="requests_monthly",
)
