"""目录与需求: per unit catalog counts, share-type mix, mount and freshness rates, the 不予共享 items
and their basis, and demand matching."""

import streamlit as st

from data.services import catalog, formulas
from metrics.registry import KPI_BY_CODE
from reports import charts
from ui import fmt, widgets

scope, as_of = widgets.page_context("pages/catalog.py")

st.caption(f"考评日：{fmt.fmt_date(as_of)}。" + formulas.with_settings(
    scope, as_of, "只计发布日期不晚于考评日的目录；首条目录发布日期与{catalog_deadline}比较。共享是原则，不共享是例外。"))

RATES = ("catalog_metadata_rate", "catalog_mounted_rate", "catalog_fresh_rate", "share_rate",
         "nonshare_basis_rate", "demand_matched_rate")
labels = {code: KPI_BY_CODE[code].label for code in RATES}
labels.update({"catalog_first_published_on": "首条发布日期", "catalog_on_time": "发布是否按期",
               "items": "目录条数", "无条件共享": "无条件共享", "有条件共享": "有条件共享", "不予共享": "不予共享"})

by_unit = widgets.unit_filters(catalog.catalog_by_unit(scope, as_of), "catalog_units")
chosen = widgets.unit_choice("catalog_units")  # the same filter for the tables below
st.subheader("各单位目录情况")
widgets.show_table(
    by_unit.select("unit", "unit_kind", "items", "无条件共享", "有条件共享", "不予共享", "catalog_first_published_on",
                   "catalog_on_time", *RATES),
    rates=RATES, labels=labels, key="catalog_units_table",
)

mix = catalog.share_mix(scope, as_of, *chosen)
if mix.height:
    widgets.show_figure(charts.share_mix(mix, limit=widgets.CHART_UNITS), key="catalog_mix")
    widgets.show_figure(charts.rate_bars(by_unit, "unit", "catalog_mounted_rate", "各单位目录挂接率", "挂接率",
                                         limit=widgets.CHART_UNITS), key="catalog_mounted")
    widgets.show_figure(charts.rate_bars(by_unit, "unit", "catalog_fresh_rate", "各单位目录更新及时率",
                                         "更新及时率", limit=widgets.CHART_UNITS), key="catalog_fresh")
else:
    st.info("截至考评日，所选单位还没有发布目录。")

st.subheader("不予共享目录及其依据")
nonshare = catalog.nonshare_items(scope, as_of, *chosen)
widgets.show_table(
    nonshare.select("unit", "code", "name", "published_on", "nonshare_basis")
    .with_columns(nonshare["nonshare_basis"].fill_null("（未填写依据）")),
    labels={"code": "目录编码", "name": "目录名称"}, empty="所选单位没有不予共享的目录。", key="catalog_nonshare",
)

st.subheader("供需对接")
st.caption(formulas.formula(scope, as_of, "demand_matched_rate"))
open_only = st.toggle("只看未对接的需求", value=True, key="catalog_open_only")
demands = catalog.demand_rows(scope, as_of, *chosen, open_only)
widgets.show_table(
    demands.select("code", "unit", "content", "target_code", "raised_on", "matched_on"),
    labels={"unit": "需求单位", "target_code": "对应目录"},
    empty="所选单位没有未对接的需求。" if open_only else "所选单位截至考评日没有提出需求。", key="catalog_demands",
)
