"""基础设施与安全: contacts, systems registered and connected, private networks migrated, village
extranet coverage by township, security measures, data quality scores and fix rates."""

import streamlit as st

from data.services import infra
from metrics.registry import KPI_BY_CODE
from reports import charts
from ui import fmt, widgets

scope, as_of = widgets.page_context("pages/infra.py")

st.caption(f"考评日：{fmt.fmt_date(as_of)}。涉密系统和涉密专网不计入；安全措施按考评日前最近一次评估，"
           "未评估的记0分。")

RATES = ("systems_registered_rate", "systems_connected_rate", "networks_migrated_rate", "security_rate",
         "quality_fix_rate")
labels = {code: KPI_BY_CODE[code].label for code in (*RATES, "quality_score")}
labels.update({"contacts": "分管领导和经办人", "contacts_named_on": "明确日期", "contacts_on_time": "是否按期",
               "security_assessed": "安全评估"})

by_unit = widgets.unit_filters(infra.infra_by_unit(scope, as_of), "infra_units")
chosen = widgets.unit_choice("infra_units")  # the same filter for the lists below
st.subheader("各单位情况")
widgets.show_table(
    by_unit.select("unit", "unit_kind", "contacts", "contacts_named_on", "contacts_on_time", *RATES[:3],
                   "security_assessed", "security_rate", "quality_score", "quality_fix_rate"),
    rates=RATES, scores=("quality_score",), labels=labels, key="infra_units_table",
)
if by_unit.height:
    widgets.show_figure(charts.rate_bars(by_unit, "unit", "systems_connected_rate", "各单位信息系统接入率",
                                         "接入率", limit=widgets.CHART_UNITS), key="infra_connected")

st.subheader("村村通：行政村接入电子政务外网")
coverage = infra.village_coverage(scope, as_of)
widgets.show_table(coverage.select("unit", "counted_on", "villages", "connected", "coverage_rate"),
                   rates=("coverage_rate",), labels={"unit": "乡镇（街道）", "connected": "已接入村数"},
                   empty="截至考评日还没有乡镇（街道）报送行政村接入情况。", key="infra_coverage")
if coverage.height:
    widgets.show_figure(charts.rate_bars(coverage, "unit", "coverage_rate", "各乡镇（街道）村村通覆盖率", "覆盖率",
                                         limit=widgets.CHART_UNITS), key="infra_coverage_fig")

with st.expander("信息系统与业务专网清单"):
    systems = infra.systems(scope, as_of, *chosen)
    widgets.show_table(systems.select("unit", "name", "registered_by", "connected_by", "provides_data"),
                       labels={"name": "系统名称", "registered_by": "已注册", "connected_by": "已接入共享平台",
                               "provides_data": "提供共享数据"}, empty="所选单位没有登记非涉密信息系统。",
                       key="infra_systems")
    networks = infra.networks(scope, as_of, *chosen)
    widgets.show_table(networks.select("unit", "name", "migrated_by"),
                       labels={"name": "专网名称", "migrated_by": "已迁移至政务外网"},
                       empty="所选单位没有登记非涉密业务专网。", key="infra_networks")

st.subheader("联络人")
if not scope.sees_all:
    st.caption("其他单位的姓名和电话已脱敏。")
people = infra.contacts(scope, as_of, *chosen)  # a 单位 gets every unit's (masked) whatever the filter
widgets.show_table(people.select("unit", "role", "person", "title", "phone", "named_on"),
                   labels={"title": "职务"}, empty="截至考评日没有明确的联络人。", key="infra_contacts")
