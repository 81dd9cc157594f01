"""Validated, audited writes of the office's settings (action 修改设置).

Every write is one transaction with its audit row; committing bumps `Database.version`, which the
facts cache and the page caches key on, so the next rerun computes with the new values.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass

import polars as pl

from data.services.reading import read, resolve_db
from data.services.users import UserError
from data.storage.audit_log import record
from data.storage.db import Database
from data.storage.facts import read_settings
from data.storage.scope import PermissionDenied, Scope
from metrics import registry
from metrics.cn import cn_date as _cn

ACTION = "修改设置"
CALENDAR_ACTION = "修改日历"

# KPI columns of the scorecard CSV contract that can carry a weight.
WEIGHT_KEYS = tuple(registry.CSV_KPI_CODES)


class SettingsError(UserError):
    """A refused settings change, with a Chinese message."""


def _require_admin(actor: Scope) -> None:
    if not actor.is_admin:
        raise PermissionDenied("此操作仅限领导小组办公室（管理员）。")


def _record(cur, actor, target, detail, before, after, action: str = ACTION) -> None:
    record(cur, actor, action, target=target, detail=detail, before=before, after=after)


def _put(cur, key: str, value) -> None:
    cur.execute(
        "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value, ensure_ascii=False)],
    )


def current_settings(db: Database) -> dict:
    return read_settings(db)


# -- weights -------------------------------------------------------------------------------------
def check_weights(weights: dict) -> dict[str, float | int]:
    """Known KPI codes, each 0–100, summing to exactly 100; zero weights are dropped."""
    clean: dict[str, float | int] = {}
    for key, raw in weights.items():
        if key not in WEIGHT_KEYS:
            raise SettingsError(f"未知指标：{key}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"指标 {key} 的权重不是数字。") from None
        if math.isnan(value) or value < 0 or value > 100:
            raise SettingsError(f"指标 {key} 的权重须在0到100之间。")
        if value:
            clean[key] = int(value) if value.is_integer() else round(value, 2)
    total = sum(clean.values())
    if abs(total - 100) > 1e-6:
        raise SettingsError(f"各指标权重之和须为100，当前为{total:g}。")
    return clean


def set_weights(actor: Scope, weights: dict, *, db: Database | None = None) -> dict:
    db = resolve_db(db)
    _require_admin(actor)
    clean = check_weights(weights)
    before = read_settings(db).get("weights")
    with db.transaction() as cur:
        _put(cur, "weights", clean)
        _record(cur, actor, "weights", "修改指标权重", before, clean)
    return clean


# -- grades --------------------------------------------------------------------------------------
def check_grades(grades: list, fail_grade: str) -> list[list]:
    """Grade names with lower bounds, best first: names distinct, bounds strictly falling in 0–100."""
    clean: list[list] = []
    for name, bound in grades:
        name = str(name or "").strip()
        if not name:
            raise SettingsError("等次名称不能为空。")
        try:
            value = float(bound)
        except (TypeError, ValueError):
            raise SettingsError(f"等次“{name}”的分数线不是数字。") from None
        if not 0 <= value <= 100:
            raise SettingsError(f"等次“{name}”的分数线须在0到100之间。")
        clean.append([name, int(value) if value.is_integer() else value])
    if not clean:
        raise SettingsError("至少需要一个等次。")
    bounds = [b for _, b in clean]
    if any(a <= b for a, b in zip(bounds, bounds[1:], strict=False)):
        raise SettingsError("等次分数线须从高到低严格递减。")
    names = [n for n, _ in clean] + [str(fail_grade or "").strip()]
    if not names[-1]:
        raise SettingsError("最低等次名称不能为空。")
    if len(set(names)) != len(names):
        raise SettingsError("等次名称不能重复。")
    return clean


def set_grades(actor: Scope, grades: list, fail_grade: str, *, db: Database | None = None) -> None:
    db = resolve_db(db)
    _require_admin(actor)
    clean = check_grades(grades, fail_grade)
    old = read_settings(db)
    before = {"grades": old.get("grades"), "fail_grade": old.get("fail_grade")}
    after = {"grades": clean, "fail_grade": fail_grade.strip()}
    with db.transaction() as cur:
        _put(cur, "grades", clean)
        _put(cur, "fail_grade", fail_grade.strip())
        _record(cur, actor, "grades", "修改等次分数线", before, after)


# -- warning windows -----------------------------------------------------------------------------
def set_windows(actor: Scope, yellow_window_days: int, warning_workdays: int, *, db: Database | None = None) -> None:
    """Yellow light window (calendar days before a task's due date) and the request warning window
    (working days)."""
    db = resolve_db(db)
    _require_admin(actor)
    yellow, warning = int(yellow_window_days), int(warning_workdays)
    if not 0 <= yellow <= 90:
        raise SettingsError("黄灯预警天数须在0到90天之间。")
    if not 0 <= warning <= 20:
        raise SettingsError("申请预警工作日数须在0到20之间。")
    old = read_settings(db)
    before = {"yellow_window_days": old.get("yellow_window_days"), "warning_workdays": old.get("warning_workdays")}
    after = {"yellow_window_days": yellow, "warning_workdays": warning}
    with db.transaction() as cur:
        _put(cur, "yellow_window_days", yellow)
        _put(cur, "warning_workdays", warning)
        _record(cur, actor, "windows", "修改预警窗口", before, after)


# -- SLA rules -----------------------------------------------------------------------------------
def sla_rules(db: Database) -> pl.DataFrame:
    return db.frame("SELECT effective_from, review_days, reply_days, name FROM sla_rules ORDER BY effective_from")


def save_sla_rule(
    actor: Scope, effective_from: dt.date, review_days: int, reply_days: int, name: str, *,
    db: Database | None = None,
) -> None:
    """Add a rule, or correct the one with the same effective-from date."""
    db = resolve_db(db)
    _require_admin(actor)
    review, reply, name = int(review_days), int(reply_days), (name or "").strip()
    if not 1 <= review <= 60 or not 1 <= reply <= 60:
        raise SettingsError("初审和答复时限须在1到60个工作日之间。")
    if not name:
        raise SettingsError("请填写规则名称（依据的文件）。")
    with db.transaction() as cur:
        old = cur.execute(
            "SELECT review_days, reply_days, name FROM sla_rules WHERE effective_from = ?", [effective_from]
        ).fetchone()
        cur.execute(
            "INSERT INTO sla_rules VALUES (?, ?, ?, ?) ON CONFLICT (effective_from) DO UPDATE SET "
            "review_days = excluded.review_days, reply_days = excluded.reply_days, name = excluded.name",
            [effective_from, review, reply, name],
        )
        before = None if old is None else {"review_days": old[0], "reply_days": old[1], "name": old[2]}
        _record(cur, actor, f"sla:{effective_from.isoformat()}",
                ("修改" if old else "新增") + f"时限规则（{_cn(effective_from)}起施行）",
                before, {"review_days": review, "reply_days": reply, "name": name})


def delete_sla_rule(actor: Scope, effective_from: dt.date, *, db: Database | None = None) -> None:
    """Remove a rule; the earliest one stays, so every request is judged under some rule."""
    db = resolve_db(db)
    _require_admin(actor)
    with db.transaction() as cur:
        first = cur.execute("SELECT min(effective_from) FROM sla_rules").fetchone()[0]
        if effective_from == first:
            raise SettingsError("最早的一条时限规则不能删除：每个申请都必须有适用的规则。")
        old = cur.execute(
            "SELECT review_days, reply_days, name FROM sla_rules WHERE effective_from = ?", [effective_from]
        ).fetchone()
        if old is None:
            raise SettingsError("该时限规则不存在。")
        cur.execute("DELETE FROM sla_rules WHERE effective_from = ?", [effective_from])
        _record(cur, actor, f"sla:{effective_from.isoformat()}", "删除时限规则",
                {"review_days": old[0], "reply_days": old[1], "name": old[2]}, None)


# -- holiday calendar ----------------------------------------------------------------------------
def set_calendar_days(actor: Scope, days: list[tuple[dt.date, bool, str | None]], *,
                      db: Database | None = None) -> int:
    """Add or correct single days (day, is_workday, note) as the office's rows (they win over the
    package). Returns the number of days written."""
    db = resolve_db(db)
    _require_admin(actor)
    if not days:
        raise SettingsError("没有要保存的日期。")
    rows = [(d, bool(w), (n or "").strip() or None) for d, w, n in days]
    if len({d for d, _, _ in rows}) != len(rows):
        raise SettingsError("同一日期不能出现两次。")
    frame = pl.DataFrame(rows, schema={"day": pl.Date, "is_workday": pl.Boolean, "note": pl.String}, orient="row")
    with db.transaction() as cur:
        before = cur.execute(
            "SELECT count(*) FILTER (WHERE is_workday), count(*) FROM calendar_days "
            "WHERE day IN (SELECT day FROM frame)"
        ).fetchone()
        cur.execute(
            "INSERT INTO calendar_days SELECT day, is_workday, 'office', note FROM frame "
            "ON CONFLICT (day) DO UPDATE SET is_workday = excluded.is_workday, source = 'office', note = excluded.note"
        )
        first, last = min(d for d, _, _ in rows), max(d for d, _, _ in rows)
        _record(cur, actor, "calendar", f"修改工作日历{len(rows)}天（{_cn(first)}至{_cn(last)}）",
                {"workdays": before[0], "days_present": before[1]},
                {"workdays": int(frame["is_workday"].sum()), "days_present": len(rows)}, action=CALENDAR_ACTION)
    return len(rows)


def year_days(year: int, holidays: list[dt.date], makeup_workdays: list[dt.date]) -> list[tuple[dt.date, bool, str | None]]:
    """Every day of `year` from a State Council notice: Monday–Friday work, weekends off, the
    listed holidays off, the listed make-up days (调休上班) on."""
    off, on = set(holidays), set(makeup_workdays)
    if off & on:
        raise SettingsError("同一天不能既是放假日又是调休上班日。")
    if any(d.year != year for d in off | on):
        raise SettingsError(f"放假和调休日期须都在{year}年内。")
    start = dt.date(year, 1, 1)
    out = []
    for i in range((dt.date(year + 1, 1, 1) - start).days):
        day = start + dt.timedelta(days=i)
        if day in off:
            out.append((day, False, "法定节假日"))
        elif day in on:
            out.append((day, True, "调休上班"))
        else:
            out.append((day, day.weekday() < 5, None))
    return out


def add_year(actor: Scope, year: int, holidays: list[dt.date], makeup_workdays: list[dt.date], *,
             db: Database | None = None) -> int:
    """Enter a whole year from the State Council holiday notice (e.g. 2027)."""
    db = resolve_db(db)
    return set_calendar_days(actor, year_days(year, holidays, makeup_workdays), db=db)


def parse_day_list(text: str) -> list[dt.date]:
    """Dates typed one per line (or separated by commas): 2027-01-01, 2027/1/1, 2027年1月1日, and
    ranges written 2027-02-10至2027-02-16 (also ~ or 到)."""
    days: list[dt.date] = []
    for part in re.split(r"[\n,，、;；]+", text or ""):
        part = part.strip()
        if not part:
            continue
        ends = [p.strip() for p in re.split(r"\s*(?:至|到|~|～)\s*", part)]
        if len(ends) > 2:
            raise SettingsError(f"无法识别的日期范围：{part}")
        try:
            first, last = (_parse_day(ends[0]), _parse_day(ends[-1]))
        except ValueError:
            raise SettingsError(f"无法识别的日期：{part}（请写成 2027-01-01 或 2027年1月1日）") from None
        if last < first:
            raise SettingsError(f"日期范围的结束早于开始：{part}")
        days.extend(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return sorted(set(days))


def _parse_day(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not m:
        raise ValueError(text)
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def office_days(db: Database) -> pl.DataFrame:
    """Days the office entered or corrected (they win over the package)."""
    return db.frame("SELECT day, is_workday, note FROM calendar_days WHERE source = 'office' ORDER BY day")


# -- group words of annex 2 (任务分工) -------------------------------------------------------------

UNIT_KINDS = registry.UNIT_KINDS


def assignment_groups(db: Database) -> pl.DataFrame:
    """Each group word of annex 2, the unit kinds it expands to and how many assignments it made."""
    return db.frame(
        "SELECT g.group_word, string_agg(g.unit_kind, '、' ORDER BY g.unit_kind) AS unit_kinds, "
        "(SELECT count(*) FROM task_assignments a WHERE a.origin = g.group_word) AS assignments "
        "FROM assignment_groups g GROUP BY g.group_word ORDER BY g.group_word"
    )


def set_group_kinds(actor: Scope, group_word: str, kinds: list[str], *,
                    db: Database | None = None) -> dict[str, int]:
    """Change which unit kinds a group word expands to, then re-expand the assignments.

    Assignments the word no longer implies are removed, except where the unit has already reported
    progress on that task: those are kept (history is never dropped silently) and counted."""
    db = resolve_db(db)
    _require_admin(actor)
    from data.storage.plan import PLAN_GROUPS, expand_assignments

    if group_word not in {word for word, _kind in PLAN_GROUPS}:
        raise SettingsError(f"「{group_word}」不是任务分工表中的单位统称。")
    kinds = [k for k in UNIT_KINDS if k in set(kinds)]
    if not kinds:
        raise SettingsError("请至少选择一种单位类型。")
    with db.transaction() as cur:
        before = cur.execute("SELECT count(*) FROM task_assignments").fetchone()[0]
        old = [r[0] for r in cur.execute(
            "SELECT unit_kind FROM assignment_groups WHERE group_word = ? ORDER BY unit_kind", [group_word]
        ).fetchall()]
        cur.execute("DELETE FROM assignment_groups WHERE group_word = ?", [group_word])
        cur.executemany("INSERT INTO assignment_groups VALUES (?, ?)", [[group_word, k] for k in kinds])
        stale = (
            "FROM task_assignments a JOIN units u USING (unit_id) WHERE a.origin = ? "
            "AND u.kind NOT IN (SELECT unit_kind FROM assignment_groups WHERE group_word = ?)"
        )
        reported = "EXISTS (SELECT 1 FROM progress_reports p WHERE p.task_no = a.task_no AND p.unit_id = a.unit_id)"
        kept = cur.execute(f"SELECT count(*) {stale} AND {reported}", [group_word, group_word]).fetchone()[0]
        cur.execute(
            "DELETE FROM task_assignments WHERE (task_no, unit_id) IN "
            f"(SELECT a.task_no, a.unit_id {stale} AND NOT {reported})",
            [group_word, group_word],
        )
        removed = before - cur.execute("SELECT count(*) FROM task_assignments").fetchone()[0]
        added = expand_assignments(cur)
        after = cur.execute("SELECT count(*) FROM task_assignments").fetchone()[0]
        _record(cur, actor, f"任务分工：{group_word}", f"{'、'.join(old)} → {'、'.join(kinds)}",
                {"任务分工": before}, {"任务分工": after})
    return {"added": added, "removed": removed, "kept": kept}


# -- milestone criteria (工作目标达标线) ------------------------------------------------------------

def milestone_criteria(db: Database) -> pl.DataFrame:
    """Every criterion row with its history: milestone, criterion, effective_from, op, threshold,
    unit_kinds, active, note (the engine picks the row in force at D)."""
    return db.frame(
        "SELECT milestone, criterion, effective_from, op, threshold, unit_kinds, active, note "
        "FROM milestone_criteria ORDER BY milestone, criterion, effective_from"
    )


def criterion_choices(db: Database) -> dict[str, str]:
    """Criterion key -> Chinese name: every registry indicator, then every task with a due date."""
    from metrics.registry import KPIS

    tasks = db.rows("SELECT task_no, title FROM tasks WHERE NOT is_ongoing ORDER BY task_no")
    return {**{k.code: k.label for k in KPIS}, **{f"task:{no}": f"任务{no}「{title}」完成" for no, title in tasks}}


def check_criterion(db: Database, milestone: str, criterion: str, op: str, threshold, unit_kinds: list[str]
                    ) -> tuple[str, float]:
    """Validate one criterion as the office types it; return (op, threshold in the engine's unit).

    Rates are typed in per cent (90 means 90 %) and stored as fractions; flags are 0 or 1;
    数据质量得分 is 0–100 points; 红灯任务数 a whole number; a task criterion means "completed"."""
    from metrics.milestones import OPS
    from metrics.registry import KPI_BY_CODE

    if not db.scalar("SELECT count(*) FROM milestones WHERE code = ?", [milestone]):
        raise SettingsError(f"未知的工作目标：{milestone}")
    names = criterion_choices(db)
    if criterion not in names:
        raise SettingsError(f"未知的指标或任务：{criterion}（须为考评指标，或有完成时限的重点任务）")
    kinds = [k for k in UNIT_KINDS if k in set(unit_kinds or [])]
    if not kinds or len(kinds) != len(set(unit_kinds)):
        raise SettingsError("请选择达标线适用的单位类型（" + "、".join(UNIT_KINDS) + "）。")
    if criterion.startswith("task:"):
        return ">=", 1.0
    if op not in OPS:
        raise SettingsError("比较方式须为“不低于”或“不高于”。")
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise SettingsError(f"{names[criterion]}的达标线不是数字。") from None
    unit = KPI_BY_CODE[criterion].kind
    if math.isnan(value):
        raise SettingsError(f"{names[criterion]}的达标线不是数字。")
    if unit == "rate":
        if not 0 <= value <= 100:
            raise SettingsError(f"{names[criterion]}的达标线须在0%到100%之间。")
        return op, value / 100
    if unit == "flag":
        if value not in (0, 1):
            raise SettingsError(f"{names[criterion]}的达标线须为1（是）或0（否）。")
        return op, value
    if unit == "count":
        if value < 0 or not value.is_integer():
            raise SettingsError(f"{names[criterion]}的达标线须为不小于0的整数。")
        return op, value
    if not 0 <= value <= 100:
        raise SettingsError(f"{names[criterion]}的达标线须在0到100分之间。")
    return op, value


def save_milestone_criterion(actor: Scope, milestone: str, criterion: str, effective_from: dt.date,
                             op: str, threshold, unit_kinds: list[str], active: bool = True,
                             note: str | None = None, *, db: Database | None = None) -> None:
    """Add a criterion row in force from `effective_from` (a row for the same date is replaced);
    active=False withdraws the criterion from that date. Earlier rows stay: past dates keep
    being judged by the criterion in force then. Audited (修改设置)."""
    db = resolve_db(db)
    _require_admin(actor)
    if not isinstance(effective_from, dt.date):
        raise SettingsError("请填写施行日期。")
    op, value = check_criterion(db, milestone, criterion, op, threshold, unit_kinds)
    kinds = [k for k in UNIT_KINDS if k in set(unit_kinds)]
    note = (note or "").strip() or None
    with db.transaction() as cur:
        old = cur.execute(
            "SELECT op, threshold, unit_kinds, active FROM milestone_criteria WHERE milestone = ? AND criterion = ? "
            "AND effective_from <= ? ORDER BY effective_from DESC LIMIT 1", [milestone, criterion, effective_from]
        ).fetchone()
        cur.execute(
            "INSERT INTO milestone_criteria VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (milestone, criterion, "
            "effective_from) DO UPDATE SET op = excluded.op, threshold = excluded.threshold, "
            "unit_kinds = excluded.unit_kinds, active = excluded.active, note = excluded.note",
            [milestone, criterion, effective_from, op, value, kinds, bool(active), note],
        )
        before = None if old is None else {"比较": old[0], "达标线": old[1], "单位类型": list(old[2]), "施行": old[3]}
        after = {"比较": op, "达标线": value, "单位类型": kinds, "施行": bool(active)}
        _record(cur, actor, f"工作目标达标线：{milestone} {criterion}",
                f"{_cn(effective_from)}起{'施行' if active else '停用'}", before, after)


# -- other parameters (其他参数) ---------------------------------------------------------------------
# Every numeric or yes/no setting that has no section of its own: key, Chinese label, kind
# ("int", "float" or "bool"), allowed range, and the group it is shown in. The default in force
# when the office has not set one comes from the module that reads the setting, so there is one
# default per setting (parameter_defaults below).
PARAMETERS: tuple[tuple[str, str, str, float, float, str], ...] = (
    ("praise_top_n", "每类单位表扬名次（前几名）", "int", 1, 10, "考评与通报"),
    ("praise_min_units", "单位数不少于多少的类别才自动表扬", "int", 1, 100, "考评与通报"),
    ("interview_red_lights", "红灯任务达到多少个建议约谈", "int", 1, 15, "考评与通报"),
    ("red_light_penalty", "每个红灯任务扣分（红灯任务数指标）", "int", 0, 100, "考评与通报"),
    ("extension_applies", "批准的延期申请替代原完成时限", "bool", 0, 1, "督查督办"),
    ("authorisation_warning_days", "授权即将到期提示天数", "int", 1, 365, "督查督办"),
    ("notice_reply_workdays", "督办单要求完成时限（工作日）", "int", 1, 60, "督查督办"),
    ("interview_reason_indicators", "约谈事由列出失分最多的指标数", "int", 1, 10, "督查督办"),
    ("login_free_attempts", "连续输错密码多少次后开始限制", "int", 1, 20, "登录与会话"),
    ("login_delay_seconds", "首次限制等待秒数（此后每次加倍）", "int", 1, 3600, "登录与会话"),
    ("login_max_delay_seconds", "最长等待秒数", "int", 1, 86400, "登录与会话"),
    ("session_idle_minutes", "无操作自动退出（分钟）", "int", 5, 1440, "登录与会话"),
    ("session_max_hours", "登录最长有效时间（小时）", "int", 1, 168, "登录与会话"),
    ("import_max_uncompressed_mb", "导入文件解压后最大（MB）", "float", 1, 2000, "数据导入"),
    ("import_max_rows", "每个工作表最多数据行数", "int", 100, 1_000_000, "数据导入"),
    ("import_max_columns", "每个工作表最多列数", "int", 10, 500, "数据导入"),
    ("import_max_errors", "最多列出的错误条数", "int", 10, 10_000, "数据导入"),
    ("import_timeout_seconds", "单个文件检查时限（秒）", "int", 5, 1800, "数据导入"),
)
PARAMETER_BY_KEY = {p[0]: p for p in PARAMETERS}


def parameter_defaults() -> dict:
    """The default of every parameter, read from the module that uses it."""
    from data.imports.spec import LIMIT_SETTINGS, ImportLimits
    from data.services.users import AUTH_DEFAULTS
    from data.storage.plan import DEFAULT_SETTINGS
    from metrics.supervision import SUPERVISION_DEFAULTS

    limits = {key: getattr(ImportLimits, attr) for attr, key in LIMIT_SETTINGS.items()}
    merged = {**DEFAULT_SETTINGS, **SUPERVISION_DEFAULTS, **AUTH_DEFAULTS, **limits}
    return {key: merged[key] for key in PARAMETER_BY_KEY}


def parameters(db: Database) -> list[dict]:
    """Each parameter with its label, group, range and the value in force."""
    stored = read_settings(db)
    defaults = parameter_defaults()
    out = []
    for key, label, kind, low, high, group in PARAMETERS:
        value = stored.get(key, defaults[key])
        out.append({"key": key, "label": label, "kind": kind, "min": low, "max": high, "group": group,
                    "value": bool(value) if kind == "bool" else value, "default": defaults[key]})
    return out


def check_parameters(values: dict) -> dict:
    """Validated values keyed by setting; SettingsError names the first one out of range."""
    clean = {}
    for key, value in values.items():
        if key not in PARAMETER_BY_KEY:
            raise SettingsError(f"未知的参数：{key}")
        _key, label, kind, low, high, _group = PARAMETER_BY_KEY[key]
        if kind == "bool":
            if not isinstance(value, bool):
                raise SettingsError(f"“{label}”须为是或否。")
            clean[key] = value
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"“{label}”须为数字。") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise SettingsError(f"“{label}”须在{low:g}到{high:g}之间。")
        if kind == "int" and number != int(number):
            raise SettingsError(f"“{label}”须为整数。")
        clean[key] = int(number) if kind == "int" else number
    return clean


def set_parameters(actor: Scope, values: dict, *, db: Database | None = None) -> dict:
    """Save the parameters that changed (validated, one transaction, audited); returns them."""
    db = resolve_db(db)
    _require_admin(actor)
    clean = check_parameters(values)
    in_force = {p["key"]: p["value"] for p in parameters(db)}
    changed = {k: v for k, v in clean.items() if in_force.get(k) != v}
    if not changed:
        return {}
    with db.transaction() as cur:
        for key, value in changed.items():
            _put(cur, key, value)
        _record(cur, actor, "parameters", "修改其他参数", {k: in_force.get(k) for k in changed}, changed)
    return changed


# -- what the 系统设置 page reads (the page is office only; these add no check of their own) --------
@dataclass(frozen=True)
class SettingsPage:
    """Everything the 系统设置 page shows, read once per data version."""

    settings: dict               # current_settings: every setting in force
    sla_rules: pl.DataFrame      # the time-limit rules by effective date
    calendar_years: list[int]    # the years the working calendar covers
    office_days: pl.DataFrame    # days the office entered or corrected
    groups: pl.DataFrame         # group words of the task division and their expansion
    parameters: list[dict]       # the 其他参数 with their values and defaults


@read
def settings_page(scope: Scope, *, db: Database | None = None) -> SettingsPage:
    """What the 系统设置 page reads (the page is office only; the writes check the scope)."""
    from data.storage.calendar import covered_years

    return SettingsPage(current_settings(db), sla_rules(db), covered_years(db), office_days(db),
                        assignment_groups(db), parameters(db))


@read
def criterion_form(scope: Scope, *, db: Database | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The choices of the criterion form: (milestone code -> title, criterion key -> Chinese name)."""
    return dict(db.rows("SELECT code, title FROM milestones ORDER BY code")), criterion_choices(db)


@read
def criteria_table(scope: Scope, *, db: Database | None = None) -> pl.DataFrame:
    """Every criterion row with its history, in the order of DEFAULT_CRITERIA within a milestone:
    milestone, title (the milestone's), text (the threshold in words), unit_kinds, effective_from,
    active, note."""
    from metrics.milestones import DEFAULT_CRITERIA, threshold_text

    order = {f"{m}|{c}": i for i, (m, c, *_r) in enumerate(DEFAULT_CRITERIA)}
    titles, names = criterion_form.uncached(scope, db=db)
    rows = milestone_criteria(db).with_columns(
        _order=pl.concat_str([pl.col("milestone"), pl.lit("|"), pl.col("criterion")])
        .replace_strict(order, default=len(order), return_dtype=pl.Int64)
    ).sort("milestone", "_order", "criterion", "effective_from")
    texts = [threshold_text(c, op, t, None) if not c.startswith("task:") else names.get(c, c)
             for c, op, t in rows.select("criterion", "op", "threshold").rows()]
    return rows.select(
        "milestone",
        pl.col("milestone").replace_strict(titles, default="").alias("title"),
        pl.Series("text", texts, dtype=pl.String),
        "unit_kinds", "effective_from", "active", "note",
    )
