"""The working-day calendar: kpis.md examples, office overrides, the 2027 fallback, covered years."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import polars as pl
import pytest

from data.storage.calendar import (
    calendar_table,
    covered_years,
    package_years,
    seed_calendar,
    working_calendar,
)
from data.storage.plan import load_plan
from metrics.workdays import add_workday_deadline, workdays_between

D = dt.date

# kpis.md, "Working days": (start, N working days, deadline)
KPIS_EXAMPLES = [
    (D(2023, 9, 28), 3, D(2023, 10, 9)),   # Thu; Sep 29–Oct 6 off; Oct 7 and 8 are make-up days
    (D(2023, 9, 30), 3, D(2023, 10, 9)),   # Sat, a holiday itself
    (D(2024, 2, 4), 3, D(2024, 2, 7)),     # Sun, a make-up working day
    (D(2024, 2, 8), 3, D(2024, 2, 19)),    # Thu; the make-up Sunday 2024-02-18 counts
    (D(2024, 9, 27), 10, D(2024, 10, 16)),  # forwarded; 10-working-day reply deadline
]


def _deadlines(calendar: pl.DataFrame, cases) -> list:
    frame = pl.DataFrame(
        {"start": [c[0] for c in cases], "n": [c[1] for c in cases]},
        schema={"start": pl.Date, "n": pl.Int32},
    ).with_row_index()
    out = add_workday_deadline(frame, "start", "n", calendar, "deadline").sort("index")
    return out["deadline"].to_list()


def test_kpis_examples_in_one_vectorised_call(db):
    calendar = working_calendar(calendar_table(db))
    assert _deadlines(calendar, KPIS_EXAMPLES) == [c[2] for c in KPIS_EXAMPLES]


@pytest.mark.parametrize(("start", "n", "expected"), KPIS_EXAMPLES)
def test_each_kpis_example(db, start, n, expected):
    calendar = working_calendar(calendar_table(db))
    assert _deadlines(calendar, [(start, n, expected)]) == [expected]


def test_make_up_days_are_working_days_in_the_table(db):
    rows = dict(
        db.rows(
            "SELECT day, is_workday FROM calendar_days WHERE day IN "
            "(DATE '2023-04-23', DATE '2023-10-07', DATE '2023-10-08', DATE '2024-02-04', DATE '2024-02-18', "
            "DATE '2023-10-02', DATE '2024-02-12')"
        )
    )
    assert rows == {
        D(2023, 4, 23): True, D(2023, 10, 7): True, D(2023, 10, 8): True, D(2024, 2, 4): True,
        D(2024, 2, 18): True, D(2023, 10, 2): False, D(2024, 2, 12): False,
    }
    assert chinese_calendar.is_workday(D(2023, 10, 7)) is True


def test_table_matches_the_package_for_every_covered_day(db):
    table = calendar_table(db)
    years = package_years()
    assert table["day"].min() == D(years[0], 1, 1)
    assert table["day"].max() == D(years[-1], 12, 31)
    sample = table.filter(pl.col("day").dt.year() == 2024)
    assert sample.height == 366
    assert sample["is_workday"].to_list() == [chinese_calendar.is_workday(d) for d in sample["day"].to_list()]
    assert sample["is_workday"].sum() == 251  # 2024: 366 days, 251 official working days


def test_an_office_row_overrides_the_package(db):
    # The office marks Monday 2023-10-09 as a day off (a local holiday, say).
    with db.transaction() as cur:
        cur.execute(
            "UPDATE calendar_days SET is_workday = FALSE, source = 'office', note = '测试：本地放假' "
            "WHERE day = DATE '2023-10-09'"
        )
    calendar = working_calendar(calendar_table(db))
    assert _deadlines(calendar, [(D(2023, 9, 28), 3, None)]) == [D(2023, 10, 10)]
    day = calendar.filter(pl.col("day") == D(2023, 10, 9)).row(0, named=True)
    assert day["is_workday"] is False and day["source"] == "office"


def test_reseeding_never_overwrites_office_rows(db):
    with db.transaction() as cur:
        cur.execute("UPDATE calendar_days SET is_workday = FALSE, source = 'office' WHERE day = DATE '2024-02-04'")
        seed_calendar(cur)
    load_plan(db)
    assert db.rows("SELECT is_workday, source FROM calendar_days WHERE day = DATE '2024-02-04'") == [(False, "office")]
    assert db.scalar("SELECT count(*) FROM calendar_days WHERE day = DATE '2024-02-04'") == 1


def test_2027_falls_back_to_monday_to_friday_and_is_flagged(db):
    calendar = working_calendar(calendar_table(db))
    week = calendar.filter(pl.col("day").is_between(D(2027, 1, 1), D(2027, 1, 7))).sort("day")
    # 2027-01-01 is a Friday: the fallback cannot know it is New Year's Day, hence the flag.
    assert week["is_workday"].to_list() == [True, False, False, True, True, True, True]
    assert set(week["source"].to_list()) == {"fallback"}
    assert calendar.filter(pl.col("day").dt.year() == 2026)["source"].unique().to_list() == ["chinese_calendar"]
    # Friday 2027-01-01 + 3 working days: Mon 4, Tue 5, Wed 6.
    assert _deadlines(calendar, [(D(2027, 1, 1), 3, None)]) == [D(2027, 1, 6)]


def test_office_rows_for_2027_end_the_fallback(db):
    assert 2027 not in covered_years(db)
    assert 2027 not in covered_years(db)
    days = pl.date_range(D(2027, 1, 1), D(2027, 12, 31), "1d", eager=True)
    rows = [(d, d.weekday() < 5 and d != D(2027, 1, 1), "office", None) for d in days.to_list()]
    with db.transaction() as cur:
        cur.executemany("INSERT INTO calendar_days VALUES (?, ?, ?, ?)", rows)
    assert 2027 in covered_years(db)
    calendar = working_calendar(calendar_table(db))
    assert calendar.filter(pl.col("day") == D(2027, 1, 1))["is_workday"].item() is False
    assert calendar.filter(pl.col("day").dt.year() == 2027)["source"].unique().to_list() == ["office"]


def test_covered_years(db):
    years = covered_years(db)
    assert years == list(package_years())
    assert years[0] == 2004 and years[-1] == 2026
    assert 2023 in years and 2003 not in years


def test_workdays_between(db):
    calendar = working_calendar(calendar_table(db))
    frame = pl.DataFrame(
        {"a": [D(2023, 10, 9), D(2023, 9, 28), D(2023, 10, 9)], "b": [D(2023, 10, 12), D(2023, 10, 9), D(2023, 10, 1)]}
    )
    out = workdays_between(frame, "a", "b", calendar, "n")
    # Oct 10, 11, 12 -> 3; Sep 28 -> Oct 9: Oct 7, 8, 9 -> 3; end before start -> 0
    assert out["n"].to_list() == [3, 3, 0]
