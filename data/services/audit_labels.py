"""The audit log as the office reads it: Chinese names for every object and field, units and users
by name, and "before → after" for each changed field.

data/services/audit.py stores what the writers pass (field codes such as role / unit_id / disabled, table
names as count keys, objects such as "weights" or "calendar"); this module turns a stored row into
words. `describe_change` and `object_label` are pure (tests call them directly); `audit_table`
reads the log (管理员 only, like data.services.audit.read_audit) and labels every row.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl

from data.services.audit import audit_query, read_audit
from data.services.reading import read
from data.storage.db import Database
from data.storage.scope import Scope
from metrics.cn import cn_date as _cn_date

NONE = "—"

# Field codes and count keys (mostly table names) -> Chinese.
FIELD_LABELS: dict[str, str] = {
    # users
    "role": "角色", "unit_id": "单位", "disabled": "已停用", "display_name": "显示名", "username": "用户名",
    # table counts (import, plan load, demo data, backup)
    "units": "单位数", "unit_aliases": "单位别名数", "contacts": "联络人数", "catalog_items": "目录条数",
    "catalog_updates": "目录更新记录数", "demands": "需求条数", "share_requests": "共享申请数", "tasks": "任务数",
    "assignments": "任务分工数", "task_assignments": "任务分工数", "assignment_groups": "单位统称数",
    "progress_reports": "进展报告数", "milestones": "里程碑数", "systems": "信息系统数", "networks": "业务专网数",
    "security_assessments": "安全评估数", "quality_checks": "质量检查数", "village_coverage": "村村通记录数",
    "users": "用户数", "calendar_days": "日历天数", "sla_rules": "时限规则数", "published_months": "已发布月份数",
    "published_scores": "已发布得分行数", "settings": "设置项数", "audit_log": "日志条数", "meta": "元数据项数",
    "import_log": "导入记录数",
    # settings
    "weights": "指标权重", "grades": "等次分数线", "fail_grade": "不合格等次名称",
    "yellow_window_days": "黄灯提前天数", "warning_workdays": "申请预警工作日数",
    "plan_start_month": "方案起始月份", "contacts_deadline": "明确联络人截止日期",
    "catalog_deadline": "目录发布截止日期", "praise_top_n": "表扬名额", "interview_red_lights": "约谈红灯数",
    "red_light_penalty": "红灯扣分",
    # SLA rules and calendar
    "review_days": "初审工作日", "reply_days": "答复工作日", "name": "名称",
    "workdays": "工作日天数", "days_present": "已有天数",
}

# Objects (audit_log.target) that are codes rather than names.
OBJECT_LABELS: dict[str, str] = {
    "weights": "指标权重", "grades": "等次分数线", "windows": "预警窗口", "calendar": "工作日历",
    "清除": "演示数据",
}

# The demo generator's scales, as its audit object names them ("county（种子 1）").
DEMO_SCALES = {"county": "县级规模", "province": "省级规模"}

# Before this day an SLA rule applies from the plan's start: the seed rule carries 2000-01-01.
SLA_FROM_START = dt.date(2001, 1, 1)


def _kpi_labels() -> dict[str, str]:
    from metrics.registry import KPIS

    return {k.code: k.label for k in KPIS}


def object_label(target: str | None, action: str, users: dict[str, str]) -> str:
    """The Chinese name of an audit row's object: settings by name, SLA rules by their start,
    users by display name (login in brackets), months as 2024年5月."""
    if not target:
        return NONE
    if target in OBJECT_LABELS:
        return OBJECT_LABELS[target]
    if target.startswith("sla:"):
        try:
            start = dt.date.fromisoformat(target[4:])
        except ValueError:
            return f"时限规则（{target[4:]}）"
        return "时限规则（自方案施行起）" if start < SLA_FROM_START else f"时限规则（{_cn_date(start)}起施行）"
    if action == "演示数据":
        for code, word in DEMO_SCALES.items():
            target = target.replace(code, word)
        return target
    if action in ("发布月度", "撤销发布") and len(target) == 7 and target[4] == "-":
        return f"{int(target[:4])}年{int(target[5:])}月"
    if target in users:
        return person(target, users)
    return target


def person(username: str | None, users: dict[str, str]) -> str:
    """显示名（登录名）, or the login alone when the display name is missing; system -> 系统."""
    if not username:
        return NONE
    if username == "system":
        return "系统"
    shown = users.get(username)
    return f"{shown}（{username}）" if shown and shown != username else username


def value_text(field: str, value: Any, units: dict[int, str]) -> str:
    """One stored value in words: None -> —, booleans 是/否, unit ids by name, grade lists, weights."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "unit_id":
        try:
            return units.get(int(value), str(value))
        except (TypeError, ValueError):
            return str(value)
    if field == "grades" and isinstance(value, list):
        return "、".join(f"{g[0]}≥{g[1]}" for g in value if isinstance(g, list | tuple) and len(g) == 2)
    if isinstance(value, dict):
        kpis = _kpi_labels()
        return "、".join(f"{kpis.get(k, FIELD_LABELS.get(k, k))} {value_text(k, v, units)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(value_text(field, v, units) for v in value)
    return str(value)


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field) or _kpi_labels().get(field) or field


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def describe_change(before: str | dict | None, after: str | dict | None, units: dict[int, str]) -> str:
    """The stored before/after (JSON text or dicts) as the office reads them:
    "角色：领导 → 单位；单位：— → 县财政局" for the fields that changed; a new object lists its
    fields ("角色：单位；单位：县财政局"), a removed one "已删除：…"; nothing changed -> —."""
    old = _load(before) if isinstance(before, str) or before is None else before
    new = _load(after) if isinstance(after, str) or after is None else after
    if not isinstance(old, dict | type(None)) or not isinstance(new, dict | type(None)):
        return f"{old if old is not None else NONE} → {new if new is not None else NONE}"
    if old is None and new is None:
        return NONE
    if old is None:
        return "；".join(f"{field_label(k)}：{value_text(k, v, units)}" for k, v in new.items()) or NONE
    if new is None:
        return "已删除：" + "；".join(f"{field_label(k)}：{value_text(k, v, units)}" for k, v in old.items())
    parts = []
    for key in list(old) + [k for k in new if k not in old]:
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            parts.append(f"{field_label(key)}：{describe_change(a, b, units)}")
        else:
            parts.append(f"{field_label(key)}：{value_text(key, a, units)} → {value_text(key, b, units)}")
    return "；".join(parts) or "无变化"


