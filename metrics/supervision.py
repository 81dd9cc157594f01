"""The supervision loop (督查督办) in the engine: points lost per indicator, the reasons of a 约谈,
the state of each 整改承诺 as of D, the units proposed for 督查, the authorisation register and the
items of each unit's 督办单. Pure functions of a Facts and a date, set-wise (docs/supervision.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from metrics.cn import cn_date, cn_date_expr
from metrics.facts import Facts
from metrics.points import points_of
from metrics.registry import KPI_BY_CODE, KPIS, office_unit_id, setting
from metrics.requests import ROW_DETAIL, step_plan, with_request_text
from metrics.scorecard import indicators, weights_of
from metrics.tasks import assignment_status
from metrics.workdays import add_workday_deadline

KEPT, OPEN, BROKEN = "已整改", "整改中", "逾期未整改"
VALID, EXPIRING, EXPIRED = "有效", "即将到期", "已到期"

# Settings of the supervision loop with their defaults (the settings table may override them).
SUPERVISION_DEFAULTS = {
    "extension_applies": True,          # an approved 延期申请 replaces the due date
    "authorisation_warning_days": 30,   # 即将到期: expires within this many days
    "notice_reply_workdays": 10,        # 督办单: completion requested this many working days after issue
    "interview_reason_indicators": 3,   # 约谈 reasons: the indicators with the most points lost
}


def opt_setting(facts: Facts, key: str):
    value = (facts.settings or {}).get(key)
    return SUPERVISION_DEFAULTS[key] if value is None else value


def month_end(month: str) -> dt.date:
    year, mon = (int(x) for x in month.split("-"))
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def previous_month(month: str) -> str:
    year, mon = (int(x) for x in month.split("-"))
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"


# -- points per indicator ------------------------------------------------------------------------

def points_lost(facts: Facts, as_of: dt.date, frame: pl.DataFrame | None = None) -> pl.DataFrame:
    """unit_id, code, label, score, weight (effective), earned, lost: one row per unit and weighted
    applicable indicator (effective weight > 0), most points lost first within each unit. The
    figures are metrics.points' (得分明细); this is their view for the supervision loop."""
    if frame is None:
        frame = indicators(facts, as_of)
    return (
        points_of(frame, weights_of(facts), float(setting(facts, "red_light_penalty")))
        .filter((pl.col("eff_weight") > 0) & pl.col("score").is_not_null())
        .select("unit_id", "code", "label", "score", pl.col("eff_weight").alias("weight"), "earned", "lost")
        .sort(["unit_id", "lost", "code"], descending=[False, True, False])
    )


def interview_reasons(facts: Facts, month: str, unit_id: int) -> str:
    """The reasons of a 约谈 pre-filled from the month's review (as of its last day): the red-light
    tasks and the indicators with the most points lost (only those losing points, at most N)."""
    as_of = month_end(month)
    reds = (
        assignment_status(facts, as_of)
        .filter((pl.col("unit_id") == int(unit_id)) & (pl.col("light") == "red"))
        .join(facts.tasks.select(pl.col("task_no").cast(pl.Int32), "title"),
              left_on=pl.col("task_no").cast(pl.Int32), right_on="task_no", how="left")
    )
    parts = []
    if reds.height:
        items = [f"任务{r['task_no']}“{r['title']}”" + (f"（时限{cn_date(r['due_date'])}）" if r["due_date"] else "（持续性任务，连续两个月未报送进展）")
                 for r in reds.iter_rows(named=True)]
        parts.append(f"红灯任务{reds.height}项：" + "、".join(items))
    top = int(opt_setting(facts, "interview_reason_indicators"))
    lost = points_lost(facts, as_of).filter((pl.col("unit_id") == int(unit_id)) & (pl.col("lost") > 0)).head(top)
    if lost.height:
        parts.append("失分较多的指标：" + "、".join(
            f"{r['label']}（失{_num(r['lost'])}分）" for r in lost.iter_rows(named=True)))
    return "；".join(parts) + "。" if parts else "本月无红灯任务，各项指标未失分。"


