"""Demo data: deterministic, within the stated sizes, consistent with the import rules, and
holding at least one of every case the pages and indicators need to show.

The county database is generated once per module with a fixed `today` (2026-11-25) so the
expected values do not move with the calendar."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import polars as pl
import pytest

from data.services.demo import FACT_TABLES, DemoRefusedError, clear_demo, demo_info, generate_demo
from data.storage.calendar import calendar_table, working_calendar
from data.storage.connect import close_db, get_db
from data.storage.plan import PLAN_UNITS
from metrics.workdays import add_workday_deadline, workdays_between

TODAY = dt.date(2026, 11, 25)
# 2023-04-01 … 2026-11-25 is 1,335 days: 20,000 a year gives round(20000 * 1335 / 365.25) = 73,101.
EXPECTED_REQUESTS = 73_101

DATE_COLUMNS = {
    "contacts": ["named_on"],
    "catalog_items": ["published_on", "last_updated_on", "mounted_on"],
    "catalog_updates": ["updated_on"],
    "demands": ["raised_on", "matched_on"],
    "share_requests": ["received_on", "reviewed_on", "forwarded_on", "replied_on"],
    "progress_reports": ["reported_on", "completed_on"],
    "systems": ["registered_on", "connected_on"],
    "networks": ["migrated_on"],
    "security_assessments": ["assessed_on"],
    "quality_checks": ["checked_on"],
    "village_coverage": ["counted_on"],
}
UNIT_COLUMNS = {
    "contacts": ["unit_id"],
    "catalog_items": ["unit_id"],
    "demands": ["unit_id"],
    "share_requests": ["requester_id", "provider_id"],
    "progress_reports": ["unit_id"],
    "systems": ["unit_id"],
    "networks": ["unit_id"],
    "security_assessments": ["unit_id"],
    "village_coverage": ["unit_id"],
}


def table(db, name: str) -> pl.DataFrame:
    """A whole table in a fixed order, for equality checks."""
    return db.frame(f"SELECT * FROM {name} ORDER BY ALL")


def count(db, sql: str) -> int:
    return db.scalar(sql)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "county.duckdb"
    db = get_db(path)
    started = time.perf_counter()
    counts = generate_demo(db, scale="county", seed=1, today=TODAY)
    elapsed = time.perf_counter() - started
    yield db, counts, elapsed
    close_db(path)


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_another_seed_differs(county, tmp_path):
    db, _, _ = county
    twin = get_db(tmp_path / "twin.duckdb")
    other = get_db(tmp_path / "other.duckdb")
    try:
        generate_demo(twin, scale="county", seed=1, today=TODAY)
        generate_demo(other, scale="county", seed=2, today=TODAY)
        for name in ["units", "task_assignments", *FACT_TABLES]:
            assert table(db, name).equals(table(twin, name)), name
        differing = [n for n in FACT_TABLES if not table(db, n).equals(table(other, n))]
        # Every table the draws shape differs with another seed.
        assert set(differing) == set(FACT_TABLES)
        assert table(db, "units").equals(table(other, "units"))  # names do not depend on the seed
    finally:
        close_db(tmp_path / "twin.duckdb")
        close_db(tmp_path / "other.duckdb")


def test_running_twice_replaces_instead_of_adding(tmp_path):
    db = get_db(tmp_path / "again.duckdb")
    try:
        first = generate_demo(db, seed=3, today=TODAY)
        snapshot = {n: table(db, n) for n in ["units", *FACT_TABLES]}
        second = generate_demo(db, seed=3, today=TODAY)
        assert first == second
        for name, frame in snapshot.items():
            assert table(db, name).equals(frame), name
        assert count(db, "SELECT count(*) FROM units WHERE origin = 'demo'") == 24
    finally:
        close_db(tmp_path / "again.duckdb")


# -- sizes -----------------------------------------------------------------------------------


def test_county_sizes_are_within_the_stated_ranges(county):
    db, counts, _ = county
    # 46 plan units + 15 townships + 9 demo departments.
    assert count(db, "SELECT count(*) FROM units") == 70
    assert counts["units"] == 24
    assert count(db, "SELECT count(*) FROM units WHERE kind = '乡镇（街道）'") == 15
    assert count(db, "SELECT count(*) FROM units WHERE origin = 'demo' AND name NOT LIKE '示例%'") == 0
    assert counts["share_requests"] == EXPECTED_REQUESTS
    per_year = db.rows(
        "SELECT year(received_on) y, count(*) FROM share_requests GROUP BY y ORDER BY y"
    )
    assert [y for y, _ in per_year] == [2023, 2024, 2025, 2026]
    # Full years hold about 20,000 requests each.
    assert all(17_000 <= n <= 23_000 for y, n in per_year if y in (2024, 2025))
    assert 2_500 <= counts["catalog_items"] <= 3_500
    assert 200 <= counts["demands"] <= 800
    # Both roles for most of 70 units, a few missing.
    assert 120 <= counts["contacts"] < 140
    assert counts["progress_reports"] > 2_000
    assert counts["quality_checks"] > 1_000
    # One row per update: a row a day for the few 实时/每日 items keeps it well under 400,000.
    assert 100_000 <= counts["catalog_updates"] <= 400_000
    # Township coverage: one row per township per quarter end from 2023-06-30 to 2026-09-30 (14).
    assert counts["village_coverage"] == 15 * 14
    for name in FACT_TABLES:
        assert counts[name] == count(db, f"SELECT count(*) FROM {name}"), name


def test_codes_look_like_the_platforms(county):
    db, _, _ = county
    first, last = db.rows("SELECT min(code), max(code) FROM share_requests")[0]
    assert first == "SQ2023000001"
    assert last.startswith("SQ2026") and len(last) == 12
    assert count(db, "SELECT count(*) FROM catalog_items WHERE NOT regexp_matches(code, '^YS-\\d{3}-\\d{4}$')") == 0
    assert count(db, "SELECT count(*) FROM contacts WHERE NOT regexp_matches(phone, '^1[3-9]\\d{9}$')") == 0


def test_demo_marker(county):
    db, _, _ = county
    info = demo_info(db)
    assert info["scale"] == "county" and info["seed"] == 1 and info["today"] == "2026-11-25"
    assert "generated_at" in info
    assert json.loads(db.scalar("SELECT value FROM meta WHERE key = 'demo'")) == info


# -- consistency (the import's rules) ---------------------------------------------------------

CONSISTENCY = {
    "reviewed before received": "SELECT count(*) FROM share_requests WHERE reviewed_on < received_on",
    "forwarded before reviewed": "SELECT count(*) FROM share_requests WHERE forwarded_on < reviewed_on",
    "replied before forwarded": "SELECT count(*) FROM share_requests "
    "WHERE replied_on < coalesce(forwarded_on, reviewed_on)",
    "reply result without a reply date": "SELECT count(*) FROM share_requests "
    "WHERE reply_result IS NOT NULL AND replied_on IS NULL",
    "reply without review passed": "SELECT count(*) FROM share_requests "
    "WHERE replied_on IS NOT NULL AND review_result IS DISTINCT FROM '通过'",
    "forwarded after a return": "SELECT count(*) FROM share_requests WHERE review_result = '退回' "
    "AND (forwarded_on IS NOT NULL OR replied_on IS NOT NULL)",
    "basis or reason on an approval": "SELECT count(*) FROM share_requests WHERE reply_result = '同意' "
    "AND (legal_basis IS NOT NULL OR refusal_reason IS NOT NULL)",
    "request for an unpublished item": "SELECT count(*) FROM share_requests r JOIN catalog_items c "
    "ON c.code = r.catalog_code WHERE c.published_on > r.received_on",
    "request for an unknown item": "SELECT count(*) FROM share_requests "
    "WHERE catalog_code NOT IN (SELECT code FROM catalog_items)",
    "request to oneself": "SELECT count(*) FROM share_requests WHERE requester_id = provider_id",
    "demand for an unknown item": "SELECT count(*) FROM demands "
    "WHERE target_code IS NOT NULL AND target_code NOT IN (SELECT code FROM catalog_items)",
    "matched before raised": "SELECT count(*) FROM demands WHERE matched_on < raised_on",
    "completed without a date": "SELECT count(*) FROM progress_reports WHERE status = '已完成' AND completed_on IS NULL",
    "completed after the report": "SELECT count(*) FROM progress_reports WHERE completed_on > reported_on",
    "completion date on an open report": "SELECT count(*) FROM progress_reports "
    "WHERE status <> '已完成' AND completed_on IS NOT NULL",
    "percent out of range": "SELECT count(*) FROM progress_reports WHERE percent < 0 OR percent > 100",
    "report for an unassigned task": "SELECT count(*) FROM progress_reports p WHERE NOT EXISTS "
    "(SELECT 1 FROM task_assignments a WHERE a.task_no = p.task_no AND a.unit_id = p.unit_id)",
    "report before the plan": "SELECT count(*) FROM progress_reports WHERE reported_on < DATE '2023-05-01'",
    "more connected than villages": "SELECT count(*) FROM village_coverage WHERE connected > villages OR connected < 0",
    "coverage outside a township": "SELECT count(*) FROM village_coverage v JOIN units u USING (unit_id) "
    "WHERE u.kind <> '乡镇（街道）'",
    "more fixed than found": "SELECT count(*) FROM quality_checks WHERE issues_fixed > issues_found",
    "score outside 0-100": "SELECT count(*) FROM quality_checks WHERE least(completeness, accuracy, usability, "
    "timeliness) < 0 OR greatest(completeness, accuracy, usability, timeliness) > 100",
    "check before publication": "SELECT count(*) FROM quality_checks q JOIN catalog_items c "
    "ON c.code = q.catalog_code WHERE q.checked_on < c.published_on",
    "check of an unknown item": "SELECT count(*) FROM quality_checks "
    "WHERE catalog_code NOT IN (SELECT code FROM catalog_items)",
    "mounted before published": "SELECT count(*) FROM catalog_items WHERE mounted_on < published_on",
    "updated before published": "SELECT count(*) FROM catalog_items WHERE last_updated_on < published_on",
    "history before published": "SELECT count(*) FROM catalog_updates u JOIN catalog_items c USING (code) "
    "WHERE u.updated_on < c.published_on",
    "history of an unknown item": "SELECT count(*) FROM catalog_updates WHERE code NOT IN (SELECT code FROM catalog_items)",
    # last_updated_on is the latest of the history; a never-updated item has no history
    "latest update not the history's latest": "SELECT count(*) FROM catalog_items c LEFT JOIN "
    "(SELECT code, max(updated_on) AS latest FROM catalog_updates GROUP BY code) h USING (code) "
    "WHERE c.last_updated_on IS DISTINCT FROM h.latest",
    "bad share type": "SELECT count(*) FROM catalog_items WHERE share_type NOT IN ('无条件共享','有条件共享','不予共享')",
    "bad cycle": "SELECT count(*) FROM catalog_items "
    "WHERE update_cycle NOT IN ('实时','每日','每周','每月','每季度','每半年','每年','不定期')",
    "connected before registered": "SELECT count(*) FROM systems WHERE connected_on < registered_on",
    "connected but not registered": "SELECT count(*) FROM systems WHERE connected AND NOT registered",
    "date without the flag": "SELECT count(*) FROM systems WHERE (registered_on IS NOT NULL AND NOT registered) "
    "OR (connected_on IS NOT NULL AND NOT connected)",
    "migration date without the flag": "SELECT count(*) FROM networks WHERE migrated_on IS NOT NULL AND NOT migrated",
    "classified network migrated": "SELECT count(*) FROM networks WHERE classified AND migrated",
}


@pytest.mark.parametrize("rule", list(CONSISTENCY))
def test_consistency_rule_holds(county, rule):
    db, _, _ = county
    assert count(db, CONSISTENCY[rule]) == 0


def test_no_date_after_today_or_before_2023(county):
    db, _, _ = county
    for name, cols in DATE_COLUMNS.items():
        for col in cols:
            lo, hi = db.rows(f"SELECT min({col}), max({col}) FROM {name}")[0]
            assert hi <= TODAY, (name, col, hi)
            assert lo >= dt.date(2023, 4, 1), (name, col, lo)


def test_every_fact_names_a_known_unit(county):
    db, _, _ = county
    for name, cols in UNIT_COLUMNS.items():
        for col in cols:
            assert count(db, f"SELECT count(*) FROM {name} WHERE {col} NOT IN (SELECT unit_id FROM units)") == 0


# -- planted cases ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def steps(county):
    """Review and reply steps with their deadlines and status as of TODAY (kpis.md rules)."""
    db, _, _ = county
    cal = working_calendar(calendar_table(db))
    req = db.frame("SELECT * FROM share_requests").with_columns(
        three=pl.lit(3, dtype=pl.Int32), ten=pl.lit(10, dtype=pl.Int32),
        reply_start=pl.when(pl.col("review_result") == "通过").then(pl.coalesce("forwarded_on", "reviewed_on")),
    )
    req = add_workday_deadline(req, "received_on", "three", cal, "review_deadline")
    req = add_workday_deadline(req, "reply_start", "ten", cal, "reply_deadline")

    def status(done: str, deadline: str) -> pl.Expr:
        return (
            pl.when(pl.col(done).is_not_null() & (pl.col(done) <= pl.col(deadline)))
            .then(pl.lit("on_time"))
            .when(pl.col(done).is_not_null())
            .then(pl.lit("late"))
            .when(pl.lit(TODAY) > pl.col(deadline))
            .then(pl.lit("overdue"))
            .otherwise(pl.lit("pending"))
        )

    return req.with_columns(
        review=status("reviewed_on", "review_deadline"),
        reply=pl.when(pl.col("reply_start").is_not_null()).then(status("replied_on", "reply_deadline")),
    )


def test_steps_follow_the_official_working_day_calendar(county):
    """Done dates sit k working days after their start under the real calendar (调休 included):
    review 1–9, forwarding 0–1, reply 1–30; none falls on a day off, some on a make-up Sunday
    or Saturday."""
    db, _, _ = county
    cal = working_calendar(calendar_table(db))
    req = db.frame("SELECT received_on, reviewed_on, forwarded_on, replied_on FROM share_requests").with_columns(
        reply_start=pl.coalesce("forwarded_on", "reviewed_on")
    )
    req = workdays_between(req, "received_on", "reviewed_on", cal, "k_review")
    req = workdays_between(req, "reviewed_on", "forwarded_on", cal, "k_forward")
    req = workdays_between(req, "reply_start", "replied_on", cal, "k_reply")
    # (workdays_between gives 0, not null, when the end is missing: look at done steps only.)
    assert req.filter(pl.col("reviewed_on").is_not_null())["k_review"].is_between(1, 9).all()
    assert req.filter(pl.col("forwarded_on").is_not_null())["k_forward"].is_between(0, 1).all()
    assert req.filter(pl.col("replied_on").is_not_null())["k_reply"].is_between(1, 30).all()
    assert req.filter(pl.col("k_review") == 9).height > 0 and req.filter(pl.col("k_reply") == 30).height > 0
    done = pl.concat([req["reviewed_on"], req["forwarded_on"], req["replied_on"]]).drop_nulls().to_frame("day")
    done = done.join(cal.select("day", "is_workday"), on="day", how="left")
    assert done["is_workday"].all()
    assert (done["day"].dt.weekday() >= 6).any()  # e.g. Saturday 2023-10-07, Sunday 2024-02-04


def test_review_steps_of_every_status(steps):
    got = dict(steps.group_by("review").len().iter_rows())
    assert set(got) == {"on_time", "late", "overdue", "pending"}
    # The office is mostly on time: 94 % of the draws, less the steps still open.
    assert got["on_time"] / len(steps) > 0.9
    assert got["late"] / len(steps) < 0.08


def test_reply_steps_of_every_status_and_laggard_providers(steps):
    got = dict(steps.filter(pl.col("reply").is_not_null()).group_by("reply").len().iter_rows())
    assert set(got) == {"on_time", "late", "overdue", "pending"}
    per_provider = (
        steps.filter(pl.col("reply").is_in(["on_time", "late", "overdue"]))
        .group_by("provider_id")
        .agg(rate=(pl.col("reply") == "on_time").mean(), n=pl.len())
        .filter(pl.col("n") >= 50)
    )
    # Exemplary providers and laggards side by side.
    assert per_provider["rate"].max() > 0.97
    assert per_provider["rate"].min() < 0.8


def test_pending_steps_fall_due_near_today(steps):
    pending = steps.filter(pl.col("review") == "pending")
    assert pending["received_on"].min() >= TODAY - dt.timedelta(days=10)


def test_returned_requests_and_refusals_with_and_without_basis(county):
    db, _, _ = county
    assert count(db, "SELECT count(*) FROM share_requests WHERE review_result = '退回'") > 0
    refusals = "FROM share_requests WHERE reply_result IN ('不同意', '部分同意')"
    assert count(db, f"SELECT count(*) {refusals} AND legal_basis IS NOT NULL AND refusal_reason IS NOT NULL") > 0
    assert count(db, f"SELECT count(*) {refusals} AND legal_basis IS NULL") > 0
    assert count(db, f"SELECT count(*) {refusals} AND refusal_reason IS NULL") > 0
    assert count(db, "SELECT count(*) FROM share_requests WHERE reply_result = '部分同意'") > 0
    # Passed review with no forwarding date: the reply clock starts at the review.
    assert count(db, "SELECT count(*) FROM share_requests WHERE review_result = '通过' AND forwarded_on IS NULL "
                     "AND replied_on IS NOT NULL") > 0


def test_catalog_cases(county):
    db, _, _ = county
    assert count(db, "SELECT count(*) FROM catalog_items WHERE mounted_on IS NULL") > 0
    assert count(db, "SELECT count(*) FROM catalog_items WHERE last_updated_on IS NULL") > 0
    stale = """SELECT count(*) FROM catalog_items WHERE update_cycle <> '不定期' AND
        DATE '2026-11-25' - coalesce(last_updated_on, published_on) >
        CASE update_cycle WHEN '实时' THEN 1 WHEN '每日' THEN 1 WHEN '每周' THEN 7 WHEN '每月' THEN 31
        WHEN '每季度' THEN 92 WHEN '每半年' THEN 183 ELSE 366 END"""
    fresh = stale.replace("> \n        CASE", "<= \n        CASE").replace(">\n        CASE", "<=\n        CASE")
    assert count(db, stale) > 0 and count(db, fresh) > 0
    assert count(db, "SELECT count(*) FROM catalog_items WHERE share_type = '不予共享' AND nonshare_basis IS NULL") > 0
    assert count(db, "SELECT count(*) FROM catalog_items WHERE share_type = '不予共享' AND nonshare_basis IS NOT NULL") > 0
    assert count(db, "SELECT count(*) FROM catalog_items WHERE share_type = '有条件共享' AND share_condition IS NULL") > 0
    assert count(db, "SELECT count(*) FROM catalog_items WHERE summary IS NULL OR item_count IS NULL") > 0
    # A department with no catalog at all, and units publishing after the 2023-09-30 milestone.
    assert count(db, "SELECT count(*) FROM units u WHERE kind = '县直部门' AND NOT EXISTS "
                     "(SELECT 1 FROM catalog_items c WHERE c.unit_id = u.unit_id)") >= 1
    assert count(db, "SELECT count(*) FROM (SELECT unit_id FROM catalog_items GROUP BY unit_id "
                     "HAVING min(published_on) > DATE '2023-09-30')") >= 1
    assert count(db, "SELECT count(*) FROM (SELECT unit_id FROM catalog_items GROUP BY unit_id "
                     "HAVING min(published_on) <= DATE '2023-09-30')") >= 30
    # Update history: monthly items updated 31 days apart, and planted lapses (a gap of more than two
    # cycles between consecutive updates of a monthly item).
    gaps = """SELECT count(*) FROM (SELECT c.code, u.updated_on - lag(u.updated_on) OVER
        (PARTITION BY c.code ORDER BY u.updated_on) AS gap FROM catalog_updates u JOIN catalog_items c USING (code)
        WHERE c.update_cycle = '每月') WHERE gap {}"""
    assert count(db, gaps.format("= 31")) > 1_000
    assert count(db, gaps.format("> 62")) > 50
    assert count(db, "SELECT count(*) FROM demands WHERE matched_on IS NULL") > 0
    assert count(db, "SELECT count(*) FROM demands WHERE matched_on IS NOT NULL") > 0


@pytest.fixture(scope="module")
def assignments(county):
    """Each assignment's latest report as of TODAY with its due date."""
    db, _, _ = county
    return db.frame(
        """SELECT a.task_no, a.unit_id, t.due_date, t.is_ongoing,
                  max(p.reported_on) AS last_report, max(p.completed_on) AS completed_on,
                  count(p.reported_on) AS reports
           FROM task_assignments a JOIN tasks t USING (task_no)
           LEFT JOIN progress_reports p ON p.task_no = a.task_no AND p.unit_id = a.unit_id
           GROUP BY ALL"""
    )


