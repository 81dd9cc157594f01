"""Drawing helpers of a 单位 user's workspace pages (本单位工作台, 本单位共享申请, 本单位目录,
本单位系统与安全). Every section reads through data.services.workspace, which refuses another unit in
the data layer and does the filtering; this module only formats and draws.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import streamlit as st

from data.services import workspace
from data.services.workspace import OVERDUE
from data.storage.scope import Scope
from metrics.registry import STATUS_LABELS, STEP_LABELS
from ui import fmt, widgets

# Row colours: overdue (or a catalog item to fix) red, due within the warning window amber.
RED, AMBER = "background-color: #fde2e1", "background-color: #fff4d6"


def urgency_colour(value: str | None) -> str | None:
    """Red for 逾期, amber for 'N个工作日内到期' (data.services.workspace.due_soon_label), else none."""
    if value == OVERDUE:
        return RED
    return AMBER if isinstance(value, str) and value.endswith("个工作日内到期") else None

REQUEST_LABELS = {"urgency": "办理提示", "responsible": "办理单位", "step": "环节", "status": "办理情况",
                  "done_on": "办理日期"}


def highlighted(frame: pl.DataFrame, column: str, colour=urgency_colour) -> pd.io.formats.style.Styler:
    """A display frame whose rows are tinted by colour(value in `column`) (None: no tint)."""
    data = frame.to_pandas()
    return data.style.apply(lambda row: [colour(row[column]) or ""] * len(row), axis=1)


def show_highlighted(frame: pl.DataFrame, column: str, key: str, empty: str,
                     labels: dict[str, str] | None = None, colour=urgency_colour, width: int | str = 120) -> None:
    if frame.is_empty():
        st.info(empty)
        return
    # Whole numbers as text, blank when missing: a Styler bypasses st.dataframe's own formatting,
    # and pandas would show a nullable integer column as 1.000000 / None.
    frame = frame.with_columns(
        pl.col(c).cast(pl.String).fill_null("") for c, t in frame.schema.items() if t.is_integer())
    shown = fmt.table(frame, labels={**REQUEST_LABELS, **(labels or {})})
    label = {**fmt.COLUMN_LABELS, **REQUEST_LABELS, **(labels or {})}.get(column, column)
    st.dataframe(highlighted(shown, label, colour), hide_index=True, width="stretch", key=key,
                 column_config={label: st.column_config.TextColumn(width=width)})


def _readable_steps(steps: pl.DataFrame) -> pl.DataFrame:
    return steps.with_columns(
        pl.col("step").replace_strict(STEP_LABELS, default=""),
        pl.col("status").replace_strict(STATUS_LABELS, default=""),
    )


def request_metrics(counts: dict[str, int]) -> None:
    """data.services.workspace.request_counts as four metrics."""
    for col, (label, value) in zip(st.columns(4), counts.items(), strict=True):
        col.metric(label, f"{value}件")


# The unit's own name is left out of each side's table (it is the provider, or the requester).
PROVIDE_COLUMNS = ("urgency", "code", "step", "requester", "responsible", "started_on", "deadline", "workdays_left",
                   "workdays_overdue")
ASKED_COLUMNS = ("urgency", "code", "step", "provider", "responsible", "started_on", "deadline", "workdays_left",
                 "workdays_overdue")


def open_requests(scope: Scope, as_of: dt.date, key: str, due_only: bool = False) -> None:
    """The open steps on both sides (data.services.workspace.open_requests), overdue first, then
    those due within 3 working days."""
    provide = workspace.open_requests(scope, as_of, workspace.PROVIDER, due_only)
    asked = workspace.open_requests(scope, as_of, workspace.REQUESTER, due_only)
    st.markdown("**本单位作为提供方：须答复的申请**（初审由办公室办理，转送后由本单位在时限内答复）")
    show_highlighted(_readable_steps(provide).select(PROVIDE_COLUMNS), "urgency", f"{key}_provide",
                     "没有需要本单位答复或即将到期的申请。" if due_only else "没有需要本单位答复的申请。")
    st.markdown("**本单位作为申请方：等待办理的申请**")
    show_highlighted(_readable_steps(asked).select(ASKED_COLUMNS), "urgency", f"{key}_asked",
                     "本单位提出的申请都已办结或不在预警范围内。" if due_only else "本单位提出的申请都已办结。")


def finished_requests(scope: Scope, as_of: dt.date, key: str) -> None:
    done = workspace.finished_requests(scope, as_of)
    widgets.show_table(
        _readable_steps(done).select("code", "side", "step", "requester", "provider", "deadline", "done_on",
                                     "status", "workdays_overdue"),
        labels={**REQUEST_LABELS, "side": "本单位身份"}, empty="截至考评日没有办结的环节。", key=f"{key}_done",
    )


CATALOG_LABELS = {"code": "目录编码", "name": "目录名称", "update_cycle": "更新周期", "last_touched_on": "最近更新",
                  "mounted_on": "挂接日期", "problems": "存在问题", "format": "资源格式"}


def catalog_section(scope: Scope, as_of: dt.date, key: str, problems_only: bool = False) -> None:
    """The unit's catalog counts and items (those to fix only with `problems_only`), to fix in red."""
    for col, (label, value) in zip(st.columns(4), workspace.catalog_counts(scope, as_of).items(), strict=True):
        col.metric(label, f"{value}条")
    shown = workspace.catalog_problems(scope, as_of) if problems_only else workspace.unit_catalog(scope, as_of)
    show_highlighted(
        shown.select("code", "name", "share_type", "update_cycle", "published_on", "last_touched_on", "mounted_on",
                     "problems"),
        "problems", key, "本单位的目录都已挂接、按期更新且元数据完整。" if problems_only else "截至考评日本单位还没有发布目录。",
        labels=CATALOG_LABELS, colour=lambda value: RED if value else None, width="large",
    )


def scorecard_download(scope: Scope, as_of: dt.date, unit_name: str, key: str) -> None:
    """The unit's own scorecard workbook, built only when the button is clicked (deferred data)."""
    st.download_button(
        "下载本单位记分卡（Excel，A4打印）", widgets.deferred(workspace.unit_scorecard_workbook, scope, as_of),
        file_name=f"记分卡_{unit_name}_{as_of.isoformat()}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=key,
    )

