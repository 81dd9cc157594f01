"""Request timeliness (共享申请办理时效): review and reply steps, their deadlines and status.

As of D only what happened on or before D exists: a review, forwarding or reply dated after D is
treated as not done yet. Deadlines are the N-th working day strictly after the start day, N from
the SLA rule in force on the request's received date.
"""

from __future__ import annotations

import datetime as dt
import weakref

import polars as pl

from metrics.facts import Facts
from metrics.registry import filled, office_unit_id
from metrics.workdays import WorkdayIndex

STEP_COLUMNS = [
    "code", "requester_id", "provider_id", "step", "responsible_id", "started_on", "deadline",
    "done_on", "status", "workdays_overdue", "rule",
]

REFUSALS = ["不同意", "部分同意"]


STEP_INPUTS = ["code", "requester_id", "provider_id", "received_on", "reviewed_on", "review_result",
               "forwarded_on", "replied_on"]


def _col(c: str | pl.Expr) -> pl.Expr:
    return pl.col(c) if isinstance(c, str) else c


def ratio(num: str | pl.Expr, den: str | pl.Expr) -> pl.Expr:
    """num ÷ den, null when den is 0 (the indicator does not apply)."""
    return pl.when(_col(den) > 0).then(_col(num) / _col(den))


def judged_count(on_time: str | pl.Expr = "on_time", late: str | pl.Expr = "late",
                 overdue: str | pl.Expr = "overdue") -> pl.Expr:
    """The steps judged as of D: on time + late + overdue (pending steps are left out)."""
    return _col(on_time) + _col(late) + _col(overdue)


def on_time_rate(on_time: str | pl.Expr = "on_time", judged: str | pl.Expr = "judged") -> pl.Expr:
    """THE on-time rate of request steps: on_time ÷ (on_time + late + overdue), `judged` being that
    sum (judged_count); null when nothing was judged. The scorecard's review and reply rates, the
    monthly review's and the pages' rates all read it."""
    return ratio(on_time, judged)


