"""Load everything the KPI engine needs as Polars frames, once per data version.

The frames are cached per process and keyed by `Database.version`, which every committed write
bumps, so a write is visible on the next read and an unchanged database is read once.

When a new version of a file is loaded, it is compared with the version it replaces
(metrics.changes.earliest_change) and the earliest day whose figures can differ is kept as a link
between the two versions: `unchanged_since` walks those links, so the month-end history
(data.services.snapshot) keeps the month-ends a write cannot have changed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

import polars as pl

from data.storage.calendar import calendar_table, working_calendar
from data.storage.db import Database
from metrics.changes import earliest_change
from metrics.facts import Facts
from metrics.requests import ROW_DETAIL

# A character that is not white space as Polars' str.strip_chars() sees it (Unicode White_Space,
# which DuckDB's trim() does not cover): a text "holds something" exactly when it has one, the
# rule of metrics.registry.filled.
_NOT_SPACE = ("[^\\x{0009}-\\x{000D}\\x{0020}\\x{0085}\\x{00A0}\\x{1680}\\x{2000}-\\x{200A}"
              "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}]")


def filled_sql(col: str) -> str:
    """SQL for metrics.registry.filled(col): not null and not only white space."""
    return f"coalesce(regexp_matches({col}, '{_NOT_SPACE}'), false)"


_QUERIES = {
    "units": "SELECT unit_id, name, kind, is_member, region FROM units ORDER BY kind, sort_order, unit_id",
    "contacts": "SELECT unit_id, role, name, title, phone, named_on FROM contacts",
    # `item` is an integer key of the item (its place in code order), given to the update history
    # too: the history has millions of rows at province scale and the engine's group-by on it
    # (metrics.catalog) is several times faster on an integer than on the code text. The history's
    # code text itself is not loaded (updates of an unknown code count nowhere).
    # Read in table order and sorted by code in Polars (catalog_frame): sorting all of the items'
    # columns inside DuckDB (ORDER BY with a window) left about 100 MB of working memory behind at
    # province scale.
    "catalog": "SELECT code, name, unit_id, summary, "
    "format, share_type, share_condition, nonshare_basis, open_type, update_cycle, published_on, "
    "last_updated_on, mounted_on, item_count FROM catalog_items",
    "catalog_updates": "SELECT i.item, u.updated_on FROM catalog_updates u JOIN "
    "(SELECT code, (row_number() OVER (ORDER BY code) - 1)::UINTEGER AS item FROM catalog_items) i USING (code)",
    "demands": "SELECT code, unit_id, content, target_code, raised_on, matched_on FROM demands",
    # The request text (purpose, legal_basis, refusal_reason: hundreds of megabytes at province
    # scale) and the item code asked for are not loaded: the engine needs only whether basis and
    # reason are filled, and the lists showing text or item read them for their rows
    # (request_text below). The review and reply results are read as enumerations (one byte a row
    # in Polars instead of a 16-byte string view: about 220 MB less for 7.3 M requests).
    "requests": "SELECT code, requester_id, provider_id, received_on, reviewed_on, "
    "review_result::ENUM AS review_result, forwarded_on, replied_on, "
    "reply_result::ENUM AS reply_result, "
    f"{filled_sql('legal_basis')} AS has_legal_basis, {filled_sql('refusal_reason')} AS has_refusal_reason, "
    # 使用期限至 of the authorisations (同意 / 部分同意) as a column, not a frame of its own holding
    # millions of codes again (Facts.use_until stays empty).
    "CASE WHEN reply_result IN ('同意', '部分同意') THEN use_until END AS use_until "
    "FROM share_requests",
    "tasks": "SELECT task_no, section, title, goal, deadline_text, due_date, is_ongoing, units_text "
    "FROM tasks ORDER BY task_no",
    "assignments": "SELECT task_no, unit_id, origin FROM task_assignments",
    "reports": "SELECT task_no, unit_id, reported_on, status, percent, completed_on, note "
    "FROM progress_reports WHERE verified",
    "systems": "SELECT unit_id, name, classified, registered, registered_on, connected, connected_on, "
    "provides_data FROM systems",
    "networks": "SELECT unit_id, name, classified, migrated, migrated_on FROM networks",
    "security": "SELECT unit_id, assessed_on, desensitization, encryption, access_auth, note "
    "FROM security_assessments",
    "quality": "SELECT q.catalog_code, c.unit_id, q.checked_on, q.completeness, q.accuracy, q.usability, "
    "q.timeliness, q.issues_found, q.issues_fixed FROM quality_checks q "
    "JOIN catalog_items c ON c.code = q.catalog_code",
    "coverage": "SELECT unit_id, counted_on, villages, connected FROM village_coverage",
    "milestones": "SELECT code, due_date, title, requirement, task_nos, indicators FROM milestones ORDER BY code",
    "sla": "SELECT effective_from, review_days, reply_days, name FROM sla_rules ORDER BY effective_from",
    "milestone_criteria": "SELECT milestone, criterion, effective_from, op, threshold, unit_kinds, active, note "
    "FROM milestone_criteria ORDER BY milestone, criterion, effective_from",

    # The supervision loop (docs/supervision.md).
    "extensions": "SELECT task_no, unit_id, approved_due, decided_on FROM extension_requests "
    "WHERE status = '已批准'",
    "interviews": "SELECT interview_id, month, unit_id, held_on, attendees, reasons FROM interviews",
    "commitments": "SELECT c.commitment_id, c.interview_id, i.unit_id, c.indicator, c.target, c.task_no, "
    "c.due_on, c.note FROM commitments c JOIN interviews i USING (interview_id)",
}

def request_text(db: Database, codes, columns) -> pl.DataFrame:
    """code plus the columns of metrics.requests.ROW_DETAIL asked for (the text, the item asked
    for) of the requests with these codes, read from the
    database: what the lists showing request text add to their rows (metrics.requests.with_request_text)."""
    cols = [c for c in columns if c in ROW_DETAIL]
    if len(cols) != len(list(columns)):
        raise ValueError(f"not request text columns: {sorted(set(columns) - set(cols))}")
    wanted = pl.DataFrame({"code": pl.Series(codes, dtype=pl.String)}).unique()
    select = ", ".join(f"r.{c}" for c in cols)
    cur = db._con.cursor()  # noqa: SLF001 - a frame joined in DuckDB needs a cursor to register it on
    try:
        cur.register("_wanted_codes", wanted.to_arrow())
        return cur.sql(f"SELECT r.code, {select} FROM share_requests r JOIN _wanted_codes w ON w.code = r.code").pl()
    finally:
        cur.close()


# The review and reply results as enumerations: the values the engine compares with come first (a
# literal compared with an enumeration must be one of its values), then any other value found.
RESULTS = {"review_result": ("通过", "退回"), "reply_result": ("同意", "部分同意", "不同意")}


def _result_values(cur, column: str) -> list[str]:
    known = list(RESULTS[column])
    found = cur.sql(f"SELECT DISTINCT {column} FROM share_requests WHERE {column} IS NOT NULL ORDER BY 1").fetchall()
    return known + [v for (v,) in found if v not in known]


def _enum_sql(values: list[str]) -> str:
    return "ENUM(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _frames(db: Database) -> dict[str, pl.DataFrame]:
    cur = db._con.cursor()  # noqa: SLF001 - session settings of this cursor only
    try:
        return read_frames(cur, after_each=db.release_buffers)
    finally:
        cur.close()


def read_frames(cur, after_each: Callable[[], None] | None = None) -> dict[str, pl.DataFrame]:
    """Every query of _QUERIES as a frame, read through the cursor `cur` (a cursor of its own, or
    an import's inside its transaction); `after_each` runs after each query. Text comes from
    DuckDB as Arrow string views, which Polars keeps as they are: converting DuckDB's plain strings
    made Polars hold a view per row next to DuckDB's string buffers (the loaded facts took about
    twice their size)."""
    cur.execute("SET SESSION produce_arrow_string_view = true")
    cur.execute("SET SESSION arrow_output_version = '1.5'")
    results = {c: _result_values(cur, c) for c in RESULTS}
    frames = {}
    for name, sql in _QUERIES.items():
        for column, values in results.items():  # the results' placeholders (requests only)
            sql = sql.replace(f"{column}::ENUM", f"{column}::{_enum_sql(values)}")
        frames[name] = cur.sql(sql).pl()
        if after_each is not None:
            after_each()  # e.g. give back the blocks just read: the frame holds what it needs
    frames["requests"] = frames["requests"].with_columns(
        pl.col(c).cast(pl.Enum(values)) for c, values in results.items())
    frames["catalog"] = catalog_frame(frames["catalog"])
    return frames


def catalog_frame(items: pl.DataFrame) -> pl.DataFrame:
    """The catalog items in code order with `item`, the integer key the update history carries too
    (its query numbers the codes in the same byte order)."""
    return items.sort("code").with_row_index("item").with_columns(pl.col("item").cast(pl.UInt32))


_cache: dict[tuple[str, int], Facts] = {}
_lock = threading.Lock()


def read_settings(db: Database) -> dict:
    return {k: json.loads(v) for k, v in db.rows("SELECT key, value FROM settings")}


def load_facts(db: Database) -> Facts:
    """All facts in the database (unscoped: scoping happens in the read functions of data.services on the results)."""
    return loaded_facts(db)[1]


def loaded_facts(db: Database) -> tuple[int, Facts]:
    """(data version, facts): the facts of `db` and the version they are the facts of."""
    key = (str(db.path), db.version)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return key[1], cached
        frames = _frames(db)
        facts = Facts(
            **frames,
            calendar=working_calendar(calendar_table(db)),
            settings=read_settings(db),
            request_text=functools.partial(request_text, db),
        )
        for stale in [k for k in _cache if k[0] == key[0]]:
            if stale[1] < key[1]:
                _link(key[0], stale[1], key[1], earliest_change(_cache[stale], facts))
            del _cache[stale]
        _cache[key] = facts
        return key[1], facts


# path -> {newer version: (the older version it was compared with, earliest changed day or None)}
_links: dict[str, OrderedDict[int, tuple[int, dt.date | None]]] = {}
MAX_LINKS = 256


def _link(path: str, old: int, new: int, earliest: dt.date | None) -> None:
    links = _links.setdefault(path, OrderedDict())
    links[new] = (old, earliest)
    while len(links) > MAX_LINKS:
        links.popitem(last=False)


def unchanged_since(path: str, since: int, version: int, day: dt.date) -> bool:
    """Whether every figure as of `day` is the same at data version `version` of the file as at the
    older version `since`: true when the versions loaded in between changed only rows dated after
    `day`. False whenever that is not known (a version not loaded and compared on the way)."""
    links = _links.get(path, {})
    while version != since:
        link = links.get(version)
        if link is None or link[0] < since:
            return False
        version, earliest = link
        if earliest is not None and earliest <= day:
            return False
    return True
