"""Import sheets of the supervision loop: 约谈记录 (interviews) and 整改承诺 (commitments).

They follow the import contract of data/imports/importer.py (all or nothing, every error with sheet, row,
column and value, re-importing updates instead of duplicating) and are hooked into it at two
points: `validate` after the other sheets, `write` inside the import's transaction. Only the
office (管理员) imports them. Columns: docs/import.md → 约谈记录 and 整改承诺.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from data.imports.importer import Column, Sheet, _blank, _text, _unit_lookup, parse_date, parse_number, show
from data.storage.plan import OFFICE, normalize_name

D = dt.date
INTERVIEWS, COMMITMENTS = "约谈记录", "整改承诺"
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")

SUPERVISION_SHEETS: tuple[Sheet, ...] = (
    Sheet(INTERVIEWS, "interviews", (
        Column("考评月份", "month", "month", True, note="约谈所依据的月度考评，如 2023-10 或 2023年10月"),
        Column("单位名称", "unit_id", "unit", True, note="已登记的单位（领导小组办公室不约谈自身）"),
        Column("约谈日期", "held_on", "date", True),
        Column("参加人员", "attendees", "text", True),
        Column("约谈事由", "reasons", "text", note="留空则按当月考评预填红灯任务和失分较多的指标"),
    ), ("month", "unit_id"), None, ("2023-10", "示例单位", D(2023, 11, 3), "分管领导、经办人", "红灯任务2项")),
    Sheet(COMMITMENTS, "commitments", (
        Column("考评月份", "month", "month", True, note="须有该单位该月的约谈记录（数据库或本工作簿中）"),
        Column("单位名称", "unit_id", "unit", True),
        Column("指标", "indicator", "text", note="指标名称，如 目录挂接率；与任务序号二选一"),
        Column("目标值", "target", "score", low=0, high=100, note="比率填百分数（90 表示 90%）；红灯任务数填个数；得分填分数"),
        Column("任务序号", "task_no", "int", low=1, high=15, note="承诺完成的任务；与指标二选一"),
        Column("整改期限", "due_on", "date", True, future_ok=True, note="不得早于约谈日期"),
        Column("备注", "note", "text"),
    ), ("month", "unit_id", "indicator", "task_no"), None,
        ("2023-10", "示例单位", "目录挂接率", 90, None, D(2023, 12, 31), "")),
)
SHEET_NAMES = {s.name: s for s in SUPERVISION_SHEETS}


def _month(value: Any) -> str:
    text = show(value).strip()
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    m = _MONTH.match(text)
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError("应为考评月份，如 2023-10 或 2023年10月")
    return f"{int(m[1]):04d}-{int(m[2]):02d}"


def _indicators() -> dict[str, str]:
    from metrics.registry import KPIS

    out = {k.label: k.code for k in KPIS}
    out.update({k.code: k.code for k in KPIS})
    return out


def validate(read, rows_by_sheet: dict[str, list[tuple]], scope, issues, today: dt.date,
             counts: dict, records: dict, present: dict) -> None:
    """Check the two sheets (header row first) and add their records to the importer's dicts."""
    from data.imports.importer import _norm_header

    if not rows_by_sheet:
        return
    names, _kinds, ids = _unit_lookup(read)
    kpis = _indicators()
    from metrics.registry import KPI_BY_CODE

    assigned = {(t, u) for t, u in read("SELECT task_no, unit_id FROM task_assignments", None)}
    held = {(m, u): d for m, u, d in read("SELECT month, unit_id, held_on FROM interviews", None)}
    for sheet in SUPERVISION_SHEETS:
        if sheet.name not in rows_by_sheet:
            continue
        rows = rows_by_sheet[sheet.name]
        if not scope.is_admin:
            issues.error(sheet.name, None, "", "", "约谈记录和整改承诺仅限领导小组办公室导入")
            continue
        header = rows[0] if rows else ()
        wanted = {_norm_header(c.label): c for c in sheet.columns}
        pos = {wanted[_norm_header(h)].field: i for i, h in enumerate(header)
               if not _blank(h) and _norm_header(h) in wanted}
        for col in sheet.columns:
            if col.required and col.field not in pos:
                issues.error(sheet.name, 1, col.label, "", "缺少必填列")
        present[sheet.name] = set(pos)
        if any(c.required and c.field not in pos for c in sheet.columns):
            continue
        out, seen, count = [], {}, 0
        example = tuple(None if _blank(v) else show(v).strip() for v in sheet.example)
        for row_no, row in enumerate(rows[1:], start=2):
            cells = {f: (row[i] if i < len(row) else None) for f, i in pos.items()}
            if all(_blank(v) for v in cells.values()):
                continue
            if tuple(None if _blank(cells.get(c.field)) else show(cells[c.field]).strip()
                     for c in sheet.columns) == example:
                issues.warn(sheet.name, row_no, "", "", "模板示例行，未导入")
                continue
            count += 1
            rec, ok = {"_row": row_no}, True
            for col in sheet.columns:
                raw = cells.get(col.field)
                if _blank(raw):
                    if col.required:
                        issues.error(sheet.name, row_no, col.label, raw, "必填，不能为空")
                        ok = False
                    rec[col.field] = None
                    continue
                try:
                    if col.kind == "month":
                        rec[col.field] = _month(raw)
                    elif col.kind == "unit":
                        name = names.get(normalize_name(show(raw)))
                        if name is None:
                            raise ValueError("不是已登记的单位名称")
                        rec[col.field] = ids[name]
                        rec["_unit"] = name
                    elif col.kind == "date":
                        rec[col.field] = parse_date(raw)
                        if not col.future_ok and rec[col.field] > today:
                            raise ValueError("日期不能晚于今天")
                    elif col.kind in ("int", "score"):
                        rec[col.field] = parse_number(raw, col.kind == "int")
                        if col.low is not None and rec[col.field] < col.low or (
                                col.high is not None and rec[col.field] > col.high):
                            raise ValueError("超出允许范围")
                    elif col.field == "indicator":
                        code = kpis.get(_text(raw))
                        if code is None:
                            raise ValueError("不是考评指标的名称")
                        rec[col.field] = code
                    else:
                        rec[col.field] = _text(raw)
                except Exception as exc:  # noqa: BLE001 - every parse problem becomes a row error
                    issues.error(sheet.name, row_no, col.label, raw, getattr(exc, "problem", str(exc)))
                    ok = False
            if not ok:
                continue
            if rec.get("_unit") == OFFICE:
                issues.error(sheet.name, row_no, "单位名称", OFFICE, "领导小组办公室不约谈自身")
                continue
            if sheet.name == COMMITMENTS:
                ok = _check_commitment(sheet, row_no, rec, held, assigned, KPI_BY_CODE, issues)
                if not ok:
                    continue
            key = tuple(rec.get(k) for k in sheet.key)
            if key in seen:
                issues.error(sheet.name, row_no, "、".join(c.label for c in sheet.columns if c.field in sheet.key),
                             "/".join(show(k) for k in key if k is not None),
                             f"与第 {seen[key]} 行重复（同一条记录只能出现一次）")
                continue
            seen[key] = row_no
            out.append(rec)
            if sheet.name == INTERVIEWS:
                held[(rec["month"], rec["unit_id"])] = rec["held_on"]
        counts[sheet.name] = count
        records[sheet.name] = out


