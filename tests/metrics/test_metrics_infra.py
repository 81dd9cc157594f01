"""Contacts, systems, networks, security, quality and village coverage, as of 2024-01-31."""

from __future__ import annotations

import polars as pl
from kpi_fixtures import D, make_facts
from polars.testing import assert_frame_equal

from metrics.infra import infra_indicators
from metrics.trace import rows_behind

AS_OF = D(2024, 1, 31)


def contact(unit, role, day):
    return {"unit_id": unit, "role": role, "name": "张三", "named_on": day}


def system(unit, name, classified=False, registered=False, registered_on=None, connected=False, connected_on=None):
    return {"unit_id": unit, "name": name, "classified": classified, "registered": registered,
            "registered_on": registered_on, "connected": connected, "connected_on": connected_on}


def check(code, unit, day, scores, found=None, fixed=None):
    c, a, u, t = scores
    return {"catalog_code": code, "unit_id": unit, "checked_on": day, "completeness": c, "accuracy": a,
            "usability": u, "timeliness": t, "issues_found": found, "issues_fixed": fixed}


def assessment(unit, day, a, b, c):
    return {"unit_id": unit, "assessed_on": day, "desensitization": a, "encryption": b, "access_auth": c}


FACTS = dict(
    contacts=[
        contact(1, "分管领导", D(2023, 5, 20)), contact(1, "经办人", D(2023, 5, 20)),
        contact(2, "分管领导", D(2023, 6, 1)), contact(2, "经办人", D(2023, 6, 12)),   # later one after Jun 10
        contact(3, "分管领导", D(2023, 6, 1)),                                           # no handler
        contact(4, "分管领导", D(2023, 6, 1)), contact(4, "经办人", D(2024, 2, 5)),     # handler after D
    ],
    systems=[
        system(2, "S1", registered=True, registered_on=D(2023, 7, 1), connected=True, connected_on=D(2024, 3, 1)),
        system(2, "S2", registered=True),                    # undated: counts at every D
        system(2, "S3", classified=True, registered=False),  # classified: left out
        system(3, "S4", classified=True),
    ],
    networks=[
        {"unit_id": 2, "name": "N1", "classified": False, "migrated": True, "migrated_on": D(2023, 12, 1)},
        {"unit_id": 2, "name": "N2", "classified": False, "migrated": False},
        {"unit_id": 4, "name": "N3", "classified": True, "migrated": False},
    ],
    security=[
        assessment(2, D(2023, 6, 1), True, False, False),
        assessment(2, D(2023, 12, 1), True, True, False),   # the latest by D: 2 of 3
        assessment(2, D(2024, 2, 10), True, True, True),    # after D
    ],
    quality=[
        check("C1", 2, D(2023, 1, 31), (10, 10, 10, 10), 9, 0),    # 365 days before D: outside the window
        check("C1", 2, D(2023, 2, 1), (80, 90, 70, 60), 4, 2),     # 364 days: inside, mean 75
        check("C2", 2, D(2024, 1, 31), (90, 90, 100, 100), 0, 0),  # on D, mean 95
        check("C2", 2, D(2024, 2, 1), (0, 0, 0, 0), 5, 0),         # after D
        check("C3", 3, D(2023, 6, 1), (60, 60, 60, 60), 0, 0),     # no issues found: fix rate n/a
    ],
    coverage=[
        {"unit_id": 4, "counted_on": D(2023, 6, 30), "villages": 20, "connected": 10},
        {"unit_id": 4, "counted_on": D(2023, 12, 31), "villages": 20, "connected": 18},
        {"unit_id": 4, "counted_on": D(2024, 3, 31), "villages": 20, "connected": 20},
    ],
)


def test_infra_indicators():
    facts = make_facts(**FACTS)
    expected = pl.DataFrame(
        {
            "unit_id": [1, 2, 3, 4, 5],
            "contacts_named": [1, 1, 0, 0, 0],
            "systems_registered_rate": [None, 1.0, None, None, None],   # S1 dated, S2 undated
            "systems_connected_rate": [None, 0.0, None, None, None],    # S1 connected only after D
            "networks_migrated_rate": [None, 0.5, None, None, None],    # N3 classified -> unit 4 n/a
            # a missing assessment scores 0 (未评估), not n/a
            "security_rate": [0.0, 2 / 3, 0.0, 0.0, 0.0],
            "quality_score": [None, 85.0, 60.0, None, None],            # (75 + 95) / 2
            "quality_fix_rate": [None, 0.5, None, None, None],          # 2 fixed of 4 found
            "village_coverage_rate": [None, None, None, 0.9, None],     # 18 of 20 (Dec count)
            "contacts_named_on": [D(2023, 5, 20), D(2023, 6, 12), None, None, None],
            "contacts_on_time": [True, False, None, None, None],        # vs 2023-06-10
            "security_assessed": [False, True, False, False, False],
        },
        schema_overrides={"unit_id": pl.Int64, "contacts_named": pl.Int8},
    )
    assert_frame_equal(infra_indicators(facts, AS_OF), expected)


def test_missing_assessment_is_shown_as_not_assessed():
    rows = rows_behind(make_facts(**FACTS), AS_OF, 3, "security_rate")
    assert rows.rows() == [(None, "未评估", "未评估", "未评估", "否")]


def test_latest_assessment_behind_security_rate():
    rows = rows_behind(make_facts(**FACTS), AS_OF, 2, "security_rate")
    assert rows.rows() == [(D(2023, 12, 1), "已落实", "已落实", "未落实", "否")]