def _num(value: float) -> str:
    return f"{value + 1e-9:.2f}"


# -- 整改承诺 ---------------------------------------------------------------------------------------

def _indicator_values(facts: Facts, rows: pl.DataFrame, day_col: str) -> pl.DataFrame:
    """rows (commitment_id, unit_id, indicator, <day_col>) -> commitment_id, value: the indicator's
    value for the unit as of each row's day, one engine run per distinct day."""
    out = []
    for day in rows[day_col].unique().drop_nulls().sort().to_list():
        these = rows.filter(pl.col(day_col) == day)
        frame = indicators(facts, day)
        codes = [c for c in these["indicator"].unique().to_list() if c in frame.columns]
        long = frame.select("unit_id", *[pl.col(c).cast(pl.Float64) for c in codes]).unpivot(
            index="unit_id", variable_name="indicator", value_name="value")
        out.append(these.join(long, on=["unit_id", "indicator"], how="left").select("commitment_id", "value"))
    if not out:
        return pl.DataFrame(schema={"commitment_id": pl.Int64, "value": pl.Float64})
    return pl.concat(out)


def _task_done(facts: Facts, rows: pl.DataFrame, day_col: str) -> pl.DataFrame:
    """rows (commitment_id, unit_id, task_no, <day_col>) -> commitment_id, done, completed_on: the
    assignment completed (or, for an ongoing task, its light not red) as of each row's day."""
    out = []
    for day in rows[day_col].unique().drop_nulls().sort().to_list():
        status = assignment_status(facts, day).select(
            pl.col("task_no").cast(pl.Int32), pl.col("unit_id").cast(pl.Int64), "is_ongoing", "light", "completed_on")
        these = rows.filter(pl.col(day_col) == day).join(status, on=["task_no", "unit_id"], how="left")
        out.append(these.select(
            "commitment_id",
            done=pl.when(pl.col("is_ongoing")).then(pl.col("light") != "red")
            .otherwise(pl.col("completed_on").is_not_null()).fill_null(False),
            completed_on="completed_on",
        ))
    if not out:
        return pl.DataFrame(schema={"commitment_id": pl.Int64, "done": pl.Boolean, "completed_on": pl.Date})
    return pl.concat(out)


COMMITMENT_COLUMNS = [
    "commitment_id", "interview_id", "month", "unit_id", "indicator", "target", "task_no", "due_on", "note",
    "state", "kept_late", "kept_on", "value_at_due", "value_now", "follow_up",
]


