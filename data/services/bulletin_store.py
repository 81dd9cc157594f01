"""The monthly 通报 as a stored document.

Each save of the draft on 月度考评 adds a version (month, version, text, edited_by, edited_at) to
bulletin_drafts; earlier versions are kept. Until the first save the page shows the text
generated from the month's figures and nothing is written (reading never writes). Publishing the
month freezes the latest stored version (storing the generated text as version 1 if nobody saved
one) in published_bulletins; a published month's 通报 cannot be edited until it is unpublished.

`current_bulletin(db, month)` is the text every export uses: the published text, else the latest
saved version, else the generated draft.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.months import PublishError, bounds, month_inputs, month_published
from data.storage.db import Database
from data.storage.scope import Scope
from metrics.cn import cn_month

MAX_CHARS = 50_000


class BulletinError(ValueError):
    """A save that cannot be done as asked (Chinese message)."""


def latest_draft(db: Database, month: str) -> dict | None:
    """The latest saved version: {version, text, edited_by, edited_at}, or None."""
    rows = db.rows("SELECT version, text, edited_by, edited_at FROM bulletin_drafts WHERE month = ? "
                   "ORDER BY version DESC LIMIT 1", [month])
    if not rows:
        return None
    version, text, by, at = rows[0]
    return {"version": int(version), "text": text, "edited_by": by, "edited_at": at}


def versions(db: Database, month: str) -> pl.DataFrame:
    """Every saved version of the month, newest first: version, edited_by, edited_at, chars."""
    return db.frame("SELECT version, edited_by, edited_at, length(text) AS chars FROM bulletin_drafts "
                    "WHERE month = ? ORDER BY version DESC", [month])


def version_text(db: Database, month: str, version: int) -> str | None:
    rows = db.rows("SELECT text FROM bulletin_drafts WHERE month = ? AND version = ?", [month, int(version)])
    return rows[0][0] if rows else None


def published_bulletin(db: Database, month: str) -> dict | None:
    """The text frozen when the month was published: {version, text}, or None."""
    rows = db.rows("SELECT version, text FROM published_bulletins WHERE month = ?", [month])
    return {"version": int(rows[0][0]), "text": rows[0][1]} if rows else None


def generated_bulletin(db: Database, month: str) -> str:
    """The draft generated from the month's figures (frozen ones where months are published)."""
    from data.services.snapshot import snapshot
    from data.storage.facts import load_facts
    from reports.bulletin import bulletin_text

    inputs = month_inputs(db, month)
    part = snapshot(db, bounds(month)[1])  # the milestones and task lights the other pages share
    return bulletin_text(load_facts(db), month, card=inputs["card"], prev=inputs["prev"], points=inputs["points"],
                         milestones=part.milestone_status, assignments=part.assignments)


def current_bulletin(db: Database, month: str) -> str:
    """The 通报 of `month` as it stands: published text, else the latest saved version, else the
    generated draft."""
    published = published_bulletin(db, month)
    if published is not None:
        return published["text"]
    draft = latest_draft(db, month)
    return draft["text"] if draft is not None else generated_bulletin(db, month)


def last_version(cur, month: str) -> int:
    """The number of the latest saved version (0: none), read inside the caller's transaction."""
    return int(cur.execute("SELECT coalesce(max(version), 0) FROM bulletin_drafts WHERE month = ?",
                           [month]).fetchone()[0])


def insert_version(cur, month: str, text: str, username: str) -> int:
    """Add a version inside the caller's transaction; returns its number."""
    version = last_version(cur, month) + 1
    cur.execute("INSERT INTO bulletin_drafts VALUES (?, ?, ?, ?, ?)",
                [month, version, text, username, dt.datetime.now().replace(microsecond=0)])
    return version


def save_draft(db: Database, scope: Scope, month: str, text: str) -> int:
    """Store `text` as the next version of the month's draft (office only, audited); returns the
    version. Saving the text of the latest version again stores nothing and returns its number."""
    from data.storage.audit_log import record

    scope.require_admin()
    bounds(month)
    text = (text or "").replace("\r\n", "\n")
    if not text.strip():
        raise BulletinError("通报内容不能为空。")
    if len(text) > MAX_CHARS:
        raise BulletinError(f"通报内容过长（{len(text)} 字），不能超过 {MAX_CHARS} 字。")
    with db.transaction() as cur:
        if month_published(cur, month):
            raise PublishError(f"{cn_month(month)}已发布，通报不能修改；如需修改，请先撤销发布。")
        last = cur.execute("SELECT version, text FROM bulletin_drafts WHERE month = ? ORDER BY version DESC "
                           "LIMIT 1", [month]).fetchall()
        if last and last[0][1] == text:
            return int(last[0][0])
        version = insert_version(cur, month, text, scope.username)
        record(cur, scope, "保存通报草稿", month,
               f"保存{cn_month(month)}通报草稿第{version}版（{len(text)} 字）",
               {"版本": version - 1}, {"版本": version})
    return version
