"""The rows behind a number: for one unit and one indicator, what the engine counted.

Every frame has Chinese column names (the pages show it as is) and a 是否达标 column saying
whether the row counts for (是) or against (否) the unit; rows that count against come first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import polars as pl

from metrics.catalog import catalog_items_as_of, demand_rows
from metrics.facts import Facts
from metrics.infra import (
    SECURITY_MEASURES,
    contact_indicators,
    coverage_rows,
    latest_security,
    network_rows,
    quality_rows,
    system_rows,
)
from metrics.registry import KPI_BY_CODE, LIGHT_LABELS, STATUS_LABELS, STEP_LABELS, office_unit_id
from metrics.requests import holds_text, refusals, step_plan, with_request_text
from metrics.tasks import assignment_status, report_months


def _yes(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr).then(pl.lit("是")).otherwise(pl.lit("否"))


def _labelled(**labels: str) -> list[pl.Expr]:
    """The plain columns of a rows-behind frame: pl.col(column).alias(label) for each column=label, in order."""
    return [pl.col(column).alias(label) for column, label in labels.items()]


def _failures_first(frame: pl.DataFrame, *keys: str) -> pl.DataFrame:
    if "是否达标" not in frame.columns:
        return frame
    return frame.sort([pl.col("是否达标") == "是", *keys])


def _unit_names(facts: Facts) -> pl.DataFrame:
    return facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name"))


def _steps(facts: Facts, as_of: dt.date, unit_id: int, step: str) -> pl.DataFrame:
    names = _unit_names(facts)
    rows = (
        step_plan(facts, as_of)
        .filter((pl.col("step") == step) & (pl.col("responsible_id") == unit_id) & (pl.col("status") != "pending"))
        .collect()
        .join(names.rename({"unit_id": "requester_id", "name": "requester"}), on="requester_id", how="left")
        .join(names.rename({"unit_id": "provider_id", "name": "provider"}), on="provider_id", how="left")
    )
    return _failures_first(
        rows.select(
            pl.col("code").alias("申请编号"),
            pl.col("requester").alias("申请单位"),
            pl.col("provider").alias("提供单位"),
            pl.col("step").replace_strict(STEP_LABELS).alias("环节"),
            pl.col("started_on").alias("起算日期"),
            pl.col("deadline").alias("办理时限"),
            pl.col("done_on").alias("办理日期"),
            pl.col("status").replace_strict(STATUS_LABELS).alias("状态"),
            pl.col("workdays_overdue").alias("超期工作日"),
            pl.col("rule").alias("适用时限规定"),
            _yes(pl.col("status") == "on_time").alias("是否达标"),
        ),
        "办理时限", "申请编号",
    )


def narrowed(facts: Facts, unit_id: int) -> Facts:
    """The facts of one unit (as provider, owner, assignee): every indicator but the office's
    review rate reads only these, so a page at province scale does not scan every request."""
    mine = pl.col("unit_id") == unit_id
    return dataclasses.replace(
        facts,
        requests=facts.requests.filter(pl.col("provider_id") == unit_id),
        **{name: getattr(facts, name).filter(mine)
           for name in ("contacts", "catalog", "demands", "assignments", "reports", "systems", "networks",
                        "security", "quality", "coverage")},
    )


# The rows-behind functions, by the name each indicator of the registry gives in Kpi.rows. Each takes
# (facts, as_of, unit_id, code) and returns the frame; `narrow` says whether it reads only the unit's
# own facts (every indicator but the office's review rate), so the dispatcher narrows them first.
RowsFn = Callable[[Facts, dt.date, int, str], pl.DataFrame]
ROWS: dict[str, tuple[RowsFn, bool]] = {}


def _rows(name: str, narrow: bool = True) -> Callable[[RowsFn], RowsFn]:
    def register(fn: RowsFn) -> RowsFn:
        ROWS[name] = (fn, narrow)
        return fn
    return register


def rows_behind(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    """The rows behind indicator `code` of unit `unit_id` as of D (Chinese column names)."""
    if code not in KPI_BY_CODE:
        raise ValueError(f"未知指标：{code} / unknown indicator: {code}")
    unit_id = int(unit_id)
    fn, narrow = ROWS[KPI_BY_CODE[code].rows]
    return fn(narrowed(facts, unit_id) if narrow else facts, as_of, unit_id, code)


def _mine(unit_id: int) -> pl.Expr:
    return pl.col("unit_id") == unit_id


@_rows("review_steps", narrow=False)
def review_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    if unit_id != office_unit_id(facts):
        return pl.DataFrame({"说明": ["初审按时率只考核县大数据发展中心"]})
    return _steps(facts, as_of, unit_id, "review")


@_rows("reply_steps")
def reply_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    return _steps(facts, as_of, unit_id, "reply")


@_rows("refusals")
def refusal_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    # The text is read for this unit's rows only (loaded facts hold flags, not the text).
    rows = refusals(facts, as_of, text=holds_text(facts)).filter(pl.col("provider_id") == unit_id)
    rows = with_request_text(facts, rows, ["legal_basis", "refusal_reason"])
    return _failures_first(rows.select(
        pl.col("code").alias("申请编号"),
        pl.col("replied_on").alias("答复日期"),
        pl.col("reply_result").alias("答复结果"),
        pl.col("legal_basis").alias("法律政策依据"),
        pl.col("refusal_reason").alias("理由"),
        _yes(pl.col("complete")).alias("是否达标"),
    ), "申请编号")


# What makes a catalog item count for each catalog indicator.
CATALOG_VERDICTS = {
    "catalog_published": pl.lit(True),
    "catalog_metadata_rate": pl.col("metadata_complete"),
    "catalog_mounted_rate": pl.col("mounted"),
    "catalog_fresh_rate": pl.col("fresh"),
    "share_rate": pl.col("shared"),
    "nonshare_basis_rate": pl.col("nonshare_with_basis"),
}


@_rows("catalog_items")
def catalog_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    items = catalog_items_as_of(facts, as_of).filter(_mine(unit_id))
    verdict = CATALOG_VERDICTS[code]
    if code == "catalog_fresh_rate":
        items = items.filter(pl.col("fresh").is_not_null())
    if code == "nonshare_basis_rate":
        items = items.filter(pl.col("nonshare"))
    return _failures_first(items.select(
        *_labelled(code="目录编码", name="目录名称", share_type="共享类型", update_cycle="更新周期",
                   published_on="发布日期", last_touched_on="最近更新日期",
                   age_days="距考评日天数",  # counted from the as-of date D, not today
                   mounted_on="挂接日期"),
        _yes(pl.col("metadata_complete")).alias("元数据完整"),
        _yes(verdict).alias("是否达标"),
    ), "目录编码")


@_rows("demands")
def demand_rows_of(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows = demand_rows(facts, as_of).filter(_mine(unit_id))
    return _failures_first(rows.select(
        *_labelled(code="需求编号", content="需求内容", raised_on="提出日期"),
        pl.when(pl.col("matched")).then(pl.col("matched_on")).alias("对接日期"),
        _yes(pl.col("matched")).alias("是否达标"),
    ), "需求编号")


def _task_rows(facts: Facts, as_of: dt.date, unit_id: int) -> tuple[pl.DataFrame, pl.DataFrame, list[pl.Expr]]:
    """The unit's assignments with their titles, the assignment status and the columns every task
    indicator shows."""
    status = assignment_status(facts, as_of)
    titles = facts.tasks.select("task_no", "title", "deadline_text")
    rows = status.filter(_mine(unit_id)).join(titles, on="task_no", how="left")
    base = [
        *_labelled(task_no="任务序号", title="任务名称", deadline_text="完成时限", due_date="截止日期", status="完成情况"),
        pl.col("light").replace_strict(LIGHT_LABELS).alias("亮灯"),
        *_labelled(completed_on="完成日期", last_report_on="最近报送日期"),
    ]
    return rows, status, base


@_rows("task_outcomes")
def task_outcome_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows, _status, base = _task_rows(facts, as_of, unit_id)
    rows = rows.filter(pl.col("status").is_in(["按期完成", "逾期完成", "逾期未完成"]))
    return _failures_first(rows.select(*base, _yes(pl.col("status") == "按期完成").alias("是否达标")), "任务序号")


@_rows("task_lights")
def task_light_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows, _status, base = _task_rows(facts, as_of, unit_id)
    return _failures_first(rows.select(*base, _yes(pl.col("light") != "red").alias("是否达标")), "任务序号")


@_rows("task_reports")
def task_report_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows, status, base = _task_rows(facts, as_of, unit_id)
    months = report_months(facts, as_of, status).filter(_mine(unit_id))
    rows = rows.join(months.select("task_no", "required", "reported"), on="task_no", how="left")
    return _failures_first(rows.select(
        *base,
        pl.col("required").alias("应报送月数"),
        pl.col("reported").alias("已报送月数"),
        _yes(pl.col("reported") >= pl.col("required")).alias("是否达标"),
    ), "任务序号")


@_rows("contacts")
def contact_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    mine = _mine(unit_id)
    rows = facts.contacts.with_columns(pl.col("unit_id").cast(pl.Int64)).filter(
        mine & (pl.col("named_on") <= pl.lit(as_of)))
    flag = contact_indicators(facts, as_of).filter(mine)
    named = bool(flag["contacts_named"][0]) if flag.height else False
    return rows.select(
        *_labelled(role="角色", name="姓名", title="职务", named_on="明确日期"),
        _yes(pl.lit(named)).alias("是否达标"),
    ).sort("角色")


# Which system flag each system indicator counts.
SYSTEM_FLAGS = {"systems_registered_rate": "registered_by", "systems_connected_rate": "connected_by"}


@_rows("systems")
def system_rows_of(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows = system_rows(facts, as_of).filter(_mine(unit_id))
    return _failures_first(rows.select(
        pl.col("name").alias("系统名称"),
        _yes(pl.col("registered_by")).alias("已注册"),
        pl.col("registered_on").alias("注册日期"),
        _yes(pl.col("connected_by")).alias("已接入"),
        pl.col("connected_on").alias("接入日期"),
        _yes(pl.col(SYSTEM_FLAGS[code])).alias("是否达标"),
    ), "系统名称")


@_rows("networks")
def network_rows_of(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows = network_rows(facts, as_of).filter(_mine(unit_id))
    return _failures_first(rows.select(
        *_labelled(name="专网名称", migrated_on="迁移日期"),
        _yes(pl.col("migrated_by")).alias("是否达标"),
    ), "专网名称")


@_rows("security")
def security_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows = latest_security(facts, as_of).filter(_mine(unit_id))
    if rows.height == 0:
        return pl.DataFrame({"评估日期": [None], "数据脱敏": ["未评估"], "数据加密": ["未评估"],
                             "访问认证": ["未评估"], "是否达标": ["否"]},
                            schema={"评估日期": pl.Date, "数据脱敏": pl.String, "数据加密": pl.String,
                                    "访问认证": pl.String, "是否达标": pl.String})
    labels = dict(zip(SECURITY_MEASURES, ["数据脱敏", "数据加密", "访问认证"], strict=True))
    return rows.select(
        pl.col("assessed_on").alias("评估日期"),
        *[pl.when(pl.col(m)).then(pl.lit("已落实")).otherwise(pl.lit("未落实")).alias(lbl)
          for m, lbl in labels.items()],
        _yes(pl.col("measures") == len(SECURITY_MEASURES)).alias("是否达标"),
    )


@_rows("quality_checks")
def quality_check_rows(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows = quality_rows(facts, as_of).filter(_mine(unit_id))
    return rows.select(
        *_labelled(catalog_code="目录编码", checked_on="检查日期", completeness="完整性", accuracy="准确性",
                   usability="可用性", timeliness="时效性", check_score="检查得分", issues_found="发现问题数",
                   issues_fixed="整改问题数"),
    ).sort("检查日期", "目录编码")


@_rows("village_coverage")
def coverage_rows_of(facts: Facts, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    rows = coverage_rows(facts, as_of).filter(_mine(unit_id))
    return rows.select(
        pl.col("counted_on").alias("统计日期"),
        pl.col("villages").alias("行政村数"),
        pl.col("connected").alias("已接入村数"),
        _yes(pl.col("connected") >= pl.col("villages")).alias("是否达标"),
    )
