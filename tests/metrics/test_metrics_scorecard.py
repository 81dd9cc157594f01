"""Composite (renormalised weights), grade, rank with ties, suggestions, and the exact CSV."""

from __future__ import annotations

import polars as pl
import pytest
from kpi_fixtures import D, item, make_facts, request, task
from polars.testing import assert_frame_equal

from metrics.registry import CSV_COLUMNS, OFFICE
from metrics.scorecard import SCORECARD_COLUMNS, round_half_away, scorecard
from reports.csv_export import scorecard_csv

AS_OF = D(2023, 12, 31)
# Three weights keep the composites hand-computable; n/a ones are left out and the rest scaled to 100.
SETTINGS = {"weights": {"contacts_named": 40, "share_rate": 30, "reply_ontime_rate": 30},
            "plan_start_month": "2023-11"}

UNITS = [
    {"unit_id": 1, "name": OFFICE, "kind": "县直部门"},
    {"unit_id": 2, "name": "县公安局", "kind": "县直部门"},
    {"unit_id": 3, "name": "县民政局", "kind": "县直部门"},
    {"unit_id": 4, "name": "县财政局", "kind": "县直部门"},
    {"unit_id": 5, "name": "县司法局", "kind": "县直部门"},
    {"unit_id": 6, "name": "冰溪街道", "kind": "乡镇（街道）"},
    {"unit_id": 7, "name": "三清乡", "kind": "乡镇（街道）"},
    {"unit_id": 8, "name": "县供电公司", "kind": "公共服务企业"},
]


def named(unit):
    return [{"unit_id": unit, "role": r, "name": "李四", "named_on": D(2023, 6, 1)} for r in ("分管领导", "经办人")]


def facts():
    published = D(2023, 12, 15)  # monthly items, 16 days old: fresh; none mounted
    unshared = {"share_type": "不予共享", "nonshare_basis": "涉及个人隐私"}
    return make_facts(
        settings=SETTINGS,
        units=UNITS,
        contacts=[*named(1), *named(2), *named(4), *named(6), *named(7)],
        catalog=[
            item("A1", 2, published), item("A2", 2, published, **unshared),   # share 1/2
            item("B1", 3, published),                                          # share 1
            item("D1", 4, published), item("D2", 4, published, **unshared),   # share 1/2
            item("F1", 6, published),                                          # share 1
        ],
        # reviewed Dec 4 (due Dec 6) and replied Dec 5 by unit 3: both on time
        requests=[request("Q1", D(2023, 12, 1), requester=2, provider=3, reviewed_on=D(2023, 12, 4),
                          review_result="通过", forwarded_on=D(2023, 12, 4), replied_on=D(2023, 12, 5),
                          reply_result="同意")],
        # two tasks due Nov 30, never reported by units 3 and 4: two red lights each
        tasks=[task(1, D(2023, 11, 30)), task(2, D(2023, 11, 30))],
        assignments=[{"task_no": t, "unit_id": u, "origin": "x"} for t in (1, 2) for u in (3, 4)],
    )


def expected_frame() -> pl.DataFrame:
    cols = {c: [None] * 8 for c in SCORECARD_COLUMNS}
    order = [1, 2, 4, 3, 5, 6, 7, 8]  # 县直部门 by rank (ties by unit_id), then townships, then companies
    by_id = {u["unit_id"]: u for u in UNITS}
    cols["unit_id"] = order
    cols["unit"] = [by_id[i]["name"] for i in order]
    cols["unit_kind"] = [by_id[i]["kind"] for i in order]
    cols["contacts_named"] = [1, 1, 1, 0, 0, 1, 1, 0]
    cols["catalog_published"] = [0, 1, 1, 1, 0, 1, 0, 0]
    cols["catalog_metadata_rate"] = [None, 1.0, 1.0, 1.0, None, 1.0, None, None]
    cols["catalog_mounted_rate"] = [None, 0.0, 0.0, 0.0, None, 0.0, None, None]
    cols["catalog_fresh_rate"] = [None, 1.0, 1.0, 1.0, None, 1.0, None, None]
    cols["share_rate"] = [None, 0.5, 0.5, 1.0, None, 1.0, None, None]
    cols["nonshare_basis_rate"] = [None, 1.0, 1.0, None, None, None, None, None]
    cols["review_ontime_rate"] = [1.0, None, None, None, None, None, None, None]  # the office only
    cols["reply_ontime_rate"] = [None, None, None, 1.0, None, None, None, None]
    cols["task_ontime_rate"] = [None, None, 0.0, 0.0, None, None, None, None]
    cols["tasks_overdue_open"] = [None, None, 2, 2, None, None, None, None]
    cols["report_rate"] = [None, None, 0.0, 0.0, None, None, None, None]      # 0 of Nov+Dec × 2 tasks
    cols["security_rate"] = [0.0] * 8                                         # nobody assessed: 0
    cols["composite"] = [
        100.0,                       # office: only contacts applies -> 40/40
        (40 * 100 + 30 * 50) / 70,   # 78.571…: reply n/a, weights scaled from 70 to 100
        (40 * 100 + 30 * 50) / 70,   # the same figure: shares rank 2
        (0 + 30 * 100 + 30 * 100) / 100,  # 60
        0.0,                         # only contacts applies, not named
        100.0,                       # township: contacts and share_rate
        100.0,                       # township without catalog: contacts only
        0.0,
    ]
    cols["grade"] = ["优秀", "良好", "良好", "合格", "不合格", "优秀", "优秀", "不合格"]
    cols["rank"] = [1, 2, 2, 4, 5, 1, 1, 1]
    cols["red_lights"] = [0, 0, 2, 2, 0, 0, 0, 0]
    # The office gets no suggestion from its own bulletin. 县直部门 (5 units) praises its top 3
    # ranked without the office (units 2, 4, 3) unless 不合格 or >= 2 red lights (then 约谈 wins:
    # units 4 and 3); townships (2 units) and companies (1) are too few for an automatic 表扬.
    cols["suggestion"] = [None, "表扬", "约谈", "约谈", "约谈", None, None, "约谈"]
    schema = {c: pl.Float64 for c in SCORECARD_COLUMNS}
    schema.update({"unit_id": pl.Int64, "unit": pl.String, "unit_kind": pl.String, "contacts_named": pl.Int8,
                   "catalog_published": pl.Int8, "tasks_overdue_open": pl.Int64, "grade": pl.String,
                   "rank": pl.Int64, "red_lights": pl.Int64, "suggestion": pl.String})
    return pl.DataFrame(cols, schema=schema)


