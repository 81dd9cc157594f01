"""The supervision loop in storage: 延期申请 (extension requests), 约谈 (interviews) and their
整改承诺 (commitments), and scoped reads of them and of the authorisation register.

Permissions are enforced here: a 单位 user requests extensions for its own assignments only and
reads only its own interviews, commitments and authorisations; the office (管理员) decides on
requests and records interviews; 领导 read everything and write nothing. Every write runs in one
transaction together with its audit entry. Rules and decisions: docs/supervision.md.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.services.reading import read, resolve_db
from data.storage import audit_log
from data.storage.db import Database
from data.storage.scope import PermissionDenied, Scope
from data.storage.where import Where
from metrics.cn import cn_date

EXTENSION_STATUSES = ("待审批", "已批准", "已驳回")


class SupervisionError(ValueError):
    """An input the office would reject, with a Chinese message."""


def _unit_name(cur, unit_id: int) -> str:
    row = cur.execute("SELECT name FROM units WHERE unit_id = ?", [int(unit_id)]).fetchone()
    if row is None:
        raise SupervisionError(f"没有编号为{unit_id}的单位。")
    return row[0]


def _ext_counts(cur, task_no: int, unit_id: int) -> dict[str, int]:
    rows = dict(cur.execute(
        "SELECT status, count(*) FROM extension_requests WHERE task_no = ? AND unit_id = ? GROUP BY status",
        [task_no, unit_id],
    ).fetchall())
    return {s: int(rows.get(s, 0)) for s in EXTENSION_STATUSES}


def current_due(cur, task_no: int, unit_id: int) -> dt.date | None:
    """The due date in force for an assignment: the latest approved extension, else the plan's."""
    row = cur.execute(
        "SELECT approved_due FROM extension_requests WHERE task_no = ? AND unit_id = ? AND status = '已批准' "
        "ORDER BY decided_on DESC, approved_due DESC LIMIT 1",
        [task_no, unit_id],
    ).fetchone()
    if row is not None:
        return row[0]
    row = cur.execute("SELECT due_date FROM tasks WHERE task_no = ?", [task_no]).fetchone()
    return row[0] if row else None


# -- 延期申请 -------------------------------------------------------------------------------------

def request_extension(
    scope: Scope, task_no: int, unit_id: int, reason: str, proposed_due: dt.date,
    *, today: dt.date | None = None, db: Database | None = None,
) -> int:
    """A unit asks for a later due date for one of its assignments; returns the request id.

    单位: its own unit only; 管理员 may record a request made on paper; 领导: refused. The request
    must come on or before the due date in force, name a later date and give a reason, and there
    may be at most one request waiting per assignment."""
    db = resolve_db(db)
    scope.require_write()
    scope.require_unit(unit_id)
    today = today or dt.date.today()
    task_no, unit_id = int(task_no), int(unit_id)
    reason = (reason or "").strip()
    with db.transaction() as cur:
        name = _unit_name(cur, unit_id)
        assigned = cur.execute(
            "SELECT count(*) FROM task_assignments WHERE task_no = ? AND unit_id = ?", [task_no, unit_id]
        ).fetchone()[0]
        if not assigned:
            raise SupervisionError(f"{name}没有承担任务{task_no}，不能申请延期。")
        due = current_due(cur, task_no, unit_id)
        if due is None:
            raise SupervisionError(f"任务{task_no}是持续性任务，没有完成时限，无需申请延期。")
        if today > due:
            raise SupervisionError(
                f"任务{task_no}的完成时限{cn_date(due)}已过，不能再申请延期：延期申请须在完成时限之前提出。"
            )
        if not reason:
            raise SupervisionError("请填写延期理由。")
        if proposed_due <= due:
            raise SupervisionError(f"申请的新完成时限须晚于现行完成时限{cn_date(due)}。")
        pending = cur.execute(
            "SELECT count(*) FROM extension_requests WHERE task_no = ? AND unit_id = ? AND status = '待审批'",
            [task_no, unit_id],
        ).fetchone()[0]
        if pending:
            raise SupervisionError(f"{name}任务{task_no}已有一份待审批的延期申请，请等待办公室审批。")
        before = _ext_counts(cur, task_no, unit_id)
        request_id = cur.execute(
            "INSERT INTO extension_requests (task_no, unit_id, reason, proposed_due, due_at_request, requested_on, "
            "requested_by, status) VALUES (?, ?, ?, ?, ?, ?, ?, '待审批') RETURNING request_id",
            [task_no, unit_id, reason, proposed_due, due, today, scope.username],
        ).fetchone()[0]
        audit_log.record(cur, scope, "延期申请", f"任务{task_no}·{name}",
                     f"申请延期至{proposed_due.isoformat()}（现行时限{due.isoformat()}）：{reason}",
                     before, _ext_counts(cur, task_no, unit_id))
    return int(request_id)


