"""Publishing a month (发布月度考评): the scorecard as of the month's last day is frozen.

A published scorecard never changes silently: later data corrections leave the stored figures
alone, `diff_published` shows what a recomputation would change, and only the office can
unpublish (audited) before publishing again.

Storage: published_months (one row per month) and published_scores (one row per unit and
scorecard column: numbers unrounded in num_value, text in text_value; the unit's name and kind
are frozen too, since a unit may be renamed later). Since schema version 6 a publication also
freezes the points per indicator, the ranking and suggestion tables, the review workbook
(published_frames) and the 通报 text (published_bulletins, see data/services/bulletin_store.py).

Everything shown or exported for a published month reads the frozen figures through this module:
`scorecard_at` / `points_at` for a month's last day, `month_inputs` for the review and the 通报,
`overlay_frozen` for trends, `review_workbook_for` for the workbook (frozen + a 差异 sheet).
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
from data.storage.scope import PermissionDenied, Scope
from metrics.cn import cn_month as _cn_month

TEXT_COLUMNS = ("unit", "unit_kind", "grade", "suggestion")
ALREADY_EN = "{} is already published; unpublish it first to publish it again."


class PublishError(ValueError):
    """A publishing request that cannot be done as asked: str() is the Chinese message, `en` the
    English one (the command line prints both)."""

    def __init__(self, message: str, en: str = ""):
        super().__init__(message)
        self.en = en or message


def _bounds(month: str) -> tuple[dt.date, dt.date]:
    from metrics.monthly import month_bounds

    try:
        return month_bounds(month)
    except ValueError as exc:
        raise PublishError(f"月份格式应为 YYYY-MM：{month}", f"month must be YYYY-MM: {month}") from exc


def _score_columns() -> list[str]:
    from metrics.scorecard import SCORECARD_COLUMNS

    return [c for c in SCORECARD_COLUMNS if c != "unit_id"]


def _is_published(read, month: str) -> bool:
    return bool(read("SELECT count(*) FROM published_months WHERE month = ?", [month])[0][0])


def published_months(db: Database) -> pl.DataFrame:
    return db.frame("SELECT month, as_of, published_at, published_by FROM published_months ORDER BY month")


def publish_month(db: Database, scope: Scope, month: str, *, today: dt.date | None = None) -> int:
    """Freeze the scorecard of `month` as of its last day; returns the number of units stored."""
    from data.services.audit import record
    from data.storage.facts import load_facts
    from metrics.scorecard import scorecard

    scope.require_admin()
    _first, as_of = _bounds(month)
    if as_of >= (today or dt.date.today()):
        raise PublishError(f"{_cn_month(month)}尚未结束，不能发布。", f"{month} has not ended yet; it cannot be published.")
    if _is_published(db.rows, month):
        raise PublishError(f"{_cn_month(month)}已发布；如需重新发布，请先撤销发布。", ALREADY_EN.format(month))
    facts = load_facts(db)
    frame = scorecard(facts, as_of)
    frozen = _frozen_outputs(db, facts, month, frame)
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
            raise PublishError(f"{_cn_month(month)}已发布；如需重新发布，请先撤销发布。", ALREADY_EN.format(month))
        before = cur.execute("SELECT count(*) FROM published_months").fetchone()[0]
        cur.execute("INSERT INTO published_months VALUES (?, ?, ?, ?)",
                    [month, as_of, dt.datetime.now().replace(microsecond=0), scope.username])
        cur.register("_published_rows", rows.to_arrow())
        cur.execute("INSERT INTO published_scores SELECT * FROM _published_rows")
        cur.unregister("_published_rows")
        _store_outputs(cur, month, frozen, scope.username)
        record(cur, scope, "发布月度", month,
               f"发布{_cn_month(month)}考评结果（截至{as_of.year}年{as_of.month}月{as_of.day}日），共 {frame.height} 个单位",
               {"已发布月份": before}, {"已发布月份": before + 1})
    return frame.height


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
        elif col in KPI_BY_CODE and KPI_BY_CODE[col].kind == "rate":
            exprs.append(pl.concat_str([_fixed(pl.col(col).cast(pl.Float64) * 100, 2), pl.lit("%")]).alias(col))
        elif col == "composite" or (col in KPI_BY_CODE and KPI_BY_CODE[col].kind == "score"):
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
        "'发布月度', '撤销发布', '用户管理', '保存通报草稿') ORDER BY id",
        [since],
    )


def unpublish_month(db: Database, scope: Scope, month: str, reason: str | None = None) -> None:
    """Remove a month's frozen results (office only, audited with the reason). The saved 通报
    versions stay; the draft becomes editable again."""
    from data.services.audit import record

    if not scope.is_admin:
        raise PermissionDenied("撤销发布仅限领导小组办公室（管理员）。")
    _bounds(month)
    reason = " ".join((reason or "").split())
    with db.transaction() as cur:
        before = cur.execute("SELECT count(*) FROM published_months").fetchone()[0]
        if not cur.execute("SELECT count(*) FROM published_months WHERE month = ?", [month]).fetchone()[0]:
            raise PublishError(f"{_cn_month(month)}尚未发布，无需撤销。", f"{month} is not published; nothing to undo.")
        units = cur.execute("SELECT count(DISTINCT unit_id) FROM published_scores WHERE month = ?",
                            [month]).fetchone()[0]
        cur.execute("DELETE FROM published_scores WHERE month = ?", [month])
        cur.execute("DELETE FROM published_frames WHERE month = ?", [month])
        cur.execute("DELETE FROM published_bulletins WHERE month = ?", [month])
        cur.execute("DELETE FROM published_months WHERE month = ?", [month])
        detail = f"撤销{_cn_month(month)}考评结果的发布（{units} 个单位）" + (f"，原因：{reason}" if reason else "")
        record(cur, scope, "撤销发布", month, detail, {"已发布月份": before}, {"已发布月份": before - 1})


# -- the frozen outputs of a month (schema version 6) ---------------------------------------------

FRAME_NAMES = ("points", "ranking", "suggestions")
WORKBOOK = "review_workbook"


def _ipc(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_ipc(buf)
    return buf.getvalue()


def _frozen_outputs(db: Database, facts, month: str, card: pl.DataFrame) -> dict:
    """What publishing freezes besides the scorecard: points, ranking and suggestion tables, the
    通报 text (latest saved version, else the generated one) and the review workbook with it."""
    from data.services.bulletin_store import latest_draft
    from metrics.points import unit_points
    from metrics.trend import previous_month_end
    from reports.bulletin import bulletin_text
    from reports.excel import ranking_frame, review_workbook, suggestion_frame

    _first, as_of = _bounds(month)
    points = unit_points(facts, as_of)
    prev_end = previous_month_end(as_of)
    prev = scorecard_at(db, prev_end, lambda: _compute_scorecard(facts, prev_end))
    draft = latest_draft(db, month)
    text = draft["text"] if draft else bulletin_text(facts, month, card=card, prev=prev, points=points)
    return {
        "frames": {"points": points, "ranking": ranking_frame(facts, as_of, card, prev),
                   "suggestions": suggestion_frame(facts, as_of, card)},
        "workbook": review_workbook(facts, month, bulletin=text, card=card, prev=prev, points=points),
        "text": text,
        "version": draft["version"] if draft else None,
    }


def _store_outputs(cur, month: str, frozen: dict, username: str) -> None:
    from data.services.bulletin_store import insert_version

    version = frozen["version"]
    latest = int(cur.execute("SELECT coalesce(max(version), 0) FROM bulletin_drafts WHERE month = ?",
                             [month]).fetchone()[0])
    if latest != (version or 0):
        raise PublishError(f"{_cn_month(month)}的通报草稿刚被修改，请刷新页面核对后重新发布。",
                           f"the bulletin of {month} was just saved again; review it and publish again.")
    if version is None:  # nobody saved a draft: the generated text becomes version 1
        version = insert_version(cur, month, frozen["text"], username)
    cur.execute("INSERT INTO published_bulletins VALUES (?, ?, ?)", [month, version, frozen["text"]])
    for name, frame in frozen["frames"].items():
        cur.execute("INSERT INTO published_frames VALUES (?, ?, ?)", [month, name, _ipc(frame)])
    cur.execute("INSERT INTO published_frames VALUES (?, ?, ?)", [month, WORKBOOK, frozen["workbook"]])


def _compute_scorecard(facts, as_of: dt.date) -> pl.DataFrame:
    from metrics.scorecard import scorecard

    return scorecard(facts, as_of)


def is_published(db: Database, month: str) -> bool:
    return _is_published(db.rows, month)


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


def scorecard_at(db: Database, as_of: dt.date, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """The scorecard as of D: the frozen one when D ends a published month, else compute()."""
    month = month_of_end(as_of)
    frozen = published_scorecard(db, month) if month else None
    return compute() if frozen is None else frozen


def points_at(db: Database, as_of: dt.date, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """Points per indicator as of D: frozen when D ends a published month (publications made
    before points were frozen fall back to compute())."""
    month = month_of_end(as_of)
    frozen = frozen_frame(db, month, "points") if month and is_published(db, month) else None
    return compute() if frozen is None else frozen


def month_inputs(db: Database, month: str) -> dict:
    """The month's scorecard (`card`), the previous month's (`prev`) and the points, each frozen
    where its month is published; `published` says whether `month` itself is. Computed once per
    data version: the page's tables, the generated 通报 and the workbook share them."""
    return _memoised(db, ("inputs", month), lambda: _month_inputs(db, month))


