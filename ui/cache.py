"""Streamlit caching at the page edge: thin st.cache_data wrappers around data.services.views.

Every cached call is keyed by small values only: the database path, its data version (every
committed write changes it, so a write invalidates what it affects on the next rerun), the
asking scope as a tuple, the as-of date as an ISO string and the page's filters. The uncached
core (data.services.views, metrics) is what the tests call directly.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import streamlit as st

from data.services import views
from data.storage.connect import get_db
from data.storage.db import Database
from data.storage.scope import PermissionDenied, Scope


def db() -> Database:
    return get_db()


def _scope_key(scope: Scope) -> tuple:
    # What a read may return depends on the role and the bound unit only (data.services.views never reads
    # the user's name), so every leader shares one cached result, every user of one unit another.
    return (scope.role, scope.unit_id)


@st.cache_data(max_entries=256, show_spinner=False)
def _call(name: str, db_path: str, version: int, scope_key: tuple, args: tuple) -> Any:
    role, unit_id = scope_key
    scope = Scope(username=f"{role}:{unit_id}", role=role, unit_id=unit_id)
    database = get_db(db_path)
    args = tuple(dt.date.fromisoformat(a[5:]) if isinstance(a, str) and a.startswith("date:") else a
                 for a in args)
    return getattr(views, name)(scope, database, *args)


def view(name: str, scope: Scope, *args: Any) -> Any:
    """views.<name>(scope, db, *args), cached per (db, data version, scope, args).
    Dates among `args` are passed as ISO strings to keep the key small. A view refusing the
    scope (PermissionDenied) stops the page with its Chinese message."""
    database = db()
    key_args = tuple(f"date:{a.isoformat()}" if isinstance(a, dt.date) else a for a in args)
    try:
        return _call(name, str(database.path), database.version, _scope_key(scope), key_args)
    except PermissionDenied as exc:
        # However the page was reached or what it passed: a Chinese refusal, nothing else.
        st.error(str(exc))
        st.stop()


_warmed: set[str] = set()
_warm_lock = threading.Lock()


def warm_up_in_background(database: Database) -> threading.Thread | None:
    """Once per database file and process: compute today's snapshot and its 12 month-ends in a
    daemon thread (data.services.snapshot.warm_up), so the first user after a start does not pay for them.
    The cache it fills is the one every session reads; a failure there only means no warm-up."""
    from data.services.snapshot import warm_up

    path = str(database.path)
    with _warm_lock:
        if path in _warmed:
            return None
        _warmed.add(path)

    def run() -> None:
        try:
            warm_up(database)
        except Exception:  # noqa: BLE001 - the pages compute (and report) whatever failed here
            pass

    thread = threading.Thread(target=run, name="dashboard-warm-up", daemon=True)
    thread.start()
    return thread
