"""Small serialisable values in st.session_state: the logged-in user and the as-of date.

Contract: login (ui/auth.py) stores st.session_state["scope"] as a dict with keys username,
role, unit_id, display_name; the sidebar stores st.session_state["as_of"] as an ISO date string.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from data.scope import Scope

SCOPE_KEY = "scope"
AS_OF_KEY = "as_of"


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