def test_task_cases(assignments):
    fixed = assignments.filter(~pl.col("is_ongoing"))
    on_time = fixed.filter(pl.col("completed_on") <= pl.col("due_date"))
    late = fixed.filter(pl.col("completed_on") > pl.col("due_date"))
    overdue_open = fixed.filter(pl.col("completed_on").is_null() & (pl.col("due_date") < TODAY))
    assert len(on_time) > 0 and len(late) > 0 and len(overdue_open) > 0
    # Most of the work gets done on time; the laggards make the rest.
    assert len(on_time) > len(late) > 0


def test_ongoing_tasks_have_gaps_and_a_silent_unit(county, assignments):
    db, _, _ = county
    months_required = (TODAY.year - 2023) * 12 + TODAY.month - 5 + 1  # 2023-05 … 2026-11 = 43
    ongoing = assignments.filter(pl.col("is_ongoing"))
    assert sorted(ongoing["task_no"].unique()) == [5, 14]
    assert (ongoing["reports"] < months_required).all()  # gaps in monthly reports
    # Task 14: one unit has not reported for the last two months (a red light).
    assert (ongoing.filter(pl.col("task_no") == 14)["last_report"] < dt.date(2026, 10, 1)).any()
    assert count(db, "SELECT count(*) FROM progress_reports WHERE task_no IN (5, 14) AND completed_on IS NOT NULL") == 0


