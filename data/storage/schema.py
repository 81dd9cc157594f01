"""Versioned schema: ordered migrations applied on start.

Column names here are the contract between `data/` (which writes them) and `metrics/`
(which reads them as Polars frames through `data.storage.facts`). docs/data-model.md explains each table.
"""

from __future__ import annotations

from data.storage.db import Database

# Each entry: (version, description, statements). Append only; never edit a released one.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            """CREATE TABLE units (
                unit_id     INTEGER PRIMARY KEY,
                name        VARCHAR NOT NULL UNIQUE,
                kind        VARCHAR NOT NULL CHECK (kind IN ('县直部门','乡镇（街道）','公共服务企业','其他')),
                is_member   BOOLEAN NOT NULL DEFAULT FALSE,  -- 领导小组成员单位 (annex 1)
                region      VARCHAR,                          -- county, at prefecture/province scale
                origin      VARCHAR NOT NULL DEFAULT 'plan',  -- plan / import / demo
                sort_order  INTEGER NOT NULL DEFAULT 0
            )""",
            """CREATE TABLE unit_aliases (
                alias   VARCHAR PRIMARY KEY,   -- another name the plan uses for the same unit
                unit_id INTEGER NOT NULL
            )""",
            """CREATE TABLE contacts (
                unit_id  INTEGER NOT NULL,
                role     VARCHAR NOT NULL CHECK (role IN ('分管领导','经办人')),
                name     VARCHAR NOT NULL,
                title    VARCHAR,
                phone    VARCHAR,
                named_on DATE NOT NULL,
                PRIMARY KEY (unit_id, role)
            )""",
            """CREATE TABLE catalog_items (
                code            VARCHAR PRIMARY KEY,
                name            VARCHAR NOT NULL,
                unit_id         INTEGER NOT NULL,
                summary         VARCHAR,
                format          VARCHAR NOT NULL,    -- 库表/文件/接口
                share_type      VARCHAR NOT NULL,    -- 无条件共享/有条件共享/不予共享
                share_condition VARCHAR,
                nonshare_basis  VARCHAR,
                open_type       VARCHAR,             -- 无条件开放/有条件开放/不予开放
                update_cycle    VARCHAR NOT NULL,    -- 实时/每日/每周/每月/每季度/每半年/每年/不定期
                published_on    DATE NOT NULL,
                last_updated_on DATE,
                mounted_on      DATE,
                item_count      INTEGER
            )""",
            """CREATE TABLE demands (
                code        VARCHAR PRIMARY KEY,
                unit_id     INTEGER NOT NULL,        -- requesting unit
                content     VARCHAR NOT NULL,
                target_code VARCHAR,
                raised_on   DATE NOT NULL,
                matched_on  DATE
            )""",
            """CREATE TABLE share_requests (
                code           VARCHAR PRIMARY KEY,
                requester_id   INTEGER NOT NULL,
                provider_id    INTEGER NOT NULL,
                catalog_code   VARCHAR,
                purpose        VARCHAR NOT NULL,
                use_until      DATE,
                received_on    DATE NOT NULL,
                reviewed_on    DATE,
                review_result  VARCHAR,              -- 通过/退回
                forwarded_on   DATE,
                replied_on     DATE,
                reply_result   VARCHAR,              -- 同意/部分同意/不同意
                legal_basis    VARCHAR,
                refusal_reason VARCHAR
            )""",
            """CREATE TABLE tasks (
                task_no       INTEGER PRIMARY KEY,
                section       VARCHAR NOT NULL,
                title         VARCHAR NOT NULL,
                goal          VARCHAR NOT NULL,
                deadline_text VARCHAR NOT NULL,      -- as written in annex 2
                due_date      DATE,                  -- NULL when ongoing
                is_ongoing    BOOLEAN NOT NULL,
                units_text    VARCHAR NOT NULL       -- responsible units as written
            )""",
            """CREATE TABLE assignment_groups (
                group_word VARCHAR NOT NULL,         -- e.g. 县直各单位
                unit_kind  VARCHAR NOT NULL,         -- expands to every unit of this kind
                PRIMARY KEY (group_word, unit_kind)
            )""",
            """CREATE TABLE task_assignments (
                task_no INTEGER NOT NULL,
                unit_id INTEGER NOT NULL,
                origin  VARCHAR NOT NULL,            -- the word of annex 2 that assigned it
                PRIMARY KEY (task_no, unit_id)
            )""",
            """CREATE TABLE progress_reports (
                task_no      INTEGER NOT NULL,
                unit_id      INTEGER NOT NULL,
                reported_on  DATE NOT NULL,
                status       VARCHAR NOT NULL CHECK (status IN ('未启动','推进中','已完成')),
                percent      INTEGER,
                completed_on DATE,
                note         VARCHAR,
                submitted_by VARCHAR,
                verified     BOOLEAN NOT NULL DEFAULT TRUE,   -- unit-submitted reports wait for the office
                verified_by  VARCHAR,
                verified_at  TIMESTAMP,
                PRIMARY KEY (task_no, unit_id, reported_on)
            )""",
            """CREATE TABLE milestones (
                code         VARCHAR PRIMARY KEY,    -- M1..M4
                due_date     DATE NOT NULL,
                title        VARCHAR NOT NULL,
                requirement  VARCHAR NOT NULL,
                task_nos     INTEGER[] NOT NULL,
                indicators   VARCHAR[] NOT NULL
            )""",
            """CREATE TABLE systems (
                unit_id       INTEGER NOT NULL,
                name          VARCHAR NOT NULL,
                classified    BOOLEAN NOT NULL,
                registered    BOOLEAN NOT NULL DEFAULT FALSE,
                registered_on DATE,
                connected     BOOLEAN NOT NULL DEFAULT FALSE,
                connected_on  DATE,
                provides_data BOOLEAN,
                PRIMARY KEY (unit_id, name)
            )""",
            """CREATE TABLE networks (
                unit_id     INTEGER NOT NULL,
                name        VARCHAR NOT NULL,
                classified  BOOLEAN NOT NULL,
                migrated    BOOLEAN NOT NULL DEFAULT FALSE,
                migrated_on DATE,
                PRIMARY KEY (unit_id, name)
            )""",
            """CREATE TABLE security_assessments (
                unit_id         INTEGER NOT NULL,
                assessed_on     DATE NOT NULL,
                desensitization BOOLEAN NOT NULL,
                encryption      BOOLEAN NOT NULL,
                access_auth     BOOLEAN NOT NULL,
                note            VARCHAR,
                PRIMARY KEY (unit_id, assessed_on)
            )""",
            """CREATE TABLE quality_checks (
                catalog_code  VARCHAR NOT NULL,
                checked_on    DATE NOT NULL,
                completeness  DOUBLE NOT NULL,
                accuracy      DOUBLE NOT NULL,
                usability     DOUBLE NOT NULL,
                timeliness    DOUBLE NOT NULL,
                issues_found  INTEGER,
                issues_fixed  INTEGER,
                PRIMARY KEY (catalog_code, checked_on)
            )""",
            """CREATE TABLE village_coverage (
                unit_id    INTEGER NOT NULL,         -- the township (乡镇（街道）)
                counted_on DATE NOT NULL,
                villages   INTEGER NOT NULL,
                connected  INTEGER NOT NULL,
                PRIMARY KEY (unit_id, counted_on)
            )""",
            """CREATE TABLE settings (
                key   VARCHAR PRIMARY KEY,
                value VARCHAR NOT NULL               -- JSON
            )""",
            """CREATE TABLE sla_rules (
                effective_from DATE PRIMARY KEY,
                review_days    INTEGER NOT NULL,
                reply_days     INTEGER NOT NULL,
                name           VARCHAR NOT NULL
            )""",
            """CREATE TABLE calendar_days (
                day        DATE PRIMARY KEY,
                is_workday BOOLEAN NOT NULL,
                source     VARCHAR NOT NULL,         -- chinese_calendar / office
                note       VARCHAR
            )""",
            """CREATE TABLE users (
                username        VARCHAR PRIMARY KEY,
                display_name    VARCHAR NOT NULL,
                password_hash   VARCHAR NOT NULL,
                role            VARCHAR NOT NULL CHECK (role IN ('管理员','领导','单位')),
                unit_id         INTEGER,
                disabled        BOOLEAN NOT NULL DEFAULT FALSE,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                locked_until    TIMESTAMP,
                created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            "CREATE SEQUENCE audit_seq START 1",
            """CREATE TABLE audit_log (
                id            BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
                logged_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
                username      VARCHAR NOT NULL,
                action        VARCHAR NOT NULL,
                target        VARCHAR,
                detail        VARCHAR,
                counts_before VARCHAR,
                counts_after  VARCHAR
            )""",
            "CREATE SEQUENCE import_seq START 1",
            """CREATE TABLE import_log (
                id          BIGINT NOT NULL,
                logged_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
                username    VARCHAR NOT NULL,
                file_name   VARCHAR NOT NULL,
                file_sha256 VARCHAR NOT NULL,
                sheet       VARCHAR NOT NULL,
                inserted    INTEGER NOT NULL,
                updated     INTEGER NOT NULL
            )""",
            """CREATE TABLE published_months (
                month        VARCHAR PRIMARY KEY,    -- YYYY-MM
                as_of        DATE NOT NULL,
                published_at TIMESTAMP NOT NULL,
                published_by VARCHAR NOT NULL
            )""",
            """CREATE TABLE published_scores (
                month      VARCHAR NOT NULL,
                unit_id    INTEGER NOT NULL,
                score_col  VARCHAR NOT NULL,         -- a scorecard CSV column
                num_value  DOUBLE,
                text_value VARCHAR,
                PRIMARY KEY (month, unit_id, score_col)
            )""",
            """CREATE TABLE meta (
                key   VARCHAR PRIMARY KEY,
                value VARCHAR NOT NULL
            )""",
        ],
    ),
    (
        2,
        "catalog update history",
        [
            # Every known update of a catalog item (catalog_items.last_updated_on keeps the latest),
            # so freshness as of a past date sees the update that was the latest then.
            """CREATE TABLE catalog_updates (
                code       VARCHAR NOT NULL,
                updated_on DATE NOT NULL,
                PRIMARY KEY (code, updated_on)
            )""",
            """INSERT INTO catalog_updates (code, updated_on)
                SELECT code, last_updated_on FROM catalog_items WHERE last_updated_on IS NOT NULL""",
        ],
    ),
    (
        3,
        "unit import submissions held for the office's verification",
        [
            # A 单位 user's import is a submission: the validated file is kept here and written
            # only when the office verifies it (data/imports/batches.py, docs/security.md).
            "CREATE SEQUENCE import_batch_seq START 1",
            """CREATE TABLE import_batches (
                id            INTEGER PRIMARY KEY,
                unit_id       INTEGER NOT NULL,
                submitted_by  VARCHAR NOT NULL,
                submitted_at  TIMESTAMP NOT NULL,
                file_name     VARCHAR NOT NULL,
                file_sha256   VARCHAR NOT NULL,
                content       BLOB NOT NULL,
                summary       VARCHAR NOT NULL,
                status        VARCHAR NOT NULL DEFAULT '待核验',   -- 待核验 / 已核验 / 已退回
                decided_by    VARCHAR,
                decided_at    TIMESTAMP,
                decision_note VARCHAR,
                import_id     BIGINT
            )""",
        ],
    ),
    (
        4,
        "login throttle per account and source",
        [
            # Consecutive failed logins per (username, client address): after the free attempts each
            # further attempt from that source waits an increasing delay (data/services/users.py). Kept per
            # source so that someone guessing elsewhere cannot keep the rightful user out.
            """CREATE TABLE login_throttle (
                username        VARCHAR NOT NULL,
                source          VARCHAR NOT NULL,
                failures        INTEGER NOT NULL,
                next_allowed_at TIMESTAMP,
                last_failed_at  TIMESTAMP NOT NULL,
                PRIMARY KEY (username, source)
            )""",
        ],
    ),
    (
        5,
        "milestone criteria with effective-from dates",
        [
            # One row per (milestone, criterion, effective_from); the row in force at D is the latest
            # effective_from <= D, and active = FALSE withdraws the criterion from that date on.
            # criterion: an indicator code of metrics/registry.py or 'task:N' (task N completed).
            # threshold: rates as fractions (0.9 = 90 %), flags 0/1, quality_score points, counts.
            """CREATE TABLE milestone_criteria (
                milestone      VARCHAR NOT NULL,
                criterion      VARCHAR NOT NULL,
                effective_from DATE NOT NULL,
                op             VARCHAR NOT NULL CHECK (op IN ('>=', '<=')),
                threshold      DOUBLE NOT NULL,
                unit_kinds     VARCHAR[] NOT NULL,
                active         BOOLEAN NOT NULL DEFAULT TRUE,
                note           VARCHAR,
                PRIMARY KEY (milestone, criterion, effective_from)
            )""",
        ],
    ),
    (
        6,
        "stored bulletins and the frozen outputs of published months",
        [
            # Every saved version of a month's 通报 draft; earlier versions are kept.
            """CREATE TABLE bulletin_drafts (
                month     VARCHAR NOT NULL,   -- YYYY-MM
                version   INTEGER NOT NULL,   -- 1, 2, … per month
                text      VARCHAR NOT NULL,
                edited_by VARCHAR NOT NULL,
                edited_at TIMESTAMP NOT NULL,
                PRIMARY KEY (month, version)
            )""",
            # The 通报 text frozen with the figures when the month was published.
            """CREATE TABLE published_bulletins (
                month   VARCHAR PRIMARY KEY,
                version INTEGER NOT NULL,     -- the bulletin_drafts version published
                text    VARCHAR NOT NULL
            )""",
            # Further frozen outputs of a published month (points per indicator, the ranking and
            # suggestion tables, the review workbook), as Arrow IPC or the file's own bytes.
            """CREATE TABLE published_frames (
                month VARCHAR NOT NULL,
                name  VARCHAR NOT NULL,
                data  BLOB NOT NULL,
                PRIMARY KEY (month, name)
            )""",
        ],
    ),
    (
        7,
        "progress report return (退回) state",
        [
            # The office may return (退回) a unit's report with a reason; the unit corrects and
            # resubmits it. A returned report stays unverified, so it never reaches the KPIs.
            "ALTER TABLE progress_reports ADD COLUMN returned BOOLEAN DEFAULT FALSE",
            "ALTER TABLE progress_reports ADD COLUMN returned_reason VARCHAR",
            "ALTER TABLE progress_reports ADD COLUMN returned_by VARCHAR",
            "ALTER TABLE progress_reports ADD COLUMN returned_at TIMESTAMP",
            "ALTER TABLE progress_reports ADD COLUMN resubmitted_at TIMESTAMP",
        ],
    ),
    (
        8,
        "supervision loop: interviews, commitments, extension requests",
        [
            # 约谈 records: one per unit and review month; reasons are pre-filled from that
            # month's review and may be edited by the office.
            "CREATE SEQUENCE interview_seq START 1",
            """CREATE TABLE interviews (
                interview_id BIGINT PRIMARY KEY DEFAULT nextval('interview_seq'),
                month        VARCHAR NOT NULL,       -- the review month YYYY-MM
                unit_id      INTEGER NOT NULL,
                held_on      DATE NOT NULL,
                attendees    VARCHAR NOT NULL,
                reasons      VARCHAR NOT NULL,
                recorded_by  VARCHAR NOT NULL,
                recorded_at  TIMESTAMP NOT NULL,
                UNIQUE (month, unit_id)
            )""",
            # 整改承诺: an indicator with a target (in the engine's own unit: rates as fractions)
            # or a task assignment (the interview's unit), and a due date.
            "CREATE SEQUENCE commitment_seq START 1",
            """CREATE TABLE commitments (
                commitment_id BIGINT PRIMARY KEY DEFAULT nextval('commitment_seq'),
                interview_id  BIGINT NOT NULL,
                indicator     VARCHAR,
                target        DOUBLE,
                task_no       INTEGER,
                due_on        DATE NOT NULL,
                note          VARCHAR,
                CHECK ((indicator IS NOT NULL AND target IS NOT NULL AND task_no IS NULL)
                       OR (indicator IS NULL AND target IS NULL AND task_no IS NOT NULL))
            )""",
            # 延期申请 for a task assignment; due_at_request is the due date in force when asked.
            "CREATE SEQUENCE extension_seq START 1",
            """CREATE TABLE extension_requests (
                request_id     BIGINT PRIMARY KEY DEFAULT nextval('extension_seq'),
                task_no        INTEGER NOT NULL,
                unit_id        INTEGER NOT NULL,
                reason         VARCHAR NOT NULL,
                proposed_due   DATE NOT NULL,
                due_at_request DATE NOT NULL,
                requested_on   DATE NOT NULL,
                requested_by   VARCHAR NOT NULL,
                status         VARCHAR NOT NULL CHECK (status IN ('待审批','已批准','已驳回')),
                approved_due   DATE,
                decided_on     DATE,
                decided_by     VARCHAR,
                refusal_reason VARCHAR
            )""",
        ],
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(db: Database) -> int:
    exists = db.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    )
    if not exists:
        return 0
    return db.scalar("SELECT coalesce(max(version), 0) FROM schema_version") or 0


def migrate(db: Database) -> int:
    """Apply every migration newer than the database; return the resulting version."""
    version = current_version(db)
    if version >= LATEST_VERSION:
        return version
    with db.transaction() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
        for number, description, statements in MIGRATIONS:
            if number <= version:
                continue
            for statement in statements:
                cur.execute(statement)
            cur.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)", [number, description]
            )
    return LATEST_VERSION


def prepare_database(db: Database) -> None:
    """Migrate, then load the plan if it is not there yet (first start)."""
    migrate(db)
    if not db.scalar("SELECT count(*) FROM tasks"):
        from data.storage.plan import load_plan

        load_plan(db)
    elif not db.scalar("SELECT count(*) FROM milestone_criteria"):
        # A database from before migration 5: give it the default milestone criteria.
        from data.storage.plan import seed_milestone_criteria

        with db.transaction() as cur:
            seed_milestone_criteria(cur)
