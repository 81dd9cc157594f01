"""From which day on two versions of the facts can give different figures.

Everything is computed as of a day D, and only facts dated on or before D exist (docs/kpis.md,
"As of a date"). So a write that changes only rows dated after D cannot change any figure at D:
the month-end history (data.services.snapshot) keeps the month-ends before the earliest changed
day and recomputes only the later ones.

`earliest_change(old, new)` compares two Facts table by table and returns
- None when nothing the engine reads differs;
- the earliest day a changed row is dated (over every date column of the row as it was and as it
  is now) when only dated tables changed;
- EVERY_DAY when an undated table changed (units, tasks, assignments, systems and networks, which
  count at every day until done, settings, time-limit rules, milestone criteria, commitments), or a
  changed row of a dated table carries no date at all.

A row of a dated table is invisible before its gate date (published_on, received_on, ...), and
the earliest of all its date columns is never later than its gate, so the day returned is never
later than the first day whose figures can differ. Calendar rows are dated by their own day: a
changed day X moves only deadlines that fall on or after X, and for a scorecard at D < X such a
deadline stays in the future either way (a step done by D is on time, an open one pending).

Rows are compared by a 64-bit hash of the whole row (Polars `hash_rows`); a changed row whose hash
equals that of the row it is compared with would go unseen, which at a few million rows is a
chance of about one in a million million."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from metrics.facts import Facts

EVERY_DAY = dt.date.min

# Tables whose rows exist only from one of their own dates on (each filtered by that date wherever
# the engine reads it): a changed row there changes figures from its earliest date on.
DATED_TABLES = frozenset({
    "requests",          # received_on
    "catalog",           # published_on
    "catalog_updates",   # updated_on
    "demands",           # raised_on
    "reports",           # reported_on
    "contacts",          # named_on
    "security",          # assessed_on
    "quality",           # checked_on
    "coverage",          # counted_on
    "interviews",        # held_on
    "extensions",        # decided_on
    "calendar",          # day (see the module docstring)
})

def changed_rows(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame | None:
    """The rows of `old` not in `new` and of `new` not in `old`, or more rows than those (never
    fewer); row order does not matter. None when the two cannot be compared row by row (different
    columns, or the same rows repeated a different number of times).

    Tables read back in the same order (DuckDB keeps a table's insertion order; an update keeps a
    row's place) are compared place by place: the rows that differ at a place, and those past the
    shorter table's end, hold every changed row. Only when that is a large share of the table (a
    table read through a join, whose order varies) are the rows matched as sets, after a cheap
    order-free fingerprint has shown that something did change."""
    if old.schema != new.schema:
        return None
    if old.height == new.height and old.equals(new):
        return old.clear()
    old_hash, new_hash = old.hash_rows(), new.hash_rows()
    common = min(old.height, new.height)
    differs = old_hash.head(common) != new_hash.head(common)
    if int(differs.sum()) + old.height + new.height - 2 * common <= max(1000, max(old.height, new.height) // 100):
        return pl.concat([old.head(common).filter(differs), old.slice(common),
                          new.head(common).filter(differs), new.slice(common)])
    if old.height == new.height and _fingerprint(old_hash) == _fingerprint(new_hash):
        return old.clear()  # the same rows in another order
    gone = old.filter(~old_hash.is_in(new_hash.implode()))
    came = new.filter(~new_hash.is_in(old_hash.implode()))
    if gone.height == 0 and came.height == 0:
        return None  # the same distinct rows, repeated differently
    return pl.concat([gone, came])


def _fingerprint(hashes: pl.Series) -> tuple[int, int]:
    """An order-free summary of row hashes: the sums of their high and low 32 bits."""
    return int((hashes // 2**32).sum()), int((hashes % 2**32).sum())


def earliest_day(rows: pl.DataFrame) -> dt.date:
    """The earliest date in any date column of `rows`; EVERY_DAY when a row has no date at all."""
    dates = [c for c, t in rows.schema.items() if t == pl.Date]
    if not dates:
        return EVERY_DAY
    per_row = rows.select(pl.min_horizontal(*dates).alias("d"))["d"]
    if per_row.null_count():
        return EVERY_DAY
    return per_row.min()


def earliest_change(old: Facts, new: Facts) -> dt.date | None:
    """See the module docstring."""
    if old.settings != new.settings:
        return EVERY_DAY
    earliest: dt.date | None = None
    for field in dataclasses.fields(Facts):
        name = field.name
        a, b = getattr(old, name), getattr(new, name)
        if not isinstance(a, pl.DataFrame):  # settings (compared above), request_text (a reader)
            continue
        rows = changed_rows(a, b)
        if rows is not None and rows.height == 0:
            continue
        if rows is None or name not in DATED_TABLES:
            return EVERY_DAY
        day = earliest_day(rows)
        if day == EVERY_DAY:
            return EVERY_DAY
        earliest = day if earliest is None else min(earliest, day)
    return earliest
