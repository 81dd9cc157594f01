"""Request timeliness: the working-day examples of kpis.md, step status, and the three rates."""

from __future__ import annotations

import polars as pl
from kpi_fixtures import PLAN_RULE, D, make_facts, request
from polars.testing import assert_frame_equal

from metrics.requests import request_indicators, request_steps

STEP_SCHEMA = {
    "code": pl.String, "requester_id": pl.Int64, "provider_id": pl.Int64, "step": pl.String,
    "responsible_id": pl.Int64, "started_on": pl.Date, "deadline": pl.Date, "done_on": pl.Date,
    "status": pl.String, "workdays_overdue": pl.Int32, "rule": pl.String,
}


def ordered(steps: pl.DataFrame) -> pl.DataFrame:
    """request_steps gives reviews then replies; the expectations read by request, review first."""
    return steps.sort("code", "step", descending=[False, True])


def steps_frame(rows):
    """rows: (code, requester, provider, step, responsible, started, deadline, done, status, overdue)."""
    return pl.DataFrame([(*r, PLAN_RULE) for r in rows], schema=STEP_SCHEMA, orient="row")


# National Day 2023: Sep 29 – Oct 6 off, Oct 7 (Sat) and Oct 8 (Sun) are make-up working days.
NATIONAL_DAY = [
    # received Thu 2023-09-28 -> review due Oct 9 (Oct 7, 8, 9); reviewed and forwarded Oct 9,
    # reply due 10 working days after Oct 9 = Oct 23, replied that day: both on time.
    request("R1", D(2023, 9, 28), reviewed_on=D(2023, 10, 9), review_result="通过",
            forwarded_on=D(2023, 10, 9), replied_on=D(2023, 10, 23), reply_result="同意"),
    # received Sat 2023-09-30 (a holiday) -> also due Oct 9; reviewed Oct 10: late by 1 working day.
    # forwarded Oct 10 -> reply due Oct 24; no reply by Oct 27: overdue by 3 (Oct 25, 26, 27).
    request("R2", D(2023, 9, 30), reviewed_on=D(2023, 10, 10), review_result="通过",
            forwarded_on=D(2023, 10, 10)),
    # received Oct 25, not reviewed: due Oct 30 (26, 27, 30), pending on Oct 27; no reply step.
    request("R3", D(2023, 10, 25)),
    # received on the make-up Sunday Oct 8 -> due Oct 11; returned at review: no reply step.
    request("R4", D(2023, 10, 8), reviewed_on=D(2023, 10, 9), review_result="退回"),
    # review passed Oct 10, never forwarded: the reply clock starts at the review (due Oct 24);
    # the reply of Oct 30 is after D, so as of Oct 27 it is overdue by 3.
    request("R5", D(2023, 10, 9), reviewed_on=D(2023, 10, 10), review_result="通过",
            replied_on=D(2023, 10, 30), reply_result="同意"),
    # provider 2 refuses early (on time, due Oct 31) with a basis but no reason.
    request("R6", D(2023, 10, 16), provider=2, reviewed_on=D(2023, 10, 17), review_result="通过",
            forwarded_on=D(2023, 10, 17), replied_on=D(2023, 10, 20), reply_result="不同意",
            legal_basis="《中华人民共和国数据安全法》第三十八条"),
    # received on D; its review (Oct 30) is after D and invisible: pending, due Nov 1.
    request("R7", D(2023, 10, 27), reviewed_on=D(2023, 10, 30), review_result="通过"),
    # received after D: does not exist yet.
    request("R8", D(2023, 10, 30)),
    # received Mon Oct 2, a public holiday: the count starts from the next working day -> Oct 9.
    request("R9", D(2023, 10, 2), requester=4, reviewed_on=D(2023, 10, 9), review_result="退回"),
]