def test_unit_cases(county):
    db, _, _ = county
    without = "SELECT count(*) FROM units u WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.unit_id = u.unit_id"
    assert count(db, without + ")") >= 1
    assert count(db, without + " AND c.role = '分管领导')") >= 2
    assert count(db, "SELECT count(*) FROM contacts WHERE named_on > DATE '2023-06-10'") > 0
    assert count(db, "SELECT count(*) FROM contacts WHERE named_on <= DATE '2023-06-10'") > 50
    assert count(db, "SELECT count(*) FROM units u WHERE NOT EXISTS "
                     "(SELECT 1 FROM security_assessments s WHERE s.unit_id = u.unit_id)") >= 2
    assert count(db, "SELECT count(*) FROM security_assessments WHERE NOT (desensitization AND encryption "
                     "AND access_auth)") > 0
    assert count(db, "SELECT count(*) FROM systems WHERE NOT classified AND NOT connected") > 0
    assert count(db, "SELECT count(*) FROM systems WHERE NOT classified AND NOT registered") > 0
    assert count(db, "SELECT count(*) FROM systems WHERE classified") > 0
    assert count(db, "SELECT count(*) FROM systems WHERE registered AND registered_on IS NULL") > 0
    assert count(db, "SELECT count(*) FROM systems WHERE NOT provides_data") > 0
    assert count(db, "SELECT count(*) FROM networks WHERE classified") > 0
    assert count(db, "SELECT count(*) FROM networks WHERE NOT classified AND NOT migrated") > 0
    assert count(db, "SELECT count(*) FROM networks WHERE migrated") > 0
    assert count(db, "SELECT count(*) FROM quality_checks WHERE issues_fixed < issues_found") > 0


