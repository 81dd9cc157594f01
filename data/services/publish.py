"""Publishing a month (发布月度考评): the scorecard as of the month's last day is frozen.

A published scorecard never changes silently: later data corrections leave the stored figures
alone, `diff_published` shows what a recomputation would change, and only the office can
unpublish (audited) before publishing again.

Storage: published_months (one row per month) and published_scores (one row per unit and
scorecard column: numbers unrounded in num_value, text in text_value; the unit's name and kind
are frozen too, since a unit may be renamed later). Since schema version 6 a publication also
freezes the points per indicator, the ranking and suggestion tables, the review workbook
(published_frames) and the 通报 text (published_bulletins, see data/services/bulletin_store.py).

This module writes; data/services/months.py reads the frozen figures back (`scorecard_at`,
`points_at`, `month_inputs`, `overlay_frozen`). Here too: `month_review` for the 月度考评 tables
and `review_workbook_for` for the workbook (frozen + a 差异 sheet).
"""

from __future__ import annotations

import datetime as dt
import io

import polars as pl

from data.services.bulletin_store import current_bulletin, insert_version, last_version, latest_draft
from data.services.months import (
    TEXT_COLUMNS,
    WORKBOOK,
    PublishError,
    bounds,
    compute_scorecard,
    frozen_frame,
    frozen_workbook,
    is_published,
    month_inputs,
    month_published,
    published_scorecard,
    scorecard_at,
)
from data.storage.db import Database
from data.storage.scope import PermissionDenied, Scope
from metrics.cn import cn_date, cn_month

ALREADY_EN = "{} is already published; unpublish it first to publish it again."


def _score_columns() -> list[str]:
    from metrics.scorecard import SCORECARD_COLUMNS

    return [c for c in SCORECARD_COLUMNS if c != "unit_id"]


def publish_month(db: Database, scope: Scope, month: str, *, today: dt.date | None = None) -> int:
    """Freeze the scorecard of `month` as of its last day; returns the number of units stored."""
    from data.storage.audit_log import record
    from data.storage.facts import load_facts
    from metrics.scorecard import scorecard

    scope.require_admin()
    _first, as_of = bounds(month)
    if as_of >= (today or dt.date.today()):
        raise PublishError(f"{cn_month(month)}尚未结束，不能发布。", f"{month} has not ended yet; it cannot be published.")
    if is_published(db, month):
        raise PublishError(f"{cn_month(month)}已发布；如需重新发布，请先撤销发布。", ALREADY_EN.format(month))
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
        if month_published(cur, month):
            raise PublishError(f"{cn_month(month)}已发布；如需重新发布，请先撤销发布。", ALREADY_EN.format(month))
        before = cur.execute("SELECT count(*) FROM published_months").fetchone()[0]
        cur.execute("INSERT INTO published_months VALUES (?, ?, ?, ?)",
                    [month, as_of, dt.datetime.now().replace(microsecond=0), scope.username])
        cur.register("_published_rows", rows.to_arrow())
        cur.execute("INSERT INTO published_scores SELECT * FROM _published_rows")
        cur.unregister("_published_rows")
        _store_outputs(cur, month, frozen, scope.username)
        record(cur, scope, "发布月度", month,
               f"发布{cn_month(month)}考评结果（截至{cn_date(as_of)}），共 {frame.height} 个单位",
               {"已发布月份": before}, {"已发布月份": before + 1})
    return frame.height


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
        raise PublishError(f"{cn_month(month)}尚未发布。")
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
    if not is_published(db, month):
        raise PublishError(f"{cn_month(month)}尚未发布。")
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
    from data.storage.audit_log import record

    if not scope.is_admin:
        raise PermissionDenied("撤销发布仅限领导小组办公室（管理员）。")
    bounds(month)
    reason = " ".join((reason or "").split())
    with db.transaction() as cur:
        before = cur.execute("SELECT count(*) FROM published_months").fetchone()[0]
        if not month_published(cur, month):
            raise PublishError(f"{cn_month(month)}尚未发布，无需撤销。", f"{month} is not published; nothing to undo.")
        units = cur.execute("SELECT count(DISTINCT unit_id) FROM published_scores WHERE month = ?",
                            [month]).fetchone()[0]
        cur.execute("DELETE FROM published_scores WHERE month = ?", [month])
        cur.execute("DELETE FROM published_frames WHERE month = ?", [month])
        cur.execute("DELETE FROM published_bulletins WHERE month = ?", [month])
        cur.execute("DELETE FROM published_months WHERE month = ?", [month])
        detail = f"撤销{cn_month(month)}考评结果的发布（{units} 个单位）" + (f"，原因：{reason}" if reason else "")
        record(cur, scope, "撤销发布", month, detail, {"已发布月份": before}, {"已发布月份": before - 1})