def _month_inputs(db: Database, month: str) -> dict:
    from data.storage.facts import load_facts
    from metrics.points import unit_points
    from metrics.trend import previous_month_end

    _first, as_of = _bounds(month)
    facts = load_facts(db)
    prev_end = previous_month_end(as_of)
    return {
        "card": scorecard_at(db, as_of, lambda: _compute_scorecard(facts, as_of)),
        "prev": scorecard_at(db, prev_end, lambda: _compute_scorecard(facts, prev_end)),
        "points": points_at(db, as_of, lambda: unit_points(facts, as_of)),
        "published": is_published(db, month),
    }


def month_review(db: Database, month: str) -> dict[str, pl.DataFrame]:
    """The 月度考评 tables of a month: ranking and suggestions, frozen when published."""
    from data.storage.facts import load_facts
    from reports.excel import ranking_frame, suggestion_frame

    inputs = month_inputs(db, month)
    ranking = frozen_frame(db, month, "ranking") if inputs["published"] else None
    suggestions = frozen_frame(db, month, "suggestions") if inputs["published"] else None
    facts = load_facts(db)
    as_of = _bounds(month)[1]
    return {
        "ranking": ranking if ranking is not None else ranking_frame(facts, as_of, inputs["card"], inputs["prev"]),
        "suggestions": suggestions if suggestions is not None else suggestion_frame(facts, as_of, inputs["card"]),
    }


