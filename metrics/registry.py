"""Every measure declared once.

The scorecard, the CSV/Excel exports and the pages read these declarations: the code is the
scorecard CSV column of interfaces.md, the label and the formula text are what users read, the
value kind (rate/flag/count/score) decides formatting and how the indicator is scored, the default
weight seeds settings["weights"] (keyed by the code), the n/a rule says when the indicator does not
apply to a unit, and `rows` names the function of metrics.trace that lists the rows behind it.

Formulas are templates: a `{name}` placeholder is filled by formula_text from the settings in force
(deadlines, the red-light penalty, the SLA's working days...), so a page never shows a number the
office has since changed.

The engine's defaults (DEFAULT_SETTINGS, OFFICE, DEFAULT_SLA) live here too: data.storage.plan
seeds the database from them, and the engine falls back on them; metrics imports nothing of data/.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import polars as pl

from metrics.cn import cn_date, cn_month

Kind = Literal["rate", "flag", "count", "score"]


@dataclass(frozen=True)
class Kpi:
    code: str
    label: str
    kind: Kind            # the value's kind: rate 0–1, flag 0/1, count, score 0–100
    formula: str          # template; read it through formula_text
    default_weight: int   # the plan's default weight (0 = shown, not scored)
    na_rule: str
    rows: str             # the metrics.trace rows-behind function (see metrics.trace.ROWS)
    in_csv: bool = True   # part of the scorecard CSV contract (two indicators are shown only)


@dataclass(frozen=True)
class Measure:
    """A figure derived from the indicators (composite, grade, rank, red lights, task lights):
    its column code, the label users read and its formula template."""
    code: str
    label: str
    formula: str


KPIS: list[Kpi] = [
    Kpi("contacts_named", "明确分管领导和经办人", "flag",
        "截至考评日已明确分管领导和经办人的记1，否则记0；明确日期与{contacts_deadline}比较，显示按期/逾期。",
        5, "不适用情形：无（每个单位都须明确）。", "contacts"),
    Kpi("catalog_published", "目录已发布", "flag",
        "截至考评日至少发布1条政务数据目录的记1，否则记0；首条目录发布日期与{catalog_deadline}比较，显示按期/逾期。",
        5, "不适用情形：无（未发布记0）。", "catalog_items"),
    Kpi("catalog_metadata_rate", "目录元数据完整率", "rate",
        "元数据完整的目录条数 ÷ 已发布目录条数。完整指资源摘要、开放类型、信息项数（大于0）均已填写，"
        "有条件共享的须填共享条件，不予共享的须填不予共享依据。",
        5, "未发布目录的单位不适用。", "catalog_items"),
    Kpi("catalog_mounted_rate", "目录挂接率", "rate",
        "截至考评日已挂接数据资源的目录条数 ÷ 已发布目录条数。",
        10, "未发布目录的单位不适用。", "catalog_items"),
    Kpi("catalog_fresh_rate", "目录更新及时率", "rate",
        "最近一次更新（未更新的按发布日期）距考评日不超过一个更新周期的目录条数 ÷ 有更新周期的目录条数。"
        "周期天数：实时、每日1天，每周7天，每月31天，每季度92天，每半年183天，每年366天；不定期的不计入。",
        10, "未发布目录或目录均为不定期更新的单位不适用。", "catalog_items"),
    Kpi("share_rate", "目录共享率", "rate",
        "共享类型为无条件共享或有条件共享的目录条数 ÷ 已发布目录条数（共享是原则，不共享是例外）。",
        5, "未发布目录的单位不适用。", "catalog_items"),
    Kpi("nonshare_basis_rate", "不予共享依据完备率", "rate",
        "填写了不予共享依据的不予共享目录条数 ÷ 不予共享目录条数。",
        5, "没有不予共享目录的单位不适用。", "catalog_items"),
    Kpi("demand_matched_rate", "需求对接率", "rate",
        "截至考评日已对接的需求条数 ÷ 截至考评日提出的需求条数（按需求提出单位统计）。",
        0, "未提出需求的单位不适用。", "demands"),
    Kpi("review_ontime_rate", "初审按时率", "rate",
        "按时初审的申请数 ÷（按时 + 超时 + 逾期未审）的申请数；初审时限为收到申请后第{review_days}个工作日"
        "（不含收到当日），未到期且未办的不计入。",
        0, "只考核县大数据发展中心，其他单位不适用；没有已到期或已办结的初审时不适用。", "review_steps"),
    Kpi("reply_ontime_rate", "答复按时率", "rate",
        "按时答复的申请数 ÷（按时 + 超时 + 逾期未答复）的申请数；答复时限为转送（无转送日期的按初审通过日期）"
        "后第{reply_days}个工作日（不含当日），未到期且未办的不计入；初审退回的申请不计入。",
        15, "没有已到期或已办结的答复环节的单位不适用。", "reply_steps"),
    Kpi("refusal_basis_rate", "拒绝理由完备率", "rate",
        "同时写明法律政策依据和理由的不同意、部分同意答复数 ÷ 不同意、部分同意答复总数。",
        5, "没有不同意或部分同意答复的单位不适用（不记满分）。", "refusals"),
    Kpi("task_ontime_rate", "任务按期完成率", "rate",
        "按期完成的任务数 ÷（按期完成 + 逾期完成 + 逾期未完成）的任务数；未到期且未完成的任务和持续性任务不计入。",
        15, "没有已完成或已到期任务的单位不适用。", "task_outcomes"),
    Kpi("tasks_overdue_open", "红灯任务数", "count",
        "亮红灯的任务数（逾期未完成，或持续性任务连续两个月未报送进展）；得分 = 100 − {red_light_penalty} × 红灯数，最低0分。",
        5, "没有分工任务的单位不适用。", "task_lights"),
    Kpi("report_rate", "进展报送率", "rate",
        "各项任务实际报送进展的月数之和 ÷ 应报送的月数之和；应报送月份自{plan_start_month}起至考评日所在月，任务完成的当月为止。",
        5, "没有分工任务或尚无应报送月份的单位不适用。", "task_reports"),
    Kpi("systems_registered_rate", "信息系统注册率", "rate",
        "截至考评日已统一注册的非涉密信息系统数 ÷ 非涉密信息系统数。",
        0, "没有非涉密信息系统的单位不适用。", "systems"),
    Kpi("systems_connected_rate", "信息系统接入率", "rate",
        "截至考评日已接入共享平台的非涉密信息系统数 ÷ 非涉密信息系统数。",
        5, "没有非涉密信息系统的单位不适用。", "systems"),
    Kpi("networks_migrated_rate", "业务专网迁移率", "rate",
        "截至考评日已迁移至电子政务外网的非涉密业务专网数 ÷ 非涉密业务专网数。",
        0, "没有非涉密业务专网的单位不适用。", "networks"),
    Kpi("security_rate", "安全措施落实率", "rate",
        "考评日前最近一次安全评估中已落实的措施数（数据脱敏、数据加密、访问认证）÷ 3；未评估的记0（未评估）。",
        5, "不适用情形：无（每个单位都须落实，未评估记0）。", "security"),
    Kpi("quality_score", "数据质量得分", "score",
        "考评日前365天内各次质量检查得分的平均值（0–100）；每次检查得分为完整性、准确性、可用性、时效性四项的平均值。",
        0, "考评日前365天内没有质量检查的单位不适用。", "quality_checks"),
    Kpi("quality_fix_rate", "质量问题整改率", "rate",
        "考评日前365天内质量检查发现问题的整改数 ÷ 发现问题数。",
        0, "考评日前365天内未发现问题的单位不适用。", "quality_checks", in_csv=False),
    Kpi("village_coverage_rate", "村村通覆盖率", "rate",
        "考评日前最近一次统计的已接入电子政务外网的行政村数 ÷ 行政村总数（按乡镇（街道）统计）。",
        0, "乡镇（街道）以外的单位以及尚无统计的乡镇不适用。", "village_coverage", in_csv=False),
]

KPI_BY_CODE: dict[str, Kpi] = {k.code: k for k in KPIS}

# The figures derived from the indicators, declared beside them.
COMPOSITE = Measure(
    "composite", "综合得分",
    "各项计分指标得分 × 权重之和 ÷ 适用指标的权重之和（不适用的指标不计入，其权重按比例分给其他指标）；"
    "比率、是否类指标得分 = 数值 × 100，红灯任务数得分 = 100 − {red_light_penalty} × 红灯数（最低0分）。",
)
GRADE = Measure("grade", "等次", "按综合得分（保留两位小数）评定：{grades}，低于{last_grade_bound}分为{fail_grade}。")
RANK = Measure("rank", "排名", "同一单位类型内按综合得分（保留两位小数）从高到低排名，得分相同的并列。")
RED_LIGHTS = Measure("red_lights", "红灯数", "亮红灯的任务数（与红灯任务数指标相同，不适用时记0）。")
LIGHTS = Measure(
    "light", "亮灯",
    "红灯：逾期未完成（持续性任务连续两个月未报送）；黄灯：逾期完成或{yellow_window_days}天内到期未完成；绿灯：其他。",
)
REQUEST_DEADLINES = Measure(
    "request_deadlines", "共享申请办理时限",
    "办公室收到申请后{review_days}个工作日内初审（不含收到当日），提供单位在转送后{reply_days}个工作日内答复；"
    "未到期且未办的不计入按时率，逾期未办的按未按时计。",
)
MEASURES: list[Measure] = [COMPOSITE, GRADE, RANK, RED_LIGHTS, LIGHTS, REQUEST_DEADLINES]
MEASURE_BY_CODE: dict[str, Kpi | Measure] = {**KPI_BY_CODE, **{m.code: m for m in MEASURES}}

# The scorecard CSV of interfaces.md, in order.
CSV_KPI_CODES: list[str] = [k.code for k in KPIS if k.in_csv]
CSV_COLUMNS: list[str] = ["unit", "unit_kind", *CSV_KPI_CODES, COMPOSITE.code, GRADE.code, RANK.code]

# Chinese headers for the exports (the Excel scorecard carries the same content).
COLUMN_LABELS: dict[str, str] = {
    "unit": "单位名称",
    "unit_kind": "单位类型",
    **{k.code: k.label for k in KPIS},
    COMPOSITE.code: COMPOSITE.label,
    GRADE.code: GRADE.label,
    RANK.code: RANK.label,
    RED_LIGHTS.code: RED_LIGHTS.label,
    "suggestion": "建议",
}

# Unit kinds in the plan's order: the scorecard sorts by this, then by rank.
UNIT_KINDS: tuple[str, ...] = ("县直部门", "乡镇（街道）", "公共服务企业", "其他")

# Update cycles of the catalog in days (kpis.md); 不定期 is left out of the freshness rate.
CYCLE_DAYS: dict[str, int] = {
    "实时": 1, "每日": 1, "每周": 7, "每月": 31, "每季度": 92, "每半年": 183, "每年": 366,
}

STATUS_LABELS: dict[str, str] = {
    "on_time": "按时", "late": "超时办结", "overdue": "逾期未办", "pending": "未到期",
}
STEP_LABELS: dict[str, str] = {"review": "初审", "reply": "答复"}
LIGHT_LABELS: dict[str, str] = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}

# -- the engine's defaults (data.storage.plan seeds the database with them) ------------------------

# The office: it alone is judged on initial review, and it signs the bulletin.
OFFICE = "县大数据发展中心"

# The plan's weights, from the declarations above (zero weights are left out).
DEFAULT_WEIGHTS: dict[str, int] = {k.code: k.default_weight for k in KPIS if k.default_weight}

DEFAULT_SETTINGS = {
    "weights": DEFAULT_WEIGHTS,
    # Lower bounds, best first; below the last is 不合格.
    "grades": [["优秀", 90], ["良好", 75], ["合格", 60]],
    "fail_grade": "不合格",
    "yellow_window_days": 15,       # calendar days before a task's due date
    "warning_workdays": 3,          # request steps falling due within this many working days
    "plan_start_month": "2023-05",  # first month that requires a progress report
    "contacts_deadline": "2023-06-10",
    "catalog_deadline": "2023-09-30",
    "praise_top_n": 3,
    "praise_min_units": 4,          # automatic 表扬 only in a unit kind with at least this many scored units
    "interview_red_lights": 2,
    "red_light_penalty": 20,
}

# The request SLA rules (sla_rules rows): effective from, review days, reply days, name.
DEFAULT_SLA = [(dt.date(2000, 1, 1), 3, 10, "玉山县实施方案：初审3个工作日、答复10个工作日")]


def decimals(code: str) -> int:
    """Display decimals: rates 4, scores (quality_score, composite) 2, flags and counts 0."""
    if code == COMPOSITE.code:
        return 2
    kind = KPI_BY_CODE[code].kind
    return {"rate": 4, "score": 2}.get(kind, 0)


# -- formula text ---------------------------------------------------------------------------------

def _num(value) -> str:
    """20 / 20.0 -> '20', 2.5 -> '2.5'."""
    return f"{float(value):g}"


def sla_in_force(sla: pl.DataFrame | None, as_of: dt.date) -> dict[str, int]:
    """review_days and reply_days of the SLA rule in force on D (the earliest rule when D precedes
    every rule; the defaults when there is none): what the formulas of the two request rates name."""
    rows = [] if sla is None or sla.is_empty() else sla.sort("effective_from").select(
        "effective_from", "review_days", "reply_days").rows()
    if not rows:
        rows = [r[:3] for r in DEFAULT_SLA]
    current = [r for r in rows if r[0] <= as_of] or rows[:1]
    _start, review, reply = current[-1]
    return {"review_days": int(review), "reply_days": int(reply)}


def formula_settings(facts, as_of: dt.date) -> dict:
    """The settings a formula is rendered from as of D: facts.settings and the SLA rule in force."""
    return {**(facts.settings or {}), **sla_in_force(facts.sla, as_of)}


def _formula_values(settings: dict | None) -> dict[str, str]:
    given = {k: v for k, v in (settings or {}).items() if v is not None}
    s = {**DEFAULT_SETTINGS, **sla_in_force(None, dt.date.max), **given}
    grades = sorted(s["grades"], key=lambda g: -float(g[1]))
    return {
        "contacts_deadline": cn_date(s["contacts_deadline"]),
        "catalog_deadline": cn_date(s["catalog_deadline"]),
        "plan_start_month": cn_month(s["plan_start_month"]),
        "red_light_penalty": _num(s["red_light_penalty"]),
        "yellow_window_days": _num(s["yellow_window_days"]),
        "warning_workdays": _num(s["warning_workdays"]),
        "review_days": _num(s["review_days"]),
        "reply_days": _num(s["reply_days"]),
        "grades": "、".join(f"{label}不低于{_num(bound)}分" for label, bound in grades),
        "last_grade_bound": _num(grades[-1][1]) if grades else "0",
        "fail_grade": str(s["fail_grade"]),
    }


def formula_text(measure: Kpi | Measure | str, settings: dict | None = None) -> str:
    """The formula of an indicator or a derived measure (by object or code) as users read it, its
    placeholders filled from `settings` (facts.settings, or formula_settings(facts, D) so the request
    rates name the SLA rule in force); what `settings` lacks reads as the defaults."""
    item = MEASURE_BY_CODE[measure] if isinstance(measure, str) else measure
    return item.formula.format(**_formula_values(settings))


def settings_text(template: str, settings: dict | None = None) -> str:
    """Any text naming settings by placeholder ({review_days}, {warning_workdays}, {catalog_deadline} …)
    as users read it under `settings` (what it lacks reads as the defaults)."""
    return template.format(**_formula_values(settings))


def formula_texts(items: list, settings: dict | None = None) -> list[str]:
    """formula_text of each of `items`, the settings read once."""
    values = _formula_values(settings)
    return [(MEASURE_BY_CODE[i] if isinstance(i, str) else i).formula.format(**values) for i in items]


# -- shared helpers of the engine -----------------------------------------------------------------

def setting(facts, key: str):
    """A setting from facts.settings, falling back to the engine's default."""
    value = (facts.settings or {}).get(key)
    return DEFAULT_SETTINGS[key] if value is None else value


def office_unit_id(facts) -> int | None:
    """unit_id of the office (县大数据发展中心), which alone is judged on initial review."""
    ids = facts.units.filter(pl.col("name") == OFFICE)["unit_id"]
    return int(ids[0]) if len(ids) else None


def filled(col: str):
    """A text column holds something other than blanks."""
    return pl.col(col).is_not_null() & (pl.col(col).cast(pl.String).str.strip_chars() != "")
