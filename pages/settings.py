"""系统设置 (管理员 only): KPI weights, grades, warning windows, SLA rules, the holiday calendar.
Writes go through data.services.settings_store (validated, audited) and apply on the next rerun."""

import datetime as dt

import polars as pl
import streamlit as st

from data.services import settings_store as store
from data.storage.scope import PermissionDenied
from metrics.registry import KPIS
from ui import milestone_settings as ms
from ui import parameter_settings, widgets
from ui.fmt import fmt_date, md_escape

scope = widgets.open_page("pages/settings.py")
page = store.settings_page(scope)
current = page.settings

st.caption("修改后立即保存并记入操作日志，所有页面在下一次刷新时按新设置计算。")
if flash := st.session_state.pop("settings_flash", None):
    st.success(md_escape(flash))


def _save(action, *args, done: str) -> None:
    widgets.run_action(action, scope, *args, errors=(store.SettingsError, PermissionDenied),
                       flash_key="settings_flash", done=done)


# A keyed radio instead of st.tabs: after a save (st.rerun) the office stays on the section it edited.
SECTIONS = ["指标权重", "等次与预警", "时限规则", "工作日历", "任务分工", "工作目标达标线", "其他参数"]
section = st.radio("设置项", SECTIONS, horizontal=True, key="settings_section", label_visibility="collapsed")

if section == "指标权重":
    with st.form("settings_weights"):
        st.caption("权重之和须为100。权重为0的指标只展示、不计分；不适用于某单位的指标不计入，其余权重按比例折算。")
        labels = {k.code: k.label for k in KPIS}
        weights = current.get("weights", {})
        columns = st.columns(3)
        entered = {}
        for i, key in enumerate(store.WEIGHT_KEYS):
            entered[key] = columns[i % 3].number_input(
                labels.get(key, key), min_value=0.0, max_value=100.0, step=1.0,
                value=float(weights.get(key, 0)), key=f"settings_w_{key}")
        st.write(f"当前合计：{sum(entered.values()):g}")
        if st.form_submit_button("保存权重"):
            _save(store.set_weights, entered, done="指标权重已保存。")

if section == "等次与预警":
    with st.form("settings_grades"):
        st.caption("综合得分不低于分数线即为该等次，分数线从高到低。")
        grades = current.get("grades", [])
        entered_grades = []
        for i, (name, bound) in enumerate(grades):
            left, right = st.columns(2)
            entered_grades.append([
                left.text_input(f"第{i + 1}等次名称", value=name, key=f"settings_grade_name_{i}"),
                right.number_input(f"第{i + 1}等次分数线", min_value=0.0, max_value=100.0,
                                   value=float(bound), key=f"settings_grade_bound_{i}"),
            ])
        fail = st.text_input("最低等次名称", value=current.get("fail_grade", "不合格"), key="settings_fail_grade")
        if st.form_submit_button("保存等次"):
            _save(store.set_grades, entered_grades, fail, done="等次分数线已保存。")
    with st.form("settings_windows"):
        yellow = st.number_input("任务黄灯预警（到期前天数）", min_value=0, max_value=90,
                                 value=int(current.get("yellow_window_days", 15)), key="settings_yellow")
        warning = st.number_input("共享申请预警（到期前工作日数）", min_value=0, max_value=20,
                                  value=int(current.get("warning_workdays", 3)), key="settings_warning")
        if st.form_submit_button("保存预警窗口"):
            _save(store.set_windows, yellow, warning, done="预警窗口已保存。")

