"""The shared sidebar: the as-of date every page follows, the demo-data banner and the
calendar warning. app.py calls render_sidebar(db, scope) on every run, before the page."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from data import views
from data.db import Database
from data.scope import Scope
from ui.fmt import fmt_date, md_escape
from ui.session import current_as_of, set_as_of

PICKER_KEY = "_as_of_picker"


def _picked() -> None:
    set_as_of(st.session_state[PICKER_KEY])


def render_sidebar(db: Database, scope: Scope) -> dt.date:
    """Draw the date picker (default today, kept in st.session_state across pages) and the
    banners; return the as-of date."""
    as_of = current_as_of()
    # The widget's own state is dropped when a page does not draw it; the session's as-of date
    # (ui.session) is the value that survives, so the picker is re-seeded from it.
    if st.session_state.get(PICKER_KEY) != as_of:
        st.session_state[PICKER_KEY] = as_of
    with st.sidebar:
        st.date_input("考评日期（截至）", key=PICKER_KEY, on_change=_picked, format="YYYY/MM/DD",
                      min_value=dt.date(2023, 1, 1), max_value=dt.date(2039, 12, 31),
                      help="所有页面的数字都按截至这一天的数据计算；月度考评选当月最后一天。")
        st.caption(f"当前考评日：{fmt_date(as_of)}")
        if scope.display_name or scope.username:
            st.caption(f"当前用户：{md_escape(scope.display_name or scope.username)}（{scope.role}）")
    set_as_of(as_of)
    demo = views.demo_info(db)
    if demo:
        st.warning("演示数据：当前库中的单位联系人、目录、申请等数据为演示生成，不是真实工作数据。", icon="⚠️")
    if not views.calendar_covered(db, as_of):
        st.warning(
            f"工作日历未包含{as_of.year}年的节假日安排：该年按周一至周五计算工作日，时限可能与法定安排不符。"
            "请管理员在“系统设置”中补充该年的节假日和调休上班日。",
            icon="📅",
        )
    return as_of
