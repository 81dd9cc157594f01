"""The one way pages read: plain named functions of data.services, wrapped by `@read`.

A read function is written as `def ranking(scope, as_of, *, db=None)`. Pages call it without a
database (`scorecards.ranking(scope, as_of)`): the dashboard's own file is used. Tests, the CLI
and the benchmarks pass `db=` explicitly.

`@read` caches the result in the process-wide, size-bounded memo of data.services.snapshot,
keyed by (database file, data version, function, asking role, asking unit, arguments). Every
committed write changes the data version, so the next read after a write recomputes; every
session of the same role and unit shares one result. A function refusing the scope raises
`PermissionDenied`, which is never cached (the page shows its Chinese message).

Write functions are not cached; they resolve the database with `resolve_db(db)` the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from data.services.snapshot import memo
from data.storage.connect import get_db
from data.storage.db import Database
from data.storage.scope import Scope

P = ParamSpec("P")
R = TypeVar("R")


def resolve_db(db: Database | None = None) -> Database:
    """`db` when given, else the dashboard's database (DASHBOARD_DB or the default file)."""
    return db if db is not None else get_db()


def read(fn: Callable[P, R]) -> Callable[P, R]:
    """Cache `fn(scope, *args, db=...)` per (file, data version, function, role, unit, args).

    What a read returns may depend on the asking role and bound unit only, never on the user's
    name, so every leader shares one cached result and every user of one unit another."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(scope: Scope, *args, db: Database | None = None):
        database = resolve_db(db)
        key = (str(database.path), database.version, "read", name, scope.role, scope.unit_id, args)
        return memo().get(key, lambda: fn(scope, *args, db=database))

    wrapper.uncached = fn  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
