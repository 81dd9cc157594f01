"""Load everything the KPI engine needs as Polars frames, once per data version.

The frames are cached per process and keyed by `Database.version`, which every committed write
bumps, so a write is visible on the next read and an unchanged database is read once.
"""

from __future__ import annotations

import json
import threading

from data.storage.calendar import calendar_table, working_calendar
from data.storage.db import Database
from metrics.facts import Facts

_QUERIES = {
    "units": "SELECT unit_id, name, kind, is_member, region FROM units ORDER BY kind, sort_order, unit_id",
    "contacts": "SELECT unit_id, role, name, title, phone, named_on FROM contacts",
    # `item` is an integer key of the item (its place in code order), given to the update history
    # too: the history has millions of rows at province scale and the engine's group-by on it
    # (metrics.catalog) is several times faster on an integer than on the code text. The history's
    # code text itself is not loaded (updates of an unknown code count nowhere).
    "catalog": "SELECT (row_number() OVER (ORDER BY code) - 1)::UINTEGER AS item, code, name, unit_id, summary, "
    "format, share_type, share_condition, nonshare_basis, open_type, update_cycle, published_on, "
    "last_updated_on, mounted_on, item_count FROM catalog_items ORDER BY code",
    "catalog_updates": "SELECT i.item, u.updated_on FROM catalog_updates u JOIN "
    "(SELECT code, (row_number() OVER (ORDER BY code) - 1)::UINTEGER AS item FROM catalog_items) i USING (code)",
    "demands": "SELECT code, unit_id, content, target_code, raised_on, matched_on FROM demands",
    "requests": "SELECT code, requester_id, provider_id, catalog_code, purpose, received_on, reviewed_on, "
    "review_result, forwarded_on, replied_on, reply_result, legal_basis, refusal_reason FROM share_requests",
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
    "use_until": "SELECT code, use_until FROM share_requests "
    "WHERE reply_result IN ('同意', '部分同意') AND use_until IS NOT NULL",
}

_cache: dict[tuple[str, int], Facts] = {}
_lock = threading.Lock()


def read_settings(db: Database) -> dict:
    return {k: json.loads(v) for k, v in db.rows("SELECT key, value FROM settings")}


def load_facts(db: Database) -> Facts:
    """All facts in the database (unscoped: scoping happens in the read functions of data.services on the results)."""
    key = (str(db.path), db.version)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        frames = {name: db.frame(sql) for name, sql in _QUERIES.items()}
        facts = Facts(
            **frames,
            calendar=working_calendar(calendar_table(db)),
            settings=read_settings(db),
        )
        for stale in [k for k in _cache if k[0] == key[0]]:
            del _cache[stale]
        _cache[key] = facts
        return facts