def _pending(cur, request_id: int) -> tuple:
    row = cur.execute(
        "SELECT task_no, unit_id, status, due_at_request, proposed_due FROM extension_requests WHERE request_id = ?",
        [int(request_id)],
    ).fetchone()
    if row is None:
        raise SupervisionError("找不到这份延期申请。")
    if row[2] != "待审批":
        raise SupervisionError(f"这份延期申请已{row[2]}，不能再次审批。")
    return row


def approve_extension(
    scope: Scope, request_id: int, approved_due: dt.date | None = None,
    *, today: dt.date | None = None, db: Database | None = None,
) -> None:
    """The office approves a waiting request, with the approved date (default: the one asked for)."""
    db = resolve_db(db)
    scope.require_admin()
    today = today or dt.date.today()
    with db.transaction() as cur:
        task_no, unit_id, _s, due_at_request, proposed = _pending(cur, request_id)
        approved_due = approved_due or proposed
        if approved_due <= due_at_request:
            raise SupervisionError(f"批准的完成时限须晚于原完成时限{cn_date(due_at_request)}。")
        before = _ext_counts(cur, task_no, unit_id)
        cur.execute(
            "UPDATE extension_requests SET status = '已批准', approved_due = ?, decided_on = ?, decided_by = ? "
            "WHERE request_id = ?",
            [approved_due, today, scope.username, int(request_id)],
        )
        audit_log.record(cur, scope, "审批延期", f"任务{task_no}·{_unit_name(cur, unit_id)}",
                     f"批准延期至{approved_due.isoformat()}（原时限{due_at_request.isoformat()}）",
                     before, _ext_counts(cur, task_no, unit_id))


def refuse_extension(
    scope: Scope, request_id: int, reason: str, *, today: dt.date | None = None, db: Database | None = None,
) -> None:
    """The office refuses a waiting request, with the reason the unit will read."""
    db = resolve_db(db)
    scope.require_admin()
    today = today or dt.date.today()
    reason = (reason or "").strip()
    if not reason:
        raise SupervisionError("驳回延期申请须填写驳回理由。")
    with db.transaction() as cur:
        task_no, unit_id, *_ = _pending(cur, request_id)
        before = _ext_counts(cur, task_no, unit_id)
        cur.execute(
            "UPDATE extension_requests SET status = '已驳回', decided_on = ?, decided_by = ?, refusal_reason = ? "
            "WHERE request_id = ?",
            [today, scope.username, reason, int(request_id)],
        )
        audit_log.record(cur, scope, "审批延期", f"任务{task_no}·{_unit_name(cur, unit_id)}", f"驳回：{reason}",
                     before, _ext_counts(cur, task_no, unit_id))


@read
def extension_requests(scope: Scope, status: str | None = None, *, db: Database | None = None) -> pl.DataFrame:
    """Every extension request (newest first) with the unit's name; 单位: its own only."""
    where = Where().own_unit(scope, "e.unit_id").when(status, "e.status = ?", status)
    sql = (
        "SELECT e.request_id, e.task_no, e.unit_id, u.name AS unit, e.reason, e.due_at_request, e.proposed_due, "
        "e.requested_on, e.requested_by, e.status, e.approved_due, e.decided_on, e.decided_by, e.refusal_reason "
        "FROM extension_requests e JOIN units u USING (unit_id)"
        + where.sql()
        + " ORDER BY e.requested_on DESC, e.request_id DESC"
    )
    return db.frame(sql, where.params)