def _check_commitment(sheet, row_no, rec, held, assigned, kpi_by_code, issues) -> bool:
    if (rec.get("indicator") is None) == (rec.get("task_no") is None):
        issues.error(sheet.name, row_no, "指标/任务序号", "", "每行须填写指标（及目标值）或任务序号，二者选一")
        return False
    day = held.get((rec["month"], rec["unit_id"]))
    if day is None:
        issues.error(sheet.name, row_no, "考评月份", rec["month"], f"{rec['_unit']}在该月没有约谈记录")
        return False
    if rec["due_on"] < day:
        issues.error(sheet.name, row_no, "整改期限", rec["due_on"], f"不能早于约谈日期{day.year}年{day.month}月{day.day}日")
        return False
    if rec.get("indicator") is not None:
        if rec.get("target") is None:
            issues.error(sheet.name, row_no, "目标值", "", "填写指标时须填写目标值")
            return False
        if kpi_by_code[rec["indicator"]].kind in ("rate", "flag"):
            if rec["target"] > 100:
                issues.error(sheet.name, row_no, "目标值", rec["target"], "比率的目标值须在 0 到 100 之间（百分数）")
                return False
            rec["target"] = rec["target"] / 100
    elif (rec["task_no"], rec["unit_id"]) not in assigned:
        issues.error(sheet.name, row_no, "任务序号", rec["task_no"], f"{rec['_unit']}没有承担该任务")
        return False
    return True


