"""Reads of the 总览 page (管理员/领导 only; a 单位 scope gets PermissionDenied): the headline
figures with their change, the milestones M1–M4 and what is missing by unit, the county's trend
and the best and worst units of each kind."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.common import engine, require_overview
from data.services.months import overlay_frozen
from data.services.reading import read
from data.services.requests import count_rates
from data.services.snapshot import card_at, month_end_history, snapshot
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import Scope


@read
def previous_month_end(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> dt.date:
    """The date month-over-month changes compare with."""
    from metrics.trend import previous_month_end as previous

    return previous(as_of)


def month_to_date(as_of: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date, bool]:
    """(first, last) of the month of D up to D and the previous month's same days, and whether the
    month is still running at D (本月至今). The same days are clamped to the previous month's
    length: 3月30日 or 3月31日 compare with the whole of February (28 or 29 days). At a month's last
    day the month is over and compares with the whole previous month."""
    from metrics.trend import month_end
    from metrics.trend import previous_month_end as previous

    prev_end = previous(as_of)
    prev_first = prev_end.replace(day=1)
    partial = as_of != month_end(as_of)
    prev_upto = min(prev_first + dt.timedelta(days=as_of.day - 1), prev_end) if partial else prev_end
    return as_of.replace(day=1), as_of, prev_first, prev_upto, partial


def _days_text(first: dt.date, last: dt.date) -> str:
    return f"{first.month}月{first.day}日" + ("" if last == first else f"—{last.day}日")


@read
def headline(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> list[dict]:
    """The leaders' headline figures: label, kind ('count'|'rate'), value, previous, change
    (value − previous; None when either is missing), help (what the change compares with) and versus
    (a word for the delta when it is not the previous month end: 较上月同期 / 较上月).
    Stock figures compare D with the previous month end; the requests received in the month compare
    本月至今 with the same days of the previous month while the month is running at D."""
    require_overview(scope)
    from metrics.trend import previous_month_end as previous

    prev = previous(as_of)
    facts = load_facts(db)
    first, upto, prev_first, prev_upto, partial = month_to_date(as_of)

    def received(lo: dt.date, hi: dt.date) -> int:
        return facts.requests.filter(pl.col("received_on").is_between(pl.lit(lo), pl.lit(hi))).height

    def figures(day: dt.date) -> dict[str, tuple[str, float | int | None]]:
        snap = snapshot(db, day)
        board = card_at(db, day)
        items = snap.catalog_counts
        counts = snap.step_counts
        review = count_rates(counts.filter(pl.col("step") == "review"))["rate"][0]
        reply = count_rates(counts.filter(pl.col("step") == "reply"))["rate"][0]
        return {
            "已明确分管领导和经办人的单位": ("count", int(board["contacts_named"].fill_null(0).sum())),
            "已发布目录（条）": ("count", items["published"]),
            "已挂接目录（条）": ("count", items["mounted"]),
            "初审按时率（全县）": ("rate", review),
            "答复按时率（全县）": ("rate", reply),
            "红灯任务（个）": ("count", int(board["red_lights"].sum())),
        }

    now, before = figures(as_of), figures(prev)
    since = f"较上月末（{prev.month}月{prev.day}日）"
    out = []
    for label, (kind, value) in now.items():
        previous_value = before[label][1]
        change = None if value is None or previous_value is None else value - previous_value
        out.append({"label": label, "kind": kind, "value": value, "previous": previous_value, "change": change,
                    "help": since, "versus": None})
    count, count_prev = received(first, upto), received(prev_first, prev_upto)
    if partial:
        label, versus = f"本月至今收到申请（{_days_text(first, upto)}）", "较上月同期"
        note = f"本月至今（{_days_text(first, upto)}）收到共享申请{count}件，上月同期（{_days_text(prev_first, prev_upto)}）{count_prev}件"
    else:
        label, versus = "本月收到共享申请（件）", "较上月"
        note = f"较上月（{prev.month}月）{count_prev}件"
    out.insert(3, {"label": label, "kind": "count", "value": count, "previous": count_prev,
                   "change": count - count_prev, "help": note, "versus": versus})
    return out


@read
def milestones(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Per milestone: status (已达成/未达成/未到期), units_applicable, units_meeting, units_missing..."""
    require_overview(scope)
    return snapshot(db, as_of).milestone_status


@read
def milestone_criteria(scope: Scope, as_of: dt.date, code: str | None = None, *,
                       db: Database | None = None) -> pl.DataFrame:
    """Per criterion in force at D: code, label (达标线), applicable (N), meeting (n), share, failing;
    with `code`, the criteria of that milestone only."""
    require_overview(scope)
    frame = snapshot(db, as_of).milestone_criteria
    return frame if code is None else frame.filter(pl.col("code") == code)


@read
def milestone_gaps(scope: Scope, as_of: dt.date, code: str | None = None, criterion: str | None = None, *,
                   db: Database | None = None) -> pl.DataFrame:
    """What is still missing, per milestone and unit: code, unit_id, unit, item, detail (the unit's
    value or the task's status), criterion, label (the 达标线), value. With `code` and `criterion`,
    the units failing that line, furthest from it first (lowest value for ≥, highest for ≤; tasks
    by unit)."""
    require_overview(scope)
    frame = snapshot(db, as_of).milestone_gaps
    if code is None:
        return frame
    frame = frame.filter(pl.col("code") == code)
    if criterion is None:
        return frame
    line = milestone_criteria(scope, as_of, code, db=db).filter(pl.col("criterion") == criterion)
    at_most = line.height > 0 and line["op"][0] == "<="
    return frame.filter(pl.col("criterion") == criterion).sort(
        "value", "unit_id", descending=[at_most, False], nulls_last=True)


@read
def county_trend(scope: Scope, as_of: dt.date, months: int = 12, *, db: Database | None = None) -> pl.DataFrame:
    """The county's month-end averages over the last `months` months (metrics.trend.county_trend),
    frozen months as published."""
    require_overview(scope)
    from metrics.trend import county_trend as trend_of

    trend = overlay_frozen(db, month_end_history(db, as_of, months))
    return engine(db, as_of, f"county{months}", lambda f, d: trend_of(f, d, months=months, trend=trend))


@read
def best_worst(scope: Scope, as_of: dt.date, n: int = 3, *, db: Database | None = None) -> pl.DataFrame:
    """The n best and n worst scored units of each kind: unit_kind, side (最好/最差), unit,
    composite, grade, rank."""
    require_overview(scope)
    scored = card_at(db, as_of).filter(pl.col("composite").is_not_null())
    best = scored.sort("composite", descending=True).group_by("unit_kind", maintain_order=True).head(n)
    worst = scored.sort("composite").group_by("unit_kind", maintain_order=True).head(n)
    cols = ["unit_kind", "side", "unit", "composite", "grade", "rank"]
    return pl.concat([
        best.with_columns(side=pl.lit("最好")).select(cols),
        worst.with_columns(side=pl.lit("最差")).select(cols),
    ])