# -- the frozen outputs of a month (schema version 6) ---------------------------------------------

def _ipc(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_ipc(buf)
    return buf.getvalue()


def _frozen_outputs(db: Database, facts, month: str, card: pl.DataFrame) -> dict:
    """What publishing freezes besides the scorecard: points, ranking and suggestion tables, the
    通报 text (latest saved version, else the generated one) and the review workbook with it."""
    from metrics.points import unit_points
    from metrics.trend import previous_month_end
    from reports.bulletin import bulletin_text
    from reports.excel import review_workbook
    from reports.frames import ranking_frame, suggestion_frame

    _first, as_of = bounds(month)
    points = unit_points(facts, as_of)
    prev_end = previous_month_end(as_of)
    prev = scorecard_at(db, prev_end, lambda: compute_scorecard(facts, prev_end))
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
    version = frozen["version"]
    if last_version(cur, month) != (version or 0):
        raise PublishError(f"{cn_month(month)}的通报草稿刚被修改，请刷新页面核对后重新发布。",
                           f"the bulletin of {month} was just saved again; review it and publish again.")
    if version is None:  # nobody saved a draft: the generated text becomes version 1
        version = insert_version(cur, month, frozen["text"], username)
    cur.execute("INSERT INTO published_bulletins VALUES (?, ?, ?)", [month, version, frozen["text"]])
    for name, frame in frozen["frames"].items():
        cur.execute("INSERT INTO published_frames VALUES (?, ?, ?)", [month, name, _ipc(frame)])
    cur.execute("INSERT INTO published_frames VALUES (?, ?, ?)", [month, WORKBOOK, frozen["workbook"]])


def month_review(db: Database, month: str) -> dict[str, pl.DataFrame]:
    """The 月度考评 tables of a month: ranking and suggestions, frozen when published."""
    from data.storage.facts import load_facts
    from reports.frames import ranking_frame, suggestion_frame

    inputs = month_inputs(db, month)
    ranking = frozen_frame(db, month, "ranking") if inputs["published"] else None
    suggestions = frozen_frame(db, month, "suggestions") if inputs["published"] else None
    facts = load_facts(db)
    as_of = bounds(month)[1]
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
    from data.storage.facts import load_facts
    from reports.excel import review_workbook, with_diff_sheet

    facts = load_facts(db)
    inputs = month_inputs(db, month)
    if inputs["published"]:
        frozen = frozen_workbook(db, month)
        if frozen is None:  # published before workbooks were frozen: rebuild from the frozen scorecard
            frozen = review_workbook(facts, month, bulletin=current_bulletin(db, month), card=inputs["card"],
                                     prev=inputs["prev"], points=inputs["points"])
        as_of = bounds(month)[1]
        diff = diff_published(db, month, compute_scorecard(facts, as_of))
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


def detail_csv_for(db: Database, month: str, sheet: str) -> bytes:
    """Detail sheet `sheet` (a key of reports.excel.DETAILS) of the month's review as a CSV, the
    download beside the printable workbook. Published: the rows of that sheet in the workbook
    frozen at publication, so file and workbook agree cell for cell after later corrections too
    (任务台账 and 逾期清单 are not frozen as frames of their own). Otherwise, and for publications
    older than frozen workbooks, the sheet's frame with the month's inputs (month_inputs: the
    frozen scorecards and points where months are published), as review_workbook_for builds it."""
    from data.storage.facts import load_facts
    from reports.excel import detail_csv, detail_frame, frozen_detail_csv

    inputs = month_inputs(db, month)
    if inputs["published"]:
        frozen = frozen_workbook(db, month)
        data = frozen_detail_csv(frozen, sheet) if frozen is not None else None
        if data is not None:
            return data
    frame = detail_frame(load_facts(db), month, sheet, card=inputs["card"], prev=inputs["prev"],
                         points=inputs["points"])
    return detail_csv(frame, sheet)