def commitment_states(facts: Facts, as_of: dt.date) -> pl.DataFrame:
    """Every commitment of an interview held by D, with its state as of D:
    已整改 (target met as of its due date), 整改中 (due date not passed), 逾期未整改 (due date
    passed without). A commitment met only after its due date stays 逾期未整改 with kept_late
    (and kept_on, the completion date when the data gives one); `follow_up` says it in words."""
    held = facts.interviews.filter(pl.col("held_on") <= pl.lit(as_of)).select(
        pl.col("interview_id").cast(pl.Int64), "month")
    rows = (
        facts.commitments.with_columns(pl.col("commitment_id").cast(pl.Int64), pl.col("interview_id").cast(pl.Int64),
                                       pl.col("unit_id").cast(pl.Int64), pl.col("task_no").cast(pl.Int32))
        .join(held, on="interview_id", how="inner")
        .with_columns(judged_on=pl.when(pl.col("due_on") <= pl.lit(as_of)).then(pl.col("due_on")),
                      now=pl.lit(as_of))
    )
    ind = rows.filter(pl.col("indicator").is_not_null())
    tsk = rows.filter(pl.col("task_no").is_not_null())
    at_due = _indicator_values(facts, ind.filter(pl.col("judged_on").is_not_null()), "judged_on")
    now = _indicator_values(facts, ind, "now").rename({"value": "value_now"})
    ind = (ind.join(at_due.rename({"value": "value_at_due"}), on="commitment_id", how="left")
           .join(now, on="commitment_id", how="left"))
    ind = ind.with_columns(
        met_due=_reach("value_at_due"), met_now=_reach("value_now"), kept_on=pl.lit(None, dtype=pl.Date))
    t_due = _task_done(facts, tsk.filter(pl.col("judged_on").is_not_null()), "judged_on").rename(
        {"done": "met_due", "completed_on": "_c_due"})
    t_now = _task_done(facts, tsk, "now").rename({"done": "met_now", "completed_on": "kept_on"})
    tsk = (tsk.join(t_due, on="commitment_id", how="left").join(t_now, on="commitment_id", how="left")
           .with_columns(value_at_due=pl.lit(None, dtype=pl.Float64), value_now=pl.lit(None, dtype=pl.Float64))
           .drop("_c_due"))
    cols = [*rows.columns, "value_at_due", "value_now", "met_due", "met_now", "kept_on"]
    both = pl.concat([ind.select(cols), tsk.select(cols)], how="vertical_relaxed")
    due_passed = pl.col("due_on") < pl.lit(as_of)
    # On the due date itself the day is not over: the commitment is judged on its value that day
    # (met -> 已整改), otherwise it is still 整改中 until the day has passed.
    state = (pl.when(pl.col("met_due").fill_null(False)).then(pl.lit(KEPT))
             .when(~due_passed).then(pl.lit(OPEN)).otherwise(pl.lit(BROKEN)))
    both = both.with_columns(state=state).with_columns(
        kept_late=(pl.col("state") == BROKEN) & pl.col("met_now").fill_null(False))
    follow = (
        pl.when(pl.col("state") == KEPT).then(pl.lit("按期整改到位"))
        .when(pl.col("state") == OPEN).then(pl.concat_str(pl.lit("整改期限"), cn_date_expr(pl.col("due_on"))))
        .when(pl.col("kept_late") & pl.col("kept_on").is_not_null())
        .then(pl.concat_str(pl.lit("已于"), cn_date_expr(pl.col("kept_on")), pl.lit("整改（逾期）")))
        .when(pl.col("kept_late")).then(pl.concat_str(pl.lit("截至"), pl.lit(cn_date(as_of)), pl.lit("已整改（逾期）")))
        .otherwise(pl.concat_str(pl.lit("逾期未整改（期限"), cn_date_expr(pl.col("due_on")), pl.lit("）")))
    )
    return (both.with_columns(follow_up=follow,
                              kept_on=pl.when(pl.col("kept_late")).then(pl.col("kept_on")))
            .select(COMMITMENT_COLUMNS).sort("due_on", "unit_id", "commitment_id"))


def _reach(col: str) -> pl.Expr:
    lower_is_better = pl.col("indicator") == "tasks_overdue_open"
    value = pl.col(col)
    return (pl.when(value.is_null()).then(pl.lit(False))
            .when(lower_is_better).then(value <= pl.col("target") + 1e-9)
            .otherwise(value >= pl.col("target") - 1e-9))


def open_commitments(facts: Facts, as_of: dt.date, states: pl.DataFrame | None = None) -> pl.DataFrame:
    """Commitments not settled as of D: 整改中, and 逾期未整改 not yet kept late."""
    states = commitment_states(facts, as_of) if states is None else states
    return states.filter((pl.col("state") == OPEN) | ((pl.col("state") == BROKEN) & ~pl.col("kept_late")))


