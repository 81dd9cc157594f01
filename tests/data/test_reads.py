"""The read functions of data.services: what each role gets back, whatever the page asks for."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data.services import catalog, common, infra, overview, requests, scorecards, sidebar, tasks, units
from data.storage.scope import PermissionDenied, Scope
from tests.pages import small_county as sc

ADMIN, LEADER, UNIT2, UNIT3 = (Scope(**s) for s in (sc.ADMIN, sc.LEADER, sc.UNIT2, sc.UNIT3))


@pytest.fixture
def county(db):
    sc.fill(db)
    return db


# Reads returning rows tied to units, with the columns that tie a row to the asking unit.
LISTS = {
    tasks.assignment_lights: ("unit_id",),
    requests.overdue_steps: ("requester_id", "provider_id"),
    requests.warning_list: ("requester_id", "provider_id"),
    requests.refusals_lacking: ("requester_id", "provider_id"),
    requests.provider_rates: ("unit_id",),
    scorecards.unit_indicators: ("unit_id",),
    catalog.catalog_by_unit: ("unit_id",),
    infra.infra_by_unit: ("unit_id",),
    catalog.catalog_items: ("unit_id",),
    catalog.share_mix: ("unit_id",),
    catalog.nonshare_items: ("unit_id",),
    catalog.demand_rows: ("unit_id",),
    infra.village_coverage: ("unit_id",),
    infra.systems: ("unit_id",),
    infra.networks: ("unit_id",),
}


@pytest.mark.parametrize("fn", LISTS, ids=lambda fn: fn.__name__)
def test_a_unit_gets_only_rows_of_its_own_unit(county, fn):
    name = fn.__name__
    everything = fn(ADMIN, sc.AS_OF, db=county)
    for scope in (UNIT2, UNIT3):
        own = fn(scope, sc.AS_OF, db=county)
        mine = pl.any_horizontal([pl.col(c) == scope.unit_id for c in LISTS[fn]])
        assert own.filter(~mine).is_empty(), name
        # ...and every row of its own that the office sees.
        assert own.height == everything.filter(mine).height, name
    assert fn(LEADER, sc.AS_OF, db=county).height == everything.height


def test_the_fixture_gives_each_list_something_to_filter(county):
    # Without rows of other units the test above could not fail.
    for fn, cols in LISTS.items():
        name = fn.__name__
        rows = fn(ADMIN, sc.AS_OF, db=county)
        for unit in (sc.WEIBAN, sc.ZHENGFUBAN):
            others = rows.filter(~pl.any_horizontal([pl.col(c) == unit for c in cols]))
            assert others.height, (name, unit)


def test_report_history_is_scoped_and_dated(county):
    everything = tasks.report_history(ADMIN, sc.AS_OF, db=county)
    assert everything.height == 3
    assert set(tasks.report_history(UNIT2, sc.AS_OF, db=county)["unit_id"]) == {sc.WEIBAN}
    assert tasks.report_history(ADMIN, sc.EARLIER, db=county).height == 2
    assert tasks.report_history(ADMIN, dt.date(2023, 6, 10), db=county).height == 1   # 2023-06-20 comes later
    pending = tasks.report_history(UNIT3, sc.AS_OF, None, True, db=county)
    assert pending.select("task_no", "unit_id").rows() == [(6, sc.ZHENGFUBAN)]
    assert tasks.report_history(UNIT2, sc.AS_OF, None, True, db=county).is_empty()


@pytest.mark.parametrize("fn", [scorecards.unit_scorecard, scorecards.indicator_rows, scorecards.unit_trend],
                         ids=lambda fn: fn.__name__)
def test_a_unit_asking_for_another_unit_is_refused(county, fn):
    fn(UNIT2, sc.AS_OF, sc.WEIBAN, db=county)                  # its own: fine
    with pytest.raises(PermissionDenied):
        fn(UNIT2, sc.AS_OF, sc.ZHENGFUBAN, db=county)
    fn(LEADER, sc.AS_OF, sc.ZHENGFUBAN, db=county)


def test_rows_behind_another_unit_is_refused(county):
    assert scorecards.rows_behind(UNIT2, sc.AS_OF, sc.WEIBAN, "catalog_mounted_rate", db=county).height == 3
    with pytest.raises(PermissionDenied):
        scorecards.rows_behind(UNIT2, sc.AS_OF, sc.ZHENGFUBAN, "catalog_mounted_rate", db=county)


def _trend_seen(trend):
    # Six scored months, the plan's start month first, the last one as of D, its red lights those of D.
    assert trend["month"].to_list() == ["2023-05", "2023-06", "2023-07", "2023-08", "2023-09", "2023-10"]
    assert trend["as_of"][-1] == sc.AS_OF and trend["red_lights"].to_list()[-2:] == [44, 82]


def _milestones_seen(status):
    assert status.select("code", "status", "units_meeting", "units_applicable").rows() == [
        ("M1", "未达成", 1, 47), ("M2", "未达成", 0, 38), ("M3", "未到期", 0, 47), ("M4", "未到期", 0, 47)]


def _gaps_seen(gaps):
    assert gaps.columns == ["code", "unit_id", "unit", "item", "detail", "criterion", "label", "value"]
    assert dict(gaps.group_by("code").len().rows()) == {"M1": 49, "M2": 112, "M3": 286, "M4": 129}


def _best_worst_seen(extremes):
    assert extremes.height == 16
    assert extremes.row(0) == ("县直部门", "最好", "县委办", pytest.approx(64.9333, abs=1e-3), "合格", 1)
    worst = extremes.filter((pl.col("unit_kind") == "县直部门") & (pl.col("side") == "最差"))
    assert worst.select("composite", "rank").rows() == [(5.0, 36)] * 3


def _headline_seen(figures):
    assert [f["label"] for f in figures] == [
        "已明确分管领导和经办人的单位", "已发布目录（条）", "已挂接目录（条）", "本月收到共享申请（件）",
        "初审按时率（全县）", "答复按时率（全县）", "红灯任务（个）"]
    red = figures[-1]
    assert (red["value"], red["previous"], red["change"], red["help"]) == (82, 44, 38, "较上月末（9月30日）")


@pytest.mark.parametrize("fn, seen", [
    (overview.county_trend, _trend_seen), (overview.milestones, _milestones_seen),
    (overview.milestone_gaps, _gaps_seen), (overview.best_worst, _best_worst_seen),
    (overview.headline, _headline_seen),
], ids=lambda v: getattr(v, "__name__", ""))
def test_county_overview_is_for_leaders_and_the_office(county, fn, seen):
    seen(fn(LEADER, sc.AS_OF, db=county))          # what a leader sees on 总览
    with pytest.raises(PermissionDenied):
        fn(UNIT3, sc.AS_OF, db=county)


def test_the_gaps_of_one_line_come_furthest_from_it_first(county):
    criteria = overview.milestone_criteria(LEADER, sc.AS_OF, "M2", db=county)
    assert set(criteria["code"]) == {"M2"}
    row = criteria.filter(pl.col("meeting") < pl.col("applicable")).row(0, named=True)
    failing = overview.milestone_gaps(LEADER, sc.AS_OF, "M2", row["criterion"], db=county)
    assert failing.height == row["applicable"] - row["meeting"]
    assert set(failing["criterion"]) == {row["criterion"]}
    values = failing["value"].drop_nulls().to_list()
    assert values == sorted(values, reverse=row["op"] == "<=")


def test_the_ranking_is_public_but_narrow_for_units(county):
    full = scorecards.ranking(ADMIN, sc.AS_OF, db=county)
    narrow = scorecards.ranking(UNIT2, sc.AS_OF, db=county)
    assert narrow.height == full.height == 47                # 46 plan units + the township
    assert {"red_lights", "suggestion"} <= set(full.columns)
    assert set(narrow.columns) == {"unit_id", "unit", "unit_kind", "composite", "grade", "rank",
                                   "composite_change", "rank_change"}


def test_visible_units(county):
    assert units.visible_units(UNIT3, db=county).rows() == [(sc.ZHENGFUBAN, "县政府办", "县直部门")]
    assert units.visible_units(LEADER, db=county).height == 47


def test_contacts_of_other_units_are_masked_for_units(county):
    rows = infra.contacts(UNIT3, sc.AS_OF, db=county).select("unit_id", "role", "person", "phone").rows()
    assert (sc.ZHENGFUBAN, "分管领导", "张伟", "13700000003") in rows
    assert (sc.WEIBAN, "分管领导", "王*", "138****0001") in rows
    assert (sc.WEIBAN, "经办人", "李*", "139****0002") in rows
    office = infra.contacts(ADMIN, sc.AS_OF, db=county).select("unit_id", "role", "person", "phone").rows()
    assert (sc.WEIBAN, "分管领导", "王小明", "13800000001") in office


def test_masks():
    frame = pl.DataFrame({"n": ["王小明", "欧阳", None], "p": ["13800000001", "0793-2221234", "1234"]})
    out = frame.select(common.mask_name(pl.col("n")), common.mask_phone(pl.col("p")))
    assert out.rows() == [("王*", "138****0001"), ("欧*", "079****1234"), (None, "****1234")]


def test_headline_counts(county):
    figures = {f["label"]: f for f in overview.headline(ADMIN, sc.AS_OF, db=county)}
    assert figures["已发布目录（条）"]["value"] == 5 and figures["已发布目录（条）"]["previous"] == 4
    # Replies: R1, R2, R5 on time, R3 overdue -> 3/4; on 2023-09-30 R1 and R5 -> 2/2.
    assert figures["答复按时率（全县）"]["value"] == pytest.approx(3 / 4)
    assert figures["答复按时率（全县）"]["change"] == pytest.approx(-1 / 4)


def test_step_rates_leave_pending_out():
    counts = pl.DataFrame({"step": ["reply"] * 4, "provider_id": [1] * 4,
                           "status": ["on_time", "late", "overdue", "pending"], "n": [2, 1, 1, 5]})
    out = requests.count_rates(counts).row(0, named=True)
    assert (out["judged"], out["on_time"], out["late"], out["overdue"]) == (4, 2, 1, 1)
    assert out["rate"] == pytest.approx(2 / 4)
    assert requests.count_rates(counts.filter(pl.col("status") == "pending"))["rate"][0] is None


def test_demo_marker(county):
    assert sidebar.demo_info(county) is None
    with county.transaction() as cur:
        cur.execute("INSERT INTO meta VALUES ('demo', ?)", ['{"scale": "county", "seed": 1}'])
    assert sidebar.demo_info(county)["scale"] == "county"


def test_calendar_coverage(county):
    assert sidebar.calendar_covered(county, dt.date(2024, 5, 1))
    assert not sidebar.calendar_covered(county, dt.date(2041, 5, 1))


def test_assignment_lights_put_the_laggards_first(county):
    lights = tasks.assignment_lights(LEADER, sc.AS_OF, db=county)
    # The office carries 6 red lights at 2023-10-31, more than any other unit (scorecard red_lights).
    assert lights["unit_id"][0] == sc.OFFICE
    reds = lights.group_by("unit_id", maintain_order=True).agg((pl.col("light") == "red").sum())["light"]
    assert reds.to_list() == sorted(reds.to_list(), reverse=True)


def test_trends_are_the_engines(county):
    from polars.testing import assert_frame_equal

    from data.storage.facts import load_facts
    from metrics.trend import county_trend, monthly_trend

    facts = load_facts(county)
    assert_frame_equal(overview.county_trend(LEADER, sc.AS_OF, db=county), county_trend(facts, sc.AS_OF))
    mine = monthly_trend(facts, sc.AS_OF).filter(pl.col("unit_id") == sc.WEIBAN)
    assert_frame_equal(scorecards.unit_trend(UNIT2, sc.AS_OF, sc.WEIBAN, db=county), mine)
    # 2023-05 (the plan's start month) to 2023-10: months before the plan are not scored.
    assert scorecards.unit_trend(UNIT2, sc.AS_OF, sc.WEIBAN, db=county)["month"].to_list() == [
        "2023-05", "2023-06", "2023-07", "2023-08", "2023-09", "2023-10"]


def test_the_scorecard_workbook_is_for_leaders_and_the_office(county):
    import io

    from openpyxl import load_workbook

    data = scorecards.scorecard_workbook(LEADER, sc.AS_OF, db=county)
    sheet = load_workbook(io.BytesIO(data)).active
    names = {c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    # Every unit of the ranking is in the printed scorecard.
    assert set(scorecards.ranking(LEADER, sc.AS_OF, db=county)["unit"]) <= names
    with pytest.raises(PermissionDenied):
        scorecards.scorecard_workbook(UNIT2, sc.AS_OF, db=county)


def test_a_unit_is_refused_the_county_review_in_the_data_layer(county):
    from data.services import review

    month = sc.AS_OF.strftime("%Y-%m")
    reads = [
        lambda s: review.publication(s, month, db=county),
        lambda s: review.month_tables(s, month, db=county),
        lambda s: review.generated_bulletin(s, month, db=county),
        lambda s: review.review_workbook(s, month, None, db=county),
        lambda s: review.timeliness_detail(s, month, db=county),
        lambda s: review.review_detail(s, month, "单位记分卡", db=county),
        lambda s: review.bulletin_document(s, month, "通报", db=county),
    ]
    for read in reads:
        with pytest.raises(PermissionDenied, match="月度考评"):
            read(UNIT2)
        read(LEADER)  # the leader reads it
    with pytest.raises(PermissionDenied, match="月度考评"):  # (the leader's answer: the month is not published)
        review.differences(UNIT2, month, db=county)
