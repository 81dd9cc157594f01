"""本单位目录 (单位 only, opened at /catalog): the unit's catalog items with what to fix (未挂接,
更新不及时, 元数据不完整 — the engine's rules), its 不予共享 items and its demands."""

import streamlit as st

from data.services import catalog, units
from ui import fmt, widgets
from ui import unit_workspace as uw

scope, as_of = widgets.page_context("pages/my_catalog.py")

st.caption(f"{units.unit_name(scope)}　考评日：{fmt.fmt_date(as_of)}。只计发布日期不晚于考评日的目录；"
           "红色的行需要整改。")

problems_only = st.toggle("只看需要整改的目录", value=False, key="my_catalog_problems")
uw.catalog_section(scope, as_of, "my_catalog_items", problems_only=problems_only)

st.subheader("不予共享目录及其依据")
nonshare = catalog.nonshare_items(scope, as_of)
widgets.show_table(
    nonshare.select("code", "name", "published_on", "nonshare_basis")
    .with_columns(nonshare["nonshare_basis"].fill_null("（未填写依据）")),
    labels={"code": "目录编码", "name": "目录名称"}, empty="本单位没有不予共享的目录。", key="my_catalog_nonshare",
)

st.subheader("本单位提出的数据需求")
demands = catalog.demand_rows(scope, as_of)
widgets.show_table(
    demands.select("code", "content", "target_code", "raised_on", "matched_on"),
    labels={"target_code": "对应目录"}, empty="本单位截至考评日没有提出需求。", key="my_catalog_demands",
)
