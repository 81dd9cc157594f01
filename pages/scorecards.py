"""单位考评: the ranking of each unit kind; one unit's indicators, the rows behind each and its trend."""

import polars as pl
import streamlit as st

from data.services import scorecards, supervision, units
from metrics.registry import COMPOSITE, GRADE, KPIS
from reports import charts
from ui import fmt, widgets

scope, as_of = widgets.page_context("pages/scorecards.py")

st.caption(f"考评日：{fmt.fmt_date(as_of)}。综合得分按各项指标加权计算，不适用的指标不计入并按比例折算权重；"
           "排名在同类单位内进行。")

board = scorecards.ranking(scope, as_of)
st.subheader("综合排名")
shown = widgets.unit_filters(board, "scorecards_rank")
columns = ["unit_kind", "rank", "unit", "composite", "grade", "composite_change", "rank_change"]
if scope.sees_all:
    columns += ["red_lights", "suggestion"]
widgets.show_table(
    shown.select(columns), scores=("composite", "composite_change"),
    labels={"composite_change": "得分较上月", "rank_change": "名次较上月（正数为上升）"},
    file_name="单位排名.csv", key="scorecards_ranking",
)
if scope.sees_all:
    st.download_button(
        "下载记分卡（Excel，A4横向打印）", widgets.deferred(scorecards.scorecard_workbook, scope, as_of),
        file_name=f"记分卡_{as_of.isoformat()}.xlsx", key="scorecards_download", on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
kinds = shown["unit_kind"].unique(maintain_order=True).to_list()
if len(kinds) == 1 and shown.height:
    widgets.show_figure(charts.ranking_bar(shown, f"{kinds[0]}综合得分排名", limit=widgets.CHART_UNITS),
                        key="scorecards_bar")
    if shown["composite"].is_not_null().sum() > widgets.CHART_UNITS:
        st.caption(f"图中只画得分最低的{widgets.CHART_UNITS}个单位，全部单位的得分和排名见上方排名表。")

st.subheader("单位指标详情")
visible = units.visible_units(scope)
if visible.is_empty():
    st.info("没有可查看的单位。")
    st.stop()
ids = dict(visible.select("unit", "unit_id").iter_rows())
unit_name = st.selectbox("选择单位", list(ids), key="scorecards_unit")
unit_id = int(ids[unit_name])
card = scorecards.unit_scorecard(scope, as_of, unit_id)

c1, c2, c3, c4 = st.columns(4)
c1.metric(COMPOSITE.label, fmt.fmt_score(card["composite"]), fmt.fmt_delta(card["composite_change"], " 分"))
c2.metric(GRADE.label, card["grade"] or fmt.NA)
c3.metric(f"排名（{card['unit_kind']}）", "—" if card["rank"] is None else f"第{card['rank']}名")
c4.metric("红灯任务", f"{card['red_lights']}个")
extended = supervision.unit_extensions(scope, as_of, unit_id)  # 延期申请获批 (docs/supervision.md)
st.caption(f"延期申请获批：{extended.height}项" + "".join(f"；任务{r['task_no']}{r['extension']}"
                                                   for r in extended.iter_rows(named=True)))
if card.get("suggestion"):
    st.info(f"考评建议：{fmt.md_escape(card['suggestion'])}")
if card.get("frozen_month"):
    st.info(f"已发布（冻结）数据：{fmt.fmt_month(card['frozen_month'])}考评结果已发布，本页按已发布的结果显示。")
    if card["differences"]:
        st.caption("按当前数据重新计算，以下数值与已发布的不同（已发布结果不变）：")
        st.dataframe(pl.DataFrame(card["differences"]).rename({"label": "项目", "old": "已发布", "new": "重新计算"}),
                     hide_index=True, width="stretch", key="scorecards_frozen_diff")

rows = scorecards.indicator_rows(scope, as_of, unit_id)
st.dataframe(fmt.indicator_table(rows), hide_index=True, width="stretch", key="scorecards_indicators",
             column_config={"计算方法": st.column_config.TextColumn(width="large")})

st.markdown("**得分明细**")
st.caption("不适用的指标不计入，其余指标的权重按比例折算为合计100；得分贡献 = 得分 × 权重 ÷ 100，"
           "失分 = 权重 − 得分贡献，按失分从多到少排列；权重为0的指标只作展示，不计失分。")
points = scorecards.points_table(scope, as_of, unit_id)
if points.is_empty():
    st.info("该单位截至考评日没有适用的指标。")
else:
    widgets.show_table(
        points, scores=("score", "eff_weight", "earned", "lost"), key="scorecards_points", file_name="得分明细.csv",
        labels={"label": "指标", "score": "得分", "eff_weight": "权重", "earned": "得分贡献（得分）", "lost": "失分"})

with st.expander("查看指标背后的数据"):
    labels = {k.label: k.code for k in KPIS}
    chosen = st.selectbox("选择指标", list(labels), key="scorecards_kpi")
    behind = scorecards.rows_behind(scope, as_of, unit_id, labels[chosen])
    if behind.is_empty():
        st.info("该指标截至考评日没有相关记录。")
    else:
        st.dataframe(fmt.table(behind), hide_index=True, width="stretch", key="scorecards_behind", placeholder="")

trend = scorecards.unit_trend(scope, as_of, unit_id)
widgets.show_figure(
    charts.trend_lines(trend, {"composite": COMPOSITE.label}, f"{unit_name}近12个月{COMPOSITE.label}", COMPOSITE.label),
    key="scorecards_trend",
)