def commitments_due_in(facts: Facts, month: str) -> pl.DataFrame:
    """What became of the commitments due in `month`, as of its last day. The review is held once
    the month is over, so one due on the last day and not met is 逾期未整改 here, not 整改中."""
    as_of = month_end(month)
    start = as_of.replace(day=1)
    return (commitment_states(facts, as_of).filter(pl.col("due_on").is_between(start, as_of))
            .with_columns(
                follow_up=pl.when(pl.col("state") == OPEN)
                .then(pl.concat_str(pl.lit("逾期未整改（期限"), cn_date_expr(pl.col("due_on")), pl.lit("）")))
                .otherwise(pl.col("follow_up")),
                state=pl.when(pl.col("state") == OPEN).then(pl.lit(BROKEN)).otherwise(pl.col("state"))))


def inspection_proposals(facts: Facts, as_of: dt.date, states: pl.DataFrame | None = None) -> pl.DataFrame:
    """unit_id, broken (逾期未整改 commitments still not met at D), consecutive (interviewed for
    two consecutive review months, the later being the month of D or the one before), reason:
    the units proposed for 督查 as of D. The office is never proposed."""
    states = commitment_states(facts, as_of) if states is None else states
    broken = (states.filter((pl.col("state") == BROKEN) & ~pl.col("kept_late"))
              .group_by("unit_id").agg(pl.len().cast(pl.Int64).alias("broken")))
    this = f"{as_of:%Y-%m}"
    recent = {this, previous_month(this)}
    held = facts.interviews.filter(pl.col("held_on") <= pl.lit(as_of)).select(
        pl.col("unit_id").cast(pl.Int64), "month")
    prev = held.with_columns(month=pl.col("month").map_elements(_next_month, return_dtype=pl.String))
    pairs = (held.join(prev, on=["unit_id", "month"], how="inner")   # interviewed in month and month-1
             .filter(pl.col("month").is_in(list(recent)))
             .group_by("unit_id").agg(pl.col("month").max().alias("later_month")))
    office = office_unit_id(facts)
    out = (
        broken.join(pairs, on="unit_id", how="full", coalesce=True)
        .with_columns(pl.col("broken").fill_null(0), consecutive=pl.col("later_month").is_not_null())
        .filter(pl.col("unit_id") != (office if office is not None else -1))
    )
    reason = pl.concat_str(
        pl.when(pl.col("broken") > 0).then(pl.concat_str(pl.lit("逾期未整改承诺"), pl.col("broken").cast(pl.String),
                                                          pl.lit("项"))),
        pl.when(pl.col("consecutive")).then(pl.lit("连续两个月被约谈")),
        separator="；", ignore_nulls=True,
    )
    return out.with_columns(reason=reason).select("unit_id", "broken", "consecutive", "reason").sort("unit_id")


def _next_month(month: str) -> str:
    year, mon = (int(x) for x in month.split("-"))
    return f"{year + (mon == 12):04d}-{mon % 12 + 1:02d}"


# -- 授权 register ----------------------------------------------------------------------------------

AUTHORISATION_COLUMNS = ["code", "requester_id", "provider_id", "catalog_code", "purpose", "reply_result",
                         "replied_on", "use_until", "days_left", "state"]