def test_township_coverage_grows(county):
    db, _, _ = county
    cov = db.frame("SELECT unit_id, counted_on, villages, connected FROM village_coverage ORDER BY unit_id, counted_on")
    per_town = cov.group_by("unit_id").agg(
        never_down=(pl.col("connected").diff().fill_null(0) >= 0).all(),
        first=pl.col("connected").first(),
        last=pl.col("connected").last(),
        villages=pl.col("villages").last(),
    )
    assert per_town["never_down"].all()
    assert (per_town["last"] > per_town["first"]).all()
    assert (per_town["last"] == per_town["villages"]).any()  # full coverage reached somewhere
    assert (per_town["last"] < per_town["villages"]).any()  # and not everywhere


def test_freshness_at_a_past_month_end_is_realistic(county):
    # With the update history the freshness of 2024-06-30 is no longer judged from publish dates
    # (≈ 0.05 before): most items fresh, laggard units visibly less so, some units stale in some months.
    from data.storage.facts import load_facts
    from metrics.catalog import catalog_indicators

    db, _, _ = county
    facts = load_facts(db)
    rates = catalog_indicators(facts, dt.date(2024, 6, 30))["catalog_fresh_rate"].drop_nulls()
    assert 0.5 <= rates.mean() <= 0.95
    assert rates.min() < 0.8 and rates.max() == 1.0
    month_ends = [dt.date(y, m, 1) - dt.timedelta(days=1) for y in (2024, 2025) for m in range(2, 13)]
    worst = [catalog_indicators(facts, day)["catalog_fresh_rate"].min() for day in month_ends]
    assert min(worst) <= 0.6


