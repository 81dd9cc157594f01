"""data.services.views: what each role gets back, whatever the page asks for."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data.services import views
from data.storage.scope import PermissionDenied, Scope
from tests.pages import small_county as sc

ADMIN, LEADER, UNIT2, UNIT3 = (Scope(**s) for s in (sc.ADMIN, sc.LEADER, sc.UNIT2, sc.UNIT3))


@pytest.fixture
def county(db):
    sc.fill(db)
    return db


# Views returning rows tied to units, with the columns that tie a row to the asking unit.
LISTS = {
    "assignment_lights": ("unit_id",),
    "request_steps": ("requester_id", "provider_id"),
    "overdue_steps": ("requester_id", "provider_id"),
    "warning_list": ("requester_id", "provider_id"),
    "refusals_lacking": ("requester_id", "provider_id"),
    "provider_rates": ("unit_id",),
    "unit_indicators": ("unit_id",),
    "catalog_by_unit": ("unit_id",),
    "infra_by_unit": ("unit_id",),
    "catalog_items": ("unit_id",),
    "share_mix": ("unit_id",),
    "nonshare_items": ("unit_id",),
    "demand_rows": ("unit_id",),
    "village_coverage": ("unit_id",),
    "systems": ("unit_id",),
    "networks": ("unit_id",),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_unit_gets_only_rows_of_its_own_unit(county, name):
    fn = getattr(views, name)
    everything = fn(ADMIN, county, sc.AS_OF)
    for scope in (UNIT2, UNIT3):
        own = fn(scope, county, sc.AS_OF)
        mine = pl.any_horizontal([pl.col(c) == scope.unit_id for c in LISTS[name]])
        assert own.filter(~mine).is_empty(), name
        # ...and every row of its own that the office sees.
        assert own.height == everything.filter(mine).height, name
    assert fn(LEADER, county, sc.AS_OF).height == everything.height


def test_the_fixture_gives_each_list_something_to_filter(county):
    # Without rows of other units the test above could not fail.
    for name, cols in LISTS.items():
        rows = getattr(views, name)(ADMIN, county, sc.AS_OF)
        for unit in (sc.WEIBAN, sc.ZHENGFUBAN):
            others = rows.filter(~pl.any_horizontal([pl.col(c) == unit for c in cols]))
            assert others.height, (name, unit)


def test_report_history_is_scoped_and_dated(county):
    everything = views.report_history(ADMIN, county, sc.AS_OF)
    assert everything.height == 3
    assert set(views.report_history(UNIT2, county, sc.AS_OF)["unit_id"]) == {sc.WEIBAN}
    assert views.report_history(ADMIN, county, sc.EARLIER).height == 2
    assert views.report_history(ADMIN, county, dt.date(2023, 6, 10)).height == 1   # 2023-06-20 comes later
    pending = views.report_history(UNIT3, county, sc.AS_OF, None, True)
    assert pending.select("task_no", "unit_id").rows() == [(6, sc.ZHENGFUBAN)]
    assert views.report_history(UNIT2, county, sc.AS_OF, None, True).is_empty()


@pytest.mark.parametrize("name", ["unit_scorecard", "indicator_rows", "unit_trend"])
def test_a_unit_asking_for_another_unit_is_refused(county, name):
    fn = getattr(views, name)
    fn(UNIT2, county, sc.AS_OF, sc.WEIBAN)                  # its own: fine
    with pytest.raises(PermissionDenied):
        fn(UNIT2, county, sc.AS_OF, sc.ZHENGFUBAN)
    fn(LEADER, county, sc.AS_OF, sc.ZHENGFUBAN)


def test_rows_behind_another_unit_is_refused(county):
    assert views.rows_behind(UNIT2, county, sc.AS_OF, sc.WEIBAN, "catalog_mounted_rate").height == 3
    with pytest.raises(PermissionDenied):
        views.rows_behind(UNIT2, county, sc.AS_OF, sc.ZHENGFUBAN, "catalog_mounted_rate")


@pytest.mark.parametrize("name", ["county_trend", "milestones", "milestone_gaps", "best_worst", "headline"])
def test_county_overview_is_for_leaders_and_the_office(county, name):
    fn = getattr(views, name)
    assert fn(LEADER, county, sc.AS_OF) is not None
    with pytest.raises(PermissionDenied):
        fn(UNIT3, county, sc.AS_OF)


def test_the_ranking_is_public_but_narrow_for_units(county):
    full = views.ranking(ADMIN, county, sc.AS_OF)
    narrow = views.ranking(UNIT2, county, sc.AS_OF)
    assert narrow.height == full.height == 47                # 46 plan units + the township
    assert {"red_lights", "suggestion"} <= set(full.columns)
    assert set(narrow.columns) == {"unit_id", "unit", "unit_kind", "composite", "grade", "rank",
                                   "composite_change", "rank_change"}


def test_visible_units(county):
    assert views.visible_units(UNIT3, county).rows() == [(sc.ZHENGFUBAN, "县政府办", "县直部门")]
    assert views.visible_units(LEADER, county).height == 47


def test_contacts_of_other_units_are_masked_for_units(county):
    rows = views.contacts(UNIT3, county, sc.AS_OF).select("unit_id", "role", "person", "phone").rows()
    assert (sc.ZHENGFUBAN, "分管领导", "张伟", "13700000003") in rows
    assert (sc.WEIBAN, "分管领导", "王*", "138****0001") in rows
    assert (sc.WEIBAN, "经办人", "李*", "139****0002") in rows
    office = views.contacts(ADMIN, county, sc.AS_OF).select("unit_id", "role", "person", "phone").rows()
    assert (sc.WEIBAN, "分管领导", "王小明", "13800000001") in office


def test_masks():
    frame = pl.DataFrame({"n": ["王小明", "欧阳", None], "p": ["13800000001", "0793-2221234", "1234"]})
    out = frame.select(views.mask_name(pl.col("n")), views.mask_phone(pl.col("p")))
    assert out.rows() == [("王*", "138****0001"), ("欧*", "079****1234"), (None, "****1234")]


def test_headline_counts(county):
    figures = {f["label"]: f for f in views.headline(ADMIN, county, sc.AS_OF)}
    assert figures["已发布目录（条）"]["value"] == 5 and figures["已发布目录（条）"]["previous"] == 4
    # Replies: R1, R2, R5 on time, R3 overdue -> 3/4; on 2023-09-30 R1 and R5 -> 2/2.
    assert figures["答复按时率（全县）"]["value"] == pytest.approx(3 / 4)
    assert figures["答复按时率（全县）"]["change"] == pytest.approx(-1 / 4)


def test_step_rates_leave_pending_out():
    steps = pl.DataFrame({"step": ["reply"] * 4, "status": ["on_time", "late", "overdue", "pending"]})
    out = views.step_rates(steps).row(0, named=True)
    assert (out["judged"], out["on_time"], out["late"], out["overdue"]) == (3, 1, 1, 1)
    assert out["rate"] == pytest.approx(1 / 3)
    assert views.step_rates(steps.filter(pl.col("status") == "pending"))["rate"][0] is None


def test_demo_marker(county):
    assert views.demo_info(county) is None
    with county.transaction() as cur:
        cur.execute("INSERT INTO meta VALUES ('demo', ?)", ['{"scale": "county", "seed": 1}'])
    assert views.demo_info(county)["scale"] == "county"


def test_calendar_coverage(county):
    assert views.calendar_covered(county, dt.date(2024, 5, 1))
    assert not views.calendar_covered(county, dt.date(2041, 5, 1))


def test_assignment_lights_put_the_laggards_first(county):
    lights = views.assignment_lights(LEADER, county, sc.AS_OF)
    # The office carries 6 red lights at 2023-10-31, more than any other unit (scorecard red_lights).
    assert lights["unit_id"][0] == sc.OFFICE
    reds = lights.group_by("unit_id", maintain_order=True).agg((pl.col("light") == "red").sum())["light"]
    assert reds.to_list() == sorted(reds.to_list(), reverse=True)


def test_trends_are_the_engines(county):
    from polars.testing import assert_frame_equal

    from data.storage.facts import load_facts
    from metrics.trend import county_trend, monthly_trend

    facts = load_facts(county)
    assert_frame_equal(views.county_trend(LEADER, county, sc.AS_OF), county_trend(facts, sc.AS_OF))
    mine = monthly_trend(facts, sc.AS_OF).filter(pl.col("unit_id") == sc.WEIBAN)
    assert_frame_equal(views.unit_trend(UNIT2, county, sc.AS_OF, sc.WEIBAN), mine)
    # 2023-05 (the plan's start month) to 2023-10: months before the plan are not scored.
    assert views.unit_trend(UNIT2, county, sc.AS_OF, sc.WEIBAN)["month"].to_list() == [
        "2023-05", "2023-06", "2023-07", "2023-08", "2023-09", "2023-10"]


def test_the_scorecard_workbook_is_for_leaders_and_the_office(county):
    import io

    from openpyxl import load_workbook

    data = views.scorecard_workbook(LEADER, county, sc.AS_OF)
    sheet = load_workbook(io.BytesIO(data)).active
    names = {c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    # Every unit of the ranking is in the printed scorecard.
    assert set(views.ranking(LEADER, county, sc.AS_OF)["unit"]) <= names
    with pytest.raises(PermissionDenied):
        views.scorecard_workbook(UNIT2, county, sc.AS_OF)
