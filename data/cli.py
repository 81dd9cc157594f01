"""`python -m data …`: the operator's command line (see docs/cli.md and interfaces.md).

Every command takes `--db PATH` (else $DASHBOARD_DB, else data/dashboard.duckdb) and `--debug`,
creates the schema and loads the plan when the database is new, and runs as `data.storage.scope.SYSTEM`
(the operator at the console is the office). Errors are two lines on stderr, Chinese then
English, without a traceback unless `--debug`.

Exit codes: 0 ok; 1 refused (validation errors, weak password, unknown unit or user); 2 usage
error (argparse) or unreadable input file; 3 the database file is held by another process.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import traceback
from collections.abc import Sequence

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_UNREADABLE = 2
EXIT_LOCKED = 3

ROLE_CHOICES = ("管理员", "领导", "单位")


class CliError(Exception):
    """An error the operator can act on: a Chinese line, an English line and an exit code."""

    def __init__(self, chinese: str, english: str, code: int = EXIT_REFUSED):
        super().__init__(chinese)
        self.chinese = chinese
        self.english = english
        self.code = code


# -- argument parsing ------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with the usage line, then the error in Chinese and in English; exit 2."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(
            EXIT_UNREADABLE,
            f"命令或参数有误，请用 {self.prog} -h 查看用法。\n{self.prog}: error: {message}\n",
        )


def _common() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before the command is not reset by the subcommand's default.
    common = _Parser(add_help=False)
    common.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS,
        help="数据库文件（默认 $DASHBOARD_DB，否则 data/dashboard.duckdb）",
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="出错时显示完整的调用栈"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(
        prog="python -m data",
        description="政务数据共享督查考评看板：数据库维护命令",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("init", parents=[common], help="建库并载入实施方案（可重复执行）")

    p = sub.add_parser("demo", parents=[common], help="生成确定性的演示数据")
    p.add_argument("--scale", choices=("county", "province"), default="county", help="county（默认）或 province")
    p.add_argument("--seed", type=int, default=1, help="随机种子（默认 1；同一种子生成相同数据）")
    p.add_argument("--force", action="store_true", help="数据库中已有导入的真实数据时仍然覆盖")
    p.add_argument("--clear", action="store_true", help="删除演示数据（方案中的单位、任务和设置保留），上线前执行")

    p = sub.add_parser("import", parents=[common], help="校验并导入 Excel 工作簿或 CSV 文件")
    p.add_argument("files", nargs="+", metavar="FILE")

    p = sub.add_parser("template", parents=[common], help="生成空白导入模板")
    p.add_argument("out", metavar="OUT.xlsx")

    p = sub.add_parser("backup", parents=[common], help="备份数据库")
    p.add_argument("dir", nargs="?", metavar="DIR", help="备份目录（默认与数据库同目录下的 backups/）")
    p.add_argument("--keep", type=int, default=10, help="目录中保留最近几份备份（默认 10）")

    p = sub.add_parser("restore", parents=[common], help="从备份文件恢复数据库")
    p.add_argument("file", metavar="FILE")

    p = sub.add_parser("user", parents=[common], help="管理登录账号")
    user_sub = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    q = user_sub.add_parser("add", parents=[common], help="新增账号（密码从标准输入读取）")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--role", required=True, choices=ROLE_CHOICES)
    q.add_argument("--unit", metavar="单位名称", help="单位账号所属单位")
    q.add_argument("--display", metavar="显示名", help="显示名（默认与账号相同）")
    q = user_sub.add_parser("reset", parents=[common], help="重置密码（新密码从标准输入读取）")
    q.add_argument("name", metavar="NAME")
    q = user_sub.add_parser("unlock", parents=[common], help="解除登录限制（清除密码错误次数和等待时间）")
    q.add_argument("name", metavar="NAME")
    q = user_sub.add_parser("disable", parents=[common], help="停用账号")
    q.add_argument("name", metavar="NAME")
    user_sub.add_parser("list", parents=[common], help="列出账号和角色")
    return parser


# -- helpers ---------------------------------------------------------------------------------
def _err(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def read_password(confirm: bool = True) -> str:
    """The new password: typed without echo on a terminal (twice), else one line of stdin."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("密码 / Password: ")
        if confirm:
            second = getpass.getpass("再次输入密码 / Repeat password: ")
            if first != second:
                raise CliError("两次输入的密码不一致。", "The two passwords do not match.")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise CliError("没有从标准输入读到密码。", "No password was given on standard input.")
    return password


def _user_error(exc: Exception) -> CliError:
    chinese = str(exc) or "账号操作被拒绝。"
    english = getattr(exc, "english", None) or getattr(exc, "message_en", None) or (
        "The user operation was refused (see the Chinese message above)."
    )
    return CliError(chinese, english, EXIT_REFUSED)