# -- 已延期 marks for the ledger and the unit's card ----------------------------------------------

@read
def unit_extensions(scope: Scope, as_of: dt.date, unit_id: int, *, db: Database | None = None) -> pl.DataFrame:
    """The unit's assignments extended by D (task_no, title, extension text), for its card."""
    from data.storage.facts import load_facts
    from metrics.tasks import extension_marks, with_extension_mark

    scope.require_unit(unit_id)
    facts = load_facts(db)
    marks = extension_marks(facts, as_of).filter(pl.col("unit_id") == int(unit_id)).select("task_no", "unit_id")
    return (with_extension_mark(marks, facts, as_of)
            .join(facts.tasks.select("task_no", "title"), on="task_no", how="left")
            .select("task_no", "title", "extension"))


# -- 约谈 and 整改承诺 -------------------------------------------------------------------------------

def _month_ok(month: str) -> str:
    try:
        year, mon = (int(x) for x in str(month).split("-"))
        dt.date(year, mon, 1)
    except ValueError as exc:
        raise SupervisionError(f"考评月份格式应为“2023-10”：{month}") from exc
    return f"{year:04d}-{mon:02d}"


@read
def suggested_reasons(scope: Scope, month: str, unit_id: int, *, db: Database | None = None) -> str:
    """The reasons a new 约谈 starts with: the month's red lights and the indicators with the most
    points lost (metrics.supervision.interview_reasons). Office only."""
    from data.storage.facts import load_facts
    from metrics.supervision import interview_reasons

    scope.require_admin()
    return interview_reasons(load_facts(db), _month_ok(month), int(unit_id))


def validate_commitment(cur, unit_id: int, held_on: dt.date, c: dict) -> tuple:
    """One commitment dict (indicator + target in the engine's unit, or task_no; due_on; note) ->
    the row to insert. Raises SupervisionError in Chinese."""
    from metrics.registry import KPI_BY_CODE

    indicator, task_no, target = c.get("indicator") or None, c.get("task_no"), c.get("target")
    due_on, note = c.get("due_on"), (c.get("note") or "").strip() or None
    if (indicator is None) == (task_no is None):
        raise SupervisionError("每项整改承诺须指定一个指标（及目标值）或一项任务，二者选一。")
    if due_on is None:
        raise SupervisionError("整改承诺须填写整改期限。")
    if due_on < held_on:
        raise SupervisionError(f"整改期限{cn_date(due_on)}不能早于约谈日期{cn_date(held_on)}。")
    if indicator is not None:
        if indicator not in KPI_BY_CODE:
            raise SupervisionError(f"没有这个指标：{indicator}")
        if target is None:
            raise SupervisionError(f"指标“{KPI_BY_CODE[indicator].label}”的整改承诺须填写目标值。")
        target = float(target)
        kind = KPI_BY_CODE[indicator].kind
        if kind in ("rate", "flag") and not 0 <= target <= 1:
            raise SupervisionError(f"指标“{KPI_BY_CODE[indicator].label}”的目标值须在0%到100%之间。")
        if target < 0:
            raise SupervisionError("目标值不能为负数。")
        return indicator, target, None, due_on, note
    task_no = int(task_no)
    assigned = cur.execute("SELECT count(*) FROM task_assignments WHERE task_no = ? AND unit_id = ?",
                           [task_no, int(unit_id)]).fetchone()[0]
    if not assigned:
        raise SupervisionError(f"{_unit_name(cur, unit_id)}没有承担任务{task_no}，不能以此作整改承诺。")
    return None, None, task_no, due_on, note


