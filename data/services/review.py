"""What the 月度考评 page reads and writes: the months to choose from, a month's ranking and
suggestions (frozen when published), its 通报 (published, saved or generated), the differences
since publication, the supervision section, the downloads, and saving, publishing and
withdrawing. The page calls these with the scope and the month only; the month arithmetic, the
engine calls and their caching (`@read`, keyed by the data version) are here.

The rules stay where they were: data.services.publish (publication, frozen figures, workbooks),
data.services.bulletin_store (the stored 通报) and data.services.supervision (the 督查督办 frames).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services import bulletin_store as bs
from data.services import months, publish
from data.services.reading import read, resolve_db
from data.storage.db import Database
from data.storage.scope import PermissionDenied, Scope

DEFAULT_START = "2023-05"
BulletinError, PublishError = bs.BulletinError, months.PublishError


def month_end(month: str) -> dt.date:
    """'YYYY-MM' -> the month's last day (the as-of date of its review)."""
    from metrics.monthly import month_bounds

    return month_bounds(month)[1]


def months_until(start: str, as_of: dt.date) -> list[str]:
    """Every month from `start` to the last one that has ended by the as-of date."""
    end = as_of if month_end(f"{as_of:%Y-%m}") == as_of else as_of.replace(day=1) - dt.timedelta(days=1)
    year, month = (int(x) for x in start.split("-"))
    out = []
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out



def _viewers_only(scope: Scope) -> None:
    """The county's review (every unit's figures, the draft 通报) is for 管理员 and 领导, as the page
    registry says; a unit's account asking the data layer directly is refused here."""
    if not scope.sees_all:
        raise PermissionDenied("月度考评仅限领导和领导小组办公室查看。")

@read
def review_months(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> list[str]:
    """The months the page offers: from the plan's start to the last one ended by `as_of`."""
    from data.storage.facts import load_facts

    return months_until(load_facts(db).settings.get("plan_start_month", DEFAULT_START), as_of)


@read
def publication(scope: Scope, month: str, *, db: Database | None = None) -> dict | None:
    """The month's publication {month, published_at, published_by, ...}, or None when unpublished."""
    _viewers_only(scope)
    published = months.published_months(db)
    published = published.filter(pl.col("month") == month)
    return published.row(0, named=True) if published.height else None


@read
def month_tables(scope: Scope, month: str, *, db: Database | None = None) -> dict[str, pl.DataFrame]:
    """publish.month_review: 'ranking' and 'suggestions' of the month, frozen when published."""
    _viewers_only(scope)
    return publish.month_review(db, month)


@read
def generated_bulletin(scope: Scope, month: str, *, db: Database | None = None) -> str:
    """The 通报 generated from the month's figures (frozen ones where months are published)."""
    _viewers_only(scope)
    return bs.generated_bulletin(db, month)


@read
def stored_bulletins(scope: Scope, month: str, *, db: Database | None = None) -> tuple[dict | None, dict | None]:
    """(the published 通报 {version, text} or None, the latest saved draft {version, text,
    edited_by, edited_at} or None)."""
    _viewers_only(scope)
    return bs.published_bulletin(db, month), bs.latest_draft(db, month)


@read
def bulletin_versions(scope: Scope, month: str, *, db: Database | None = None) -> pl.DataFrame:
    """Every saved version of the month's 通报, newest first: version, edited_by, edited_at, chars."""
    _viewers_only(scope)
    return bs.versions(db, month)


@read
def bulletin_version_text(scope: Scope, month: str, version: int, *, db: Database | None = None) -> str | None:
    _viewers_only(scope)
    return bs.version_text(db, month, version)


@read
def differences(scope: Scope, month: str, *, db: Database | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """For a published month: (what differs between the published figures and those recomputed
    from the current data, the writes recorded since publication)."""
    _viewers_only(scope)
    from data.storage.facts import load_facts
    from metrics.scorecard import scorecard

    diff = publish.diff_published(db, month, scorecard(load_facts(db), month_end(month)))
    return diff, publish.changes_since_published(db, month)


@read
def supervision_section(scope: Scope, month: str, *, db: Database | None = None) -> dict:
    """data.services.supervision.review_supervision's frames ('open', 'due', 'expiring',
    'proposals'), plus 'due_fixed': how many of those due in the month were rectified."""
    _viewers_only(scope)
    from data.services.supervision import review_supervision

    frames = review_supervision(scope, month, db=db)
    return {**frames, "due_fixed": frames["due"].filter(pl.col("state") == "已整改").height}


# -- the downloads (built on click: the page hands these to st.download_button as deferred data) ------
@read
def review_workbook(scope: Scope, month: str, bulletin: str | None, *, db: Database | None = None) -> bytes:
    """The printable review workbook (the request-step detail is the separate CSV); for a
    published month the frozen one plus a 差异 sheet. `bulletin`: the text in the 通报 box."""
    _viewers_only(scope)
    return publish.review_workbook_for(db, month, bulletin=bulletin, detail=False)


@read
def timeliness_detail(scope: Scope, month: str, *, db: Database | None = None) -> bytes:
    """The request steps due in `month` as a CSV."""
    _viewers_only(scope)
    return publish.timeliness_csv_for(db, month)


@read
def review_detail(scope: Scope, month: str, sheet: str, *, db: Database | None = None) -> bytes:
    """One detail sheet of the month's review (单位记分卡, 得分明细, 任务台账 or 逾期清单: the keys
    of reports.excel.DETAILS) as a CSV; a published month's is the sheet of its frozen workbook."""
    _viewers_only(scope)
    from reports.excel import DETAILS

    if sheet not in DETAILS:
        raise ValueError(f"no detail sheet {sheet!r}")
    return publish.detail_csv_for(db, month, sheet)


# -- writes (office only, audited: the checks are those of bulletin_store and publish) ---------------
def save_bulletin(scope: Scope, month: str, text: str, *, db: Database | None = None) -> int:
    """Store `text` as the next version of the month's 通报 draft; returns the version."""
    return bs.save_draft(resolve_db(db), scope, month, text)


def publish_review(scope: Scope, month: str, *, db: Database | None = None) -> int:
    return publish.publish_month(resolve_db(db), scope, month)


def withdraw_review(scope: Scope, month: str, reason: str | None = None, *, db: Database | None = None) -> None:
    publish.unpublish_month(resolve_db(db), scope, month, reason)


@read
def bulletin_document(scope: Scope, month: str, text: str, *, db: Database | None = None) -> bytes:
    """The 通报 text as an official Word document (GB/T 9704 layout), built when its download is
    clicked; the same text builds once per data version."""
    _viewers_only(scope)
    from reports.docx_official import bulletin_docx

    return bulletin_docx(text)