def test_the_scorecard_tells_exemplary_units_from_laggards(county):
    from data.storage.facts import load_facts
    from metrics import scorecard

    db, _, _ = county
    card = scorecard.scorecard(load_facts(db), TODAY)
    assert len(card) == 70
    grades = set(card["grade"])
    assert {"优秀", "不合格"} <= grades
    assert card["composite"].max() - card["composite"].min() > 30


# -- clearing and guarding real data ----------------------------------------------------------


def test_clear_demo_removes_demo_rows_and_keeps_the_plan(tmp_path):
    db = get_db(tmp_path / "clear.duckdb")
    try:
        plan_before = {n: table(db, n) for n in ["units", "tasks", "milestones", "settings", "task_assignments",
                                                 "assignment_groups", "sla_rules", "unit_aliases"]}
        generate_demo(db, seed=5, today=TODAY)
        assert count(db, "SELECT count(*) FROM task_assignments") > len(plan_before["task_assignments"])
        deleted = clear_demo(db)
        assert deleted["share_requests"] == EXPECTED_REQUESTS
        assert deleted["units"] == 24
        for name in FACT_TABLES:
            assert count(db, f"SELECT count(*) FROM {name}") == 0, name
        for name, frame in plan_before.items():
            assert table(db, name).equals(frame), name
        assert count(db, "SELECT count(*) FROM units") == len(PLAN_UNITS)
        assert demo_info(db) is None
    finally:
        close_db(tmp_path / "clear.duckdb")


