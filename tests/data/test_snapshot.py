"""data.services.snapshot: the shared per-date results and the month-end history give exactly what the
engine computes directly, a committed write is seen by the next read, and one version computes once."""

from __future__ import annotations

import datetime as dt
import threading

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from data.services import overview, requests, scorecards
from data.services import snapshot as snap
from data.storage.facts import load_facts
from data.storage.scope import Scope
from metrics import scorecard as m_scorecard
from metrics.catalog import catalog_items_as_of
from metrics.milestones import milestone_status
from metrics.monthly import warning_list
from metrics.points import unit_points
from metrics.requests import request_steps
from metrics.tasks import assignment_status
from metrics.trend import change_since_last_month, monthly_trend
from tests.pages import small_county as sc

ADMIN = Scope(**sc.ADMIN)
FIRST, LAST = dt.date(2023, 5, 1), dt.date(2024, 3, 31)
days = st.integers(min_value=0, max_value=(LAST - FIRST).days).map(lambda n: FIRST + dt.timedelta(days=n))


@pytest.fixture
def county(db):
    sc.fill(db)
    return db


def _step_rates(steps: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """The on-time rates counted from the steps themselves, row by row: the oracle of count_rates."""
    judged = steps.filter(pl.col("status") != "pending")
    aggs = [pl.len().alias("judged"), *[(pl.col("status") == s).sum().alias(s) for s in ("on_time", "late", "overdue")]]
    out = judged.group_by(by).agg(aggs) if by else judged.select(aggs)
    return out.with_columns(rate=pl.when(pl.col("judged") > 0).then(pl.col("on_time") / pl.col("judged")))


def assert_snapshot_is_direct(db, day: dt.date) -> None:
    facts = load_facts(db)
    part = snap.snapshot(db, day)
    assert_frame_equal(part.indicators, m_scorecard.indicators(facts, day))
    assert_frame_equal(part.scorecard, m_scorecard.scorecard(facts, day))
    assert_frame_equal(part.points, unit_points(facts, day))
    assert_frame_equal(part.assignments, assignment_status(facts, day))
    assert_frame_equal(part.warnings, warning_list(facts, day))
    assert_frame_equal(part.milestone_status, milestone_status(facts, day))
    assert_frame_equal(snap.month_end_history(db, day), monthly_trend(facts, day))
    # The county and provider rates from the step counts are those of the steps themselves.
    steps = request_steps(facts, day)
    assert_frame_equal(part.step_counts, steps.group_by("step", "provider_id", "status").agg(pl.len().alias("n")),
                       check_row_order=False)
    assert_frame_equal(part.warnings, warning_list(facts, day, steps=steps))
    # The lists collect only their rows from the step plan: the same rows, in the same order.
    assert_frame_equal(part.overdue_steps, steps.filter(pl.col("status") == "overdue"))
    for unit in (sc.WEIBAN, sc.ZHENGFUBAN):
        assert_frame_equal(part.unit_steps(unit), steps.filter(pl.any_horizontal(
            [pl.col(c) == unit for c in ("requester_id", "provider_id", "responsible_id")])))
    items = catalog_items_as_of(facts, day)
    assert part.catalog_counts == {"published": items.height, "mounted": int(items["mounted"].sum())}
    assert_frame_equal(requests.county_request_rates(ADMIN, day, db=db).sort("step"),
                       pl.DataFrame({"step": ["review", "reply"]}).join(
                           _step_rates(steps, "step"), on="step", how="left")
                       .with_columns(pl.col("judged", "on_time", "late", "overdue").fill_null(0)).sort("step"))
    direct = _step_rates(steps.filter(pl.col("step") == "reply"), "provider_id")
    assert_frame_equal(requests.provider_rates(ADMIN, day, db=db).select(
        pl.col("unit_id").alias("provider_id"), "judged", "on_time", "late", "overdue", "rate"),
        direct.with_columns(pl.col("provider_id").cast(pl.Int64)), check_row_order=False)
    # The change since last month from the history equals the engine's own.
    own = change_since_last_month(facts, day).select("unit_id", "composite_change", "rank_change")
    from_history = change_since_last_month(facts, day, card=lambda d: snap.card_at(db, d)).select(
        "unit_id", "composite_change", "rank_change")
    assert_frame_equal(from_history, own)
    # The 通报 draft from the shared parts is the one computed from the facts alone.
    from data.services.bulletin_store import generated_bulletin
    from reports.bulletin import bulletin_text

    month = day.strftime("%Y-%m")
    assert generated_bulletin(db, month) == bulletin_text(facts, month)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=days)

