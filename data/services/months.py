"""A month's figures as they stand: frozen where the month is published, computed otherwise.

The reading side of publishing (data/services/publish.py writes): what a published month froze
(published_months, published_scores, published_frames) read back, memoised per data version, and
the month's inputs every review output shares. `scorecard_at` / `points_at` give a month's last
day, `month_inputs` the review and the 通报, `overlay_frozen` trends.

This module sits below publish.py and bulletin_store.py: both import from it, it imports neither.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import polars as pl

from data.storage.db import Database

TEXT_COLUMNS = ("unit", "unit_kind", "grade", "suggestion")
WORKBOOK = "review_workbook"  # the name of the frozen review workbook in published_frames


class PublishError(ValueError):
    """A publishing request that cannot be done as asked: str() is the Chinese message, `en` the
    English one (the command line prints both)."""

    def __init__(self, message: str, en: str = ""):
        super().__init__(message)
        self.en = en or message


def bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of 'YYYY-MM'; PublishError for anything else."""
    from metrics.monthly import month_bounds

    try:
        return month_bounds(month)
    except ValueError as exc:
        raise PublishError(f"月份格式应为 YYYY-MM：{month}", f"month must be YYYY-MM: {month}") from exc


def month_published(cur, month: str) -> bool:
    """Whether `month` is published, read through `cur` (inside the caller's transaction)."""
    return bool(cur.execute("SELECT count(*) FROM published_months WHERE month = ?", [month]).fetchone()[0])


def is_published(db: Database, month: str) -> bool:
    return bool(db.scalar("SELECT count(*) FROM published_months WHERE month = ?", [month]))


def published_months(db: Database) -> pl.DataFrame:
    return db.frame("SELECT month, as_of, published_at, published_by FROM published_months ORDER BY month")


_memo: OrderedDict[tuple, Any] = OrderedDict()
_memo_lock = threading.Lock()


def _memoised(db: Database, key: tuple, fn: Callable[[], Any]) -> Any:
    """fn() once per (database file, data version, key): every page shows frozen figures at
    month ends, trends several months at once; reading them back should cost a lookup."""
    full = (str(db.path), db.version, *key)
    with _memo_lock:
        if full in _memo:
            _memo.move_to_end(full)
            return _memo[full]
    value = fn()
    with _memo_lock:
        _memo[full] = value
        while len(_memo) > 64:
            _memo.popitem(last=False)
    return value


def published_scorecard(db: Database, month: str) -> pl.DataFrame | None:
    """The frozen scorecard of `month` in the shape of metrics.scorecard.scorecard, or None."""
    return _memoised(db, ("scorecard", month), lambda: _read_published_scorecard(db, month))


def _read_published_scorecard(db: Database, month: str) -> pl.DataFrame | None:
    from metrics.registry import UNIT_KINDS
    from metrics.scorecard import SCORECARD_COLUMNS

    if not is_published(db, month):
        return None
    long = db.frame("SELECT unit_id, score_col, num_value, text_value FROM published_scores WHERE month = ?",
                    [month])
    text = long.filter(pl.col("score_col").is_in(TEXT_COLUMNS)).pivot(
        on="score_col", index="unit_id", values="text_value")
    nums = long.filter(~pl.col("score_col").is_in(TEXT_COLUMNS)).pivot(
        on="score_col", index="unit_id", values="num_value")
    frame = text.join(nums, on="unit_id", how="full", coalesce=True)
    for col in SCORECARD_COLUMNS:
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String if col in TEXT_COLUMNS else pl.Float64).alias(col))
    ints = [c for c in ("rank", "red_lights", "contacts_named", "catalog_published", "tasks_overdue_open")
            if c in frame.columns]
    frame = frame.with_columns(pl.col(ints).cast(pl.Int64), pl.col("unit_id").cast(pl.Int64))
    kind_order = pl.col("unit_kind").replace_strict({k: i for i, k in enumerate(UNIT_KINDS)},
                                                    default=len(UNIT_KINDS), return_dtype=pl.Int32)
    return frame.sort(kind_order, "unit_kind", "rank", "unit_id", nulls_last=True).select(SCORECARD_COLUMNS)


def month_of_end(as_of: dt.date) -> str | None:
    """'YYYY-MM' when `as_of` is the last day of its month, else None."""
    return f"{as_of:%Y-%m}" if (as_of + dt.timedelta(days=1)).day == 1 else None


