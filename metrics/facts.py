"""The frames the KPI engine reads. `data.storage.facts.load_facts` fills one from the database;
tests build small ones by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from metrics.criteria import default_criteria


@dataclass(frozen=True)
class Facts:
    units: pl.DataFrame         # unit_id, name, kind, is_member, region
    contacts: pl.DataFrame      # unit_id, role, name, title, phone, named_on
    catalog: pl.DataFrame       # code, name, unit_id, summary, format, share_type, share_condition,
    #                             nonshare_basis, open_type, update_cycle, published_on,
    #                             last_updated_on, mounted_on, item_count
    demands: pl.DataFrame       # code, unit_id, content, target_code, raised_on, matched_on
    requests: pl.DataFrame      # code, requester_id, provider_id, catalog_code, purpose, received_on,
    #                             reviewed_on, review_result, forwarded_on, replied_on, reply_result,
    #                             legal_basis, refusal_reason. Loaded from the database the text
    #                             columns purpose, legal_basis, refusal_reason and catalog_code are
    #                             left out for has_legal_basis, has_refusal_reason (filled, see
    #                             metrics.registry.filled) and `request_text` reads them for the
    #                             rows a list shows (metrics.requests.with_request_text); the two
    #                             results are enumerations (pl.Enum) rather than strings; and
    #                             use_until (of 同意 / 部分同意 replies) is a column instead of the
    #                             `use_until` frame below.
    tasks: pl.DataFrame         # task_no, section, title, goal, deadline_text, due_date, is_ongoing, units_text
    assignments: pl.DataFrame   # task_no, unit_id, origin
    reports: pl.DataFrame       # task_no, unit_id, reported_on, status, percent, completed_on, note (verified only)
    systems: pl.DataFrame       # unit_id, name, classified, registered, registered_on, connected,
    #                             connected_on, provides_data
    networks: pl.DataFrame      # unit_id, name, classified, migrated, migrated_on
    security: pl.DataFrame      # unit_id, assessed_on, desensitization, encryption, access_auth, note
    quality: pl.DataFrame       # catalog_code, unit_id (the item's provider), checked_on, completeness,
    #                             accuracy, usability, timeliness, issues_found, issues_fixed
    coverage: pl.DataFrame      # unit_id (township), counted_on, villages, connected
    milestones: pl.DataFrame    # code, due_date, title, requirement, task_nos, indicators
    calendar: pl.DataFrame      # day, is_workday, source ('chinese_calendar'|'office'|'fallback'), wd_index
    sla: pl.DataFrame           # effective_from, review_days, reply_days, name
    settings: dict = field(default_factory=dict)  # see metrics.registry.DEFAULT_SETTINGS
    # code, updated_on: every known update of a catalog item (catalog.last_updated_on is the latest);
    # empty by default so hand-built fixtures without a history keep working. Loaded from the
    # database it holds (item, updated_on) instead, `item` being the integer key that `catalog`
    # carries too (data.storage.facts), so the engine groups millions of updates on an integer.
    catalog_updates: pl.DataFrame = field(default_factory=lambda: empty_catalog_updates())
    # milestone, criterion (indicator code or 'task:N'), effective_from, op, threshold, unit_kinds,
    # active, note: the milestone criteria (metrics.milestones); the plan's defaults unless loaded.
    milestone_criteria: pl.DataFrame = field(default_factory=lambda: default_milestone_criteria())

    # The supervision loop (all empty by default, so fixtures without it keep working):
    # task_no, unit_id, approved_due, decided_on: every approved 延期申请;
    extensions: pl.DataFrame = field(default_factory=lambda: empty_frame(EXTENSIONS_SCHEMA))
    # interview_id, month, unit_id, held_on, attendees, reasons: the 约谈 records;
    interviews: pl.DataFrame = field(default_factory=lambda: empty_frame(INTERVIEWS_SCHEMA))
    # commitment_id, interview_id, unit_id, indicator, target, task_no, due_on, note: 整改承诺;
    commitments: pl.DataFrame = field(default_factory=lambda: empty_frame(COMMITMENTS_SCHEMA))
    # code, use_until: the 使用期限至 of requests answered 同意 / 部分同意 that give one (the rest
    # of an authorisation is in `requests`; kept apart so the large requests frame is not copied).
    use_until: pl.DataFrame = field(default_factory=lambda: empty_frame(USE_UNTIL_SCHEMA))
    # request_text(codes, columns) -> frame (code, *columns): the request text columns (purpose,
    # legal_basis, refusal_reason) and catalog_code of those requests, read where the facts came from, when
    # `requests` does not hold them (data.storage.facts); None for facts holding their text.
    request_text: Callable[[pl.Series, list[str]], pl.DataFrame] | None = field(default=None, compare=False)


CATALOG_UPDATES_SCHEMA = {"code": pl.String, "updated_on": pl.Date}


def empty_catalog_updates() -> pl.DataFrame:
    return pl.DataFrame(schema=CATALOG_UPDATES_SCHEMA)


def default_milestone_criteria() -> pl.DataFrame:
    return default_criteria()


EXTENSIONS_SCHEMA = {"task_no": pl.Int32, "unit_id": pl.Int32, "approved_due": pl.Date, "decided_on": pl.Date}
INTERVIEWS_SCHEMA = {"interview_id": pl.Int64, "month": pl.String, "unit_id": pl.Int32, "held_on": pl.Date,
                     "attendees": pl.String, "reasons": pl.String}
COMMITMENTS_SCHEMA = {"commitment_id": pl.Int64, "interview_id": pl.Int64, "unit_id": pl.Int32,
                      "indicator": pl.String, "target": pl.Float64, "task_no": pl.Int32, "due_on": pl.Date,
                      "note": pl.String}
USE_UNTIL_SCHEMA = {"code": pl.String, "use_until": pl.Date}


def empty_frame(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)