def test_the_snapshot_and_the_history_are_the_engine_figures_at_any_date(county, day):
    assert_snapshot_is_direct(county, day)


WRITE_KINDS = ["request", "catalog_update", "report", "contact"]


def write(db, kind: str, day: dt.date, n: int) -> None:
    """A committed write of one row dated `day` (a request, a catalog update, a progress report or
    a named contact): something the scorecard at and after `day` reads."""
    with db.transaction() as cur:
        if kind == "request":
            cur.execute("INSERT OR IGNORE INTO share_requests (code, requester_id, provider_id, catalog_code, purpose, "
                        "received_on, reviewed_on, review_result, forwarded_on) VALUES (?, ?, ?, 'C1', '核验', ?, ?, "
                        "'通过', ?)", [f"W{n}", sc.ZHENGFUBAN, sc.WEIBAN, day, day + dt.timedelta(days=9),
                                      day + dt.timedelta(days=9)])
        elif kind == "catalog_update":
            cur.execute("INSERT OR IGNORE INTO catalog_updates (code, updated_on) VALUES ('C1', ?)", [day])
        elif kind == "report":
            cur.execute("INSERT OR IGNORE INTO progress_reports (task_no, unit_id, reported_on, status, percent, completed_on, "
                        "note, submitted_by, verified) VALUES (2, ?, ?, '已完成', 100, ?, '完成', 'office', TRUE)",
                        [sc.ZHENGFUBAN, day, day])
        else:
            cur.execute("INSERT OR IGNORE INTO contacts (unit_id, role, name, title, phone, named_on) VALUES (?, '经办人', "
                        "'孙丽', '科员', '13700000004', ?)", [sc.ZHENGFUBAN, day])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=days, written=days, kind=st.sampled_from(WRITE_KINDS), n=st.integers(0, 10**9))
def test_after_a_write_in_an_earlier_month_the_snapshot_and_history_follow(county, day, written, kind, n):
    # Read everything first, so stale results would be there to be served.
    snap.snapshot(county, day).compute_all()
    snap.month_end_history(county, day)
    write(county, kind, min(written, day), n)  # dated on or before D: it changes figures at D or before
    assert_snapshot_is_direct(county, day)


def test_a_committed_write_is_seen_by_the_next_read(county):
    day = dt.date(2023, 10, 31)
    before = snap.snapshot(county, day).scorecard
    zfb = pl.col("unit_id") == sc.ZHENGFUBAN
    assert before.filter(zfb)["contacts_named"].item() == 0
    old_history = snap.month_end_history(county, day)
    write(county, "contact", dt.date(2023, 8, 1), 1)  # 县政府办 names its 经办人 in August
    after = snap.snapshot(county, day).scorecard
    assert after.filter(zfb)["contacts_named"].item() == 1
    history = snap.month_end_history(county, day).filter(zfb).select("month", "contacts_named")
    assert dict(history.rows())["2023-08"] == 1 and dict(history.rows())["2023-07"] == 0
    assert old_history.filter(zfb, pl.col("month") == "2023-08")["contacts_named"].item() == 0
    # ...and the views read it too.
    assert scorecards.unit_scorecard(ADMIN, day, sc.ZHENGFUBAN, db=county)["contacts_named"] == 1