def test_national_day_2023_steps():
    facts = make_facts(requests=NATIONAL_DAY)
    expected = steps_frame([
        ("R1", 2, 3, "review", 1, D(2023, 9, 28), D(2023, 10, 9), D(2023, 10, 9), "on_time", 0),
        ("R1", 2, 3, "reply", 3, D(2023, 10, 9), D(2023, 10, 23), D(2023, 10, 23), "on_time", 0),
        ("R2", 2, 3, "review", 1, D(2023, 9, 30), D(2023, 10, 9), D(2023, 10, 10), "late", 1),
        ("R2", 2, 3, "reply", 3, D(2023, 10, 10), D(2023, 10, 24), None, "overdue", 3),
        ("R3", 2, 3, "review", 1, D(2023, 10, 25), D(2023, 10, 30), None, "pending", 0),
        ("R4", 2, 3, "review", 1, D(2023, 10, 8), D(2023, 10, 11), D(2023, 10, 9), "on_time", 0),
        ("R5", 2, 3, "review", 1, D(2023, 10, 9), D(2023, 10, 12), D(2023, 10, 10), "on_time", 0),
        ("R5", 2, 3, "reply", 3, D(2023, 10, 10), D(2023, 10, 24), None, "overdue", 3),
        ("R6", 2, 2, "review", 1, D(2023, 10, 16), D(2023, 10, 19), D(2023, 10, 17), "on_time", 0),
        ("R6", 2, 2, "reply", 2, D(2023, 10, 17), D(2023, 10, 31), D(2023, 10, 20), "on_time", 0),
        ("R7", 2, 3, "review", 1, D(2023, 10, 27), D(2023, 11, 1), None, "pending", 0),
        ("R9", 4, 3, "review", 1, D(2023, 10, 2), D(2023, 10, 9), D(2023, 10, 9), "on_time", 0),
    ])
    assert_frame_equal(ordered(request_steps(facts, D(2023, 10, 27))), expected)


def test_national_day_2023_rates():
    facts = make_facts(requests=NATIONAL_DAY)
    expected = pl.DataFrame(
        {
            "unit_id": [1, 2, 3, 4, 5],
            # office: on time R1 R4 R5 R6 R9, late R2; R3 and R7 pending are left out -> 5/6
            "review_ontime_rate": [5 / 6, None, None, None, None],
            # provider 3: R1 on time, R2 and R5 overdue -> 1/3; provider 2: R6 on time -> 1
            "reply_ontime_rate": [None, 1.0, 1 / 3, None, None],
            # provider 2's one refusal lacks a reason -> 0; no refusals elsewhere -> n/a (not 100)
            "refusal_basis_rate": [None, 0.0, None, None, None],
        },
        schema={"unit_id": pl.Int64, "review_ontime_rate": pl.Float64, "reply_ontime_rate": pl.Float64,
                "refusal_basis_rate": pl.Float64},
    )
    assert_frame_equal(request_indicators(facts, D(2023, 10, 27)), expected)


def test_spring_festival_2024_make_up_days():
    facts = make_facts(requests=[
        # received on the make-up Sunday 2024-02-04 -> due Feb 7; reviewed Feb 8: late by 1.
        request("S1", D(2024, 2, 4), reviewed_on=D(2024, 2, 8), review_result="退回"),
        # received Thu Feb 8 -> due Feb 19 (Feb 9, the make-up Sunday Feb 18, Feb 19);
        # reviewed and forwarded on Feb 18 itself: on time; reply due Mar 1, pending on Feb 29.
        request("S2", D(2024, 2, 8), reviewed_on=D(2024, 2, 18), review_result="通过",
                forwarded_on=D(2024, 2, 18)),
        # reviewed Feb 20: one working day late.
        request("S3", D(2024, 2, 8), reviewed_on=D(2024, 2, 20), review_result="退回"),
    ])
    expected = steps_frame([
        ("S1", 2, 3, "review", 1, D(2024, 2, 4), D(2024, 2, 7), D(2024, 2, 8), "late", 1),
        ("S2", 2, 3, "review", 1, D(2024, 2, 8), D(2024, 2, 19), D(2024, 2, 18), "on_time", 0),
        ("S2", 2, 3, "reply", 3, D(2024, 2, 18), D(2024, 3, 1), None, "pending", 0),
        ("S3", 2, 3, "review", 1, D(2024, 2, 8), D(2024, 2, 19), D(2024, 2, 20), "late", 1),
    ])
    assert_frame_equal(ordered(request_steps(facts, D(2024, 2, 29))), expected)


