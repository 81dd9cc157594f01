"""Invariants on random small facts (hypothesis): rates in 0–1, facts after D change nothing as of
D, renormalised weights sum to 100."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_fixtures import D, make_facts, task
from polars.testing import assert_frame_equal

from metrics.registry import KPI_BY_CODE, KPIS, setting
from metrics.requests import refusals, request_indicators, request_steps
from metrics.scorecard import indicators, scorecard, weights_of

UNIT_IDS = [1, 2, 3, 4, 5]
START, END = D(2023, 4, 1), D(2025, 3, 31)
TASKS = [task(1, D(2023, 6, 30)), task(2, D(2023, 12, 31)), task(3, D(2024, 6, 10)), task(4, None)]
ASSIGNMENTS = [{"task_no": t, "unit_id": u, "origin": "x"} for t in (1, 2, 3, 4) for u in (1, 2, 3, 4)]

days = st.integers(min_value=0, max_value=(END - START).days)
gap = st.one_of(st.none(), st.integers(min_value=0, max_value=40))
unit = st.sampled_from(UNIT_IDS)
text = st.sampled_from([None, "", "有", "依据"])


def plus(base: dt.date, offset):
    return None if offset is None else base + dt.timedelta(days=offset)


@st.composite
def request_rows(draw, base_day):
    received = base_day(draw)
    reviewed = plus(received, draw(gap))
    forwarded = plus(reviewed, draw(gap)) if reviewed else None
    replied = plus(forwarded or reviewed, draw(gap)) if reviewed else None
    return {"requester_id": draw(unit), "provider_id": draw(unit), "purpose": "核验", "received_on": received,
            "reviewed_on": reviewed, "review_result": draw(st.sampled_from([None, "通过", "退回"])) if reviewed else None,
            "forwarded_on": forwarded, "replied_on": replied,
            "reply_result": draw(st.sampled_from(["同意", "不同意", "部分同意"])) if replied else None,
            "legal_basis": draw(text), "refusal_reason": draw(text)}


@st.composite
def catalog_rows(draw, base_day):
    published = base_day(draw)
    return {"name": "目录", "unit_id": draw(unit), "summary": draw(text), "format": "库表",
            "share_type": draw(st.sampled_from(["无条件共享", "有条件共享", "不予共享"])),
            "share_condition": draw(text), "nonshare_basis": draw(text), "open_type": draw(text),
            "update_cycle": draw(st.sampled_from(["实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期"])),
            "published_on": published, "last_updated_on": plus(published, draw(gap)),
            "mounted_on": plus(published, draw(gap)), "item_count": draw(st.sampled_from([None, 0, 3]))}


@st.composite
def report_rows(draw, base_day):
    reported = base_day(draw)
    status = draw(st.sampled_from(["未启动", "推进中", "已完成"]))
    back = draw(gap)
    return {"task_no": draw(st.sampled_from([1, 2, 3, 4])), "unit_id": draw(st.sampled_from([1, 2, 3, 4])),
            "reported_on": reported, "status": status, "percent": 50,
            "completed_on": None if status != "已完成" or back is None else reported - dt.timedelta(days=back)}


@st.composite
def small_rows(draw, base_day, kinds=("contacts", "security", "demands", "quality", "systems")):
    kind = draw(st.sampled_from(kinds))
    day = base_day(draw)
    u = draw(unit)
    row = {
        "contacts": {"unit_id": u, "role": draw(st.sampled_from(["分管领导", "经办人"])), "name": "某", "named_on": day},
        "security": {"unit_id": u, "assessed_on": day, "desensitization": draw(st.booleans()),
                     "encryption": draw(st.booleans()), "access_auth": draw(st.booleans())},
        "demands": {"unit_id": u, "content": "需求", "raised_on": day, "matched_on": plus(day, draw(gap))},
        "quality": {"catalog_code": "Q", "unit_id": u, "checked_on": day, "completeness": 80.0, "accuracy": 70.0,
                    "usability": draw(st.sampled_from([0.0, 50.0, 100.0])), "timeliness": 90.0,
                    "issues_found": 4, "issues_fixed": draw(st.integers(0, 4))},
        "systems": {"unit_id": u, "classified": draw(st.booleans()), "registered": draw(st.booleans()),
                    "registered_on": plus(day, draw(gap)), "connected": draw(st.booleans()),
                    "connected_on": plus(day, draw(gap))},
    }[kind]
    return kind, row


def any_day(draw):
    return START + dt.timedelta(days=draw(days))


def after(as_of):
    return lambda draw: as_of + dt.timedelta(days=1 + draw(st.integers(0, 400)))


def assemble(reqs, items, reports, smalls, prefix="") -> dict:
    frames = {"requests": [], "catalog": [], "reports": [], "contacts": [], "security": [], "demands": [],
              "quality": [], "systems": []}
    for i, r in enumerate(reqs):
        frames["requests"].append({**r, "code": f"{prefix}R{i}"})
    for i, r in enumerate(items):
        frames["catalog"].append({**r, "code": f"{prefix}C{i}"})
    frames["reports"] = list(reports)
    for i, (kind, r) in enumerate(smalls):
        extra = {"demands": {"code": f"{prefix}D{i}"}, "systems": {"name": f"{prefix}S{i}"},
                 "quality": {"catalog_code": f"{prefix}Q{i}"}}.get(kind, {})
        frames[kind].append({**r, **extra})
    return frames


def dedupe(frames: dict) -> dict:
    """Primary keys of the schema: one contact per (unit, role), one assessment per (unit, day),
    one report per (task, unit, day)."""
    keys = {"contacts": ("unit_id", "role"), "security": ("unit_id", "assessed_on"),
            "reports": ("task_no", "unit_id", "reported_on")}
    out = dict(frames)
    for name, key in keys.items():
        seen, rows = set(), []
        for r in frames[name]:
            k = tuple(r[c] for c in key)
            if k not in seen:
                seen.add(k)
                rows.append(r)
        out[name] = rows
    return out


base_facts = st.tuples(
    st.lists(request_rows(any_day), max_size=12),
    st.lists(catalog_rows(any_day), max_size=10),
    st.lists(report_rows(any_day), max_size=12),
    st.lists(small_rows(any_day), max_size=12),
)
as_of_days = st.builds(lambda n: START + dt.timedelta(days=n), days)
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(parts, extra=None):
    frames = assemble(*parts)
    if extra:
        for name, rows in extra.items():
            frames[name] = frames[name] + rows
    return make_facts(tasks=TASKS, assignments=ASSIGNMENTS, **dedupe(frames))


@PROPS
@given(parts=base_facts, as_of=as_of_days)
def test_rates_are_fractions_and_composite_within_0_100(parts, as_of):
    card = scorecard(build(parts), as_of)
    for k in KPIS:
        if k.kind == "rate" and k.code in card.columns:
            values = card[k.code].drop_nulls()
            assert ((values >= 0) & (values <= 1)).all(), k.code
    for code in ("contacts_named", "catalog_published"):
        assert set(card[code].to_list()) <= {0, 1}
    composite = card["composite"].drop_nulls()
    assert ((composite >= 0) & (composite <= 100 + 1e-9)).all()
    assert card["rank"].drop_nulls().min() == 1 if card["rank"].drop_nulls().len() else True


@PROPS
@given(parts=base_facts, as_of=as_of_days, data=st.data())
def test_facts_dated_after_d_change_nothing(parts, as_of, data):
    later = after(as_of)
    extra_parts = (
        data.draw(st.lists(request_rows(later), max_size=5)),
        data.draw(st.lists(catalog_rows(later), max_size=5)),
        data.draw(st.lists(report_rows(later), max_size=5)),
        # systems are left out: a system's existence is undated (it is in the inventory at every D)
        data.draw(st.lists(small_rows(later, ("contacts", "security", "demands", "quality")), max_size=5)),
    )
    extra = assemble(*extra_parts, prefix="X")
    before = scorecard(build(parts), as_of)
    with_later = scorecard(build(parts, extra), as_of)
    assert_frame_equal(before, with_later)


@PROPS
@given(parts=base_facts, as_of=as_of_days,
       weights=st.dictionaries(st.sampled_from([k.code for k in KPIS]), st.integers(1, 30), min_size=1))
def test_renormalised_weights_sum_to_100(parts, as_of, weights):
    """The scorecard renormalises the weights over the indicators that apply to a unit (its effective
    weights sum to 100): the composite is Σ score × weight ÷ Σ weight over the weighted indicators
    that apply, recomputed here by hand; doubling every weight changes nothing; and a unit with no
    applicable weighted indicator has no composite."""
    facts = build(parts)
    facts.settings["weights"] = weights
    frame = indicators(facts, as_of)
    card = dict(scorecard(facts, as_of, frame).select("unit_id", "composite").rows())
    penalty = float(setting(facts, "red_light_penalty"))

    def score(code, value):
        kind = KPI_BY_CODE[code].kind
        if kind in ("rate", "flag"):
            return value * 100
        return max(100.0 - penalty * value, 0.0) if kind == "count" else value

    used = weights_of(facts)
    for row in frame.rows(named=True):
        applicable = {c: w for c, w in used.items() if row[c] is not None}
        total = sum(applicable.values())
        if total == 0:
            assert card[row["unit_id"]] is None
            continue
        effective = {c: w * 100 / total for c, w in applicable.items()}
        assert abs(sum(effective.values()) - 100) < 1e-9
        expected = sum(score(c, float(row[c])) * e for c, e in effective.items()) / 100
        assert abs(card[row["unit_id"]] - expected) < 1e-9
    doubled = dataclasses.replace(facts, settings={**facts.settings,
                                                   "weights": {c: 2 * w for c, w in weights.items()}})
    again = dict(scorecard(doubled, as_of, frame).select("unit_id", "composite").rows())
    assert again.keys() == card.keys()
    for unit_id, composite in card.items():
        assert (composite is None) == (again[unit_id] is None)
        assert composite is None or abs(composite - again[unit_id]) < 1e-9


@PROPS
@given(parts=base_facts, as_of=as_of_days)
def test_request_rates_equal_the_steps_behind_them(parts, as_of):
    """The scorecard's fast counts agree with the step frame the pages and rows_behind show."""
    facts = build(parts)
    steps = request_steps(facts, as_of).filter(pl.col("status") != "pending")
    office = int(facts.units.filter(pl.col("name") == "县大数据发展中心")["unit_id"][0])
    review = steps.filter(pl.col("step") == "review")
    review_rate = (review["status"] == "on_time").mean() if review.height else None
    reply = steps.filter(pl.col("step") == "reply").group_by("responsible_id").agg(
        (pl.col("status") == "on_time").mean().alias("reply_ontime_rate")).rename({"responsible_id": "unit_id"})
    refusal = refusals(facts, as_of).group_by("provider_id").agg(pl.col("complete").mean().alias("refusal_basis_rate"))
    expected = (
        facts.units.select(pl.col("unit_id").cast(pl.Int64))
        .with_columns(review_ontime_rate=pl.when(pl.col("unit_id") == office).then(pl.lit(review_rate, pl.Float64)))
        .join(reply, on="unit_id", how="left")
        .join(refusal.select(pl.col("provider_id").cast(pl.Int64).alias("unit_id"), "refusal_basis_rate"),
              on="unit_id", how="left")
    )
    assert_frame_equal(request_indicators(facts, as_of), expected)


