"""Shared fixtures: a fresh database file per test, never the real data/dashboard.duckdb."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `pytest` (not only `python -m pytest`) must import the project's packages, not tests/data/.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from data.storage.connect import close_db, get_db  # noqa: E402
from data.storage.scope import SYSTEM  # noqa: E402

BROWSER_TESTS = ROOT / "tests" / "e2e"


def pytest_collection_modifyitems(config, items):
    """scripts/test runs two pytest-xdist workers (`-n 2 --dist loadgroup`): every real-browser
    test is put in one group, so one worker runs them in their order with the servers they share,
    while the other worker runs everything else; they come first, so that group starts at once
    and the suite takes about as long as the browser tests alone."""
    browser = [item for item in items if Path(str(item.fspath)).is_relative_to(BROWSER_TESTS)]
    for item in browser:
        item.add_marker(pytest.mark.xdist_group("browser"))
    chosen = set(browser)
    items[:] = browser + [item for item in items if item not in chosen]


@pytest.fixture(autouse=True)
def _isolated_database_env(tmp_path, monkeypatch):
    """Anything that falls back to $DASHBOARD_DB writes into the test's own folder."""
    monkeypatch.setenv("DASHBOARD_DB", str(tmp_path / "env.duckdb"))


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "t.duckdb"


@pytest.fixture
def db(db_path):
    """A new database with the schema and the plan loaded (what the first start does)."""
    database = get_db(db_path)
    yield database
    close_db(db_path)


@pytest.fixture
def system_scope():
    """The office at the console (what the CLI runs as)."""
    return SYSTEM
