"""Task assignments: status and light from progress reports, and the task indicators."""

from __future__ import annotations

import polars as pl
import pytest
from kpi_fixtures import D, make_facts, task
from polars.testing import assert_frame_equal

from metrics.tasks import assignment_status, task_indicators

AS_OF = D(2024, 1, 20)
SETTINGS = {"plan_start_month": "2023-10"}  # reports required Oct, Nov, Dec 2023 and Jan 2024

TASKS = [task(1, D(2023, 12, 31)), task(2, D(2024, 2, 1)), task(3, D(2024, 6, 30)), task(4, D(2023, 11, 30)),
         task(5, None)]
ASSIGNMENTS = [{"task_no": t, "unit_id": u, "origin": "测试"}
               for t, u in [(1, 2), (2, 2), (3, 2), (5, 2), (1, 3), (3, 3), (4, 3), (5, 4)]]


def rep(task_no, unit, day, status, percent=None, completed=None):
    return {"task_no": task_no, "unit_id": unit, "reported_on": day, "status": status, "percent": percent,
            "completed_on": completed}


REPORTS = [
    # unit 2, task 1: completed Dec 28 (reported Jan 5): on time
    rep(1, 2, D(2023, 10, 15), "推进中", 30),
    rep(1, 2, D(2023, 11, 20), "推进中", 60),
    rep(1, 2, D(2024, 1, 5), "已完成", 100, D(2023, 12, 28)),
    # unit 2, task 2: an early 已完成 is overridden by the latest report (推进中), due in 12 days
    rep(2, 2, D(2023, 11, 5), "已完成", 100, D(2023, 11, 5)),
    rep(2, 2, D(2024, 1, 10), "推进中", 50),
    # unit 2, ongoing task 5: last report in December -> one month without: yellow
    rep(5, 2, D(2023, 12, 10), "推进中", 20),
    # unit 3, task 1: not completed by the due date; the completion reported after D is invisible
    rep(1, 3, D(2023, 12, 20), "推进中", 80),
    rep(1, 3, D(2024, 1, 25), "已完成", 100, D(2024, 1, 24)),
    # unit 3, task 3: completion date later than the report: capped at the report date
    rep(3, 3, D(2024, 1, 15), "已完成", 100, D(2024, 1, 31)),
    # unit 3, task 4: completed after its due date
    rep(4, 3, D(2023, 12, 5), "已完成", 100, D(2023, 12, 4)),
]


def facts():
    return make_facts(settings=SETTINGS, tasks=TASKS, assignments=ASSIGNMENTS, reports=REPORTS)


def test_assignment_status():
    expected = pl.DataFrame(
        [
            (1, 2, D(2023, 12, 31), False, "按期完成", "green", D(2023, 12, 28), D(2024, 1, 5), 100),
            (1, 3, D(2023, 12, 31), False, "逾期未完成", "red", None, D(2023, 12, 20), 80),
            (2, 2, D(2024, 2, 1), False, "推进中", "yellow", None, D(2024, 1, 10), 50),
            (3, 2, D(2024, 6, 30), False, "未启动", "green", None, None, None),
            (3, 3, D(2024, 6, 30), False, "按期完成", "green", D(2024, 1, 15), D(2024, 1, 15), 100),
            (4, 3, D(2023, 11, 30), False, "逾期完成", "yellow", D(2023, 12, 4), D(2023, 12, 5), 100),
            (5, 2, None, True, "持续推进", "yellow", None, D(2023, 12, 10), 20),
            # no report at all since October: red
            (5, 4, None, True, "持续推进", "red", None, None, None),
        ],
        schema={"task_no": pl.Int32, "unit_id": pl.Int64, "due_date": pl.Date, "is_ongoing": pl.Boolean,
                "status": pl.String, "light": pl.String, "completed_on": pl.Date, "last_report_on": pl.Date,
                "percent": pl.Int32},
        orient="row",
    )
    assert_frame_equal(assignment_status(facts(), AS_OF), expected)


def test_task_indicators():
    expected = pl.DataFrame(
        {
            "unit_id": [1, 2, 3, 4, 5],
            # unit 2: task 1 on time, nothing else judged -> 1; unit 3: task 3 on time of tasks 1, 3, 4 -> 1/3;
            # unit 4 has only an ongoing task -> n/a
            "task_ontime_rate": [None, 1.0, 1 / 3, None, None],
            "tasks_overdue_open": [None, 0, 1, 1, None],
            # unit 2: task 1 Oct–Dec (done in Dec) 2 of 3; task 2 Oct–Jan: Nov, Jan 2 of 4; task 3 0 of 4;
            #         task 5 Dec 1 of 4 -> 5/15
            # unit 3: task 1 Dec 1 of 4; task 3 Jan 1 of 4 (done in Jan); task 4 Dec 1 of 3 (done Dec) -> 3/11
            # unit 4: 0 of 4
            "report_rate": [None, 5 / 15, 3 / 11, 0.0, None],
        },
        schema_overrides={"unit_id": pl.Int64, "tasks_overdue_open": pl.Int64},
    )
    assert_frame_equal(task_indicators(facts(), AS_OF), expected)


@pytest.mark.parametrize(
    ("reported_on", "light"),
    [(D(2024, 1, 2), "green"), (D(2023, 12, 31), "yellow"), (D(2023, 11, 30), "red")],
)
def test_ongoing_task_lights(reported_on, light):
    f = make_facts(settings=SETTINGS, tasks=[task(5, None)], assignments=[{"task_no": 5, "unit_id": 2, "origin": "x"}],
                   reports=[rep(5, 2, reported_on, "推进中")])
    assert assignment_status(f, AS_OF)["light"].to_list() == [light]


@pytest.mark.parametrize(
    ("due", "status", "light"),
    [
        (D(2024, 2, 4), "推进中", "yellow"),   # due 15 days after D: inside the window
        (D(2024, 2, 5), "推进中", "green"),    # 16 days: outside
        (AS_OF, "推进中", "yellow"),            # due on D itself: not yet overdue
        (D(2024, 1, 19), "逾期未完成", "red"),
    ],
)
def test_yellow_window(due, status, light):
    f = make_facts(tasks=[task(2, due)], assignments=[{"task_no": 2, "unit_id": 2, "origin": "x"}],
                   reports=[rep(2, 2, D(2024, 1, 2), "推进中")])
    out = assignment_status(f, AS_OF)
    assert out.select("status", "light").rows() == [(status, light)]


def test_report_saying_not_started_is_not_started():
    f = make_facts(tasks=[task(3, D(2024, 6, 30))], assignments=[{"task_no": 3, "unit_id": 2, "origin": "x"}],
                   reports=[rep(3, 2, D(2024, 1, 2), "未启动")])
    assert assignment_status(f, AS_OF)["status"].to_list() == ["未启动"]
