"""The supervision loop in the engine: extension effects, commitment states, the 督查 proposal,
authorisation states and the 督办单 items, each against hand-computed fixtures."""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.facts import EXTENSIONS_SCHEMA
from metrics.scorecard import indicators
from metrics.tasks import assignment_status, extension_marks, extensions_per_unit, task_indicators
from tests.metrics.kpi_fixtures import make_facts, task

D = dt.date

# Task 1 due 2023-06-30, assigned to unit 2 (县公安局) and unit 3 (县民政局).
TASKS = [task(1, D(2023, 6, 30))]
ASSIGN = [{"task_no": 1, "unit_id": 2, "origin": "测试"}, {"task_no": 1, "unit_id": 3, "origin": "测试"}]
REPORTS = [
    # unit 2: 推进中 on 6-20, completed on 8-20 (after the plan's date, before the extended one)
    {"task_no": 1, "unit_id": 2, "reported_on": D(2023, 6, 20), "status": "推进中", "percent": 50},
    {"task_no": 1, "unit_id": 2, "reported_on": D(2023, 8, 20), "status": "已完成", "percent": 100,
     "completed_on": D(2023, 8, 20)},
    # unit 3: completed on time
    {"task_no": 1, "unit_id": 3, "reported_on": D(2023, 6, 25), "status": "已完成", "percent": 100,
     "completed_on": D(2023, 6, 25)},
]
# Unit 2's request approved on 2023-06-25: due 2023-08-31.
APPROVED = [{"task_no": 1, "unit_id": 2, "approved_due": D(2023, 8, 31), "decided_on": D(2023, 6, 25)}]


def ext_facts(extensions=(), settings=None):
    facts = make_facts(settings=settings, tasks=TASKS, assignments=ASSIGN, reports=REPORTS)
    frame = pl.DataFrame(list(extensions), schema=EXTENSIONS_SCHEMA, orient="row") if extensions \
        else pl.DataFrame(schema=EXTENSIONS_SCHEMA)
    from dataclasses import replace

    return replace(facts, extensions=frame)


def _row(facts, as_of, unit=2):
    return assignment_status(facts, as_of).filter(pl.col("unit_id") == unit).row(0, named=True)


def test_approved_extension_replaces_the_due_date_for_status_light_and_rate():
    facts = ext_facts(APPROVED)
    # Before the decision (6-24) the plan's date holds: 推进中, due in 6 days -> yellow.
    before = _row(facts, D(2023, 6, 24))
    assert (before["due_date"], before["status"], before["light"]) == (D(2023, 6, 30), "推进中", "yellow")
    # 7-10: without the extension this would be 逾期未完成 / red; with it 推进中, 52 days left -> green.
    mid = _row(facts, D(2023, 7, 10))
    assert (mid["due_date"], mid["status"], mid["light"]) == (D(2023, 8, 31), "推进中", "green")
    # 9-01: completed 8-20 <= 8-31: 按期完成, so task_ontime_rate = 1/1 for unit 2.
    after = _row(facts, D(2023, 9, 1))
    assert (after["status"], after["light"]) == ("按期完成", "green")
    rates = task_indicators(facts, D(2023, 9, 1)).filter(pl.col("unit_id") == 2).row(0, named=True)
    assert rates["task_ontime_rate"] == 1.0 and rates["tasks_overdue_open"] == 0
    # unit 3 is untouched
    assert _row(facts, D(2023, 7, 10), unit=3)["due_date"] == D(2023, 6, 30)


def test_no_extension_or_a_refused_one_leaves_the_plan_date():
    # A refused request never reaches the engine (data.facts loads approved ones only).
    facts = ext_facts()
    mid = _row(facts, D(2023, 7, 10))
    assert (mid["status"], mid["light"]) == ("逾期未完成", "red")
    after = _row(facts, D(2023, 9, 1))
    assert (after["status"], after["light"]) == ("逾期完成", "yellow")
    assert task_indicators(facts, D(2023, 9, 1)).filter(pl.col("unit_id") == 2)["task_ontime_rate"][0] == 0.0


def test_setting_off_ignores_approved_extensions_but_still_marks_them():
    facts = ext_facts(APPROVED, settings={"extension_applies": False})
    mid = _row(facts, D(2023, 7, 10))
    assert (mid["due_date"], mid["status"], mid["light"]) == (D(2023, 6, 30), "逾期未完成", "red")
    assert task_indicators(facts, D(2023, 9, 1)).filter(pl.col("unit_id") == 2)["task_ontime_rate"][0] == 0.0
    marks = extension_marks(facts, D(2023, 7, 10)).row(0, named=True)
    assert marks == {"task_no": 1, "unit_id": 2, "original_due": D(2023, 6, 30), "extended_due": D(2023, 8, 31),
                     "extensions": 1, "applied": False}


def test_extension_marks_and_counts_follow_the_as_of_date():
    facts = ext_facts(APPROVED)
    assert extension_marks(facts, D(2023, 6, 24)).is_empty()
    marks = extension_marks(facts, D(2023, 7, 1)).row(0, named=True)
    assert (marks["original_due"], marks["extended_due"], marks["applied"]) == (D(2023, 6, 30), D(2023, 8, 31), True)
    counts = dict(extensions_per_unit(facts, D(2023, 7, 1)).iter_rows())
    assert counts[2] == 1 and counts[3] == 0 and counts[1] == 0
    # the scorecard's red-light count follows the extended date too
    assert indicators(facts, D(2023, 7, 10)).filter(pl.col("unit_id") == 2)["tasks_overdue_open"][0] == 0
