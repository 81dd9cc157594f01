"""总览 (for leaders): M1–M4 met or not and what is missing by unit; headline figures with the change
since last month; the county's 12-month trend; the best and worst units of each kind."""

import polars as pl
import streamlit as st

from data.services import overview
from reports import charts
from ui import fmt, widgets

scope, as_of = widgets.page_context("pages/overview.py")

st.caption(f"考评日：{fmt.fmt_date(as_of)}；变化与上月末（{fmt.fmt_date(overview.previous_month_end(scope, as_of))}）比较，"
           "本月收到的共享申请在月中与上月同期（相同日数）比较。")

st.subheader("主要数据")
figures = overview.headline(scope, as_of)
for start in range(0, len(figures), 4):
    for col, item in zip(st.columns(4), figures[start:start + 4], strict=False):
        if item["kind"] == "rate":
            col.metric(item["label"], fmt.fmt_pct(item["value"]), fmt.fmt_delta_pct(item["change"]),
                       delta_arrow=fmt.delta_arrow(item["change"], 4), help=item["help"])
        else:
            delta = fmt.fmt_delta(item["change"])
            col.metric(item["label"], f"{item['value']:,}", f"{delta} {item['versus']}" if item["versus"] else delta,
                       delta_color="inverse" if item["label"].startswith("红灯") else "normal",
                       delta_arrow=fmt.delta_arrow(item["change"]), help=item["help"])

st.subheader("工作目标完成情况")
st.caption("每个工作目标由若干达标线组成（系统设置 → 工作目标达标线）。单位达到适用于它的每一条达标线即为达标；"
           "某项指标对单位不适用（如没有信息系统）时，该条不计入该单位。")
status = overview.milestones(scope, as_of)
# Streamlit's bundled Material icons: emoji need a colour-emoji font the office PCs may lack.
ICON = {"已达成": ":material/check_circle:", "未达成": ":material/cancel:", "未到期": ":material/schedule:"}
for m in status.iter_rows(named=True):
    tail = (f"，{m['units_applicable']}个单位中{m['units_meeting']}个达标、{m['units_missing']}个未达标"
            if m["units_applicable"] else "")
    st.markdown(f"{ICON.get(m['status'], '')} **{m['code']} {m['title']}**（{fmt.fmt_date(m['due_date'])}到期）："
                f"**{m['status']}**{tail}")
by_code = {m["code"]: m for m in status.iter_rows(named=True)}
codes = list(by_code)
# Open at the current stage: the latest milestone due on or before D (the first one before M1 is due).
due = [c for c, m in by_code.items() if m["due_date"] <= as_of]
default = due[-1] if due else (codes[0] if codes else None)
code = st.radio("查看达标情况", codes, index=codes.index(default) if default else None, horizontal=True,
                format_func=lambda c: f"{c} {by_code[c]['title']}", key="overview_milestone")
if code:
    st.markdown(f"**要求**：{by_code[code]['requirement']}")
    mine = overview.milestone_criteria(scope, as_of, code)
    shown = mine.select(
        pl.col("label").alias("达标线"),
        pl.format("{} / {}", "meeting", "applicable").alias("达标单位"),
        (pl.col("share") * 100).alias("达标比例"),
        (pl.col("applicable") - pl.col("meeting")).alias("未达标单位数"),
    )
    st.dataframe(shown, hide_index=True, width="stretch", key=f"overview_criteria_{code}", column_config={
        "达标线": st.column_config.TextColumn("达标线", width="large"),
        "达标比例": st.column_config.ProgressColumn("达标比例", format="%.1f%%", min_value=0, max_value=100)})
    for row in mine.iter_rows(named=True):
        if row["meeting"] >= row["applicable"]:
            continue
        failing = overview.milestone_gaps(scope, as_of, code, row["criterion"])  # furthest from the line first
        with st.expander(f"{row['label']}：未达标的{failing.height}个单位（达标{row['meeting']} / {row['applicable']}）"):
            st.dataframe(failing.select(pl.col("unit").alias("单位名称"), pl.col("detail").alias("现值")),
                         hide_index=True, width="stretch", key=f"overview_gaps_{code}_{row['criterion']}")
    if mine.is_empty():
        st.info("该工作目标在考评日没有施行中的达标线。")
    elif mine["meeting"].sum() == mine["applicable"].sum():
        st.success("适用的单位均已达到每一条达标线。")

trend = overview.county_trend(scope, as_of)
st.subheader("全县趋势")
if trend.is_empty():
    st.info("考评日在实施方案开始月份之前，尚无考评月份。")
else:
    st.caption(f"近12个月（实施方案开始前的月份不考评），{fmt.fmt_month(trend['month'][0])}至{fmt.fmt_date(trend['as_of'][-1])}；"
               "各月按月末、本月按考评日的情况计。")
    left, right = st.columns(2)
    with left:
        widgets.show_figure(charts.trend_lines(
            trend, {"catalog_mounted_rate": "目录挂接率", "reply_ontime_rate": "答复按时率",
                    "task_ontime_rate": "任务按期完成率", "security_rate": "安全措施落实率"},
            "全县主要指标（单位平均）", "比率", percent=True), key="overview_rates")
    with right:
        widgets.show_figure(charts.score_and_red_lights(trend), key="overview_composite")

st.subheader("各类单位最好和最差的单位")
extremes = overview.best_worst(scope, as_of)
widgets.show_table(extremes.select("unit_kind", "side", "rank", "unit", "composite", "grade"), scores=("composite",),
                   labels={"side": "位置"}, empty="截至考评日还没有单位得分。", key="overview_extremes")