@PROPS
@given(parts=base_facts, as_of=as_of_days,
       weights=st.dictionaries(st.sampled_from([k.code for k in KPIS]), st.integers(0, 30), min_size=1))
def test_points_earned_sum_to_the_composite(parts, as_of, weights):
    """得分明细: for every unit (n/a indicators included) the points earned add up to the unrounded
    composite, effective weights to 100, and an unweighted indicator never loses points."""
    from metrics.points import unit_points

    facts = build(parts)
    facts.settings["weights"] = weights
    card = scorecard(facts, as_of).select("unit_id", "composite")
    pts = unit_points(facts, as_of)
    assert pts.filter(pl.col("weight") == 0)["lost"].drop_nulls().abs().max() in (None, 0)
    sums = pts.group_by("unit_id").agg(pl.col("earned").sum(), pl.col("eff_weight").sum())
    for _unit, composite, earned, eff in card.join(sums, on="unit_id").rows():
        if composite is None:
            assert eff == 0
        else:
            assert abs(earned - composite) < 1e-9
            assert abs(eff - 100) < 1e-9


@PROPS
@given(parts=base_facts, as_of=as_of_days)
def test_step_counts_and_the_warning_list_equal_those_of_the_steps(parts, as_of):
    """The per-(step, provider, status) counts from the timeline and the warning list built from
    the requests with an open step due by the horizon are those of request_steps itself."""
    from metrics.monthly import warning_list
    from metrics.requests import step_counts

    facts = build(parts)
    steps = request_steps(facts, as_of)
    assert_frame_equal(step_counts(facts, as_of),
                       steps.group_by("step", "provider_id", "status").agg(pl.len().alias("n")),
                       check_row_order=False)
    assert_frame_equal(warning_list(facts, as_of), warning_list(facts, as_of, steps=steps))