def _month_ends_computed(monkeypatch) -> list[dt.date]:
    """The days metrics.scorecard.indicators is computed at from now on (each a scorecard computed)."""
    calls: list[dt.date] = []
    real = m_scorecard.indicators

    def counted(facts, as_of, status=None):
        calls.append(as_of)
        return real(facts, as_of, status)

    monkeypatch.setattr(m_scorecard, "indicators", counted)
    return calls


def test_reading_twice_at_the_same_version_computes_once(county, monkeypatch):
    calls = _month_ends_computed(monkeypatch)
    day = dt.date(2023, 10, 31)
    # One render of 单位考评 reads the scorecard, the indicators, the points and the ranking.
    scorecards.ranking(ADMIN, day, db=county)
    scorecards.unit_scorecard(ADMIN, day, sc.WEIBAN, db=county)
    scorecards.indicator_rows(ADMIN, day, sc.WEIBAN, db=county)
    scorecards.unit_trend(ADMIN, day, sc.WEIBAN, db=county)
    overview.milestones(ADMIN, day, db=county)
    assert calls.count(day) == 1
    first = len(calls)
    # Everything again, and the county trend: nothing computed anew.
    scorecards.ranking(ADMIN, day, db=county)
    scorecards.unit_trend(ADMIN, day, sc.WEIBAN, db=county)
    overview.county_trend(ADMIN, day, db=county)
    assert len(calls) == first
    # A new date computes that date and no month already in the history.
    scorecards.unit_trend(ADMIN, dt.date(2023, 11, 30), sc.WEIBAN, db=county)
    assert calls[first:] == [dt.date(2023, 11, 30)]
    # A write: the next read computes again.
    computed = len(calls)
    write(county, "contact", dt.date(2023, 8, 1), 1)
    scorecards.ranking(ADMIN, day, db=county)
    assert sorted(calls[computed:]) == [dt.date(2023, 9, 30), day]  # D and the previous month end