def test_real_data_is_not_overwritten_without_force(tmp_path):
    db = get_db(tmp_path / "real.duckdb")
    try:
        with db.transaction() as cur:
            cur.execute("INSERT INTO contacts VALUES (1, '经办人', '李四', '科员', '13900000000', DATE '2023-05-20')")
        with pytest.raises(DemoRefusedError):
            generate_demo(db, today=TODAY)
        assert count(db, "SELECT count(*) FROM contacts") == 1
        assert count(db, "SELECT count(*) FROM units WHERE origin = 'demo'") == 0
        # clear_demo on an unmarked database leaves real facts alone.
        clear_demo(db)
        assert count(db, "SELECT count(*) FROM contacts") == 1
        generate_demo(db, today=TODAY, force=True)
        assert count(db, "SELECT count(*) FROM contacts WHERE name = '李四'") == 0
        assert demo_info(db)["seed"] == 1
    finally:
        close_db(tmp_path / "real.duckdb")


@pytest.mark.parametrize(
    "kwargs",
    [{"scale": "planet"}, {"seed": -1}, {"multiplier": 0}, {"today": dt.date(2023, 5, 1)}],
)
def test_bad_arguments_are_refused(tmp_path, kwargs):
    db = get_db(tmp_path / "bad.duckdb")
    try:
        with pytest.raises(ValueError):
            generate_demo(db, **kwargs)
        assert demo_info(db) is None
    finally:
        close_db(tmp_path / "bad.duckdb")