def test_scorecard_frame():
    assert_frame_equal(scorecard(facts(), AS_OF), expected_frame())


def csv_line(unit, kind, **values):
    return ",".join([unit, kind, *[values.get(c, "") for c in CSV_COLUMNS[2:]]])


def test_scorecard_csv_exact():
    cat_half = dict(catalog_published="1", catalog_metadata_rate="1.0000", catalog_mounted_rate="0.0000",
                    catalog_fresh_rate="1.0000", share_rate="0.5000", nonshare_basis_rate="1.0000")
    cat_full = dict(cat_half, share_rate="1.0000", nonshare_basis_rate="")
    tasks_red = dict(task_ontime_rate="0.0000", tasks_overdue_open="2", report_rate="0.0000")
    expected = "\n".join([
        ",".join(CSV_COLUMNS),
        csv_line(OFFICE, "县直部门", contacts_named="1", catalog_published="0", review_ontime_rate="1.0000",
                 security_rate="0.0000", composite="100.00", grade="优秀", rank="1"),
        csv_line("县公安局", "县直部门", contacts_named="1", **cat_half, security_rate="0.0000",
                 composite="78.57", grade="良好", rank="2"),
        csv_line("县财政局", "县直部门", contacts_named="1", **cat_half, **tasks_red, security_rate="0.0000",
                 composite="78.57", grade="良好", rank="2"),
        csv_line("县民政局", "县直部门", contacts_named="0", **cat_full, reply_ontime_rate="1.0000", **tasks_red,
                 security_rate="0.0000", composite="60.00", grade="合格", rank="4"),
        csv_line("县司法局", "县直部门", contacts_named="0", catalog_published="0", security_rate="0.0000",
                 composite="0.00", grade="不合格", rank="5"),
        csv_line("冰溪街道", "乡镇（街道）", contacts_named="1", **cat_full, security_rate="0.0000",
                 composite="100.00", grade="优秀", rank="1"),
        csv_line("三清乡", "乡镇（街道）", contacts_named="1", catalog_published="0", security_rate="0.0000",
                 composite="100.00", grade="优秀", rank="1"),
        csv_line("县供电公司", "公共服务企业", contacts_named="0", catalog_published="0", security_rate="0.0000",
                 composite="0.00", grade="不合格", rank="1"),
    ]) + "\n"
    assert scorecard_csv(scorecard(facts(), AS_OF)) == expected


def test_default_weights_renormalised_for_a_company():
    # A company with contacts named and nothing else: contacts 5 (100), catalog_published 5 (0) and
    # security 5 (0, not assessed) apply; everything else is n/a -> 500 / 15 = 33.33.
    f = make_facts(units=[{"unit_id": 8, "name": "县供电公司", "kind": "公共服务企业"}], contacts=named(8))
    card = scorecard(f, AS_OF)
    assert card["composite"].to_list() == [pytest.approx(500 / 15)]
    assert card["grade"].to_list() == ["不合格"]


def test_red_light_penalty_floor():
    # 6 red lights: 100 − 20 × 6 floors at 0; only that KPI weighted.
    f = make_facts(settings={"weights": {"tasks_overdue_open": 100}},
                   tasks=[task(n, D(2023, 6, 30)) for n in range(1, 7)],
                   assignments=[{"task_no": n, "unit_id": 2, "origin": "x"} for n in range(1, 7)])
    card = scorecard(f, AS_OF).filter(pl.col("unit_id") == 2)
    assert card.select("tasks_overdue_open", "composite").rows() == [(6, 0.0)]


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [(0.125, 2, 0.13), (2.675, 2, 2.68), (0.00005, 4, 0.0001), (89.994999, 2, 89.99), (78.5714, 2, 78.57),
     (0.33335, 4, 0.3334)],
)
def test_round_half_away_from_zero(value, places, expected):
    out = pl.select(round_half_away(pl.lit(value), places)).item()
    assert out == pytest.approx(expected, abs=1e-12)


