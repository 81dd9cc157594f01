"""Page tests: a small county database under $DASHBOARD_DB and an AppTest runner per page."""

from __future__ import annotations

from pathlib import Path

import pytest

# AppTest puts the page's folder (pages/) on sys.path, where pages/requests.py would shadow the
# `requests` library that streamlit-authenticator imports; load the real one first.
import requests  # noqa: F401
from streamlit.testing.v1 import AppTest

import ui.auth  # noqa: F401
from data.storage.connect import close_db, get_db
from tests.pages import small_county

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def county(tmp_path, monkeypatch):
    """The small county of small_county.py in a fresh file that get_db() (no path) opens."""
    path = tmp_path / "county.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    small_county.fill(db)
    yield db
    close_db(path)


def run_page(page: str, scope: dict, as_of, **state) -> AppTest:
    """Run pages/<page>.py as `scope` at `as_of`, with extra session state (widget keys)."""
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=30)
    at.session_state["scope"] = scope
    at.session_state["as_of"] = as_of.isoformat()
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def texts(at: AppTest) -> str:
    """Everything written as markdown, captions, titles, headers, infos, warnings and errors."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


def metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def table(at: AppTest, column: str):
    """The first table on the page that has `column` (st.dataframe keys are not visible to AppTest)."""
    for frame in at.dataframe:
        value = frame.value
        if column in value.columns:
            return value
    raise AssertionError(f"no table with column {column!r}")


def _in_order(node):
    """Every element under `node` in the order the page drew them."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for index in sorted(children):
        yield from _in_order(children[index])


def table_by_key(at: AppTest, key: str):
    """The table ui.widgets.show_table drew with `key`, as users read it: the st.dataframe right
    before its 下载CSV button `<key>_csv` (AppTest does not expose a read-only st.dataframe's key)."""
    last = None
    for node in _in_order(at._tree):
        kind = getattr(node, "type", None)
        if kind == "dataframe":
            last = node
        elif kind == "download_button" and getattr(node, "key", None) == f"{key}_csv":
            assert last is not None, key
            return last.value
    raise AssertionError(f"no table drawn with key {key!r}")


def table_after(at: AppTest, heading: str):
    """The first table drawn after the text (markdown, subheader, caption) containing `heading`:
    for tables drawn without a 下载CSV button (st.dataframe of a styled frame)."""
    seen = False
    for node in _in_order(at._tree):
        kind = getattr(node, "type", None)
        if kind in ("markdown", "subheader", "header", "caption") and heading in str(getattr(node, "value", "")):
            seen = True
        elif seen and kind == "dataframe":
            return node.value
    raise AssertionError(f"no table after {heading!r}")