# -- other dates and sizes --------------------------------------------------------------------


def test_an_earlier_today_dates_nothing_after_it(tmp_path):
    db = get_db(tmp_path / "early.duckdb")
    early = dt.date(2023, 9, 30)
    try:
        counts = generate_demo(db, seed=1, today=early)
        # 2023-04-01 … 2023-09-30 is 183 days: round(20000 * 183 / 365.25) = 10,021.
        assert counts["share_requests"] == 10_021
        for name, cols in DATE_COLUMNS.items():
            for col in cols:
                hi = db.scalar(f"SELECT max({col}) FROM {name}")
                assert hi is None or hi <= early, (name, col)
    finally:
        close_db(tmp_path / "early.duckdb")


def test_multiplier_adds_whole_counties(county, tmp_path):
    db = get_db(tmp_path / "double.duckdb")
    try:
        counts = generate_demo(db, seed=1, multiplier=2, today=TODAY)
        # The plan county (70 units) and 示例1县 (46 plan-like units + 24 demo units).
        assert count(db, "SELECT count(*) FROM units") == 140
        assert count(db, "SELECT count(*) FROM units WHERE region = '示例1县'") == 70
        assert count(db, "SELECT count(*) FROM units WHERE name = '示例1县公安局'") == 1
        assert counts["share_requests"] == 2 * EXPECTED_REQUESTS
        # Requests stay inside their county.
        assert count(db, """SELECT count(*) FROM share_requests r JOIN units a ON a.unit_id = r.requester_id
                            JOIN units b ON b.unit_id = r.provider_id
                            WHERE a.region IS DISTINCT FROM b.region""") == 0
        assert count(db, "SELECT count(*) FROM share_requests WHERE NOT regexp_matches(code, '^SQ\\d{4}\\d{3}\\d{6}$')") == 0
        _, single, _ = county
        assert 1.8 * single["catalog_items"] < counts["catalog_items"] < 2.2 * single["catalog_items"]
    finally:
        close_db(tmp_path / "double.duckdb")


