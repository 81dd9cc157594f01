"""本单位系统与安全 (单位 only, opened at /infra): the unit's systems, private networks, latest
security assessment, quality checks, contacts and (townships) village coverage."""

import streamlit as st

from data.services import infra, units, workspace
from ui import fmt, widgets

scope, as_of = widgets.page_context("pages/my_infra.py")

st.caption(f"{units.unit_name(scope)}　考评日：{fmt.fmt_date(as_of)}。涉密系统和涉密专网不计入；"
           "安全措施按考评日前最近一次评估。")

lists = workspace.unit_infra(scope, as_of)

st.subheader("信息系统")
widgets.show_table(lists.systems.select("name", "registered_by", "connected_by", "provides_data"),
                   labels={"name": "系统名称", "registered_by": "已注册", "connected_by": "已接入共享平台",
                           "provides_data": "提供共享数据"}, empty="本单位没有登记非涉密信息系统。", key="my_infra_systems")

st.subheader("业务专网")
widgets.show_table(lists.networks.select("name", "migrated_by", "migrated_on"),
                   labels={"name": "专网名称", "migrated_by": "已迁移至政务外网", "migrated_on": "迁移日期"},
                   empty="本单位没有登记非涉密业务专网。", key="my_infra_networks")

st.subheader("安全防护措施")
security = lists.security
if security.is_empty():
    st.warning("截至考评日本单位还没有安全评估记录，安全措施落实率按0分计。")
else:
    widgets.show_table(security.select("assessed_on", "desensitization", "encryption", "access_auth", "note"),
                       labels={"assessed_on": "评估日期", "desensitization": "数据脱敏", "encryption": "加密传输",
                               "access_auth": "访问认证", "note": "说明"}, key="my_infra_security")

st.subheader("数据质量检查（考评日前一年内）")
widgets.show_table(
    lists.quality.select("catalog_code", "checked_on", "completeness", "accuracy", "usability", "timeliness",
                         "check_score", "issues_found", "issues_fixed"),
    scores=("check_score",), labels={"catalog_code": "目录编码", "checked_on": "检查日期", "completeness": "完整性",
                                     "accuracy": "准确性", "usability": "可用性", "timeliness": "及时性",
                                     "check_score": "检查得分", "issues_found": "发现问题", "issues_fixed": "已整改"},
    empty="考评日前一年内本单位目录没有质量检查记录。", key="my_infra_quality",
)

st.subheader("分管领导和经办人")
people = infra.own_contacts(scope, as_of)
widgets.show_table(people.select("role", "person", "title", "phone", "named_on"),
                   labels={"title": "职务"}, empty="截至考评日本单位还没有明确分管领导和经办人。", key="my_infra_contacts")

coverage = infra.village_coverage(scope, as_of)
if coverage.height:
    st.subheader("村村通：行政村接入电子政务外网")
    widgets.show_table(coverage.select("counted_on", "villages", "connected", "coverage_rate"),
                       rates=("coverage_rate",), labels={"connected": "已接入村数"}, key="my_infra_coverage")