def _sv_counts(cur, unit_id: int) -> dict[str, int]:
    n_i, n_c = cur.execute(
        "SELECT count(DISTINCT i.interview_id), count(c.commitment_id) FROM interviews i "
        "LEFT JOIN commitments c USING (interview_id) WHERE i.unit_id = ?", [int(unit_id)]).fetchone()
    return {"约谈": int(n_i), "整改承诺": int(n_c)}


def insert_interview(cur, scope: Scope, month: str, unit_id: int, held_on: dt.date, attendees: str,
                     reasons: str, commitments: list[dict]) -> int:
    """Validate and insert one interview with its commitments using the caller's transaction."""
    from data.storage.plan import OFFICE

    month = _month_ok(month)
    name = _unit_name(cur, unit_id)
    if name == OFFICE:
        raise SupervisionError("领导小组办公室不约谈自身：办公室自身的情况在通报中单独说明。")
    if not (attendees or "").strip():
        raise SupervisionError("请填写参加约谈的人员。")
    if not (reasons or "").strip():
        raise SupervisionError("请填写约谈事由。")
    if held_on is None:
        raise SupervisionError("请填写约谈日期。")
    exists = cur.execute("SELECT count(*) FROM interviews WHERE month = ? AND unit_id = ?",
                         [month, int(unit_id)]).fetchone()[0]
    if exists:
        raise SupervisionError(f"{name}在{month[:4]}年{int(month[5:])}月已有约谈记录。")
    rows = [validate_commitment(cur, unit_id, held_on, c) for c in commitments]
    interview_id = cur.execute(
        "INSERT INTO interviews (month, unit_id, held_on, attendees, reasons, recorded_by, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING interview_id",
        [month, int(unit_id), held_on, attendees.strip(), reasons.strip(), scope.username,
         dt.datetime.now().replace(microsecond=0)],
    ).fetchone()[0]
    for row in rows:
        cur.execute("INSERT INTO commitments (interview_id, indicator, target, task_no, due_on, note) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [interview_id, *row])
    return int(interview_id)


def record_interview(
    scope: Scope, month: str, unit_id: int, held_on: dt.date, attendees: str,
    reasons: str | None = None, commitments: list[dict] | None = None, *, db: Database | None = None,
) -> int:
    """The office records a 约谈 of a unit for a review month with its 整改承诺, all or nothing.
    `reasons` None takes the suggested reasons of that month's review. Returns the interview id."""
    db = resolve_db(db)
    scope.require_admin()
    if reasons is None:
        reasons = suggested_reasons(scope, month, unit_id, db=db)
    with db.transaction() as cur:
        before = _sv_counts(cur, unit_id)
        interview_id = insert_interview(cur, scope, month, unit_id, held_on, attendees, reasons, commitments or [])
        audit_log.record(cur, scope, "约谈", f"{_unit_name(cur, unit_id)}·{_month_ok(month)}",
                     f"{held_on.isoformat()} 约谈，整改承诺{len(commitments or [])}项", before, _sv_counts(cur, unit_id))
    return interview_id


def add_commitment(scope: Scope, interview_id: int, commitment: dict, *, db: Database | None = None) -> None:
    """The office adds one 整改承诺 to an existing interview."""
    db = resolve_db(db)
    scope.require_admin()
    with db.transaction() as cur:
        row = cur.execute("SELECT unit_id, held_on, month FROM interviews WHERE interview_id = ?",
                          [int(interview_id)]).fetchone()
        if row is None:
            raise SupervisionError("找不到这次约谈记录。")
        unit_id, held_on, month = row
        values = validate_commitment(cur, unit_id, held_on, commitment)
        before = _sv_counts(cur, unit_id)
        cur.execute("INSERT INTO commitments (interview_id, indicator, target, task_no, due_on, note) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [int(interview_id), *values])
        audit_log.record(cur, scope, "整改承诺", f"{_unit_name(cur, unit_id)}·{month}", "新增整改承诺",
                     before, _sv_counts(cur, unit_id))


# -- scoped reads -----------------------------------------------------------------------------------

def _facts(db: Database):
    from data.storage.facts import load_facts

    return load_facts(db)


def _names(db: Database) -> pl.DataFrame:
    return _facts(db).units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name").alias("unit"))


def _leaders_only(scope: Scope, what: str) -> None:
    """`what` is for the office and the leaders: a 单位 scope is refused, naming it."""
    if not scope.sees_all:
        raise PermissionDenied(f"{what}仅限领导和领导小组办公室查看。")


def _county_list(scope: Scope, what: str, build, as_of: dt.date, db: Database) -> pl.DataFrame:
    """`build(facts, as_of)` of every unit with the unit's name (office and leaders only)."""
    _leaders_only(scope, what)
    return build(_facts(db), as_of).join(_names(db), on="unit_id", how="left")


def _own(scope: Scope, frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    if scope.sees_all:
        return frame
    cols = cols or ("unit_id",)
    return frame.filter(pl.any_horizontal([pl.col(c) == scope.unit_id for c in cols]))


@read
def interviews(scope: Scope, as_of: dt.date | None = None, *, db: Database | None = None) -> pl.DataFrame:
    """Interviews held by D (all when D is None), newest first, with the unit's name; 单位: own."""
    frame = _facts(db).interviews.with_columns(pl.col("unit_id").cast(pl.Int64))
    if as_of is not None:
        frame = frame.filter(pl.col("held_on") <= as_of)
    return (_own(scope, frame).join(_names(db), on="unit_id", how="left")
            .sort(["held_on", "interview_id"], descending=True)
            .select("interview_id", "month", "unit_id", "unit", "held_on", "attendees", "reasons"))


@read
def commitments(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Every commitment of an interview held by D with its state as of D (metrics.supervision),
    the unit's name and what was promised in words; 单位: its own only."""
    from metrics.supervision import commitment_states

    facts = _facts(db)
    return with_promise(_own(scope, commitment_states(facts, as_of)), facts).join(
        _names(db), on="unit_id", how="left")


@read
def commitment_counts(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> dict[str, int]:
    """How many of `commitments` are 已整改, 整改中 and 逾期未整改 as of D."""
    states = commitments(scope, as_of, db=db)["state"]
    return {s: int((states == s).sum()) for s in ("已整改", "整改中", "逾期未整改")}


def with_promise(frame: pl.DataFrame, facts) -> pl.DataFrame:
    """Add `promise`: '目录挂接率达到90%' or '完成任务6“…”'."""
    from metrics.registry import KPIS
    from metrics.supervision import _target_text

    labels = pl.DataFrame({"indicator": [k.code for k in KPIS], "_label": [k.label for k in KPIS]})
    titles = facts.tasks.select(pl.col("task_no").cast(pl.Int32), pl.col("title").alias("_title"))
    return (frame.join(labels, on="indicator", how="left").join(titles, on="task_no", how="left")
            .with_columns(promise=pl.when(pl.col("task_no").is_not_null())
                          .then(pl.concat_str(pl.lit("完成任务"), pl.col("task_no").cast(pl.String), pl.lit("“"),
                                              pl.col("_title"), pl.lit("”")))
                          .otherwise(pl.concat_str(pl.col("_label"), pl.lit("达到"), _target_text())))
            .drop("_label", "_title"))


@read
def inspection_list(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Units proposed for 督查 as of D with the reason (管理员 and 领导 only)."""
    from metrics.supervision import inspection_proposals

    return _county_list(scope, "督查建议名单", inspection_proposals, as_of, db)


@read
def authorisations(scope: Scope, as_of: dt.date, state: str | None = None, *,
                   db: Database | None = None) -> pl.DataFrame:
    """The authorisation register as of D with both units' names; 单位: those where it is the using
    (requesting) unit or the providing unit. With `state` (有效 / 即将到期 / 已到期), those only."""
    from metrics.supervision import authorisation_states

    names = _names(db)
    frame = _own(scope, authorisation_states(_facts(db), as_of), "requester_id", "provider_id")
    if state is not None:
        frame = frame.filter(pl.col("state") == state)
    return (frame.join(names.rename({"unit_id": "requester_id", "unit": "requester"}), on="requester_id", how="left")
            .join(names.rename({"unit_id": "provider_id", "unit": "provider"}), on="provider_id", how="left"))


AUTHORISATION_STATES = ("有效", "即将到期", "已到期")


@read
def authorisation_counts(scope: Scope, as_of: dt.date, by: str, *, db: Database | None = None) -> pl.DataFrame:
    """How many authorisations of the register are 有效 / 即将到期 / 已到期, per `by` ('requester':
    the using unit, or 'provider'), by name."""
    register = authorisations(scope, as_of, db=db)
    return register.group_by(by).agg(*[(pl.col("state") == s).sum().alias(s) for s in AUTHORISATION_STATES]).sort(by)


@read
def notice_list(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """Every overdue item of every unit needing a 督办单 as of D (office and leaders only)."""
    from metrics.supervision import notice_items

    return _county_list(scope, "督办单", notice_items, as_of, db)


@read
def notices_document(scope: Scope, as_of: dt.date, issued_on: dt.date | None = None, unit_id: int | None = None, *,
                     db: Database | None = None) -> tuple[bytes, int]:
    """The 督办单 of every unit needing one as of D (or of one unit), as one .docx, and how many
    units it covers. The requested completion date is `notice_reply_workdays` working days after
    the issue date (default: today). Office and leaders only."""
    from metrics.supervision import requested_completion
    from reports.docx_official import notices_docx

    items = notice_list(scope, as_of, db=db)
    if unit_id is not None:
        items = items.filter(pl.col("unit_id") == int(unit_id))
    issued_on = issued_on or dt.date.today()
    if items.is_empty():
        return b"", 0
    reply_by = requested_completion(_facts(db), issued_on)
    return notices_docx(items, as_of, issued_on, reply_by), items["unit_id"].n_unique()


@read
def review_supervision(scope: Scope, month: str, *, db: Database | None = None) -> dict[str, pl.DataFrame]:
    """The monthly review's supervision frames, judged as of the month's last day:
    'open' every commitment still open, 'due' what became of those due in the month, 'expiring'
    the authorisations 即将到期, 'proposals' the units proposed for 督查. Office and leaders."""
    from metrics import supervision as m

    _leaders_only(scope, "月度考评")
    facts, month = _facts(db), _month_ok(month)
    as_of = m.month_end(month)
    names = _names(db)
    states = m.commitment_states(facts, as_of)
    auth = m.expiring_authorisations(facts, month)
    return {
        "open": with_promise(m.open_commitments(facts, as_of, states), facts).join(names, on="unit_id", how="left"),
        "due": with_promise(m.commitments_due_in(facts, month), facts).join(names, on="unit_id", how="left"),
        "expiring": auth.join(names.rename({"unit_id": "requester_id", "unit": "requester"}), on="requester_id",
                              how="left")
        .join(names.rename({"unit_id": "provider_id", "unit": "provider"}), on="provider_id", how="left"),
        "proposals": m.inspection_proposals(facts, as_of, states).join(names, on="unit_id", how="left"),
    }


@read
def extendable_assignments(scope: Scope, as_of: dt.date, *, db: Database | None = None) -> pl.DataFrame:
    """The assignments an extension may be asked for (those with a due date): task_no, unit_id, unit,
    as the task list orders them (the units with most red lights first); 单位: its own."""
    from data.services.tasks import assignment_lights

    return assignment_lights(scope, as_of, db=db).filter(pl.col("due_date").is_not_null()).select(
        "task_no", "unit_id", "unit")


__all__ = [
    "EXTENSION_STATUSES", "PermissionDenied", "SupervisionError", "add_commitment", "approve_extension",
    "authorisation_counts", "authorisations", "commitment_counts", "commitments", "extendable_assignments", "extension_requests",
    "inspection_list", "interviews", "notice_list",
    "notices_document", "record_interview", "refuse_extension", "request_extension", "review_supervision",
    "suggested_reasons", "unit_extensions",
]