def test_building_requests_in_chunks_changes_nothing(tmp_path, monkeypatch):
    import data.services.demo as demo

    whole = get_db(tmp_path / "whole.duckdb")
    chunked = get_db(tmp_path / "chunked.duckdb")
    try:
        generate_demo(whole, seed=4, multiplier=3, today=dt.date(2024, 3, 31))
        monkeypatch.setattr(demo, "REQUEST_CHUNK_COUNTIES", 2)  # chunks of 2 + 1 counties
        generate_demo(chunked, seed=4, multiplier=3, today=dt.date(2024, 3, 31))
        assert table(whole, "share_requests").equals(table(chunked, "share_requests"))
        assert count(chunked, "SELECT count(DISTINCT substr(code, 7, 3)) FROM share_requests") == 3
    finally:
        close_db(tmp_path / "whole.duckdb")
        close_db(tmp_path / "chunked.duckdb")


def test_county_generation_is_quick(county):
    _, _, elapsed = county
    assert elapsed < 20  # about 1 s on the 2-core machine; generous for a loaded CI box


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="province scale takes about a minute; RUN_SLOW=1")
def test_province_smoke(tmp_path):
    path = tmp_path / "province.duckdb"
    db = get_db(path)
    try:
        started = time.perf_counter()
        counts = generate_demo(db, scale="province", seed=1, today=TODAY)
        elapsed = time.perf_counter() - started
        db.checkpoint()
        size_mb = path.stat().st_size / 1e6
        print(f"\nprovince demo: {elapsed:.1f} s, {size_mb:.0f} MB, {counts}")
        assert elapsed < 120
        assert 6_500 <= count(db, "SELECT count(*) FROM units") <= 7_500
        assert 250_000 <= counts["catalog_items"] <= 350_000
        assert counts["catalog_updates"] < 40_000_000
        assert counts["share_requests"] == 100 * EXPECTED_REQUESTS
        assert count(db, "SELECT count(*) FROM share_requests WHERE replied_on < coalesce(forwarded_on, reviewed_on)") == 0
    finally:
        close_db(path)


def test_clear_demo_removes_the_supervision_records_made_over_demo_data(tmp_path):
    db = get_db(tmp_path / "sup.duckdb")
    try:
        generate_demo(db, seed=5, today=TODAY)
        unit = db.scalar("SELECT min(unit_id) FROM units WHERE origin = 'demo'")
        with db.transaction() as cur:
            cur.execute("INSERT INTO interviews (month, unit_id, held_on, attendees, reasons, recorded_by, recorded_at) "
                        "VALUES ('2024-06', ?, DATE '2024-07-05', '办公室', '红灯任务', 'office', now()::TIMESTAMP)",
                        [unit])
            cur.execute("INSERT INTO commitments (interview_id, indicator, target, due_on) "
                        "SELECT interview_id, 'report_rate', 0.9, DATE '2024-08-31' FROM interviews")
            cur.execute("INSERT INTO extension_requests (task_no, unit_id, reason, proposed_due, due_at_request, "
                        "requested_on, requested_by, status) VALUES (4, ?, '系统升级', DATE '2025-03-31', "
                        "DATE '2024-12-31', DATE '2024-12-01', 'u', '待审批')", [unit])
        deleted = clear_demo(db)
        assert (deleted["interviews"], deleted["commitments"], deleted["extension_requests"]) == (1, 1, 1)
        for name in ("interviews", "commitments", "extension_requests"):
            assert count(db, f"SELECT count(*) FROM {name}") == 0, name
    finally:
        close_db(tmp_path / "sup.duckdb")
