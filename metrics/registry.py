"""Every indicator declared once.

The scorecard, the CSV/Excel exports and the pages read these declarations: the code is the
scorecard CSV column of interfaces.md, the label and the formula text are what users read, the
unit decides formatting and how the indicator is scored, the weight key looks the weight up in
settings["weights"], and the n/a rule says when the indicator does not apply to a unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

Unit = Literal["rate", "flag", "count", "score"]


@dataclass(frozen=True)
class Kpi:
    code: str
    label: str
    unit: Unit
    formula: str
    weight_key: str
    na_rule: str
    domain: str
    in_csv: bool = True  # part of the scorecard CSV contract (two indicators are shown only)


KPIS: list[Kpi] = [
    Kpi("contacts_named", "明确分管领导和经办人", "flag",
        "截至考评日已明确分管领导和经办人的记1，否则记0；明确日期与2023年6月10日比较，显示按期/逾期。",
        "contacts_named", "不适用情形：无（每个单位都须明确）。", "infra"),
    Kpi("catalog_published", "目录已发布", "flag",
        "截至考评日至少发布1条政务数据目录的记1，否则记0；首条目录发布日期与2023年9月30日比较，显示按期/逾期。",
        "catalog_published", "不适用情形：无（未发布记0）。", "catalog"),
    Kpi("catalog_metadata_rate", "目录元数据完整率", "rate",
        "元数据完整的目录条数 ÷ 已发布目录条数。完整指资源摘要、开放类型、信息项数（大于0）均已填写，"
        "有条件共享的须填共享条件，不予共享的须填不予共享依据。",
        "catalog_metadata_rate", "未发布目录的单位不适用。", "catalog"),
    Kpi("catalog_mounted_rate", "目录挂接率", "rate",
        "截至考评日已挂接数据资源的目录条数 ÷ 已发布目录条数。",
        "catalog_mounted_rate", "未发布目录的单位不适用。", "catalog"),
    Kpi("catalog_fresh_rate", "目录更新及时率", "rate",
        "最近一次更新（未更新的按发布日期）距考评日不超过一个更新周期的目录条数 ÷ 有更新周期的目录条数。"
        "周期天数：实时、每日1天，每周7天，每月31天，每季度92天，每半年183天，每年366天；不定期的不计入。",
        "catalog_fresh_rate", "未发布目录或目录均为不定期更新的单位不适用。", "catalog"),
    Kpi("share_rate", "目录共享率", "rate",
        "共享类型为无条件共享或有条件共享的目录条数 ÷ 已发布目录条数（共享是原则，不共享是例外）。",
        "share_rate", "未发布目录的单位不适用。", "catalog"),
    Kpi("nonshare_basis_rate", "不予共享依据完备率", "rate",
        "填写了不予共享依据的不予共享目录条数 ÷ 不予共享目录条数。",
        "nonshare_basis_rate", "没有不予共享目录的单位不适用。", "catalog"),
    Kpi("demand_matched_rate", "需求对接率", "rate",
        "截至考评日已对接的需求条数 ÷ 截至考评日提出的需求条数（按需求提出单位统计）。",
        "demand_matched_rate", "未提出需求的单位不适用。", "catalog"),
    Kpi("review_ontime_rate", "初审按时率", "rate",
        "按时初审的申请数 ÷（按时 + 超时 + 逾期未审）的申请数；初审时限为收到申请后第3个工作日"
        "（不含收到当日），未到期且未办的不计入。",
        "review_ontime_rate", "只考核县大数据发展中心，其他单位不适用；没有已到期或已办结的初审时不适用。",
        "requests"),
    Kpi("reply_ontime_rate", "答复按时率", "rate",
        "按时答复的申请数 ÷（按时 + 超时 + 逾期未答复）的申请数；答复时限为转送（无转送日期的按初审通过日期）"
        "后第10个工作日（不含当日），未到期且未办的不计入；初审退回的申请不计入。",
        "reply_ontime_rate", "没有已到期或已办结的答复环节的单位不适用。", "requests"),
    Kpi("refusal_basis_rate", "拒绝理由完备率", "rate",
        "同时写明法律政策依据和理由的不同意、部分同意答复数 ÷ 不同意、部分同意答复总数。",
        "refusal_basis_rate", "没有不同意或部分同意答复的单位不适用（不记满分）。", "requests"),
    Kpi("task_ontime_rate", "任务按期完成率", "rate",
        "按期完成的任务数 ÷（按期完成 + 逾期完成 + 逾期未完成）的任务数；未到期且未完成的任务和持续性任务不计入。",
        "task_ontime_rate", "没有已完成或已到期任务的单位不适用。", "tasks"),
    Kpi("tasks_overdue_open", "红灯任务数", "count",
        "亮红灯的任务数（逾期未完成，或持续性任务连续两个月未报送进展）；得分 = 100 − 20 × 红灯数，最低0分。",
        "tasks_overdue_open", "没有分工任务的单位不适用。", "tasks"),
    Kpi("report_rate", "进展报送率", "rate",
        "各项任务实际报送进展的月数之和 ÷ 应报送的月数之和；应报送月份自2023年5月起至考评日所在月，任务完成的当月为止。",
        "report_rate", "没有分工任务或尚无应报送月份的单位不适用。", "tasks"),
    Kpi("systems_registered_rate", "信息系统注册率", "rate",
        "截至考评日已统一注册的非涉密信息系统数 ÷ 非涉密信息系统数。",
        "systems_registered_rate", "没有非涉密信息系统的单位不适用。", "infra"),
    Kpi("systems_connected_rate", "信息系统接入率", "rate",
        "截至考评日已接入共享平台的非涉密信息系统数 ÷ 非涉密信息系统数。",
        "systems_connected_rate", "没有非涉密信息系统的单位不适用。", "infra"),
    Kpi("networks_migrated_rate", "业务专网迁移率", "rate",
        "截至考评日已迁移至电子政务外网的非涉密业务专网数 ÷ 非涉密业务专网数。",
        "networks_migrated_rate", "没有非涉密业务专网的单位不适用。", "infra"),
    Kpi("security_rate", "安全措施落实率", "rate",
        "考评日前最近一次安全评估中已落实的措施数（数据脱敏、数据加密、访问认证）÷ 3；未评估的记0（未评估）。",
        "security_rate", "不适用情形：无（每个单位都须落实，未评估记0）。", "infra"),
    Kpi("quality_score", "数据质量得分", "score",
        "考评日前365天内各次质量检查得分的平均值（0–100）；每次检查得分为完整性、准确性、可用性、时效性四项的平均值。",
        "quality_score", "考评日前365天内没有质量检查的单位不适用。", "infra"),
    Kpi("quality_fix_rate", "质量问题整改率", "rate",
        "考评日前365天内质量检查发现问题的整改数 ÷ 发现问题数。",
        "quality_fix_rate", "考评日前365天内未发现问题的单位不适用。", "infra", in_csv=False),
    Kpi("village_coverage_rate", "村村通覆盖率", "rate",
        "考评日前最近一次统计的已接入电子政务外网的行政村数 ÷ 行政村总数（按乡镇（街道）统计）。",
        "village_coverage_rate", "乡镇（街道）以外的单位以及尚无统计的乡镇不适用。", "infra", in_csv=False),
]

KPI_BY_CODE: dict[str, Kpi] = {k.code: k for k in KPIS}

# The scorecard CSV of interfaces.md, in order.
CSV_KPI_CODES: list[str] = [k.code for k in KPIS if k.in_csv]
CSV_COLUMNS: list[str] = ["unit", "unit_kind", *CSV_KPI_CODES, "composite", "grade", "rank"]

# Chinese headers for the exports (the Excel scorecard carries the same content).
COLUMN_LABELS: dict[str, str] = {
    "unit": "单位名称",
    "unit_kind": "单位类型",
    **{k.code: k.label for k in KPIS},
    "composite": "综合得分",
    "grade": "等次",
    "rank": "排名",
    "red_lights": "红灯数",
    "suggestion": "建议",
}

# Unit kinds in the plan's order: the scorecard sorts by this, then by rank.
UNIT_KINDS: list[str] = ["县直部门", "乡镇（街道）", "公共服务企业", "其他"]

# Update cycles of the catalog in days (kpis.md); 不定期 is left out of the freshness rate.
CYCLE_DAYS: dict[str, int] = {
    "实时": 1, "每日": 1, "每周": 7, "每月": 31, "每季度": 92, "每半年": 183, "每年": 366,
}

STATUS_LABELS: dict[str, str] = {
    "on_time": "按时", "late": "超时办结", "overdue": "逾期未办", "pending": "未到期",
}
STEP_LABELS: dict[str, str] = {"review": "初审", "reply": "答复"}
LIGHT_LABELS: dict[str, str] = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}


def decimals(code: str) -> int:
    """Display decimals: rates 4, scores (quality_score, composite) 2, flags and counts 0."""
    if code == "composite":
        return 2
    unit = KPI_BY_CODE[code].unit
    return {"rate": 4, "score": 2}.get(unit, 0)


# -- shared helpers of the engine -----------------------------------------------------------------

def setting(facts, key: str):
    """A setting from facts.settings, falling back to the plan's default."""
    from data.storage.plan import DEFAULT_SETTINGS  # lazily: the registry itself is plain declarations

    value = (facts.settings or {}).get(key)
    return DEFAULT_SETTINGS[key] if value is None else value


def office_unit_id(facts) -> int | None:
    """unit_id of the office (县大数据发展中心), which alone is judged on initial review."""
    from data.storage.plan import OFFICE

    ids = facts.units.filter(pl.col("name") == OFFICE)["unit_id"]
    return int(ids[0]) if len(ids) else None


def filled(col: str):
    """A text column holds something other than blanks."""
    return pl.col(col).is_not_null() & (pl.col(col).cast(pl.String).str.strip_chars() != "")