# Chinese labels for the table names that count dicts use as keys.
COUNT_LABELS = {
    "units": "单位",
    "contacts": "联系人",
    "catalog_items": "目录",
    "catalog": "目录",
    "demands": "需求",
    "share_requests": "共享申请",
    "requests": "共享申请",
    "tasks": "任务",
    "assignments": "任务分工",
    "task_assignments": "任务分工",
    "progress_reports": "进展报送",
    "reports": "进展报送",
    "milestones": "里程碑",
    "systems": "信息系统",
    "networks": "业务专网",
    "security_assessments": "安全评估",
    "security": "安全评估",
    "quality_checks": "质量检查",
    "quality": "质量检查",
    "village_coverage": "村村通",
    "coverage": "村村通",
    "users": "账号",
    "calendar_days": "日历天数",
}


def _print_counts(title: str, counts: dict) -> None:
    print(title)
    for key, value in counts.items():
        print(f"  {COUNT_LABELS.get(key, key)}：{value}")


def _user_table(frame):
    """list_users() for the operator's eyes: Chinese headers, state in words, no ids."""
    import datetime as dt

    import polars as pl

    now = dt.datetime.now()
    cols = frame.columns
    state = pl.lit("正常")
    if "locked_until" in cols:
        state = (
            pl.when(pl.col("locked_until").is_not_null() & (pl.col("locked_until") > now))
            .then(pl.lit("登录须等待至 ") + pl.col("locked_until").dt.strftime("%Y年%-m月%-d日 %H:%M:%S"))
            .otherwise(state)
        )
    if "disabled" in cols:
        state = pl.when(pl.col("disabled")).then(pl.lit("已停用")).otherwise(state)
    wanted = [
        ("username", "账号"), ("display_name", "显示名"), ("role", "角色"), ("unit_name", "所属单位"),
    ]
    exprs = [pl.col(c).cast(pl.String).fill_null("").alias(label) for c, label in wanted if c in cols]
    exprs.append(state.alias("状态"))
    if "created_at" in cols:
        exprs.append(pl.col("created_at").dt.strftime("%Y年%-m月%-d日 %H:%M").alias("创建时间"))
    return frame.select(exprs)


# -- commands --------------------------------------------------------------------------------
def cmd_init(args) -> int:
    from data.storage.connect import get_db
    from data.storage.plan import load_plan, plan_counts
    from data.storage.schema import LATEST_VERSION

    db = get_db(args.db)
    before = plan_counts(db)
    counts = load_plan(db)  # idempotent: adds what is missing, keeps the office's edits
    if counts != before:  # audit only an init that wrote something
        from data.storage.audit_log import record
        from data.storage.scope import SYSTEM

        with db.transaction() as cur:
            record(cur, SYSTEM, "初始化", str(db.path), "载入实施方案（单位、任务、分工、里程碑、默认设置）",
                   before=before, after=counts)
    _print_counts(f"数据库已就绪：{db.path}（结构版本 {LATEST_VERSION}）", counts)
    return EXIT_OK


def cmd_demo(args) -> int:
    from data.services.demo import DemoRefusedError, clear_demo, generate_demo
    from data.storage.audit_log import record
    from data.storage.connect import get_db
    from data.storage.scope import SYSTEM

    db = get_db(args.db)
    if args.clear:
        removed = clear_demo(db)
        target, detail, before, after = "清除", "删除演示数据", removed, None
        heading = "演示数据已删除："
    else:
        try:
            after = generate_demo(db, scale=args.scale, seed=args.seed, force=args.force)
        except DemoRefusedError as exc:
            raise CliError(
                "数据库中已有导入的真实数据，生成演示数据会将其覆盖；如确需覆盖，请加 --force 重新执行。",
                "The database holds real (imported) data that demo data would replace; add --force to do so.",
            ) from exc
        target, detail, before = f"{args.scale}（种子 {args.seed}）", "生成演示数据", None
        heading = f"演示数据已生成（规模 {args.scale}，种子 {args.seed}）："
    with db.transaction() as cur:
        record(cur, SYSTEM, "演示数据", target, detail, before=before, after=after)
    _print_counts(heading, removed if args.clear else after)
    return EXIT_OK


def cmd_import(args) -> int:
    from data.imports.importer import run_import_command
    from data.storage.connect import get_db
    from data.storage.scope import SYSTEM
    db = get_db(args.db)
    return int(run_import_command(db, list(args.files), SYSTEM))


def cmd_template(args) -> int:
    from data.imports.template import write_template
    from data.storage.connect import get_db
    from data.storage.db import DatabaseLockedError

    try:
        get_db(args.db)  # the contract: every command prepares a new database
    except DatabaseLockedError:
        pass  # held by the running dashboard, so not new; the template needs no database
    write_template(args.out)
    print(f"导入模板已生成：{args.out}")
    return EXIT_OK


