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