def _visible(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    d = pl.lit(as_of)
    replied = pl.col("replied_on") <= d
    masks = {
        "reviewed_on": pl.when(pl.col("reviewed_on") <= d).then(pl.col("reviewed_on")),
        "review_result": pl.when(pl.col("reviewed_on") <= d).then(pl.col("review_result")),
        "forwarded_on": pl.when(pl.col("forwarded_on") <= d).then(pl.col("forwarded_on")),
        "replied_on": pl.when(replied).then(pl.col("replied_on")),
        "reply_result": pl.when(replied).then(pl.col("reply_result")),
        "legal_basis": pl.when(replied).then(pl.col("legal_basis")),
        "refusal_reason": pl.when(replied).then(pl.col("refusal_reason")),
    }
    return frame.filter(pl.col("received_on") <= d).with_columns(
        **{name: expr for name, expr in masks.items() if name in frame.columns}
    )


def _rules(sla: pl.DataFrame) -> list[tuple[dt.date, int, int, str]]:
    """The SLA rules, oldest first: a handful of settings rows (not data rows), read as tuples to
    build one expression."""
    return sla.sort("effective_from").select("effective_from", "review_days", "reply_days", "name").rows()


def _rule_of(received: pl.Expr, starts: list[dt.date], values: list, dtype) -> pl.Expr:
    """The value of the rule in force on the received date (a request older than every rule: the
    earliest); a chain of when/then over the few rules instead of an as-of join sorting millions."""
    if not starts:
        return pl.lit(None, dtype=dtype)
    expr = pl.when(pl.lit(False)).then(pl.lit(None, dtype=dtype))
    for start, value in reversed(list(zip(starts[1:], values[1:], strict=True))):
        expr = expr.when(received >= pl.lit(start)).then(pl.lit(value, dtype=dtype))
    return expr.otherwise(pl.lit(values[0], dtype=dtype))


def _step_parts(facts: Facts, as_of: dt.date, columns: list[str]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Review and reply steps (lazy): the requested columns plus responsible_id, started_on,
    done_on, deadline and rule_no. Later facts are masked by comparing dates, without copying the
    text columns (the province has millions of requests)."""
    office = office_unit_id(facts)
    rules = _rules(facts.sla)
    starts = [r[0] for r in rules]
    cal = WorkdayIndex(facts.calendar)
    d = pl.lit(as_of)
    needed = ["received_on", "reviewed_on", "review_result", "forwarded_on", "replied_on"]
    reqs = (
        facts.requests.lazy()
        .select(*dict.fromkeys([*columns, *needed]))
        .filter(pl.col("received_on") <= d)
    )
    received = pl.col("received_on")
    reviewed = pl.when(pl.col("reviewed_on") <= d).then(pl.col("reviewed_on"))
    forwarded = pl.when(pl.col("forwarded_on") <= d).then(pl.col("forwarded_on"))
    replied = pl.when(pl.col("replied_on") <= d).then(pl.col("replied_on"))
    result = pl.when(pl.col("reviewed_on") <= d).then(pl.col("review_result") == "通过")  # null: not reviewed
    rule_no = _rule_of(received, starts, list(range(len(rules))), pl.Int32)
    review = reqs.with_columns(
        responsible_id=pl.lit(office, dtype=pl.Int64),
        started_on=received,
        done_on=reviewed,
        rule_no=rule_no,
        deadline=cal.nth_after(received, _rule_of(received, starts, [r[1] for r in rules], pl.Int32)),
    )
    # The provider answers once the office forwarded the request or passed its review; a request
    # returned at review never reaches the provider.
    returned = (pl.col("review_result") == "退回").fill_null(False) & (pl.col("reviewed_on") <= d).fill_null(False)
    started = pl.coalesce(forwarded, reviewed)
    reply = reqs.filter(~returned & (forwarded.is_not_null() | result.fill_null(False))).with_columns(
        responsible_id=pl.col("provider_id").cast(pl.Int64),
        started_on=started,
        done_on=replied,
        rule_no=rule_no,
        deadline=cal.nth_after(started, _rule_of(received, starts, [r[2] for r in rules], pl.Int32)),
    )
    return review, reply


def request_steps(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """One row per review / reply step as of D with its deadline and status
    ('on_time' | 'late' | 'overdue' | 'pending'): every review step in the order of the requests,
    then every reply step (sort as needed; sorting millions of rows is left to the caller)."""
    return step_plan(facts, as_of).collect()


def step_plan(facts: Facts, as_of: dt.date) -> pl.LazyFrame:
    """request_steps(facts, D) as a lazy query: a caller that needs only counts or a filtered part
    of the steps collects that, and never holds the millions of step rows (nor their request
    codes) at once."""
    review, reply = _step_parts(facts, as_of, STEP_INPUTS)
    names = pl.Series([r[3] for r in _rules(facts.sla)], dtype=pl.String)
    cal = WorkdayIndex(facts.calendar)
    d = pl.lit(as_of)
    deadline = pl.col("deadline")
    status = (
        pl.when(pl.col("done_on").is_not_null())
        .then(pl.when(pl.col("done_on") <= deadline).then(pl.lit("on_time")).otherwise(pl.lit("late")))
        .when(d > deadline).then(pl.lit("overdue"))
        .otherwise(pl.lit("pending"))
    )
    shape = [
        "code", pl.col("requester_id").cast(pl.Int64), pl.col("provider_id").cast(pl.Int64), "step",
        "responsible_id", "started_on", "deadline", "done_on", "rule_no",
    ]
    steps = pl.concat([
        review.with_columns(step=pl.lit("review")).select(shape),
        reply.with_columns(step=pl.lit("reply")).select(shape),
    ])
    return (
        steps.with_columns(status=status)
        .with_columns(
            workdays_overdue=pl.when(pl.col("status").is_in(["late", "overdue"]))
            .then(cal.between(deadline, pl.coalesce("done_on", d)))
            .otherwise(0)
            .cast(pl.Int32),
            rule=pl.lit(names).gather(pl.col("rule_no")) if len(names) else pl.lit(None, dtype=pl.String),
        )
        .select(STEP_COLUMNS)
    )


# The request's free text: not needed to compute any figure (only whether legal_basis and
# refusal_reason are filled), only to show rows. Facts loaded from the database hold the flags
# (TEXT_FLAGS) instead and read the text of the rows shown (Facts.request_text).
REQUEST_TEXT = ["purpose", "legal_basis", "refusal_reason"]
TEXT_FLAGS = {"legal_basis": "has_legal_basis", "refusal_reason": "has_refusal_reason"}
# What loaded facts leave out of `requests` and read for the rows a list shows: the free text and
# the catalog item asked for, which no figure needs either.
ROW_DETAIL = [*REQUEST_TEXT, "catalog_code"]
# The requests' columns as the database holds them (the order of the row lists showing them).
REQUEST_COLUMNS = ["code", "requester_id", "provider_id", "catalog_code", "purpose", "received_on", "reviewed_on",
                   "review_result", "forwarded_on", "replied_on", "reply_result", "legal_basis", "refusal_reason"]


def has_text(facts: Facts, col: str) -> pl.Expr:
    """Whether a request's text column holds something (metrics.registry.filled), read from the
    loaded flag when the facts hold flags instead of the text."""
    flag = TEXT_FLAGS.get(col)
    if col not in facts.requests.columns and flag in facts.requests.columns:
        return pl.col(flag).fill_null(False)
    return filled(col)


def holds_text(facts: Facts) -> bool:
    """Whether facts.requests holds the request text itself (hand-built facts) rather than flags."""
    return all(c in facts.requests.columns for c in REQUEST_TEXT)


def with_request_text(facts: Facts, frame: pl.DataFrame, columns: list[str] | None = None) -> pl.DataFrame:
    """`frame` (one row per request code, or several) with the request text columns added by code,
    in its own row order: from facts.requests when it holds them, else read for the frame's codes
    through facts.request_text. Columns the frame already has are kept."""
    wanted = [c for c in (columns or ROW_DETAIL) if c not in frame.columns]
    if not wanted:
        return frame
    held = [c for c in wanted if c in facts.requests.columns]
    parts = [facts.requests.select("code", *held).unique("code", keep="first", maintain_order=True)] if held else []
    missing = [c for c in wanted if c not in held]
    if missing:
        if facts.request_text is None:
            raise ValueError(f"the facts hold neither the request text nor a way to read it: {missing}")
        parts.append(facts.request_text(frame["code"].unique(), missing))
    for part in parts:
        frame = frame.join(part, on="code", how="left", maintain_order="left")
    return frame


def refusals(facts: Facts, as_of: dt.date, text: bool = True, where: pl.Expr | None = None) -> pl.DataFrame:
    """Refusals (不同意 / 部分同意) replied by D, with whether they give both basis and reason.
    text=False leaves out the free text (purpose, legal_basis, refusal_reason) and catalog_code for a caller that
    filters first and adds it with with_request_text to the rows it shows. `where` keeps only the
    refusals it selects (it may read `complete`), and only their text is read."""
    refused = facts.requests.filter(pl.col("reply_result").is_in(REFUSALS) & (pl.col("replied_on") <= as_of))
    refused = _visible(refused, as_of).with_columns(
        complete=has_text(facts, "legal_basis") & has_text(facts, "refusal_reason")
    )
    if where is not None:  # the rows a list keeps, before any text is read for them
        refused = refused.filter(where)
    if holds_text(facts):
        return refused if text else refused.drop(ROW_DETAIL)
    # Loaded facts' own columns (flags, the authorisation's use_until) are not the request's.
    refused = refused.drop([c for c in [*TEXT_FLAGS.values(), "use_until"] if c in refused.columns])
    if not text:
        return refused
    # The database's shape: the text in its place among the columns.
    columns = [c for c in REQUEST_COLUMNS if c in refused.columns or c in ROW_DETAIL]
    columns += [c for c in refused.columns if c not in columns and c != "complete"]
    return with_request_text(facts, refused).select(*columns, "complete")


_timelines: dict[int, pl.DataFrame] = {}


def request_timeline(facts: Facts) -> pl.DataFrame:
    """Per request, everything that does not depend on D: the dates, whether the review returned
    or passed it, the review deadline and both possible reply deadlines (from the forwarding date,
    from the review date), and whether it is a refusal giving both basis and reason. Computed once
    per Facts (kept while the Facts lives), so a scorecard or a 12-month trend only compares dates."""
    key = id(facts)
    cached = _timelines.get(key)
    if cached is not None:
        return cached
    rules = _rules(facts.sla)
    starts = [r[0] for r in rules]
    cal = WorkdayIndex(facts.calendar)
    received = pl.col("received_on")
    reply_days = _rule_of(received, starts, [r[2] for r in rules], pl.Int32)
    frame = facts.requests.select(
        "provider_id",  # as loaded (a copy as Int64 took 58 MB at province scale): cast once grouped
        "received_on", "reviewed_on", "forwarded_on", "replied_on",
        returned=(pl.col("review_result") == "退回").fill_null(False),
        passed=(pl.col("review_result") == "通过").fill_null(False),
        review_deadline=cal.nth_after(received, _rule_of(received, starts, [r[1] for r in rules], pl.Int32)),
        reply_deadline_fwd=cal.nth_after(pl.col("forwarded_on"), reply_days),
        reply_deadline_rev=cal.nth_after(pl.col("reviewed_on"), reply_days),
        refusal=pl.col("reply_result").is_in(REFUSALS).fill_null(False),
        complete=has_text(facts, "legal_basis") & has_text(facts, "refusal_reason"),
    )
    _timelines[key] = frame
    weakref.finalize(facts, _timelines.pop, key, None)
    return frame


def _timeline_steps(as_of: dt.date) -> dict[str, pl.Expr]:
    """Over the request timeline at D: whether each step exists, is done, its deadline (the
    rules of request_steps, compared as dates)."""
    d = pl.lit(as_of)
    on_or_before = lambda col: (pl.col(col) <= d).fill_null(False)  # noqa: E731
    visible = on_or_before("received_on")
    reviewed, forwarded = on_or_before("reviewed_on"), on_or_before("forwarded_on")
    return {
        "review_exists": visible,
        "review_done": visible & reviewed,
        "review_deadline": pl.col("review_deadline"),
        "review_done_on": pl.col("reviewed_on"),
        # reply step: exists once forwarded or passed by D, unless returned
        "reply_exists": visible & ~(reviewed & pl.col("returned")) & (forwarded | (reviewed & pl.col("passed"))),
        "reply_done": on_or_before("replied_on"),
        "reply_deadline": pl.when(forwarded).then(pl.col("reply_deadline_fwd")).otherwise(pl.col("reply_deadline_rev")),
        "reply_done_on": pl.col("replied_on"),
    }


def step_counts(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """request_steps(facts, D) counted per (step, provider_id, status): column n. Counted from the
    request timeline by comparing dates (as request_indicators does), without building the steps."""
    parts = _timeline_steps(as_of)
    d = pl.lit(as_of)
    timeline = request_timeline(facts).lazy()
    frames = []
    for step in ("review", "reply"):
        deadline, done_on = parts[f"{step}_deadline"], parts[f"{step}_done_on"]
        # request_steps' status: a done step with no deadline is late, an open one pending.
        status = (
            pl.when(parts[f"{step}_done"])
            .then(pl.when((done_on <= deadline).fill_null(False)).then(pl.lit("on_time")).otherwise(pl.lit("late")))
            .when((d > deadline).fill_null(False)).then(pl.lit("overdue"))
            .otherwise(pl.lit("pending"))
        )
        frames.append(
            timeline.filter(parts[f"{step}_exists"])
            .group_by(pl.lit(step).alias("step"), "provider_id", status.alias("status"))
            .agg(pl.len().alias("n"))
            .with_columns(pl.col("provider_id").cast(pl.Int64))
        )
    return pl.concat(pl.collect_all(frames))


def open_steps_due_by(facts: Facts, as_of: dt.date, horizon: dt.date) -> pl.Series:
    """A mask over facts.requests: the requests with a step open at D (not done) whose deadline
    is on or before `horizon` (a superset of those with a pending step due by then), so a list of
    such steps need build the steps of those requests only."""
    parts = _timeline_steps(as_of)
    h = pl.lit(horizon)
    review = parts["review_exists"] & ~parts["review_done"] & (parts["review_deadline"] <= h).fill_null(False)
    reply = parts["reply_exists"] & ~parts["reply_done"] & (parts["reply_deadline"] <= h).fill_null(False)
    return request_timeline(facts).select((review | reply).alias("open"))["open"]


def request_indicators(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Per unit: review_ontime_rate (office only), reply_ontime_rate, refusal_basis_rate; null
    where a unit has nothing of a kind. Counted from the request timeline by comparing dates with
    D, the same rules as request_steps (tested equal) without building millions of step rows."""
    d = pl.lit(as_of)
    on_or_before = lambda col: (pl.col(col) <= d).fill_null(False)  # noqa: E731
    visible = on_or_before("received_on")
    reviewed, forwarded, replied = on_or_before("reviewed_on"), on_or_before("forwarded_on"), on_or_before("replied_on")
    # review step
    review_judged = visible & (reviewed | (d > pl.col("review_deadline")).fill_null(False))
    review_on_time = visible & reviewed & (pl.col("reviewed_on") <= pl.col("review_deadline")).fill_null(False)
    # reply step: exists once forwarded or passed by D, unless returned
    exists = visible & ~(reviewed & pl.col("returned")) & (forwarded | (reviewed & pl.col("passed")))
    deadline = pl.when(forwarded).then(pl.col("reply_deadline_fwd")).otherwise(pl.col("reply_deadline_rev"))
    reply_judged = exists & (replied | (d > deadline).fill_null(False))
    reply_on_time = exists & replied & (pl.col("replied_on") <= deadline).fill_null(False)
    refusal = replied & pl.col("refusal")
    timeline = request_timeline(facts).lazy()
    office = office_unit_id(facts)
    review, per_provider = pl.collect_all([
        timeline.select(review_on_time.sum().alias("on_time"), review_judged.sum().alias("judged")).select(
            unit_id=pl.lit(office, dtype=pl.Int64), review_ontime_rate=on_time_rate()
        ),
        timeline.group_by("provider_id").agg(
            reply_on_time.sum().alias("on_time"),
            reply_judged.sum().alias("judged"),
            (refusal & pl.col("complete")).sum().alias("complete"),
            refusal.sum().alias("refusals"),
        ).select(
            pl.col("provider_id").cast(pl.Int64).alias("unit_id"),
            reply_ontime_rate=on_time_rate(),
            refusal_basis_rate=ratio("complete", "refusals"),
        ),
    ])
    return (
        facts.units.select(pl.col("unit_id").cast(pl.Int64))
        .join(review.filter(pl.col("unit_id").is_not_null()), on="unit_id", how="left")
        .join(per_provider, on="unit_id", how="left")
        .select("unit_id", "review_ontime_rate", "reply_ontime_rate", "refusal_basis_rate")
    )
