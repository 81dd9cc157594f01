"""Small hand-made Facts for the KPI tests.

`make_facts(units=[...], requests=[...], ...)` takes rows as dicts (missing columns are null) and
fills every other frame empty with the schema `data.storage.facts` produces, the real working calendar
(chinese-calendar through data.storage.calendar) and the plan's default settings and SLA rule.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import lru_cache

import polars as pl

from data.storage.calendar import official_days, working_calendar
from metrics.facts import Facts
from metrics.registry import DEFAULT_SETTINGS, OFFICE

D = dt.date

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "units": {"unit_id": pl.Int32, "name": pl.String, "kind": pl.String, "is_member": pl.Boolean,
              "region": pl.String},
    "contacts": {"unit_id": pl.Int32, "role": pl.String, "name": pl.String, "title": pl.String,
                 "phone": pl.String, "named_on": pl.Date},
    "catalog": {"code": pl.String, "name": pl.String, "unit_id": pl.Int32, "summary": pl.String,
                "format": pl.String, "share_type": pl.String, "share_condition": pl.String,
                "nonshare_basis": pl.String, "open_type": pl.String, "update_cycle": pl.String,
                "published_on": pl.Date, "last_updated_on": pl.Date, "mounted_on": pl.Date,
                "item_count": pl.Int32},
    "demands": {"code": pl.String, "unit_id": pl.Int32, "content": pl.String, "target_code": pl.String,
                "raised_on": pl.Date, "matched_on": pl.Date},
    "requests": {"code": pl.String, "requester_id": pl.Int32, "provider_id": pl.Int32,
                 "catalog_code": pl.String, "purpose": pl.String, "received_on": pl.Date,
                 "reviewed_on": pl.Date, "review_result": pl.String, "forwarded_on": pl.Date,
                 "replied_on": pl.Date, "reply_result": pl.String, "legal_basis": pl.String,
                 "refusal_reason": pl.String},
    "tasks": {"task_no": pl.Int32, "section": pl.String, "title": pl.String, "goal": pl.String,
              "deadline_text": pl.String, "due_date": pl.Date, "is_ongoing": pl.Boolean,
              "units_text": pl.String},
    "assignments": {"task_no": pl.Int32, "unit_id": pl.Int32, "origin": pl.String},
    "reports": {"task_no": pl.Int32, "unit_id": pl.Int32, "reported_on": pl.Date, "status": pl.String,
                "percent": pl.Int32, "completed_on": pl.Date, "note": pl.String},
    "systems": {"unit_id": pl.Int32, "name": pl.String, "classified": pl.Boolean, "registered": pl.Boolean,
                "registered_on": pl.Date, "connected": pl.Boolean, "connected_on": pl.Date,
                "provides_data": pl.Boolean},
    "networks": {"unit_id": pl.Int32, "name": pl.String, "classified": pl.Boolean, "migrated": pl.Boolean,
                 "migrated_on": pl.Date},
    "security": {"unit_id": pl.Int32, "assessed_on": pl.Date, "desensitization": pl.Boolean,
                 "encryption": pl.Boolean, "access_auth": pl.Boolean, "note": pl.String},
    "quality": {"catalog_code": pl.String, "unit_id": pl.Int32, "checked_on": pl.Date,
                "completeness": pl.Float64, "accuracy": pl.Float64, "usability": pl.Float64,
                "timeliness": pl.Float64, "issues_found": pl.Int32, "issues_fixed": pl.Int32},
    "coverage": {"unit_id": pl.Int32, "counted_on": pl.Date, "villages": pl.Int32, "connected": pl.Int32},
    "milestones": {"code": pl.String, "due_date": pl.Date, "title": pl.String, "requirement": pl.String,
                   "task_nos": pl.List(pl.Int32), "indicators": pl.List(pl.String)},
    "sla": {"effective_from": pl.Date, "review_days": pl.Int32, "reply_days": pl.Int32, "name": pl.String},
}

PLAN_RULE = "玉山县实施方案：初审3个工作日、答复10个工作日"

# The units most tests use. 1 is the office, the only unit judged on initial review.
UNITS = [
    {"unit_id": 1, "name": OFFICE, "kind": "县直部门"},
    {"unit_id": 2, "name": "县公安局", "kind": "县直部门"},
    {"unit_id": 3, "name": "县民政局", "kind": "县直部门"},
    {"unit_id": 4, "name": "冰溪街道", "kind": "乡镇（街道）"},
    {"unit_id": 5, "name": "县供电公司", "kind": "公共服务企业"},
]


@lru_cache(maxsize=1)
def real_calendar() -> pl.DataFrame:
    """The working calendar built from the chinese-calendar package, as the app builds it."""
    return working_calendar(official_days())


def frame(name: str, rows: list[dict] | None = None) -> pl.DataFrame:
    schema = SCHEMAS[name]
    rows = rows or []
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema, orient="row") \
        if rows else pl.DataFrame(schema=schema)


def make_facts(settings: dict | None = None, **rows) -> Facts:
    unknown = set(rows) - set(SCHEMAS)
    if unknown:
        raise TypeError(f"unknown frames: {unknown}")
    frames = {name: frame(name, rows.get(name)) for name in SCHEMAS}
    if "units" not in rows:
        frames["units"] = frame("units", UNITS)
    if "sla" not in rows:
        frames["sla"] = frame("sla", [{"effective_from": D(2000, 1, 1), "review_days": 3, "reply_days": 10,
                                       "name": PLAN_RULE}])
    merged = copy.deepcopy(DEFAULT_SETTINGS)
    merged.update(settings or {})
    return Facts(**frames, calendar=real_calendar(), settings=merged)


def request(code: str, received: dt.date, *, requester: int = 2, provider: int = 3, **kw) -> dict:
    return {"code": code, "requester_id": requester, "provider_id": provider, "purpose": "办事核验",
            "received_on": received, **kw}


def item(code: str, unit: int, published: dt.date, **kw) -> dict:
    """A catalog item with complete metadata unless overridden."""
    base = {"code": code, "name": f"目录{code}", "unit_id": unit, "summary": "摘要", "format": "库表",
            "share_type": "无条件共享", "open_type": "不予开放", "update_cycle": "每月",
            "published_on": published, "item_count": 5}
    base.update(kw)
    return base


def task(no: int, due: dt.date | None, title: str | None = None) -> dict:
    return {"task_no": no, "section": "测试", "title": title or f"任务{no}", "goal": "目标",
            "deadline_text": "持续并长期坚持" if due is None else f"{due.year}年{due.month}月底",
            "due_date": due, "is_ongoing": due is None, "units_text": "测试单位"}