def test_sessions_asking_at_once_share_one_computation(county, monkeypatch):
    calls = []
    started = threading.Event()
    real = m_scorecard.indicators

    def slow(facts, as_of, status=None):
        calls.append(as_of)
        started.set()
        threading.Event().wait(0.2)  # long enough for every other session to ask meanwhile
        return real(facts, as_of, status)

    monkeypatch.setattr(m_scorecard, "indicators", slow)
    day = dt.date(2023, 9, 30)
    results = []
    threads = [threading.Thread(target=lambda: results.append(snap.snapshot(county, day).scorecard))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [day]
    assert len(results) == 6 and all(r is results[0] for r in results)


def test_the_cache_is_bounded_by_size_not_by_count():
    memo = snap.SizedMemo(max_bytes=10_000)
    small = pl.DataFrame({"x": list(range(100))})  # 800 bytes
    for i in range(40):
        memo.get(("p", 1, i), lambda: small)
    assert memo.bytes <= 10_000 and len(memo) == 10_000 // small.estimated_size()
    assert ("p", 1, 39) in memo and ("p", 1, 0) not in memo  # the least recently used went first
    big = pl.DataFrame({"x": list(range(1000))})  # 8,000 bytes: more than a quarter of the bound
    assert memo.get(("p", 1, "big"), lambda: big) is big
    assert memo.bytes <= 10_000 and ("p", 1, 39) in memo  # it pushed none of the small ones out...
    assert memo.get(("p", 1, "big"), lambda: None) is big  # ...and is kept apart, the latest one only
    other = pl.DataFrame({"x": list(range(1001))})
    memo.get(("p", 1, "big2"), lambda: other)
    assert ("p", 1, "big") not in memo and ("p", 1, "big2") in memo
    # A newer data version of the same file drops the older version's entries.
    memo.get(("p", 2, 0), lambda: small)
    assert len(memo) == 1 and ("p", 2, 0) in memo


def test_a_failed_computation_is_not_kept(county):
    memo = snap.SizedMemo(max_bytes=10_000)

    def boom():
        raise RuntimeError("disk")

    with pytest.raises(RuntimeError):
        memo.get(("p", 1, "x"), boom)
    assert memo.get(("p", 1, "x"), lambda: 5) == 5


def test_the_warm_up_fills_todays_snapshot_and_history(county, monkeypatch):
    day = dt.date(2023, 10, 31)
    assert snap.warm_up(county, day)
    calls = []
    monkeypatch.setattr(m_scorecard, "indicators", lambda *a, **k: calls.append(a) or None)
    scorecards.unit_trend(ADMIN, day, sc.WEIBAN, db=county)  # 单位考评's line: nothing left to compute
    overview.milestones(ADMIN, day, db=county)
    assert calls == []


def test_the_warm_up_keeps_every_month_end_since_the_plan_s_start(county, monkeypatch):
    assert snap.warm_up(county, dt.date(2024, 6, 15))
    calls = _month_ends_computed(monkeypatch)
    # A date 13 months earlier: its whole trend is already in the history.
    scorecards.unit_trend(ADMIN, dt.date(2023, 5, 31), sc.WEIBAN, db=county)
    overview.county_trend(ADMIN, dt.date(2023, 12, 31), db=county)
    assert calls == []


def test_the_warm_up_stops_on_a_closed_database(db_path):
    from data.storage.connect import close_db, get_db

    database = get_db(db_path)
    close_db(db_path)
    assert snap.warm_up(database, dt.date(2023, 10, 31)) is False


# -- invalidation by month: a write recomputes the month-ends it can change, and nothing more ----

@pytest.mark.parametrize("kind", WRITE_KINDS)
def test_a_write_dated_in_a_month_recomputes_that_month_end_and_later_ones_only(county, monkeypatch, kind):
    day = dt.date(2024, 3, 31)
    before = snap.month_end_history(county, day)
    calls = _month_ends_computed(monkeypatch)
    write(county, kind, dt.date(2023, 12, 12), 1)
    after = snap.month_end_history(county, day)
    assert sorted(set(calls)) == [dt.date(2023, 12, 31), dt.date(2024, 1, 31), dt.date(2024, 2, 29), day]
    assert_frame_equal(after, monthly_trend(load_facts(county), day))
    # The months before the write are the very frames computed before it.
    assert_frame_equal(after.filter(pl.col("month") < "2023-12"), before.filter(pl.col("month") < "2023-12"))


def test_a_write_of_an_undated_table_recomputes_every_month_end(county, monkeypatch):
    day = dt.date(2024, 3, 31)
    snap.month_end_history(county, day)
    calls = _month_ends_computed(monkeypatch)
    with county.transaction() as cur:
        cur.execute("UPDATE settings SET value = '7' WHERE key = 'red_light_penalty'")
    assert_frame_equal(snap.month_end_history(county, day), monthly_trend(load_facts(county), day))
    assert len(set(calls)) == 11  # 2023-05 … 2024-03: every point of the trend since the plan's start


def test_a_write_after_the_date_read_changes_nothing_there(county, monkeypatch):
    day = dt.date(2023, 10, 31)
    board = scorecards.ranking(ADMIN, day, db=county)
    calls = _month_ends_computed(monkeypatch)
    write(county, "request", dt.date(2024, 2, 1), 1)
    assert_frame_equal(scorecards.ranking(ADMIN, day, db=county), board)
    assert day not in calls


WRITES = st.lists(st.tuples(st.sampled_from([*WRITE_KINDS, "move request"]), days), min_size=1, max_size=4)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=days, writes=WRITES)
def test_after_any_writes_the_history_is_the_direct_computation(county, day, writes):
    # Reads between writes leave entries of several versions in the history to be served or not.
    for n, (kind, written) in enumerate(writes):
        snap.month_end_history(county, day)
        if kind == "move request":  # an existing request moved to another day: old and new dates count
            with county.transaction() as cur:
                cur.execute("UPDATE share_requests SET received_on = ? WHERE code = (SELECT min(code) "
                            "FROM share_requests)", [written])
        else:
            write(county, kind, written, n)
    assert_frame_equal(snap.month_end_history(county, day), monthly_trend(load_facts(county), day))
