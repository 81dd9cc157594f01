"""Everything the pages show for one as-of date, computed once per (database, data version, date).

`snapshot(db, as_of)` returns a Snapshot whose parts (indicators, scorecard, points, assignment
statuses, request-step aggregates, warnings, milestone status...) are each computed on first use
and then kept in one process-wide cache shared by every page and every session. Several sessions
asking for the same part at once wait for one computation (a per-key future), never run it twice.

The month-end history: `card_at(db, day)` is the scorecard at a day, kept in a history of days
(DayHistory) that outlives data versions, so the 12-month trend, a unit's line and the
month-over-month change read the months already computed; a change of as-of date computes only
the months not yet seen.

Invalidation: every committed write gives the database a new data version (data.storage.db), which
is part of every key of the per-date cache, so the next read after a write recomputes from the new
facts; the entries of older versions of the same file are dropped the first time a newer version
is stored. The day history is invalidated by month instead: loading the new facts compares them
with the previous ones (metrics.changes), and a day's scorecard is kept when every changed row is
dated after that day. A write dated in month M therefore recomputes the month-ends from M on and
leaves the earlier ones as they are; a change of settings, units or tasks recomputes them all.

The cache is bounded by the estimated size of what it holds (Polars `estimated_size()`), not by a
count of entries: the least recently used entries go first. A result larger than a quarter of the
bound (the request steps of a province, hundreds of megabytes) does not enter it: only the latest
such result is kept, apart, so one page's several lists of the same date share it while step
frames of several dates never pile up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import polars as pl

from data.storage.db import Database
from data.storage.facts import load_facts, loaded_facts, unchanged_since
from metrics.facts import Facts

DEFAULT_CACHE_MB = 768


def estimated_bytes(value: Any) -> int:
    """About how much memory a cached value holds: frames by Polars' estimate, containers summed."""
    if isinstance(value, pl.DataFrame):
        return int(value.estimated_size())
    if isinstance(value, pl.Series):
        return int(value.estimated_size())
    if isinstance(value, dict):
        return sum(estimated_bytes(k) + estimated_bytes(v) for k, v in value.items()) + 64
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(estimated_bytes(v) for v in value) + 64
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(estimated_bytes(getattr(value, f.name)) for f in dataclasses.fields(value)) + 64
    return sys.getsizeof(value)


