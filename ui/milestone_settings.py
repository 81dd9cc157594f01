"""系统设置 → 工作目标达标线: the criteria of M1–M4 with their history, and a form that adds a row
in force from a date (validated and audited by data.services.settings_store)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from data.services import settings_store as store
from data.storage.scope import Scope
from ui.fmt import fmt_date

OPS = {"不低于": ">=", "不高于": "<="}


def criteria_section(scope: Scope, save) -> None:
    st.caption("每个工作目标由若干达标线组成：一项考评指标（或一项重点任务的完成）、达标值和适用的单位类型。"
               "考评日施行的是施行日期不晚于考评日的最近一条；修改达标线请新增一条并填写施行日期，"
               "此前的考评日仍按原达标线判断。指标对某单位不适用时，该条不计入该单位。")
    rows = store.criteria_table(scope)
    titles, names = store.criterion_form(scope)
    st.dataframe(
        rows.select(
            pl.format("{} {}", "milestone", "title").alias("工作目标"),
            pl.col("text").alias("达标线"),
            pl.when(pl.col("unit_kinds").list.len() == len(store.UNIT_KINDS)).then(pl.lit("全部单位"))
            .otherwise(pl.col("unit_kinds").list.join("、")).alias("适用单位类型"),
            pl.col("effective_from").map_elements(fmt_date, return_dtype=pl.String).alias("施行日期"),
            pl.when(pl.col("active")).then(pl.lit("施行")).otherwise(pl.lit("停用")).alias("状态"),
            pl.col("note").fill_null("").alias("说明"),
        ),
        hide_index=True, width="stretch", key="settings_criteria_table",
    )
    with st.form("settings_criterion"):
        left, right = st.columns(2)
        code = left.selectbox("工作目标", list(titles), format_func=lambda c: f"{c} {titles[c]}",
                              key="settings_crit_milestone")
        criterion = right.selectbox("指标或任务", list(names), format_func=names.get, key="settings_crit_criterion")
        left, mid, right = st.columns(3)
        op = left.radio("比较", list(OPS), horizontal=True, key="settings_crit_op")
        threshold = mid.number_input(
            "达标值", min_value=0.0, value=90.0, step=1.0, key="settings_crit_threshold",
            help="比率按百分数填写（90即90%）；“是否”类指标填1；红灯任务数填个数；数据质量得分填分数；任务完成无需填写。")
        since = right.date_input("施行日期", value=dt.date.today(), key="settings_crit_from", format="YYYY/MM/DD")
        kinds = st.multiselect("适用的单位类型", list(store.UNIT_KINDS), default=list(store.UNIT_KINDS),
                               key="settings_crit_kinds")
        off = st.checkbox("自施行日期起停用这条达标线", key="settings_crit_off")
        note = st.text_input("说明（依据或理由）", key="settings_crit_note")
        if st.form_submit_button("保存达标线"):
            label = names.get(criterion, criterion)
            done = f"{code}「{label}」的达标线自{fmt_date(since)}起{'停用' if off else '施行'}。"
            save(store.save_milestone_criterion, code, criterion, since, OPS[op], threshold, kinds, not off, note,
                 done=done)
