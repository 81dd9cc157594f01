"""The write of a validated file: a backup, then every sheet in one transaction (all or nothing)
with idempotent upserts keyed by each sheet's natural key, the import_log rows (one per sheet)
and the audit entry; the supervision sheets inside the same transaction."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.imports.results import ImportResult, ValidationResult
from data.imports.spec import COMMITMENTS, INTERVIEWS, SHEETS, Reader, Sheet
from data.storage import audit_log, backup
from data.storage.db import Database
from data.storage.plan import expand_assignments
from data.storage.scope import Scope

_TABLES = ("units", "contacts", "catalog_items", "demands", "share_requests", "progress_reports", "systems",
           "networks", "security_assessments", "quality_checks", "village_coverage")


def table_counts(read: Reader) -> dict[str, int]:
    return {t: read(f"SELECT count(*) FROM {t}", None)[0][0] for t in _TABLES}


def _write_units(cur, recs: list[dict], fields: set[str]) -> tuple[int, int]:
    existing = {r[0]: r[1:] for r in cur.execute("SELECT name, kind, is_member FROM units").fetchall()}
    next_id, order = cur.execute(
        "SELECT coalesce(max(unit_id), 0) + 1, coalesce(max(sort_order), 0) + 1 FROM units").fetchone()
    inserted = updated = 0
    for rec in recs:
        old = existing.get(rec["name"])
        member = rec.get("is_member") if "is_member" in fields else None
        if old is None:
            cur.execute(
                "INSERT INTO units (unit_id, name, kind, is_member, origin, sort_order) VALUES (?, ?, ?, ?, 'import', ?)",
                [next_id, rec["name"], rec["kind"], bool(member), order])
            next_id += 1
            order += 1
            inserted += 1
        else:
            new = (rec["kind"], old[1] if member is None else member)
            if new != old:
                cur.execute("UPDATE units SET kind = ?, is_member = ? WHERE name = ?", [*new, rec["name"]])
                updated += 1
    return inserted, updated


def _write_rows(cur, sheet: Sheet, recs: list[dict], fields: set[str], submitter: str,
                verifier: str | None) -> tuple[int, int]:
    ids = dict(cur.execute("SELECT name, unit_id FROM units").fetchall())
    unit_fields = {c.field for c in sheet.columns if c.kind == "unit"}
    data_fields = [c.field for c in sheet.columns if c.field in fields or c.field in sheet.key]
    derived = [f for f in ("registered", "connected", "migrated")
               if f in {c.field for c in sheet.columns} and f not in data_fields
               and f"{f}_on" in data_fields]
    data_fields += derived
    extra: list[str] = []
    if sheet.table == "progress_reports":
        extra = ["verified", "submitted_by", "verified_by", "verified_at"]
    columns = data_fields + extra
    existing = {
        tuple(r[: len(sheet.key)]): r[len(sheet.key):]
        for r in cur.execute(
            f"SELECT {', '.join(sheet.key)}, {', '.join(columns)} FROM {sheet.table}").fetchall()
    }
    now = dt.datetime.now().replace(microsecond=0)
    inserts: list[list] = []
    updates: list[list] = []
    for rec in recs:
        values = [ids[rec[f]] if f in unit_fields and rec.get(f) is not None else rec.get(f) for f in data_fields]
        key = tuple(values[data_fields.index(k)] for k in sheet.key)
        old = existing.get(key)
        compare = list(values)
        old_compare = list(old[: len(data_fields)]) if old is not None else None
        office = verifier is not None
        if extra and old is not None and office:
            # The office importing a report a unit submitted verifies it.
            compare.append(True)
            old_compare.append(old[len(data_fields)])
        if old is not None and compare == old_compare:
            continue
        if extra:
            values = values + [office, submitter, verifier, now if office else None]
        (inserts if old is None else updates).append(values)
    # Set-wise writes: one INSERT … SELECT and one UPDATE … FROM over a registered frame, not a
    # statement per row (a year of requests is 20,000 rows).
    schema = _frame_schema(cur, sheet.table, columns)
    if inserts:
        cur.register("_import_rows", pl.DataFrame(inserts, schema=schema, orient="row").to_arrow())
        cur.execute(f"INSERT INTO {sheet.table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _import_rows")
        cur.unregister("_import_rows")
    if updates:
        sets = [c for c in columns if c not in sheet.key]
        cur.register("_import_rows", pl.DataFrame(updates, schema=schema, orient="row").to_arrow())
        cur.execute(
            f"UPDATE {sheet.table} AS t SET {', '.join(f'{c} = u.{c}' for c in sets)} FROM _import_rows AS u "
            f"WHERE {' AND '.join(f't.{k} = u.{k}' for k in sheet.key)}")
        cur.unregister("_import_rows")
    return len(inserts), len(updates)


def _write_catalog_updates(cur, recs: list[dict]) -> None:
    """Record every 最近更新日期 of the sheet in the update history (catalog_updates), set-wise.

    Unchanged rows too, so a history that lacks a date gains it; a pair already known is left
    alone, so importing the same workbook again adds nothing. The sheet's counts stay those of
    catalog_items (the history is a by-product, not rows of the sheet)."""
    pairs = pl.DataFrame(
        [(rec["code"], rec["last_updated_on"]) for rec in recs if rec.get("last_updated_on") is not None],
        schema={"code": pl.String, "updated_on": pl.Date},
        orient="row",
    ).unique()
    if pairs.is_empty():
        return
    cur.register("_import_updates", pairs.to_arrow())
    try:
        cur.execute(
            "INSERT INTO catalog_updates (code, updated_on) SELECT u.code, u.updated_on FROM _import_updates AS u "
            "WHERE NOT EXISTS (SELECT 1 FROM catalog_updates AS c WHERE c.code = u.code AND c.updated_on = u.updated_on)")
    finally:
        cur.unregister("_import_updates")


_POLARS_TYPES = {"VARCHAR": pl.String, "INTEGER": pl.Int64, "BIGINT": pl.Int64, "DATE": pl.Date,
                 "BOOLEAN": pl.Boolean, "DOUBLE": pl.Float64, "TIMESTAMP": pl.Datetime("us")}


def _frame_schema(cur, table: str, columns: list[str]) -> dict[str, pl.DataType]:
    types = dict(cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]).fetchall())
    return {c: _POLARS_TYPES.get(types[c], pl.String) for c in columns}


def write_validated(db: Database, result: ValidationResult, actor: Scope, *, submitter: str,
                    action: str = "导入", note: str = "", inside=None) -> ImportResult:
    """Back up, then write a validated file in one transaction with its import_log rows and its
    audit entry; `inside(cur, import_id)` runs in the same transaction (a batch's status)."""
    actor.require_admin()
    out = ImportResult(result)
    out.backup_path = str(backup.backup(db, keep=10))
    with db.transaction() as cur:
        def read(sql, params):
            return cur.execute(sql, list(params) if params else []).fetchall()

        before = table_counts(read)
        for sheet in SHEETS:
            if sheet.name not in result.records:
                continue
            recs, fields = result.records[sheet.name], result.present[sheet.name]
            if sheet.table == "units":
                ins, upd = _write_units(cur, recs, fields)
                if ins or upd:
                    expand_assignments(cur)
            else:
                ins, upd = _write_rows(cur, sheet, recs, fields, submitter, actor.username)
                if sheet.table == "catalog_items" and "last_updated_on" in fields:
                    _write_catalog_updates(cur, recs)
            out.inserted[sheet.name], out.updated[sheet.name] = ins, upd
        _write_supervision(cur, actor, result.records, out)
        import_id = read("SELECT nextval('import_seq')", None)[0][0]
        for sheet_name in result.counts:
            cur.execute(
                "INSERT INTO import_log (id, username, file_name, file_sha256, sheet, inserted, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [import_id, actor.username, result.file_name, result.sha256, sheet_name,
                 out.inserted.get(sheet_name, 0), out.updated.get(sheet_name, 0)])
        if inside is not None:
            inside(cur, import_id)
        after = table_counts(read)
        detail = note + "；".join(out.summary_lines()) + f"；SHA-256 {result.sha256}"
        audit_log.record(cur, actor, action, result.file_name, detail, before, after)
        out.import_id = import_id
    return out