def test_reply_deadline_across_national_day_2024():
    # forwarded Fri 2024-09-27 -> 10 working days: Sep 29 (make-up), Sep 30, Oct 8–12 (Oct 12 make-up),
    # Oct 14, 15, 16 -> due 2024-10-16.
    facts = make_facts(requests=[
        request("F1", D(2024, 9, 24), reviewed_on=D(2024, 9, 26), review_result="通过",
                forwarded_on=D(2024, 9, 27), replied_on=D(2024, 10, 16), reply_result="同意"),
        request("F2", D(2024, 9, 24), reviewed_on=D(2024, 9, 26), review_result="通过",
                forwarded_on=D(2024, 9, 27), replied_on=D(2024, 10, 17), reply_result="同意"),
    ])
    replies = ordered(request_steps(facts, D(2024, 10, 31)).filter(pl.col("step") == "reply"))
    expected = steps_frame([
        ("F1", 2, 3, "reply", 3, D(2024, 9, 27), D(2024, 10, 16), D(2024, 10, 16), "on_time", 0),
        ("F2", 2, 3, "reply", 3, D(2024, 9, 27), D(2024, 10, 16), D(2024, 10, 17), "late", 1),
    ])
    assert_frame_equal(replies, expected)


def test_rule_in_force_on_received_date():
    new_rule = "测试新规：初审5个工作日、答复15个工作日"
    facts = make_facts(
        sla=[
            {"effective_from": D(2000, 1, 1), "review_days": 3, "reply_days": 10, "name": PLAN_RULE},
            {"effective_from": D(2025, 8, 1), "review_days": 5, "reply_days": 15, "name": new_rule},
        ],
        requests=[
            # Thu 2025-07-31 under the old rule: Aug 1, 4, 5 -> Aug 5
            request("A", D(2025, 7, 31)),
            # Fri 2025-08-01 under the new rule: Aug 4, 5, 6, 7, 8 -> Aug 8
            request("B", D(2025, 8, 1)),
        ],
    )
    steps = ordered(request_steps(facts, D(2025, 8, 1))).select("code", "deadline", "rule")
    expected = pl.DataFrame({"code": ["A", "B"], "deadline": [D(2025, 8, 5), D(2025, 8, 8)],
                             "rule": [PLAN_RULE, new_rule]})
    assert_frame_equal(steps, expected)


def test_partial_refusal_needs_basis_and_reason():
    facts = make_facts(requests=[
        request("P1", D(2024, 3, 1), reviewed_on=D(2024, 3, 4), review_result="通过", forwarded_on=D(2024, 3, 4),
                replied_on=D(2024, 3, 5), reply_result="部分同意", legal_basis="依据", refusal_reason="理由"),
        request("P2", D(2024, 3, 1), reviewed_on=D(2024, 3, 4), review_result="通过", forwarded_on=D(2024, 3, 4),
                replied_on=D(2024, 3, 5), reply_result="不同意", legal_basis="  ", refusal_reason="理由"),
        request("P3", D(2024, 3, 1), reviewed_on=D(2024, 3, 4), review_result="通过", forwarded_on=D(2024, 3, 4),
                replied_on=D(2024, 3, 5), reply_result="同意"),
        # a refusal after D does not exist yet
        request("P4", D(2024, 3, 1), reviewed_on=D(2024, 3, 4), review_result="通过", forwarded_on=D(2024, 3, 4),
                replied_on=D(2024, 4, 1), reply_result="不同意"),
    ])
    rates = request_indicators(facts, D(2024, 3, 31)).filter(pl.col("unit_id") == 3)
    # P1 complete, P2 blank basis -> 1 of 2
    assert rates["refusal_basis_rate"].to_list() == [0.5]


def test_workday_index_agrees_with_metrics_workdays():
    """The engine's gather-based deadlines equal metrics.workdays' join-based ones on every day of
    2023–2026 (National Day, Spring Festival, make-up days) for 1–15 working days."""
    from kpi_fixtures import real_calendar

    from metrics.workdays import WorkdayIndex, add_workday_deadline, workdays_between

    cal = real_calendar()
    days = pl.date_range(D(2023, 1, 1), D(2026, 12, 31), "1d", eager=True)
    grid = pl.DataFrame({"day": days}).join(pl.DataFrame({"n": list(range(1, 16))}, schema={"n": pl.Int32}),
                                           how="cross")
    index = WorkdayIndex(cal)
    ours = grid.with_columns(deadline=index.nth_after(pl.col("day"), pl.col("n")))
    theirs = add_workday_deadline(grid, "day", "n", cal, "deadline")
    assert_frame_equal(ours.sort("day", "n"), theirs.sort("day", "n"))
    gaps_ours = ours.with_columns(gap=index.between(pl.col("day"), pl.col("deadline")))
    gaps_theirs = workdays_between(theirs, "day", "deadline", cal, "gap")
    assert_frame_equal(gaps_ours.sort("day", "n"), gaps_theirs.sort("day", "n"), check_dtypes=False)
    assert (gaps_ours["gap"] == gaps_ours["n"]).all()