def _names(db: Database) -> tuple[dict[str, str], dict[int, str]]:
    users = dict(db.rows("SELECT username, coalesce(display_name, username) FROM users"))
    units = {int(k): v for k, v in db.rows("SELECT unit_id, name FROM units")}
    return users, units


def audit_table(db: Database, scope: Scope, since: dt.date | None = None, until: dt.date | None = None,
                username: str | None = None, action: str | None = None) -> pl.DataFrame:
    """The audit log, newest first, ready to show: 时间, 用户, 操作, 对象, 说明, 变更内容 (Chinese
    names, units and users by name, before → after). Office only."""
    scope.require_admin()
    rows = db.rows(*audit_query(since, until, username, action))
    users, units = _names(db)
    data = {"时间": [], "用户": [], "操作": [], "对象": [], "说明": [], "变更内容": []}
    for logged_at, who, act, target, detail, before, after in rows:
        data["时间"].append(logged_at.strftime("%Y-%m-%d %H:%M:%S"))
        data["用户"].append(person(who, users))
        data["操作"].append(act)
        data["对象"].append(object_label(target, act, users))
        data["说明"].append(detail or NONE)
        data["变更内容"].append(describe_change(before, after, units))
    return pl.DataFrame(data, schema={k: pl.String for k in data})


# -- what the 操作日志 page reads -------------------------------------------------------------------
@read
def audit_page(
    scope: Scope,
    since: dt.date | None = None,
    until: dt.date | None = None,
    username: str | None = None,
    action: str | None = None,
    *,
    db: Database | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The 操作日志 page's two frames, office only: the log as downloaded (read_audit, its time as
    text) and the table shown on screen (audit_table: names, before → after)."""
    log = read_audit(db, scope, since, until, username, action)
    shown = log.with_columns(pl.col("时间").dt.strftime("%Y-%m-%d %H:%M:%S"))
    return shown, audit_table(db, scope, since, until, username, action)
