"""The shared sidebar: the as-of date every page follows, the demo-data banner and the
calendar warning. app.py calls render_sidebar(db, scope) on every run, before the page.

The as-of date is a text field (Enter or Tab applies it; Streamlit's date field commits only when
focus leaves it by a click) with a calendar beside it, and it is mirrored in the URL as
?as_of=YYYY-MM-DD: a refresh keeps it and a link opens that date. The URL wins when it names a
date the session has not seen yet (a link, an edited address); otherwise the session's date is
written back to the URL after every run (a page switch drops query parameters).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from data.services.sidebar import calendar_covered, demo_info
from data.storage.db import Database
from data.storage.scope import Scope
from ui.fmt import fmt_date, md_escape
from ui.session import AS_OF_PARAM, FIRST_DAY, LAST_DAY, current_as_of, parse_as_of, set_as_of

TEXT_KEY = "_as_of_text"
PICKER_KEY = "_as_of_picker"
URL_SEEN_KEY = "_as_of_url_seen"  # the last ?as_of value read from or written to the URL
WARNING_KEY = "_as_of_warning"


def _typed() -> None:
    text = st.session_state.get(TEXT_KEY, "")
    day = parse_as_of(text)
    if day is None:
        st.session_state[WARNING_KEY] = (f"“{text}”不是有效的考评日期，请按“2024-06-30”的格式输入"
                                         f"{FIRST_DAY.year}年至{LAST_DAY.year}年之间的日期；仍按原日期显示。")
        return
    set_as_of(day)


def _picked() -> None:
    day = st.session_state.get(PICKER_KEY)
    if day is not None:
        set_as_of(day)


def _from_url() -> None:
    """Apply ?as_of= when it is new to this session; warn in Chinese and ignore it when invalid."""
    raw = st.query_params.get(AS_OF_PARAM)
    if raw is None or raw == st.session_state.get(URL_SEEN_KEY):
        return
    st.session_state[URL_SEEN_KEY] = raw
    day = parse_as_of(raw)
    if day is None:
        st.session_state[WARNING_KEY] = f"网址中的考评日期“{raw}”无效，已忽略；请使用“?as_of=2024-06-30”的格式。"
    else:
        set_as_of(day)


def _to_url(day: dt.date) -> None:
    value = day.isoformat()
    if st.query_params.get(AS_OF_PARAM) != value:
        st.query_params[AS_OF_PARAM] = value
    st.session_state[URL_SEEN_KEY] = value


def render_sidebar(db: Database, scope: Scope) -> dt.date:
    """Draw the date field (default today, kept in st.session_state across pages and in the URL)
    and the banners; return the as-of date."""
    _from_url()
    as_of = current_as_of()
    # Widget state is dropped when a page does not draw it; the session's as-of date (ui.session)
    # is the value that survives, so the widgets are re-seeded from it.
    if st.session_state.get(TEXT_KEY) != as_of.isoformat():
        st.session_state[TEXT_KEY] = as_of.isoformat()
    if st.session_state.get(PICKER_KEY) != as_of:
        st.session_state[PICKER_KEY] = as_of
    with st.sidebar:
        st.text_input("考评日期（截至）", key=TEXT_KEY, on_change=_typed, max_chars=12,
                      help="输入日期后按回车或Tab键生效，如 2024-06-30；所有页面的数字都按截至这一天的数据计算，"
                           "月度考评选当月最后一天。网址中的 ?as_of= 也会记住这一日期，可以把网址发给同事。")
        with st.popover("用日历选择", icon=":material/calendar_month:", width="stretch"):
            st.date_input("选择考评日期", key=PICKER_KEY, on_change=_picked, format="YYYY/MM/DD",
                          min_value=FIRST_DAY, max_value=LAST_DAY)
        if warning := st.session_state.pop(WARNING_KEY, None):
            st.warning(warning, icon="⚠️")
        st.caption(f"当前考评日：{fmt_date(as_of)}")
        if scope.display_name or scope.username:
            st.caption(f"当前用户：{md_escape(scope.display_name or scope.username)}（{scope.role}）")
    set_as_of(as_of)
    _to_url(as_of)
    demo = demo_info(db)
    if demo:
        st.warning("演示数据：当前库中的单位联系人、目录、申请等数据为演示生成，不是真实工作数据。", icon="⚠️")
    if not calendar_covered(db, as_of):
        st.warning(
            f"工作日历未包含{as_of.year}年的节假日安排：该年按周一至周五计算工作日，时限可能与法定安排不符。"
            "请管理员在“系统设置”中补充该年的节假日和调休上班日。",
            icon="📅",
        )
    return as_of
