"""Publishing a month (发布月度考评): the scorecard as of the month's last day is frozen.

A published scorecard never changes silently: later data corrections leave the stored figures
alone, `diff_published` shows what a recomputation would change, and only the office can
unpublish (audited) before publishing again.

Storage: published_months (one row per month) and published_scores (one row per unit and
scorecard column: numbers unrounded in num_value, text in text_value; the unit's name and kind
are frozen too, since a unit may be renamed later).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.db import Database
from data.scope import PermissionDenied, Scope

TEXT_COLUMNS = ("unit", "unit_kind", "grade", "suggestion")


class PublishError(ValueError):
    """A publishing request that cannot be done as asked (Chinese message)."""


def _bounds(month: str) -> tuple[dt.date, dt.date]:
    from metrics.monthly import month_bounds

    try:
        return month_bounds(month)
    except ValueError as exc:
        raise PublishError(f"月份格式应为 YYYY-MM：{month}") from exc


def _cn_month(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def _score_columns() -> list[str]:
    from metrics.scorecard import SCORECARD_COLUMNS

    return [c for c in SCORECARD_COLUMNS if c != "unit_id"]


def _is_published(read, month: str) -> bool:
    return bool(read("SELECT count(*) FROM published_months WHERE month = ?", [month])[0][0])


def published_months(db: Database) -> pl.DataFrame:
    return db.frame("SELECT month, as_of, published_at, published_by FROM published_months ORDER BY month")


def publish_month(db: Database, scope: Scope, month: str, *, today: dt.date | None = None) -> int:
    """Freeze the scorecard of `month` as of its last day; returns the number of units stored."""
    from data.audit import record
    from data.facts import load_facts
    from metrics.scorecard import scorecard

    scope.require_admin()
    _first, as_of = _bounds(month)
    if as_of >= (today or dt.date.today()):
        raise PublishError(f"{_cn_month(month)}尚未结束，不能发布。")
    if _is_published(db.rows, month):
        raise PublishError(f"{_cn_month(month)}已发布；如需重新发布，请先撤销发布。")
    frame = scorecard(load_facts(db), as_of)
    columns = _score_columns()
    long = frame.select(
        pl.col("unit_id").cast(pl.Int64),
        *[pl.col(c).cast(pl.String).alias(c) if c in TEXT_COLUMNS else pl.col(c).cast(pl.Float64).cast(pl.String)
          for c in columns],
    ).unpivot(index="unit_id", variable_name="score_col", value_name="raw")
    rows = long.with_columns(
        month=pl.lit(month),
        num_value=pl.when(~pl.col("score_col").is_in(TEXT_COLUMNS)).then(pl.col("raw").cast(pl.Float64)),
        text_value=pl.when(pl.col("score_col").is_in(TEXT_COLUMNS)).then(pl.col("raw")),
    ).select("month", "unit_id", "score_col", "num_value", "text_value")
    with db.transaction() as cur:
        if _is_published(lambda q, p: cur.execute(q, p).fetchall(), month):
            raise PublishError(f"{_cn_month(month)}已发布；如需重新发布，请先撤销发布。")
        before = cur.execute("SELECT count(*) FROM published_months").fetchone()[0]
        cur.execute("INSERT INTO published_months VALUES (?, ?, ?, ?)",
                    [month, as_of, dt.datetime.now().replace(microsecond=0), scope.username])
        cur.register("_published_rows", rows.to_arrow())
        cur.execute("INSERT INTO published_scores SELECT * FROM _published_rows")
        cur.unregister("_published_rows")
        record(cur, scope, "发布月度", month,
               f"发布{_cn_month(month)}考评结果（截至{as_of.year}年{as_of.month}月{as_of.day}日），共 {frame.height} 个单位",
               {"已发布月份": before}, {"已发布月份": before + 1})
    return frame.height


def published_scorecard(db: Database, month: str) -> pl.DataFrame | None:
    """The frozen scorecard of `month` in the shape of metrics.scorecard.scorecard, or None."""
    from metrics.registry import UNIT_KINDS
    from metrics.scorecard import SCORECARD_COLUMNS

    if not _is_published(db.rows, month):
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


def _display(frame: pl.DataFrame) -> pl.DataFrame:
    """Long form at display precision: unit_id, unit, code, shown (text as users read it)."""
    from metrics.registry import KPI_BY_CODE
    from metrics.scorecard import _fixed

    exprs = [pl.col("unit_id").cast(pl.Int64), pl.col("unit").cast(pl.String).alias("_unit")]
    for col in _score_columns():
        if col in TEXT_COLUMNS:
            exprs.append(pl.col(col).cast(pl.String))
        elif col in KPI_BY_CODE and KPI_BY_CODE[col].unit == "rate":
            exprs.append(pl.concat_str([_fixed(pl.col(col).cast(pl.Float64) * 100, 2), pl.lit("%")]).alias(col))
        elif col == "composite" or (col in KPI_BY_CODE and KPI_BY_CODE[col].unit == "score"):
            exprs.append(_fixed(pl.col(col).cast(pl.Float64), 2).alias(col))
        else:
            exprs.append(pl.col(col).cast(pl.Int64).cast(pl.String))
    return frame.select(exprs).unpivot(index=["unit_id", "_unit"], variable_name="code", value_name="shown")


def diff_published(db: Database, month: str, current_frame: pl.DataFrame) -> pl.DataFrame:
    """What recomputing a published month changes: one row per unit and column whose displayed
    value differs — unit_id, unit, code, label (Chinese), old, new (as displayed; empty = n/a)."""
    from metrics.registry import COLUMN_LABELS

    published = published_scorecard(db, month)
    if published is None:
        raise PublishError(f"{_cn_month(month)}尚未发布。")
    old = _display(published).rename({"shown": "old", "_unit": "old_unit"})
    new = _display(current_frame).rename({"shown": "new", "_unit": "new_unit"})
    order = {c: i for i, c in enumerate(_score_columns())}
    return (
        old.join(new, on=["unit_id", "code"], how="full", coalesce=True)
        .filter(pl.col("old").ne_missing(pl.col("new")))
        .with_columns(
            unit=pl.coalesce("old_unit", "new_unit"),
            label=pl.col("code").replace_strict(COLUMN_LABELS, default=pl.col("code")),
            _order=pl.col("code").replace_strict(order, default=len(order), return_dtype=pl.Int32),
        )
        .sort("unit_id", "_order")
        .select("unit_id", "unit", "code", "label", "old", "new")
    )


def changes_since_published(db: Database, month: str) -> pl.DataFrame:
    """Why a recomputation differs: the writes logged after the month was published (imports with
    their per-sheet counts, progress reports and verifications, settings and calendar edits), with
    Chinese columns 时间, 用户, 操作, 对象, 说明. Reads and logins are left out."""
    if not _is_published(db.rows, month):
        raise PublishError(f"{_cn_month(month)}尚未发布。")
    # The audit entry of this publication marks the moment (timestamps have one-second resolution).
    since = db.scalar("SELECT max(id) FROM audit_log WHERE action = '发布月度' AND target = ?", [month]) or 0
    return db.frame(
        "SELECT logged_at AS 时间, username AS 用户, action AS 操作, target AS 对象, detail AS 说明 "
        "FROM audit_log WHERE id > ? AND action NOT IN ('登录', '退出登录', '账号锁定', '备份', "
        "'发布月度', '撤销发布', '用户管理') ORDER BY id",
        [since],
    )


def unpublish_month(db: Database, scope: Scope, month: str) -> None:
    """Remove a month's frozen results (office only, audited)."""
    from data.audit import record

    if not scope.is_admin:
        raise PermissionDenied("撤销发布仅限领导小组办公室（管理员）。")
    _bounds(month)
    with db.transaction() as cur:
        before = cur.execute("SELECT count(*) FROM published_months").fetchone()[0]
        if not cur.execute("SELECT count(*) FROM published_months WHERE month = ?", [month]).fetchone()[0]:
            raise PublishError(f"{_cn_month(month)}尚未发布，无需撤销。")
        units = cur.execute("SELECT count(DISTINCT unit_id) FROM published_scores WHERE month = ?",
                            [month]).fetchone()[0]
        cur.execute("DELETE FROM published_scores WHERE month = ?", [month])
        cur.execute("DELETE FROM published_months WHERE month = ?", [month])
        record(cur, scope, "撤销发布", month, f"撤销{_cn_month(month)}考评结果的发布（{units} 个单位）",
               {"已发布月份": before}, {"已发布月份": before - 1})
