"""Small serialisable values in st.session_state: the logged-in user and the as-of date.

Contract: login (ui/auth.py) stores st.session_state["scope"] as a dict with keys username,
role, unit_id, display_name; the sidebar stores st.session_state["as_of"] as an ISO date string
and mirrors it in the URL (?as_of=2024-06-30, see ui/sidebar.py).
"""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st

from data.storage.scope import Scope

SCOPE_KEY = "scope"
AS_OF_KEY = "as_of"
AS_OF_PARAM = "as_of"  # the URL query parameter
# The dates the dashboard computes for: from the plan's first year to the calendar's far end.
FIRST_DAY, LAST_DAY = dt.date(2023, 1, 1), dt.date(2039, 12, 31)

# 2024-06-30, 2024/6/30, 2024.6.30, 2024年6月30日 (the 日 optional), 20240630
_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))\s*$")


def parse_as_of(text: str | None) -> dt.date | None:
    """A typed or linked as-of date, or None when it is not a date the dashboard can compute for."""
    match = _DATE_TEXT.match(text or "")
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
    try:
        value = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    return value if FIRST_DAY <= value <= LAST_DAY else None


def current_scope() -> Scope:
    """The logged-in user's Scope; stops the page with a Chinese message when nobody is."""
    raw = st.session_state.get(SCOPE_KEY)
    if not raw:
        st.warning("请先登录。")
        st.stop()
    return Scope(**raw)


def set_scope(scope: Scope | None) -> None:
    if scope is None:
        st.session_state.pop(SCOPE_KEY, None)
    else:
        st.session_state[SCOPE_KEY] = {
            "username": scope.username,
            "role": scope.role,
            "unit_id": scope.unit_id,
            "display_name": scope.display_name,
        }


def current_as_of() -> dt.date:
    """The as-of date chosen in the sidebar (default: today)."""
    raw = st.session_state.get(AS_OF_KEY)
    return dt.date.fromisoformat(raw) if raw else dt.date.today()


def set_as_of(day: dt.date) -> None:
    st.session_state[AS_OF_KEY] = day.isoformat()
