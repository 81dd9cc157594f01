"""总览 (for leaders): M1–M4 met or not and what is missing by unit; headline figures with the change
since last month; the county's 12-month trend; the best and worst units of each kind."""

import streamlit as st

from reports import charts
from ui import cache, fmt, widgets
from ui.session import current_as_of

scope = widgets.page_scope("pages/overview.py")  # ui.session.current_scope(), re-checked
as_of = current_as_of()

st.title("总览")
st.caption(f"考评日：{fmt.fmt_date(as_of)}；变化与上月末（{fmt.fmt_date(cache.view('previous_month_end', scope, as_of))}）比较。")

st.subheader("主要数据")
figures = cache.view("headline", scope, as_of)
for start in range(0, len(figures), 4):
    for col, item in zip(st.columns(4), figures[start:start + 4], strict=False):
        if item["kind"] == "rate":
            col.metric(item["label"], fmt.fmt_pct(item["value"]), fmt.fmt_delta_pct(item["change"]),
                       delta_arrow=fmt.delta_arrow(item["change"], 4))
        else:
            col.metric(item["label"], f"{item['value']:,}", fmt.fmt_delta(item["change"]),
                       delta_color="inverse" if item["label"].startswith("红灯") else "normal",
                       delta_arrow=fmt.delta_arrow(item["change"]))

st.subheader("工作目标完成情况")
status = cache.view("milestones", scope, as_of)
gaps = cache.view("milestone_gaps", scope, as_of)
# Streamlit's bundled Material icons: emoji need a colour-emoji font the office PCs may lack.
ICON = {"已达成": ":material/check_circle:", "未达成": ":material/cancel:", "未到期": ":material/schedule:"}
for m in status.iter_rows(named=True):
    head = (f"{m['code']} {m['title']}（{fmt.fmt_date(m['due_date'])}）："
            f"{m['status']}" + (f"，{m['units_missing']}个单位尚有缺项" if m["units_missing"] else ""))
    with st.expander(head, expanded=m["status"] == "未达成", icon=ICON.get(m["status"])):
        st.markdown(f"**要求**：{m['requirement']}")
        mine = gaps.filter(gaps["code"] == m["code"])
        if mine.is_empty():
            st.success("各单位均已达到要求。")
        else:
            widgets.show_table(mine.select("unit", "item", "detail"), labels={"item": "缺项", "detail": "现状"},
                               key=f"overview_gaps_{m['code']}")

st.subheader("近12个月全县趋势")
trend = cache.view("county_trend", scope, as_of)
left, right = st.columns(2)
with left:
    widgets.show_figure(charts.trend_lines(
        trend, {"catalog_mounted_rate": "目录挂接率", "reply_ontime_rate": "答复按时率",
                "task_ontime_rate": "任务按期完成率", "security_rate": "安全措施落实率"},
        "全县主要指标（单位平均）", "比率", percent=True), key="overview_rates")
with right:
    widgets.show_figure(charts.trend_lines(
        trend, {"composite": "综合得分（单位平均）", "red_lights": "红灯任务（个）"}, "综合得分与红灯任务", "分值 / 个数"),
        key="overview_composite")

st.subheader("各类单位最好和最差的单位")
extremes = cache.view("best_worst", scope, as_of)
widgets.show_table(extremes.select("unit_kind", "side", "rank", "unit", "composite", "grade"), scores=("composite",),
                   labels={"side": "位置"}, empty="截至考评日还没有单位得分。", key="overview_extremes")