class SizedMemo:
    """A thread-safe least-recently-used memo bounded by bytes, computing each key once.

    Keys are tuples starting with (database path, data version). `get(key, compute)` returns the
    cached value or runs compute() once, however many threads ask for the key at the same time
    (the others wait for the first one's result; an error reaches every waiter and nothing is
    kept)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._pending: dict[tuple, Future] = {}
        self._lock = threading.Lock()
        self._bytes = 0
        self._large: tuple[tuple, Any, int] | None = None  # the latest oversized result, kept apart
        self.computed = 0  # how many computations ran (tests and the benchmark read it)

    @property
    def bytes(self) -> int:
        """Bytes held in the bounded part (the one oversized result kept apart not counted)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return key in self._entries or (self._large is not None and self._large[0] == key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._large = None

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit[0]
            if self._large is not None and self._large[0] == key:
                return self._large[1]
            future = self._pending.get(key)
            owner = future is None
            if owner:
                future = Future()
                self._pending[key] = future
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._pending.pop(key, None)
            future.set_exception(exc)
            raise
        size = estimated_bytes(value)
        with self._lock:
            self.computed += 1
            self._pending.pop(key, None)
            self._drop_older_versions(key)
            if size <= self.max_bytes // 4:
                self._entries[key] = (value, size)
                self._bytes += size
                while self._bytes > self.max_bytes and self._entries:
                    _, (_, freed) = self._entries.popitem(last=False)
                    self._bytes -= freed
            else:
                self._large = (key, value, size)
        future.set_result(value)
        return value

    def _drop_older_versions(self, key: tuple) -> None:
        """Entries of the same file at an older data version can never be read again."""
        path, version = key[0], key[1]
        stale = [k for k in self._entries if k[0] == path and k[1] < version]
        for k in stale:
            self._bytes -= self._entries.pop(k)[1]
        if self._large is not None and self._large[0][0] == path and self._large[0][1] < version:
            self._large = None


_memo = SizedMemo(int(float(os.environ.get("DASHBOARD_CACHE_MB", DEFAULT_CACHE_MB)) * 2**20))


def memo() -> SizedMemo:
    return _memo


def cached(db: Database, key: tuple[Hashable, ...], compute: Callable[[Facts], Any]) -> Any:
    """compute(facts) once per (database file, data version, *key)."""
    version = db.version
    return _memo.get((str(db.path), version, *key), lambda: compute(load_facts(db)))


@dataclass(frozen=True)
class Snapshot:
    """The engine's results for one date of one database version; each part computed on first
    use and shared through the process-wide cache."""

    db: Database
    as_of: dt.date

    def _part(self, name: str, compute: Callable[[Facts], Any]) -> Any:
        return cached(self.db, ("snapshot", self.as_of, name), compute)

    @property
    def facts(self) -> Facts:
        return load_facts(self.db)

    @property
    def assignments(self) -> pl.DataFrame:
        """metrics.tasks.assignment_status at D."""
        from metrics.tasks import assignment_status

        return self._part("assignments", lambda f: assignment_status(f, self.as_of))

    @property
    def indicators(self) -> pl.DataFrame:
        """metrics.scorecard.indicators at D (sharing the assignment statuses)."""
        from metrics.scorecard import indicators

        return self._part("indicators", lambda f: indicators(f, self.as_of, self.assignments))

    @property
    def scorecard(self) -> pl.DataFrame:
        """metrics.scorecard.scorecard at D, computed (never the frozen one: see data.services.scorecards._board)."""
        from metrics.scorecard import scorecard

        return self._part("scorecard", lambda f: scorecard(f, self.as_of, self.indicators))

    @property
    def points(self) -> pl.DataFrame:
        """metrics.points.unit_points at D, computed."""
        from metrics.points import points_of
        from metrics.registry import setting
        from metrics.scorecard import weights_of

        return self._part("points", lambda f: points_of(
            self.indicators, weights_of(f), float(setting(f, "red_light_penalty"))))

    def steps_where(self, name: Hashable, keep: pl.Expr) -> pl.DataFrame:
        """The request steps at D that `keep` selects (a list's rows: the overdue ones, one unit's),
        collected from metrics.requests.step_plan, so the millions of steps of a province are
        never built and held to keep a few of them. Cached under `name`."""
        from metrics.requests import step_plan

        return self._part(("steps_where", name), lambda f: step_plan(f, self.as_of).filter(keep).collect())

    @property
    def overdue_steps(self) -> pl.DataFrame:
        """The steps not done by D after their deadline."""
        return self.steps_where("overdue", pl.col("status") == "overdue")

    def unit_steps(self, unit_id: int) -> pl.DataFrame:
        """The steps of the requests a unit made, answers or must act on."""
        unit = int(unit_id)
        return self.steps_where(("unit", unit), pl.any_horizontal(
            [pl.col(c) == unit for c in ("requester_id", "provider_id", "responsible_id")]))

    @property
    def step_counts(self) -> pl.DataFrame:
        """Request steps per (step, provider, status) (metrics.requests.step_counts): the aggregates
        the county and provider rates read, counted from the request timeline by comparing dates,
        so they need neither build nor keep the millions of steps."""
        from metrics.requests import step_counts

        return self._part("step_counts", lambda f: step_counts(f, self.as_of))

    @property
    def catalog_counts(self) -> dict[str, int]:
        """Catalog items published by D and of them mounted by D, county-wide."""
        def compute(f: Facts) -> dict[str, int]:
            # The two counts of metrics.catalog.catalog_items_as_of (tests/data/test_snapshot.py)
            # without its per-item update history, a group-by over millions of updates at province
            # scale that neither count reads: items published by D, of them those mounted by D.
            d = pl.lit(self.as_of)
            counts = f.catalog.filter(pl.col("published_on") <= d).select(
                published=pl.len(), mounted=(pl.col("mounted_on").is_not_null() & (pl.col("mounted_on") <= d)).sum())
            return {"published": int(counts["published"][0]), "mounted": int(counts["mounted"][0])}

        return self._part("catalog_counts", compute)

    @property
    def warnings(self) -> pl.DataFrame:
        """metrics.monthly.warning_list at D."""
        from metrics.monthly import warning_list

        return self._part("warnings", lambda f: warning_list(f, self.as_of))

    @property
    def milestone_status(self) -> pl.DataFrame:
        from metrics.milestones import milestone_status

        return self._part("milestone_status", lambda f: milestone_status(f, self.as_of, self.indicators, self.assignments))

    @property
    def milestone_criteria(self) -> pl.DataFrame:
        from metrics.milestones import milestone_criteria

        return self._part("milestone_criteria", lambda f: milestone_criteria(f, self.as_of, self.indicators, self.assignments))

    @property
    def milestone_gaps(self) -> pl.DataFrame:
        from metrics.milestones import milestone_gaps

        return self._part("milestone_gaps", lambda f: milestone_gaps(f, self.as_of, self.indicators, self.assignments))

    def compute_all(self) -> None:
        """Every part the county pages read (the warm-up's work)."""
        for name in ("scorecard", "points", "step_counts", "catalog_counts", "warnings", "milestone_status",
                     "milestone_criteria", "milestone_gaps"):
            getattr(self, name)


def snapshot(db: Database, as_of: dt.date) -> Snapshot:
    """The shared engine results of `db` as of D (cheap: the parts are computed when read)."""
    return Snapshot(db, as_of)


# -- the month-end history ---------------------------------------------------------------------

class DayHistory:
    """The computed scorecards of past days, kept across data versions: (file, day) -> (version,
    scorecard), least recently used first out, bounded by bytes. An entry computed at an older
    version is served at a newer one when the writes in between changed only rows dated after its
    day (data.storage.facts.unchanged_since), and is then stamped with the newer version."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, dt.date], tuple[int, pl.DataFrame, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get(self, path: str, day: dt.date, version: int) -> pl.DataFrame | None:
        with self._lock:
            entry = self._entries.get((path, day))
        if entry is None:
            return None
        held, card, size = entry
        if held != version and not unchanged_since(path, held, version, day):
            return None
        with self._lock:
            if self._entries.get((path, day)) is entry:
                self._entries[(path, day)] = (max(held, version), card, size)
                self._entries.move_to_end((path, day))
        return card

    def put(self, path: str, day: dt.date, version: int, card: pl.DataFrame) -> None:
        size = estimated_bytes(card)
        with self._lock:
            old = self._entries.pop((path, day), None)
            if old is not None:
                self._bytes -= old[2]
            if old is not None and old[0] > version:
                version, card, size = old  # a newer computation got there first
            self._entries[(path, day)] = (version, card, size)
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, (_, _, freed) = self._entries.popitem(last=False)
                self._bytes -= freed


_history = DayHistory(_memo.max_bytes // 4)


def history() -> DayHistory:
    return _history


def card_at(db: Database, day: dt.date) -> pl.DataFrame:
    """The computed scorecard at a day, from the month-end history when a write since it was
    computed changed nothing dated on or before the day (a write dated in month M leaves the
    month-ends before M as they are); else computed and kept there."""
    path = str(db.path)
    version, _ = loaded_facts(db)  # loading a new version records what changed since the last one
    card = _history.get(path, day, version)
    if card is not None:
        return card
    card = snapshot(db, day).scorecard
    if db.version == version:  # computed from the facts of `version`: nothing committed meanwhile
        _history.put(path, day, version, card)
    return card


def month_end_history(db: Database, end: dt.date, months: int = 12) -> pl.DataFrame:
    """metrics.trend.monthly_trend(facts, end, months), its scorecards read from the history, so
    only the months not yet computed at this data version are computed. Computed figures: the
    caller overlays published months' frozen rows (data.services.months.overlay_frozen)."""
    from metrics.trend import monthly_trend

    return cached(db, ("trend", end, months),
                  lambda f: monthly_trend(f, end, months, card=lambda day: card_at(db, day)))


def warm_up(db: Database, as_of: dt.date | None = None) -> bool:
    """Compute today's snapshot and its 12 month-ends (what 总览 and 单位考评 read first), then the
    rest of the month-end history since the plan's start.

    Meant for a background thread, so it keeps out of the way of the database's own life: the
    facts are read under the database's writer lock (closing the file, for a restore, takes that
    lock too and so waits for the read instead of failing on a busy connection), and the rest
    computes from those facts in memory only. When a write lands meanwhile (a new data version,
    or the file closed) it stops: the pages compute the new version themselves. Returns whether it
    went through."""
    day = as_of or dt.date.today()
    with db._write_lock:  # noqa: SLF001 - the one lock close() and every write take
        if getattr(db, "_closed", False):
            return False
        load_facts(db)
        version = db.version
    part = snapshot(db, day)
    steps = [lambda name=name: getattr(part, name) for name in (
        "scorecard", "points", "step_counts", "catalog_counts", "warnings", "milestone_status",
        "milestone_criteria", "milestone_gaps")]
    steps.append(lambda: month_end_history(db, day))
    # Then every other month-end since the plan's start, newest first: a later change of as-of date
    # finds its 12 months in the history.
    from metrics.trend import plan_start, trend_points

    start = plan_start(load_facts(db))
    months = (day.year - start.year) * 12 + day.month - start.month + 1
    steps += [lambda d=d: card_at(db, d) for d in reversed(trend_points(day, months, start))]
    for step in steps:
        if db.version != version or getattr(db, "_closed", False):
            return False
        step()
    return True


_warmed: set[str] = set()
_warm_lock = threading.Lock()


def warm_up_in_background(db: Database) -> threading.Thread | None:
    """Once per database file and process: `warm_up` in a daemon thread, so the first user after a
    start does not pay for today's figures. The cache it fills is the one every session reads; a
    failure there only means no warm-up (the pages compute, and report, whatever failed)."""
    path = str(db.path)
    with _warm_lock:
        if path in _warmed:
            return None
        _warmed.add(path)

    def run() -> None:
        try:
            warm_up(db)
        except Exception:  # noqa: BLE001 - the pages compute (and report) whatever failed here
            pass

    thread = threading.Thread(target=run, name="dashboard-warm-up", daemon=True)
    thread.start()
    return thread
