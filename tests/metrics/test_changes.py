"""metrics.changes: the earliest day two versions of the facts can differ, and that it is sound (no
figure before that day differs) on random changes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from metrics.changes import EVERY_DAY, changed_rows, earliest_change
from metrics.scorecard import scorecard
from metrics.trend import month_end
from tests.metrics.kpi_fixtures import D, frame, item, make_facts, request, task

BASE = dict(
    requests=[request("R1", D(2023, 6, 5), reviewed_on=D(2023, 6, 6), review_result="通过",
                      forwarded_on=D(2023, 6, 6), replied_on=D(2023, 6, 20), reply_result="同意"),
              request("R2", D(2023, 9, 4), reviewed_on=D(2023, 9, 5), review_result="通过",
                      forwarded_on=D(2023, 9, 5))],
    catalog=[item("C1", 3, D(2023, 7, 1)), item("C2", 2, D(2023, 8, 15), update_cycle="每季度")],
    tasks=[task(1, D(2023, 12, 31))],
    assignments=[{"task_no": 1, "unit_id": 3, "origin": "方案"}],
)


def facts(**changes):
    rows = {k: list(v) for k, v in BASE.items()}
    for name, value in changes.items():
        rows[name] = value
    return make_facts(**rows)


def test_the_same_facts_have_no_change():
    assert earliest_change(facts(), facts()) is None


def test_a_new_request_changes_figures_from_its_received_day():
    new = facts(requests=[*BASE["requests"], request("R3", D(2023, 11, 2))])
    assert earliest_change(facts(), new) == D(2023, 11, 2)


def test_a_moved_date_counts_from_the_earlier_of_old_and_new():
    moved = [BASE["requests"][0], {**BASE["requests"][1], "received_on": D(2023, 10, 9)}]
    assert earliest_change(facts(), facts(requests=moved)) == D(2023, 9, 4)
    assert earliest_change(facts(requests=moved), facts()) == D(2023, 9, 4)


def test_a_later_reply_counts_from_the_request_s_first_date():
    answered = [BASE["requests"][0], {**BASE["requests"][1], "replied_on": D(2023, 9, 20), "reply_result": "同意"}]
    assert earliest_change(facts(), facts(requests=answered)) == D(2023, 9, 4)


def test_undated_tables_and_settings_change_every_day():
    assert earliest_change(facts(), facts(assignments=[])) == EVERY_DAY
    assert earliest_change(facts(), dataclasses.replace(facts(), settings={**facts().settings, "red_light_penalty": 7})) \
        == EVERY_DAY
    renamed = facts().units.with_columns(pl.when(pl.col("unit_id") == 3).then(pl.lit("县民政局（改）"))
                                         .otherwise(pl.col("name")).alias("name"))
    assert earliest_change(facts(), dataclasses.replace(facts(), units=renamed)) == EVERY_DAY


def test_a_dated_row_without_a_date_changes_every_day():
    assert earliest_change(facts(), facts(catalog=[*BASE["catalog"], item("C3", 4, None)])) == EVERY_DAY


def test_changed_rows_are_those_on_either_side_only():
    old = frame("requests", [request("A", D(2023, 6, 1)), request("B", D(2023, 6, 2))])
    new = frame("requests", [request("B", D(2023, 6, 2)), request("C", D(2023, 6, 3))])
    assert {"A", "C"} <= set(changed_rows(old, new)["code"].to_list())
    assert changed_rows(old, old).height == 0
    # A few rows in another order: compared place by place, more rows than changed (never fewer).
    assert set(changed_rows(old, old.reverse())["code"]) == {"A", "B"}
    # Large tables in another order: matched as sets.
    many = frame("requests", [request(f"R{i:05d}", D(2023, 6, 1) + dt.timedelta(days=i % 300)) for i in range(3000)])
    assert changed_rows(many, many.reverse()).height == 0
    moved = many.with_columns(pl.when(pl.col("code") == "R00007").then(pl.lit(D(2024, 1, 2)))
                              .otherwise(pl.col("received_on")).alias("received_on"))
    assert changed_rows(many, moved.reverse())["code"].to_list() == ["R00007", "R00007"]
    # The same rows, some twice, in another order: which rows changed cannot be told.
    assert changed_rows(many, pl.concat([many, many.head(100)]).sample(fraction=1.0, seed=1, shuffle=True)) is None


# -- soundness: no figure before the earliest changed day differs ------------------------------
DAYS = st.integers(0, 500).map(lambda n: D(2023, 5, 1) + dt.timedelta(days=n))


@st.composite
def edits(draw):
    """A random change of the facts: a request added, moved or answered, an item published or
    updated, a progress report or a contact."""
    kind = draw(st.sampled_from(["add request", "move request", "answer", "publish", "update item", "report",
                                 "contact"]))
    day = draw(DAYS)
    rows = {k: list(v) for k, v in BASE.items()}
    if kind == "add request":
        rows["requests"].append(request("R9", day, provider=draw(st.sampled_from([2, 3, 5]))))
    elif kind == "move request":
        rows["requests"][0] = {**rows["requests"][0], "received_on": day,
                               "reviewed_on": day + dt.timedelta(days=1), "forwarded_on": day + dt.timedelta(days=1),
                               "replied_on": day + dt.timedelta(days=20)}
    elif kind == "answer":
        rows["requests"][1] = {**rows["requests"][1], "replied_on": max(day, D(2023, 9, 5)),
                               "reply_result": draw(st.sampled_from(["同意", "不同意"]))}
    elif kind == "publish":
        rows["catalog"].append(item("C9", draw(st.sampled_from([2, 3, 4])), day))
    elif kind == "update item":
        rows["catalog"][1] = {**rows["catalog"][1], "last_updated_on": max(day, D(2023, 8, 15))}
    elif kind == "report":
        rows["reports"] = [{"task_no": 1, "unit_id": 3, "reported_on": day, "status": "已完成", "percent": 100,
                            "completed_on": day, "note": "完成"}]
    else:
        rows["contacts"] = [{"unit_id": 3, "role": r, "name": "张三", "title": "科长", "phone": "13700000000",
                             "named_on": day} for r in ("分管领导", "经办人")]
    return make_facts(**rows)


@settings(max_examples=40, deadline=None)
@given(new=edits())
def test_no_month_end_before_the_earliest_change_differs(new):
    old = facts()
    earliest = earliest_change(old, new)
    assert earliest is not None
    day = month_end(D(2023, 5, 1))
    while day < earliest and day <= D(2024, 12, 31):
        assert_frame_equal(scorecard(old, day), scorecard(new, day))
        day = month_end(day + dt.timedelta(days=1))