def write(cur, scope, records: dict, out) -> None:
    """Upsert the validated interviews, then the commitments, inside the import's transaction;
    the counts go into out.inserted / out.updated by sheet."""
    from metrics.supervision import interview_reasons

    if INTERVIEWS in records:
        ins = upd = 0
        facts = None
        for rec in records[INTERVIEWS]:
            reasons = rec.get("reasons")
            if not reasons:
                if facts is None:
                    facts = _facts_in(cur)
                reasons = interview_reasons(facts, rec["month"], rec["unit_id"])
            row = cur.execute("SELECT interview_id FROM interviews WHERE month = ? AND unit_id = ?",
                              [rec["month"], rec["unit_id"]]).fetchone()
            if row is None:
                cur.execute("INSERT INTO interviews (month, unit_id, held_on, attendees, reasons, recorded_by, "
                            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [rec["month"], rec["unit_id"], rec["held_on"], rec["attendees"], reasons,
                             scope.username, dt.datetime.now().replace(microsecond=0)])
                ins += 1
            else:
                cur.execute("UPDATE interviews SET held_on = ?, attendees = ?, reasons = ? WHERE interview_id = ?",
                            [rec["held_on"], rec["attendees"], reasons, row[0]])
                upd += 1
        out.inserted[INTERVIEWS], out.updated[INTERVIEWS] = ins, upd
    if COMMITMENTS in records:
        ins = upd = 0
        for rec in records[COMMITMENTS]:
            iid = cur.execute("SELECT interview_id FROM interviews WHERE month = ? AND unit_id = ?",
                              [rec["month"], rec["unit_id"]]).fetchone()[0]
            row = cur.execute(
                "SELECT commitment_id FROM commitments WHERE interview_id = ? AND indicator IS NOT DISTINCT FROM ? "
                "AND task_no IS NOT DISTINCT FROM ?", [iid, rec.get("indicator"), rec.get("task_no")]).fetchone()
            values = [rec.get("target"), rec["due_on"], rec.get("note")]
            if row is None:
                cur.execute("INSERT INTO commitments (interview_id, indicator, target, task_no, due_on, note) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            [iid, rec.get("indicator"), rec.get("target"), rec.get("task_no"), *values[1:]])
                ins += 1
            else:
                cur.execute("UPDATE commitments SET target = ?, due_on = ?, note = ? WHERE commitment_id = ?",
                            [*values, row[0]])
                upd += 1
        out.inserted[COMMITMENTS], out.updated[COMMITMENTS] = ins, upd


def _facts_in(cur):
    """The engine's facts read through the import's own cursor (the reasons of an interview
    imported without them are taken from the data as it stands before this import)."""
    import json

    from data.storage.calendar import working_calendar
    from data.storage.facts import _QUERIES
    from metrics.facts import Facts

    frames = {name: cur.sql(sql).pl() for name, sql in _QUERIES.items()}
    calendar = working_calendar(cur.sql("SELECT day, is_workday, source FROM calendar_days").pl())
    settings = {k: json.loads(v) for k, v in cur.execute("SELECT key, value FROM settings").fetchall()}
    return Facts(**frames, calendar=calendar, settings=settings)