# -- the supervision sheets --------------------------------------------------------------------
def _upsert(cur, find: str, key: list, insert: str, values: list, update: str, changes: list) -> bool:
    """Insert `values`, or update the row `find` returns with `changes` (its id appended to the
    update's parameters); True when a row was inserted."""
    row = cur.execute(find, key).fetchone()
    if row is None:
        cur.execute(insert, values)
        return True
    cur.execute(update, [*changes, row[0]])
    return False


def _write_supervision(cur, scope: Scope, records: dict, out: ImportResult) -> None:
    """Upsert the validated interviews, then the commitments, inside the import's transaction;
    the counts go into out.inserted / out.updated by sheet."""
    from metrics.supervision import interview_reasons

    facts = None
    for name in (INTERVIEWS, COMMITMENTS):
        if name not in records:
            continue
        inserted = 0
        for rec in records[name]:
            if name == INTERVIEWS:
                reasons = rec.get("reasons")
                if not reasons:
                    if facts is None:
                        facts = _facts_in(cur)
                    reasons = interview_reasons(facts, rec["month"], rec["unit_id"])
                inserted += _upsert(
                    cur, "SELECT interview_id FROM interviews WHERE month = ? AND unit_id = ?",
                    [rec["month"], rec["unit_id"]],
                    "INSERT INTO interviews (month, unit_id, held_on, attendees, reasons, recorded_by, "
                    "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [rec["month"], rec["unit_id"], rec["held_on"], rec["attendees"], reasons,
                     scope.username, dt.datetime.now().replace(microsecond=0)],
                    "UPDATE interviews SET held_on = ?, attendees = ?, reasons = ? WHERE interview_id = ?",
                    [rec["held_on"], rec["attendees"], reasons])
            else:
                iid = cur.execute("SELECT interview_id FROM interviews WHERE month = ? AND unit_id = ?",
                                  [rec["month"], rec["unit_id"]]).fetchone()[0]
                inserted += _upsert(
                    cur, "SELECT commitment_id FROM commitments WHERE interview_id = ? "
                    "AND indicator IS NOT DISTINCT FROM ? AND task_no IS NOT DISTINCT FROM ?",
                    [iid, rec.get("indicator"), rec.get("task_no")],
                    "INSERT INTO commitments (interview_id, indicator, target, task_no, due_on, note) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [iid, rec.get("indicator"), rec.get("target"), rec.get("task_no"), rec["due_on"], rec.get("note")],
                    "UPDATE commitments SET target = ?, due_on = ?, note = ? WHERE commitment_id = ?",
                    [rec.get("target"), rec["due_on"], rec.get("note")])
        out.inserted[name], out.updated[name] = inserted, len(records[name]) - inserted


def _facts_in(cur):
    """The engine's facts read through the import's own cursor (the reasons of an interview
    imported without them are taken from the data as it stands before this import)."""
    import json

    from data.storage.calendar import working_calendar
    from data.storage.facts import read_frames
    from metrics.facts import Facts

    frames = read_frames(cur)
    calendar = working_calendar(cur.sql("SELECT day, is_workday, source FROM calendar_days").pl())
    settings = {k: json.loads(v) for k, v in cur.execute("SELECT key, value FROM settings").fetchall()}
    return Facts(**frames, calendar=calendar, settings=settings)
