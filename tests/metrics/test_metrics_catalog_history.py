"""Freshness as of a past D reads the catalog update history (catalog_updates), not only the latest
update: hand-computed items, and a property that updates after D change nothing as of D."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_fixtures import D, item, make_facts

from metrics.catalog import catalog_indicators, catalog_items_as_of
from metrics.facts import CATALOG_UPDATES_SCHEMA

# M1, monthly (31 days), unit 2: updated on the 1st of Feb–Jun 2023, then a lapse, then 2023-12-01
# (its last_updated_on, the latest).
M1_UPDATES = [D(2023, m, 1) for m in range(2, 7)] + [D(2023, 12, 1)]
ITEMS = [
    item("M1", 2, D(2023, 1, 1), last_updated_on=D(2023, 12, 1)),
    # M2, quarterly (92 days), unit 3: no history rows (a database from before the history), only
    # last_updated_on 2023-05-15: the engine falls back to it once it is on or before D.
    item("M2", 3, D(2023, 1, 1), update_cycle="每季度", last_updated_on=D(2023, 5, 15)),
]


def _facts(items=ITEMS, updates=None):
    updates = [("M1", day) for day in M1_UPDATES] if updates is None else updates
    history = pl.DataFrame(updates, schema=CATALOG_UPDATES_SCHEMA, orient="row")
    return dataclasses.replace(make_facts(catalog=items), catalog_updates=history)


def _items(facts, as_of):
    return {r["code"]: (r["last_touched_on"], r["age_days"], r["fresh"])
            for r in catalog_items_as_of(facts, as_of).iter_rows(named=True)}


def _fresh_rates(facts, as_of):
    return dict(catalog_indicators(facts, as_of).select("unit_id", "catalog_fresh_rate").rows())


def test_monthly_history_fresh_at_a_past_date():
    # 2023-06-30: M1's latest update ≤ D is 2023-06-01, 29 days ≤ 31: fresh. (Before the history
    # the engine saw only last_updated_on 2023-12-01 > D and judged from the publish date: 180 days,
    # stale.) M2: 2023-05-15, 46 days ≤ 92: fresh.
    facts = _facts()
    assert _items(facts, D(2023, 6, 30)) == {
        "M1": (D(2023, 6, 1), 29, True),
        "M2": (D(2023, 5, 15), 46, True),
    }
    assert _fresh_rates(facts, D(2023, 6, 30))[2] == 1.0


def test_monthly_history_stale_after_a_gap():
    # 2023-09-30: M1 has had no update since 2023-06-01, 121 days > 31: stale; M2 2023-05-15,
    # 138 days > 92: stale.
    facts = _facts()
    assert _items(facts, D(2023, 9, 30)) == {
        "M1": (D(2023, 6, 1), 121, False),
        "M2": (D(2023, 5, 15), 138, False),
    }
    rates = _fresh_rates(facts, D(2023, 9, 30))
    assert (rates[2], rates[3]) == (0.0, 0.0)
    # 2023-12-31: M1 updated 2023-12-01, 30 days: fresh again.
    assert _items(facts, D(2023, 12, 31))["M1"] == (D(2023, 12, 1), 30, True)


def test_before_any_update_the_publish_date_counts():
    # 2023-01-20: no update yet for either item: both judged from 2023-01-01, 19 days.
    assert _items(_facts(), D(2023, 1, 20)) == {
        "M1": (D(2023, 1, 1), 19, True),
        "M2": (D(2023, 1, 1), 19, True),
    }
    # 2023-03-15 for M2 (last_updated_on 2023-05-15 is after D, no history): 73 days ≤ 92: fresh.
    assert _items(_facts(), D(2023, 3, 15))["M2"] == (D(2023, 1, 1), 73, True)


def test_without_history_rows_the_old_behaviour_holds():
    # An empty history (hand-built fixtures, or a database before migration 2 with no back-fill):
    # M1 as of 2023-06-30 is judged from its publish date again.
    assert _items(_facts(updates=[]), D(2023, 6, 30))["M1"] == (D(2023, 1, 1), 180, False)


# -- property: an update dated after D changes nothing as of D ---------------------------------

START = D(2023, 1, 1)
CODES = ["P1", "P2", "P3", "P4"]
CYCLES = ["实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期"]
offsets = st.integers(min_value=0, max_value=700)


@st.composite
def scenario(draw):
    items = [
        item(code, draw(st.sampled_from([2, 3])), START + dt.timedelta(days=draw(offsets)),
             update_cycle=draw(st.sampled_from(CYCLES)),
             last_updated_on=draw(st.one_of(st.none(), offsets.map(lambda n: START + dt.timedelta(days=n)))))
        for code in CODES
    ]
    history = draw(st.lists(st.tuples(st.sampled_from(CODES), offsets.map(lambda n: START + dt.timedelta(days=n))),
                            max_size=12, unique=True))
    as_of = START + dt.timedelta(days=draw(offsets))
    later = draw(st.lists(st.tuples(st.sampled_from(CODES), st.integers(1, 400)), min_size=1, max_size=4))
    return items, history, as_of, [(code, as_of + dt.timedelta(days=n)) for code, n in later]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_updates_after_d_do_not_change_the_rate_as_of_d(case):
    items, history, as_of, later = case
    before = _fresh_rates(_facts(items, history), as_of)
    after = _fresh_rates(_facts(items, list(dict.fromkeys(history + later))), as_of)
    assert before == after