def test_grade_reads_the_displayed_composite():
    # 89.996 is shown as 90.00, so it is graded 优秀 (decision in docs/kpi-decisions.md).
    from metrics.scorecard import grade_expr

    f = make_facts()
    out = pl.DataFrame({"c": [89.996, 89.994, None]}).select(grade_expr(f, round_half_away(pl.col("c"), 2)))
    assert out.to_series().to_list() == ["优秀", "良好", None]


HOSTILE_UNITS = ["=1+1", "=cmd|'/Ccalc'!A0", "-1+1", "+1+1", "@A1"]


def test_scorecard_csv_neutralises_unit_names_and_never_numbers():
    units = [{"unit_id": i + 1, "name": name, "kind": "县直部门"} for i, name in enumerate(HOSTILE_UNITS)]
    text = scorecard_csv(scorecard(make_facts(units=units, contacts=named(1)), AS_OF))
    rows = [line.split(",") for line in text.splitlines()[1:]]
    by_unit = {r[0]: r for r in rows}
    assert set(by_unit) == {"'" + name for name in HOSTILE_UNITS}
    for row in rows:  # every figure (0/1 flags, rates, composite, rank) is written as it is
        assert all(not cell.startswith("'") for cell in row[1:])
    assert by_unit["'=1+1"][CSV_COLUMNS.index("contacts_named")] == "1"

# -- suggestions: the office and small kinds ------------------------------------------------------

def test_office_never_interviewed_even_when_failing():
    import dataclasses

    f = facts()
    f = dataclasses.replace(f, contacts=f.contacts.filter(pl.col("unit_id") != 1))  # office: 0 -> 不合格
    card = scorecard(f, AS_OF).filter(pl.col("unit_id") == 1)
    assert card["grade"].to_list() == ["不合格"]
    assert card["suggestion"].to_list() == [None]


def test_praise_needs_a_kind_of_at_least_praise_min_units():
    f = facts()
    f.settings["praise_min_units"] = 2  # the two townships now form a ranking that counts
    card = scorecard(f, AS_OF)
    towns = card.filter(pl.col("unit_kind") == "乡镇（街道）")["suggestion"].to_list()
    assert towns == ["表扬", "表扬"]
    assert card.filter(pl.col("unit_kind") == "公共服务企业")["suggestion"].to_list() == ["约谈"]


# -- points per indicator (得分明细) ----------------------------------------------------------------

def test_points_per_indicator_hand_computed():
    from metrics.points import lost_ranking, unit_points

    pts = unit_points(facts(), AS_OF)
    # 县公安局: contacts (40) and share_rate (30) apply, reply n/a: effective weights 40/70, 30/70
    police = {r["code"]: r for r in pts.filter(pl.col("unit_id") == 2).rows(named=True)}
    assert police["contacts_named"]["eff_weight"] == pytest.approx(400 / 7)
    assert police["contacts_named"]["earned"] == pytest.approx(400 / 7)
    assert police["contacts_named"]["lost"] == pytest.approx(0)
    assert police["share_rate"]["score"] == pytest.approx(50)
    assert police["share_rate"]["eff_weight"] == pytest.approx(300 / 7)
    assert police["share_rate"]["earned"] == pytest.approx(150 / 7)
    assert police["share_rate"]["lost"] == pytest.approx(150 / 7)
    # applicable but unweighted: shown with effective weight 0, never earns or loses
    assert police["catalog_mounted_rate"]["applicable"] and police["catalog_mounted_rate"]["eff_weight"] == 0
    assert police["catalog_mounted_rate"]["lost"] == 0
    # n/a: no score, no weight
    assert not police["reply_ontime_rate"]["applicable"]
    assert police["reply_ontime_rate"]["eff_weight"] is None
    # 失分项 name only weighted indicators, most points lost first
    lost = lost_ranking(pts)
    assert lost.filter(pl.col("unit_id") == 2)["code"].to_list() == ["share_rate"]
    # 县民政局: contacts 0 (lost 40), share 100, reply 100; mounted 0 % and security 0 % are unweighted
    assert lost.filter(pl.col("unit_id") == 3)["code"].to_list() == ["contacts_named"]
    assert lost.filter(pl.col("unit_id") == 3)["lost"].to_list() == [pytest.approx(40)]


def test_points_earned_sum_to_the_composite():
    from metrics.points import unit_points

    for f in (facts(), make_facts(units=UNITS, contacts=named(8))):  # the second: default weights
        card = scorecard(f, AS_OF).select("unit_id", "composite")
        sums = unit_points(f, AS_OF).group_by("unit_id").agg(
            pl.col("earned").sum().alias("earned"), pl.col("eff_weight").sum().alias("eff"))
        both = card.join(sums, on="unit_id")
        for unit, composite, earned, eff in both.rows():
            assert earned == pytest.approx(composite, abs=1e-9), unit
            assert eff == pytest.approx(100), unit