if section == "时限规则":
    st.caption("每件申请按其提交日期当时施行的规则判定是否按时。修改某一施行日期的规则，请填写相同的施行日期。")
    rules = page.sla_rules
    st.dataframe(
        rules.select(
            pl.col("effective_from").map_elements(lambda d: "自方案施行起" if d.year < 2001 else fmt_date(d),
                                                  return_dtype=pl.String).alias("施行日期"),  # seed rule: 2000-01-01
            pl.col("review_days").alias("初审时限（工作日）"),
            pl.col("reply_days").alias("答复时限（工作日）"),
            pl.col("name").alias("依据"),
        ),
        hide_index=True, width="stretch", key="settings_sla_table",
    )
    with st.form("settings_sla"):
        since = st.date_input("施行日期", value=dt.date(2025, 8, 1), key="settings_sla_from", format="YYYY/MM/DD")
        left, right = st.columns(2)
        review = left.number_input("初审时限（工作日）", min_value=1, max_value=60, value=3, key="settings_sla_review")
        reply = right.number_input("答复时限（工作日）", min_value=1, max_value=60, value=10, key="settings_sla_reply")
        basis = st.text_input("依据（文件名称）", key="settings_sla_name", placeholder="例如：政务数据共享条例")
        if st.form_submit_button("保存规则"):
            _save(store.save_sla_rule, since, review, reply, basis, done=f"{fmt_date(since)}起施行的时限规则已保存。")
    later = rules["effective_from"].to_list()[1:]
    if later:
        with st.form("settings_sla_delete"):
            gone = st.selectbox("删除规则（最早一条不可删除）", later, format_func=fmt_date, key="settings_sla_gone")
            if st.form_submit_button("删除"):
                _save(store.delete_sla_rule, gone, done=f"{fmt_date(gone)}起施行的时限规则已删除。")

if section == "工作日历":
    years = page.calendar_years
    st.caption(f"工作日历已覆盖：{years[0]}年至{years[-1]}年。" if years else "工作日历为空。")
    st.caption("办公室录入或更正的日期优先于国务院办公厅节假日安排的内置数据；未覆盖的年份按周一至周五计算并在页面提示。")
    with st.form("settings_day"):
        day = st.date_input("日期", key="settings_day_date", format="YYYY/MM/DD")
        kind = st.radio("这一天", ["上班", "放假"], horizontal=True, key="settings_day_kind")
        note = st.text_input("说明", key="settings_day_note", placeholder="例如：调休上班")
        if st.form_submit_button("保存这一天"):
            _save(store.set_calendar_days, [(day, kind == "上班", note)], done=f"{fmt_date(day)}已设为{kind}。")
    with st.form("settings_year"):
        st.markdown("**录入一整年的节假日安排**（按国务院办公厅通知填写；其余日期按周一至周五上班）")
        next_year = (years[-1] + 1) if years else dt.date.today().year
        year = st.number_input("年份", min_value=2000, max_value=2039, value=next_year, key="settings_year_year")
        holidays = st.text_area("放假日期", key="settings_year_off", placeholder="每行一个日期或范围，例如：\n2027-01-01\n2027-02-06至2027-02-12")
        makeup = st.text_area("调休上班日期", key="settings_year_on", placeholder="例如：2027-02-14")
        if st.form_submit_button("保存全年"):
            try:
                off, on = store.parse_day_list(holidays), store.parse_day_list(makeup)
            except store.SettingsError as exc:
                st.error(md_escape(exc.message_cn))
            else:
                _save(store.add_year, int(year), off, on, done=f"{int(year)}年工作日历已保存（放假{len(off)}天，调休上班{len(on)}天）。")
    changed = page.office_days
    if changed.height:
        st.markdown("**办公室录入或更正的日期**")
        st.dataframe(
            changed.select(
                pl.col("day").map_elements(fmt_date, return_dtype=pl.String).alias("日期"),
                pl.when(pl.col("is_workday")).then(pl.lit("上班")).otherwise(pl.lit("放假")).alias("安排"),
                pl.col("note").fill_null("").alias("说明"),
            ),
            hide_index=True, width="stretch", key="settings_office_days",
        )

if section == "任务分工":
    st.caption("任务分工表中的“县直各单位”等统称，按单位类型展开到每个单位；修改后立即重新展开。"
               "不再适用的分工将删除，但已有进展报送的保留。")
    groups = page.groups
    st.dataframe(groups.rename({"group_word": "统称", "unit_kinds": "展开到的单位类型", "assignments": "分工条数"}),
                 hide_index=True, width="stretch", key="settings_groups_table")
    with st.form("settings_groups"):
        word = st.selectbox("统称", groups["group_word"].to_list(), key="settings_group_word")
        kinds = st.multiselect("展开到的单位类型", store.UNIT_KINDS, key="settings_group_kinds",
                               placeholder="选择单位类型")
        if st.form_submit_button("保存并重新展开"):
            _save(store.set_group_kinds, word, kinds, done=f"「{word}」的展开范围已保存，任务分工已重新展开。")

if section == "工作目标达标线":
    ms.criteria_section(scope, _save)

if section == "其他参数":
    parameter_settings.parameters_section(scope, _save)
