"""本单位工作台 (单位 only): what the unit must do now — requests overdue or due within 3 working
days, reports the office returned, catalog items to fix — its scorecard and the download of it."""

import streamlit as st

from data.services import formulas, scorecards, units, workspace
from metrics.registry import COMPOSITE, GRADE
from ui import fmt, report_forms, widgets
from ui import unit_workspace as uw

scope, as_of = widgets.page_context("pages/my_unit.py")
name = units.unit_name(scope)

st.caption(f"{name}　考评日：{fmt.fmt_date(as_of)}。时限按工作日计算（不含法定节假日，含调休上班日）；"
           "本页只显示本单位的数据。")
flash = st.session_state.pop("tasks_flash", None)
if flash:
    st.toast(flash, icon="✅")
    st.success(flash)

card = scorecards.unit_scorecard(scope, as_of, scope.unit_id)
c1, c2, c3, c4 = st.columns(4)
c1.metric(COMPOSITE.label, fmt.fmt_score(card["composite"]))
c2.metric(GRADE.label, card["grade"] or fmt.NA)
c3.metric(f"排名（{card['unit_kind']}）", "—" if card["rank"] is None else f"第{card['rank']}名")
c4.metric("红灯任务", f"{card['red_lights']}个")
uw.scorecard_download(scope, as_of, name, "my_unit_scorecard")
st.caption("记分卡只含本单位，A4纸打印；各项指标的计算方法见“单位考评”。")

report_forms.returned_section(scope, key="my_unit")

st.subheader(formulas.with_settings(scope, as_of, "共享申请：逾期和{warning_workdays}个工作日内到期"))
uw.request_metrics(workspace.request_counts(scope, as_of))
uw.open_requests(scope, as_of, "my_unit_requests", due_only=True)
st.caption(formulas.with_settings(scope, as_of, "红色：已逾期；黄色：{warning_workdays}个工作日内到期。全部申请见左侧“本单位共享申请”。"))

st.subheader("目录：需要整改的目录")
uw.catalog_section(scope, as_of, "my_unit_catalog", problems_only=True)
st.caption("未挂接：考评日前未挂接数据资源；更新不及时：超过更新周期未更新（不定期的目录不判断）；"
           "元数据不完整：摘要、开放类型、数据项数或共享条件/不予共享依据缺项。全部目录见左侧“本单位目录”。")