def authorisation_states(facts: Facts, as_of: dt.date, text: bool = True) -> pl.DataFrame:
    """Every 同意 / 部分同意 reply dated by D as an authorisation of the requesting unit: code,
    requester_id, provider_id, catalog_code, purpose, reply_result, replied_on, use_until,
    days_left, state (有效 / 即将到期 within N days incl. the last day / 已到期). No time limit: 有效.
    text=False leaves out purpose and catalog_code where the facts do not hold them (loaded facts
    hold neither: metrics.requests.with_request_text reads them for the rows shown)."""
    window = int(opt_setting(facts, "authorisation_warning_days"))
    days = (pl.col("use_until") - pl.lit(as_of)).dt.total_days()
    state = (pl.when(pl.col("use_until").is_null()).then(pl.lit(VALID))
             .when(days < 0).then(pl.lit(EXPIRED))
             .when(days <= window).then(pl.lit(EXPIRING))
             .otherwise(pl.lit(VALID)))
    # purpose and catalog_code: loaded facts hold neither (with_request_text reads them for the rows)
    columns = [c for c in AUTHORISATION_COLUMNS if c not in ROW_DETAIL or c in facts.requests.columns]
    given = facts.requests.filter(pl.col("reply_result").is_in(["同意", "部分同意"])
                                  & (pl.col("replied_on") <= pl.lit(as_of)))
    # Loaded facts carry use_until as a column of the requests; hand-built ones in their own frame.
    states = (
        (given if "use_until" in given.columns else given.join(facts.use_until, on="code", how="left"))
        .with_columns(pl.col("requester_id").cast(pl.Int64), pl.col("provider_id").cast(pl.Int64))
        .with_columns(days_left=days.cast(pl.Int64), state=state)
        .select(columns)
        .sort("use_until", "code", nulls_last=True)
    )
    return _with_row_detail(facts, states) if text else states


def _with_row_detail(facts: Facts, states: pl.DataFrame) -> pl.DataFrame:
    return with_request_text(facts, states, ["catalog_code", "purpose"]).select(AUTHORISATION_COLUMNS)


def authorisation_summary(facts: Facts, as_of: dt.date, by: str = "requester_id") -> pl.DataFrame:
    """Per using unit (by='requester_id') or providing unit (by='provider_id'): counts of
    有效 / 即将到期 / 已到期 authorisations as of D."""
    states = authorisation_states(facts, as_of, text=False)
    return (states.group_by(pl.col(by).alias("unit_id")).agg(
        *[(pl.col("state") == s).sum().cast(pl.Int64).alias(s) for s in (VALID, EXPIRING, EXPIRED)])
        .sort("unit_id"))


def expiring_authorisations(facts: Facts, month: str) -> pl.DataFrame:
    """The monthly review's list: authorisations 即将到期 as of the month's last day."""
    as_of = month_end(month)
    # Only an authorisation whose use_until falls within the window can be 即将到期: the states
    # of those few (not of millions of authorisations at province scale) are computed.
    window = int(opt_setting(facts, "authorisation_warning_days"))
    ending = pl.col("use_until").is_between(pl.lit(as_of), pl.lit(as_of + dt.timedelta(days=window)))
    if "use_until" in facts.requests.columns:
        narrow = dataclasses.replace(facts, requests=facts.requests.filter(ending))
    else:
        near = facts.use_until.filter(ending)
        narrow = dataclasses.replace(facts, use_until=near,
                                     requests=facts.requests.filter(pl.col("code").is_in(near["code"].implode())))
    states = authorisation_states(narrow, as_of, text=False)
    return _with_row_detail(facts, states.filter(pl.col("state") == EXPIRING))


# -- 督办单 -----------------------------------------------------------------------------------------

NOTICE_COLUMNS = ["unit_id", "kind", "item", "deadline", "days_overdue", "day_kind"]


