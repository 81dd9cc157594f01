"""Request timeliness (共享申请办理时效): review and reply steps, their deadlines and status.

As of D only what happened on or before D exists: a review, forwarding or reply dated after D is
treated as not done yet. Deadlines are the N-th working day strictly after the start day, N from
the SLA rule in force on the request's received date.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.facts import Facts
from metrics.registry import filled, office_unit_id
from metrics.workdays import add_workday_deadline, workdays_between

STEP_COLUMNS = [
    "code", "requester_id", "provider_id", "step", "responsible_id", "started_on", "deadline",
    "done_on", "status", "workdays_overdue", "rule",
]

REFUSALS = ["不同意", "部分同意"]


def requests_as_of(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Requests received by D, with every later date (and what it carries) blanked out."""
    d = pl.lit(as_of)
    visible = lambda col: pl.when(pl.col(col) <= d).then(pl.col(col))  # noqa: E731
    replied = pl.col("replied_on") <= d
    return facts.requests.filter(pl.col("received_on") <= d).with_columns(
        reviewed_on=visible("reviewed_on"),
        review_result=pl.when(pl.col("reviewed_on") <= d).then(pl.col("review_result")),
        forwarded_on=visible("forwarded_on"),
        replied_on=visible("replied_on"),
        reply_result=pl.when(replied).then(pl.col("reply_result")),
        legal_basis=pl.when(replied).then(pl.col("legal_basis")),
        refusal_reason=pl.when(replied).then(pl.col("refusal_reason")),
    )


def _with_rule(frame: pl.DataFrame, sla: pl.DataFrame) -> pl.DataFrame:
    """Attach the SLA rule in force on received_on (a request older than every rule is judged by
    the earliest one)."""
    rules = sla.sort("effective_from").select(
        pl.col("effective_from").cast(pl.Date), "review_days", "reply_days", pl.col("name").alias("rule")
    )
    first = rules.head(1)
    joined = frame.sort("received_on").join_asof(
        rules, left_on="received_on", right_on="effective_from", strategy="backward"
    )
    if first.height:
        joined = joined.with_columns(
            review_days=pl.coalesce("review_days", pl.lit(first["review_days"][0])),
            reply_days=pl.coalesce("reply_days", pl.lit(first["reply_days"][0])),
            rule=pl.coalesce("rule", pl.lit(first["rule"][0])),
        )
    return joined.drop("effective_from")


def request_steps(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """One row per review / reply step as of D with its deadline and status
    ('on_time' | 'late' | 'overdue' | 'pending')."""
    office = office_unit_id(facts)
    reqs = _with_rule(requests_as_of(facts, as_of), facts.sla)
    review = reqs.select(
        "code", "requester_id", "provider_id",
        step=pl.lit("review"),
        responsible_id=pl.lit(office, dtype=pl.Int64),
        started_on=pl.col("received_on"),
        days=pl.col("review_days"),
        done_on=pl.col("reviewed_on"),
        rule="rule",
    )
    # The provider answers once the office forwarded the request or passed its review; a request
    # returned at review never reaches the provider.
    reply = reqs.filter(
        (pl.col("review_result").fill_null("") != "退回")
        & (pl.col("forwarded_on").is_not_null() | (pl.col("review_result") == "通过"))
    ).select(
        "code", "requester_id", "provider_id",
        step=pl.lit("reply"),
        responsible_id=pl.col("provider_id").cast(pl.Int64),
        started_on=pl.coalesce("forwarded_on", "reviewed_on"),
        days=pl.col("reply_days"),
        done_on=pl.col("replied_on"),
        rule="rule",
    )
    steps = pl.concat(
        [
            review.with_columns(pl.col("requester_id", "provider_id").cast(pl.Int64)),
            reply.with_columns(pl.col("requester_id", "provider_id").cast(pl.Int64)),
        ]
    )
    steps = add_workday_deadline(steps, "started_on", "days", facts.calendar, "deadline")
    d = pl.lit(as_of)
    steps = steps.with_columns(
        status=pl.when(pl.col("done_on").is_not_null())
        .then(pl.when(pl.col("done_on") <= pl.col("deadline")).then(pl.lit("on_time")).otherwise(pl.lit("late")))
        .when(d > pl.col("deadline"))
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("pending")),
        _until=pl.coalesce("done_on", d),
    )
    steps = workdays_between(steps, "deadline", "_until", facts.calendar, "workdays_overdue").with_columns(
        workdays_overdue=pl.when(pl.col("status").is_in(["late", "overdue"]))
        .then(pl.col("workdays_overdue"))
        .otherwise(0)
        .cast(pl.Int32)
    )
    return steps.select(STEP_COLUMNS).sort("code", "step", descending=[False, True])


def _ontime(steps: pl.DataFrame, key: str, out: str) -> pl.DataFrame:
    judged = steps.filter(pl.col("status") != "pending")
    return judged.group_by(key).agg(
        (pl.col("status") == "on_time").sum().alias(f"{out}_on_time"),
        pl.len().alias(f"{out}_judged"),
    ).with_columns(
        (pl.col(f"{out}_on_time") / pl.col(f"{out}_judged")).alias(out)
    ).rename({key: "unit_id"})


def refusals(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Refusals (不同意 / 部分同意) replied by D, with whether they give both basis and reason."""
    return requests_as_of(facts, as_of).filter(pl.col("reply_result").is_in(REFUSALS)).with_columns(
        complete=filled("legal_basis") & filled("refusal_reason")
    )


def request_indicators(facts: Facts, as_of: dt.date, steps: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per unit: review_ontime_rate (office only), reply_ontime_rate, refusal_basis_rate.
    Units with nothing of a kind are absent (n/a after the scorecard's left join)."""
    if steps is None:
        steps = request_steps(facts, as_of)
    office = office_unit_id(facts)
    review = _ontime(steps.filter((pl.col("step") == "review") & (pl.col("responsible_id") == pl.lit(office, dtype=pl.Int64))),
                     "responsible_id", "review_ontime_rate")
    reply = _ontime(steps.filter(pl.col("step") == "reply"), "responsible_id", "reply_ontime_rate")
    refusal = (
        refusals(facts, as_of)
        .group_by("provider_id")
        .agg(pl.col("complete").mean().alias("refusal_basis_rate"))
        .rename({"provider_id": "unit_id"})
        .with_columns(pl.col("unit_id").cast(pl.Int64))
    )
    base = facts.units.select(pl.col("unit_id").cast(pl.Int64))
    return (
        base.join(review.with_columns(pl.col("unit_id").cast(pl.Int64)), on="unit_id", how="left")
        .join(reply.with_columns(pl.col("unit_id").cast(pl.Int64)), on="unit_id", how="left")
        .join(refusal, on="unit_id", how="left")
        .select("unit_id", "review_ontime_rate", "reply_ontime_rate", "refusal_basis_rate")
    )