def review_workbook_for(db: Database, month: str, bulletin: str | None = None, *, detail: bool = True) -> bytes:
    """The review workbook of `month`. Published: the workbook frozen at publication plus a 差异
    sheet (recomputed differences and the writes since publication). Otherwise computed now with
    `bulletin` (default: the stored or generated 通报) and frozen figures of a published previous
    month; without `detail`, the printable one whose request-step detail is a separate download
    (reports.excel.review_workbook). Publication always freezes the whole workbook."""
    from data.services.bulletin_store import current_bulletin
    from data.storage.facts import load_facts
    from reports.excel import review_workbook, with_diff_sheet

    facts = load_facts(db)
    inputs = month_inputs(db, month)
    if inputs["published"]:
        frozen = frozen_workbook(db, month)
        if frozen is None:  # published before workbooks were frozen: rebuild from the frozen scorecard
            frozen = review_workbook(facts, month, bulletin=current_bulletin(db, month), card=inputs["card"],
                                     prev=inputs["prev"], points=inputs["points"])
        as_of = _bounds(month)[1]
        diff = diff_published(db, month, _compute_scorecard(facts, as_of))
        return with_diff_sheet(frozen, month, diff, changes_since_published(db, month))
    text = bulletin if bulletin is not None else current_bulletin(db, month)
    return review_workbook(facts, month, bulletin=text, card=inputs["card"], prev=inputs["prev"],
                           points=inputs["points"], detail=detail)


def timeliness_csv_for(db: Database, month: str) -> bytes:
    """The request steps due in `month` as a CSV (the detail the printable workbook leaves out),
    computed from the current data."""
    from data.storage.facts import load_facts
    from reports.excel import timeliness_csv

    return timeliness_csv(load_facts(db), month)


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
        end = _bounds(month)[1]
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
        [_bounds(m)[1] for m in replaced]))))
    order = frame.select(month_col, as_of_col).unique(maintain_order=True).with_row_index("_o")
    return (pl.concat([kept, *parts]).join(order, on=[month_col, as_of_col], how="left")
            .sort("_o", maintain_order=True).drop("_o"))