def cmd_backup(args) -> int:
    from data.storage.backup import BackupError, backup
    from data.storage.connect import get_db

    if args.keep < 1:
        raise CliError("--keep 至少为 1。", "--keep must be at least 1.", EXIT_UNREADABLE)
    db = get_db(args.db)
    try:
        path = backup(db, args.dir, keep=args.keep)
    except BackupError as exc:  # not enough disk space: nothing written
        raise CliError(str(exc), exc.english, EXIT_REFUSED) from exc
    print(f"备份完成：{path}")
    return EXIT_OK


def cmd_restore(args) -> int:
    from data.storage.backup import BackupError, restore
    from data.storage.db import resolve_path

    target = resolve_path(args.db)
    try:
        restore(args.file, target)
    except BackupError as exc:  # not a usable backup: 2; not enough disk space: 1
        code = EXIT_REFUSED if exc.kind == "space" else EXIT_UNREADABLE
        raise CliError(str(exc), exc.english, code) from exc
    print(f"已从 {args.file} 恢复数据库：{target}")
    return EXIT_OK


def cmd_user(args) -> int:
    import data.services.users as users
    from data.storage.connect import get_db
    from data.storage.scope import SYSTEM
    db = get_db(args.db)
    action = args.user_command
    try:
        if action == "list":
            import polars as pl

            frame = _user_table(users.list_users(db))
            if frame.height == 0:
                print("还没有任何账号。请用 python -m data user add 新增管理员账号。")
                return EXIT_OK
            with pl.Config(
                tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True,
                fmt_str_lengths=60, tbl_width_chars=200,
            ):
                print(frame)
            return EXIT_OK
        if action == "add":
            password = read_password(confirm=True)
            users.add_user(
                SYSTEM, args.name, password, args.role, unit_name=args.unit, display_name=args.display, db=db
            )
            print(f"账号 {args.name}（{args.role}）已创建。")
        elif action == "reset":
            password = read_password(confirm=True)
            users.reset_password(SYSTEM, args.name, password, db=db)
            print(f"账号 {args.name} 的密码已重置。")
        elif action == "unlock":
            lifted = users.unlock_user(SYSTEM, args.name, db=db)
            print(f"账号 {args.name} 的登录限制已解除。" if lifted else f"账号 {args.name} 没有登录限制，无需解除。")
        elif action == "disable":
            users.disable_user(SYSTEM, args.name, db=db)
            print(f"账号 {args.name} 已停用。")
    except users.UserError as exc:
        raise _user_error(exc) from exc
    return EXIT_OK


def _locked(exc) -> None:
    chinese, _, english = str(exc).partition(" / ")
    _err(chinese, english or "The database file is locked by another process.")


def _is_lock_conflict(exc: BaseException) -> bool:
    """A DuckDB error saying another process holds the file's lock, wherever it surfaced."""
    import duckdb

    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and "lock" in text and (
        "conflicting lock" in text or "could not set lock" in text
    )


COMMANDS = {
    "init": cmd_init,
    "demo": cmd_demo,
    "import": cmd_import,
    "template": cmd_template,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "user": cmd_user,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors: argparse prints them and exits 2
    args.db = getattr(args, "db", None)
    args.debug = getattr(args, "debug", False)

    from data.storage.db import DatabaseLockedError, resolve_path

    try:
        return COMMANDS[args.command](args)
    except CliError as exc:
        if args.debug:
            traceback.print_exc()
        _err(exc.chinese, exc.english)
        return exc.code
    except DatabaseLockedError as exc:
        if args.debug:
            traceback.print_exc()
        _locked(exc)
        return EXIT_LOCKED
    except KeyboardInterrupt:
        _err("已取消。", "Cancelled.")
        return 130
    except Exception as exc:  # anything unforeseen: still two lines, the traceback on --debug
        if args.debug:
            traceback.print_exc()
        english = getattr(exc, "english", None)
        if english and getattr(exc, "kind", None) == "space":  # BackupError: the disk is full
            _err(str(exc), english)
            return EXIT_REFUSED
        path = resolve_path(args.db)
        if _is_lock_conflict(exc):  # DuckDB's own lock, met after the open (at a commit, say)
            _locked(DatabaseLockedError(path))
            return EXIT_LOCKED
        from data.storage.db import classify_error

        unavailable = classify_error(path, exc)
        if unavailable is not None:  # damaged file, full disk: what to do, not the engine's text
            _err(unavailable.chinese, unavailable.english)
            return EXIT_REFUSED
        text = " ".join(str(exc).split())
        chinese, sep, english = text.partition(" / ")
        if sep:  # the data layer's bilingual messages: "中文 / English"
            _err(chinese, english)
        else:
            _err(
                f"命令执行失败：{text}",
                f"The command failed: {type(exc).__name__}: {text} (run again with --debug for details)",
            )
        return EXIT_REFUSED