def notice_items(facts: Facts, as_of: dt.date, states: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every overdue item as of D per unit, the content of its 督办单: red-light tasks (calendar
    days overdue), overdue request steps the unit is responsible for (working days overdue) and
    commitments 逾期未整改 and not kept since (calendar days). The office issues the notices and
    gets none itself."""
    d = pl.lit(as_of)
    tasks = (
        assignment_status(facts, as_of).filter(pl.col("light") == "red")
        .join(facts.tasks.select(pl.col("task_no").cast(pl.Int32), "title"),
              left_on=pl.col("task_no").cast(pl.Int32), right_on="task_no", how="left")
        .select(
            pl.col("unit_id").cast(pl.Int64), kind=pl.lit("红灯任务"),
            item=pl.concat_str(pl.lit("任务"), pl.col("task_no").cast(pl.String), pl.lit("“"), pl.col("title"),
                               pl.lit("”"),
                               pl.when(pl.col("is_ongoing")).then(pl.lit("（持续性任务，连续两个月未报送进展）"))
                               .otherwise(pl.lit("逾期未完成"))),
            deadline=pl.col("due_date"),
            days_overdue=pl.when(pl.col("due_date").is_not_null())
            .then((d - pl.col("due_date")).dt.total_days()).cast(pl.Int64),
            day_kind=pl.lit("日"),
        )
    )
    names = facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name"))
    steps = (
        step_plan(facts, as_of).filter(pl.col("status") == "overdue").collect()
        .join(names.rename({"unit_id": "requester_id", "name": "requester"}), on="requester_id", how="left")
        .select(
            pl.col("responsible_id").cast(pl.Int64).alias("unit_id"), kind=pl.lit("逾期申请环节"),
            item=pl.concat_str(pl.lit("共享申请"), pl.col("code"), pl.lit("（"), pl.col("requester"), pl.lit("申请）"),
                               pl.when(pl.col("step") == "review").then(pl.lit("逾期未初审"))
                               .otherwise(pl.lit("逾期未答复"))),
            deadline="deadline", days_overdue=pl.col("workdays_overdue").cast(pl.Int64), day_kind=pl.lit("工作日"),
        )
    )
    states = commitment_states(facts, as_of) if states is None else states
    labels = pl.DataFrame({"indicator": list(KPI_BY_CODE), "label": [k.label for k in KPI_BY_CODE.values()]})
    broken = (
        states.filter((pl.col("state") == BROKEN) & ~pl.col("kept_late"))
        .join(labels, on="indicator", how="left")
        .select(
            "unit_id", kind=pl.lit("逾期未整改承诺"),
            item=pl.concat_str(pl.col("month").str.slice(0, 4), pl.lit("年"),
                               pl.col("month").str.slice(5, 2).cast(pl.Int32).cast(pl.String), pl.lit("月约谈承诺："),
                               pl.when(pl.col("task_no").is_not_null())
                               .then(pl.concat_str(pl.lit("完成任务"), pl.col("task_no").cast(pl.String)))
                               .otherwise(pl.concat_str(pl.col("label"), pl.lit("达到"), _target_text()))),
            deadline=pl.col("due_on"), days_overdue=(d - pl.col("due_on")).dt.total_days().cast(pl.Int64),
            day_kind=pl.lit("日"),
        )
    )
    office = office_unit_id(facts)
    return (
        pl.concat([tasks, steps, broken], how="vertical_relaxed")
        .filter(pl.col("unit_id") != (office if office is not None else -1))
        .select(NOTICE_COLUMNS)
        .sort(["unit_id", "kind", "deadline"], nulls_last=True)
    )


def _target_text() -> pl.Expr:
    """A commitment's target as the office wrote it: rates in per cent, red lights as a count."""
    rates = [k.code for k in KPIS if k.kind in ("rate", "flag")]
    return (pl.when(pl.col("indicator").is_in(rates))
            .then(pl.concat_str((pl.col("target") * 100).round(2).cast(pl.String).str.replace(r"\.0$", ""),
                                pl.lit("%")))
            .when(pl.col("indicator") == "tasks_overdue_open")
            .then(pl.concat_str(pl.lit("不超过"), pl.col("target").cast(pl.Int64).cast(pl.String), pl.lit("个")))
            .otherwise(pl.concat_str(pl.col("target").round(2).cast(pl.String), pl.lit("分"))))


def requested_completion(facts: Facts, issued_on: dt.date) -> dt.date:
    """The completion date a 督办单 issued on `issued_on` asks for: N working days later."""
    n = int(opt_setting(facts, "notice_reply_workdays"))
    frame = pl.DataFrame({"issued": [issued_on], "n": [n]})
    out = add_workday_deadline(frame, "issued", "n", facts.calendar, "due")["due"][0]
    return out if out is not None else issued_on + dt.timedelta(days=n * 7 // 5)
