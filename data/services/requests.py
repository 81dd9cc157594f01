"""Reads of the 共享申请 page: on-time rates of the review and reply steps, county-wide and per
provider; the overdue and warning lists; refusals lacking a basis or reason; the monthly view.
A 单位 scope gets the steps of its own requests (as requester or provider) and the county totals."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.common import own, unit_names, with_name
from data.services.reading import read
from data.services.snapshot import snapshot
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import Scope
from metrics import requests as m_requests


def count_rates(counts: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """On-time rate of judged steps (pending left out; overdue count as failures), per `by`, from the
    step counts of data.services.snapshot (step, provider_id, status, n), so the steps need not be kept."""
    judged = counts.filter(pl.col("status") != "pending")

    def of(status: str) -> pl.Expr:
        return pl.col("n").filter(pl.col("status") == status).sum().cast(pl.UInt32)

    aggs = [pl.col("n").sum().cast(pl.UInt32).alias("judged"),
            of("on_time").alias("on_time"), of("late").alias("late"), of("overdue").alias("overdue")]
    out = judged.group_by(by).agg(aggs) if by else judged.select(aggs)
    return out.with_columns(rate=m_requests.on_time_rate())


def _with_parties(frame: pl.DataFrame, db: Database) -> pl.DataFrame:
    return with_name(with_name(frame, db, "requester_id", "requester"), db, "provider_id", "provider")


@read
def county_request_rates(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """County-wide on-time rates per step ('review', 'reply'): judged, on_time, late, overdue, rate.
    Aggregates of every unit, which every role may read."""
    rates = count_rates(snapshot(db, as_of).step_counts, "step")
    steps = pl.DataFrame({"step": ["review", "reply"]})
    return steps.join(rates, on="step", how="left").with_columns(
        pl.col("judged", "on_time", "late", "overdue").fill_null(0)
    )


@read
def provider_rates(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Reply on-time rate per providing unit (unit_id, unit, unit_kind, judged, on_time, late,
    overdue, rate); 单位: its own row."""
    reply = own(scope, snapshot(db, as_of).step_counts, "provider_id").filter(pl.col("step") == "reply")
    rates = count_rates(reply, "provider_id").rename({"provider_id": "unit_id"})
    return with_name(rates, db).join(unit_names(db).select("unit_id", "unit_kind"), on="unit_id", how="left").sort(
        "rate", "unit_id", nulls_last=True)


@read
def overdue_steps(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Steps not done by D after their deadline, most overdue first; 单位: own requests."""
    steps = own(scope, snapshot(db, as_of).overdue_steps, "requester_id", "provider_id", "responsible_id")
    return _with_parties(steps, db).sort("workdays_overdue", "code", descending=[True, False])


@read
def warning_list(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Open steps falling due within the warning window (预警); 单位: own."""
    return _with_parties(own(scope, snapshot(db, as_of).warnings, "requester_id", "provider_id"), db)


@read
def refusals_lacking(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Refusals replied by D that lack a legal basis or a reason; 单位: own."""
    # Filtered before the text is read: reading it for every refusal first (hundreds of thousands
    # at province scale) took about 190 MB and a second at each date.
    frame = own(scope, m_requests.refusals(load_facts(db), as_of, where=~pl.col("complete")),
                "requester_id", "provider_id")
    return _with_parties(frame, db)


@read
def request_months(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> list[str]:
    """'YYYY-MM' from the plan's start month to the month of D, newest first."""
    from metrics.registry import setting

    start = str(setting(load_facts(db), "plan_start_month"))
    months = pl.date_range(dt.date.fromisoformat(start + "-01"), as_of, "1mo", eager=True)
    return months.dt.strftime("%Y-%m").reverse().to_list()


@read
def month_rates(scope: Scope, month: str, as_of: dt.date | None = None, *,
                db: Database | None = None) -> pl.DataFrame:
    """The monthly view: rates over steps whose deadline falls in `month` (YYYY-MM), judged at the
    month's end or at D when D falls inside the month (facts after D invisible, steps due after D
    pending); 单位: own."""
    from metrics.monthly import month_rates as rates_of

    frame = rates_of(load_facts(db), month, as_of)
    return frame if "unit_id" not in frame.columns else own(scope, frame)