def frozen_frame(db: Database, month: str, name: str) -> pl.DataFrame | None:
    def read() -> pl.DataFrame | None:
        rows = db.rows("SELECT data FROM published_frames WHERE month = ? AND name = ?", [month, name])
        return pl.read_ipc(io.BytesIO(bytes(rows[0][0]))) if rows else None

    return _memoised(db, ("frame", month, name), read)


def frozen_workbook(db: Database, month: str) -> bytes | None:
    rows = db.rows("SELECT data FROM published_frames WHERE month = ? AND name = ?", [month, WORKBOOK])
    return bytes(rows[0][0]) if rows else None


def compute_scorecard(facts, as_of: dt.date) -> pl.DataFrame:
    from metrics.scorecard import scorecard

    return scorecard(facts, as_of)


def frozen_scorecard(db: Database, as_of: dt.date) -> pl.DataFrame | None:
    """The frozen scorecard when D is the last day of a published month, else None."""
    month = month_of_end(as_of)
    return published_scorecard(db, month) if month else None


def frozen_points(db: Database, as_of: dt.date) -> pl.DataFrame | None:
    """The frozen points per indicator when D is the last day of a published month (None also for
    publications made before points were frozen)."""
    month = month_of_end(as_of)
    return frozen_frame(db, month, "points") if month and is_published(db, month) else None


def scorecard_at(db: Database, as_of: dt.date, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """The scorecard as of D: the frozen one when D ends a published month, else compute()."""
    frozen = frozen_scorecard(db, as_of)
    return compute() if frozen is None else frozen


def points_at(db: Database, as_of: dt.date, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """Points per indicator as of D: frozen when D ends a published month, else compute()."""
    frozen = frozen_points(db, as_of)
    return compute() if frozen is None else frozen


def month_inputs(db: Database, month: str) -> dict:
    """The month's scorecard (`card`), the previous month's (`prev`) and the points, each frozen
    where its month is published; `published` says whether `month` itself is. Computed once per
    data version: the page's tables, the generated 通报 and the workbook share them."""
    return _memoised(db, ("inputs", month), lambda: _month_inputs(db, month))


def _month_inputs(db: Database, month: str) -> dict:
    """Computed parts come from the shared per-date snapshot (data.services.snapshot), so 月度考评
    reads the scorecards and points the other pages already computed, and they read its."""
    from data.services.snapshot import card_at, snapshot
    from metrics.trend import previous_month_end

    _first, as_of = bounds(month)
    prev_end = previous_month_end(as_of)
    return {
        "card": scorecard_at(db, as_of, lambda: card_at(db, as_of)),
        "prev": scorecard_at(db, prev_end, lambda: card_at(db, prev_end)),
        "points": points_at(db, as_of, lambda: snapshot(db, as_of).points),
        "published": is_published(db, month),
    }


def overlay_frozen(db: Database, frame: pl.DataFrame, month_col: str = "month", as_of_col: str = "as_of",
                   ) -> pl.DataFrame:
    """A per-month frame of scorecard rows (metrics.trend.monthly_trend) with the rows of each
    published month replaced by its frozen scorecard, where the row's date is that month's end."""
    if frame.is_empty() or month_col not in frame.columns:
        return frame
    months = set(_memoised(db, ("months",), lambda: published_months(db))["month"].to_list())
    hits = [m for m in frame[month_col].unique().to_list() if m in months]
    if not hits:
        return frame
    parts, replaced = [], []
    for month in hits:
        end = bounds(month)[1]
        rows = frame.filter((pl.col(month_col) == month) & (pl.col(as_of_col) == end))
        frozen = published_scorecard(db, month)
        if rows.is_empty() or frozen is None:
            continue
        cols = [c for c in frame.columns if c in frozen.columns]
        frozen = frozen.select(cols).with_columns(pl.lit(month).alias(month_col), pl.lit(end).alias(as_of_col))
        for col in frame.columns:
            if col not in frozen.columns:
                frozen = frozen.join(rows.select("unit_id", col), on="unit_id", how="left") \
                    if "unit_id" in rows.columns else frozen.with_columns(pl.lit(None).alias(col))
        parts.append(frozen.select([pl.col(c).cast(frame.schema[c]) for c in frame.columns]))
        replaced.append(month)
    if not parts:
        return frame
    kept = frame.filter(~(pl.col(month_col).is_in(replaced) & (pl.col(as_of_col).is_in(
        [bounds(m)[1] for m in replaced]))))
    order = frame.select(month_col, as_of_col).unique(maintain_order=True).with_row_index("_o")
    return (pl.concat([kept, *parts]).join(order, on=[month_col, as_of_col], how="left")
            .sort("_o", maintain_order=True).drop("_o"))
