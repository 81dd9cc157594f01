"""Small drawing helpers every page uses: refusal, filters, formatted tables and figures."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from data.storage.scope import Scope
from metrics.registry import COLUMN_LABELS, UNIT_KINDS
from reports.csv_export import frame_to_csv_bytes
from ui import fmt

ALL_KINDS = "全部类型"
# Bar charts draw at most this many units (the lowest rates): beyond it a chart is unreadable and
# slow to send at prefecture or province scale; the tables keep every unit.
CHART_UNITS = 60


def page_scope(page_file: str) -> Scope:
    """The first line of a page: the session's user, re-checked against the database and against
    the roles the page registry (ui.navigation) gives `page_file`; others get a Chinese refusal."""
    from ui.auth import page_scope as _page_scope
    from ui.navigation import roles_for

    return _page_scope(roles_for(page_file))


def open_page(page_file: str) -> Scope:
    """The first line of a page: page_scope(page_file), then the page's title as the page registry
    (ui.navigation) names it in the menu, so a page is called one thing everywhere."""
    from ui.navigation import PAGE_BY_FILE

    scope = page_scope(page_file)
    st.title(PAGE_BY_FILE[page_file].title)
    return scope


def page_context(page_file: str) -> tuple[Scope, dt.date]:
    """The first line of a page that reads as of a date: open_page(page_file) and the as-of date
    chosen in the sidebar (ui.session.current_as_of)."""
    from ui.session import current_as_of

    return open_page(page_file), current_as_of()


def run_action(action: Callable[..., Any], scope: Scope, *args: Any, errors: tuple[type[Exception], ...],
               flash_key: str, done: str) -> None:
    """A form's write: `action(scope, *args)`. A refusal (one of `errors`) is shown in Chinese and the
    page stays; on success `done` is kept under `flash_key` for the rerun this starts to show."""
    try:
        action(scope, *args)
    except errors as exc:
        st.error(fmt.md_escape(getattr(exc, "message_cn", str(exc))))
        return
    st.session_state[flash_key] = done
    st.rerun()


def unit_filters(frame: pl.DataFrame, key: str, kind_col: str = "unit_kind", unit_col: str = "unit",
                 kinds: bool = True) -> pl.DataFrame:
    """A unit-kind selector and a name search over `frame`; returns the rows that pass."""
    left, right = st.columns(2)
    if kinds and kind_col in frame.columns:
        options = [ALL_KINDS, *[k for k in UNIT_KINDS
                                if k in frame[kind_col].unique().to_list()]]
        kind = left.selectbox(COLUMN_LABELS["unit_kind"], options, key=f"{key}_kind")
        if kind != ALL_KINDS:
            frame = frame.filter(pl.col(kind_col) == kind)
    text = right.text_input("查找单位", key=f"{key}_search", placeholder="输入单位名称的一部分")
    if text.strip():
        frame = frame.filter(pl.col(unit_col).str.contains(text.strip(), literal=True))
    return frame


def unit_choice(key: str) -> tuple[str | None, str]:
    """What the unit filter `key` drawn by unit_filters holds: (unit kind or None for every kind,
    the name search), for the reads of the page's other tables (their `kind` and `search`)."""
    kind = st.session_state.get(f"{key}_kind", ALL_KINDS)
    return (None if kind == ALL_KINDS else kind), str(st.session_state.get(f"{key}_search") or "").strip()


def show_table(frame: pl.DataFrame, rates: tuple[str, ...] = (), scores: tuple[str, ...] = (),
               labels: dict[str, str] | None = None, empty: str = "没有符合条件的记录。", key: str | None = None,
               file_name: str = "表格数据.csv") -> None:
    """The table as users read it, and a 下载CSV button for exactly that table, neutralised.

    Streamlit's own CSV download in the table toolbar is switched off (client.disableDataExport
    in .streamlit/config.toml) because it writes unit names and typed notes as they are, formulas
    included; this button writes them by the rule of docs/security.md (CSV exports)."""
    if frame.is_empty():
        st.info(empty)
        return
    shown = fmt.table(frame, rates, scores, labels)
    st.dataframe(shown, hide_index=True, width="stretch", key=key, placeholder="")
    csv_download(shown, key=f"{key}_csv" if key else _table_key(shown, empty), file_name=file_name)


def _table_key(shown: pl.DataFrame, empty: str) -> str:
    """A widget key for a table's download that stays the same across reruns of the page."""
    digest = hashlib.sha1("\x1f".join([*shown.columns, empty]).encode("utf-8")).hexdigest()[:12]
    return f"csv_{digest}"


def csv_download(shown: pl.DataFrame, key: str, file_name: str = "表格数据.csv", label: str = "下载CSV") -> None:
    """A download of `shown` as a neutralised CSV; the file is built only when clicked."""
    st.download_button(label, lambda: frame_to_csv_bytes(shown), file_name=file_name, mime="text/csv",
                       key=key, on_click="ignore", type="tertiary", icon=":material/download:")


def deferred(build: Callable[..., bytes], *args: Any) -> Callable[[], bytes]:
    """`build(*args)` as st.download_button's deferred data: the file is built when the button is
    clicked (in Streamlit's download request, outside the page run), never on a rerun. `args` are
    the values at this run, so later typing in a text box changes nothing until the next click."""
    return functools.partial(build, *args)


def show_figure(fig: go.Figure, key: str | None = None) -> None:
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})
