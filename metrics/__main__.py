"""`python -m metrics scorecard|review|publish|unpublish|packet`: the scorecard CSV / workbook, the
monthly review workbook (frozen figures plus a 差异 sheet for a published month), publishing or
unpublishing a finished month as the office (管理员) does on 月度考评, audited, and the monthly packet
(review workbook, 通报, 督办单, scorecard)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from metrics.cn import cn_date


class CliError(Exception):
    """An error the user can act on: (Chinese, English)."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"日期格式应为 YYYY-MM-DD：{text}", f"date must be YYYY-MM-DD: {text}") from exc


def _month(text: str) -> str:
    try:
        year, month = (int(x) for x in text.split("-"))
        dt.date(year, month, 1)
    except ValueError as exc:
        raise CliError(f"月份格式应为 YYYY-MM：{text}", f"month must be YYYY-MM: {text}") from exc
    return f"{year:04d}-{month:02d}"


def _facts(db_path: str | None):
    from data.storage.connect import get_db
    from data.storage.facts import load_facts

    return load_facts(get_db(db_path))


def _write(out: str, payload: bytes | str) -> None:
    path = Path(out)
    try:
        if isinstance(payload, str):
            path.write_text(payload, encoding="utf-8")
        else:
            path.write_bytes(payload)
    except OSError as exc:
        raise CliError(f"无法写入文件 {out}：{exc.strerror}", f"cannot write {out}: {exc.strerror}") from exc


def cmd_scorecard(args: argparse.Namespace) -> int:
    from metrics.scorecard import scorecard
    from reports.csv_export import scorecard_csv

    as_of = _date(args.as_of)
    out = args.out
    if out and Path(out).suffix.lower() not in (".csv", ".xlsx"):
        raise CliError(f"输出文件须为 .csv 或 .xlsx：{out}", f"--out must end in .csv or .xlsx: {out}")
    facts = _facts(args.db)
    frame = scorecard(facts, as_of)
    if out and out.lower().endswith(".xlsx"):
        from metrics.points import unit_points
        from reports.excel import scorecard_workbook

        _write(out, scorecard_workbook(frame, as_of, points=unit_points(facts, as_of)))
    elif out:
        _write(out, scorecard_csv(frame))
    else:
        sys.stdout.write(scorecard_csv(frame))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    month = _month(args.month)
    if Path(args.out).suffix.lower() != ".xlsx":
        raise CliError(f"输出文件须为 .xlsx：{args.out}", f"--out must end in .xlsx: {args.out}")
    from data.services.publish import review_workbook_for
    from data.storage.connect import get_db

    _write(args.out, review_workbook_for(get_db(args.db), month))
    return 0


def _office():
    """The console user acts as the office (管理员), as on the 月度考评 page; audited under this name."""
    import getpass

    from data.storage.scope import Scope

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Scope(username=f"cli:{who}", role="管理员", display_name="命令行")


def cmd_publish(args: argparse.Namespace) -> int:
    from data.services.months import PublishError
    from data.services.publish import publish_month
    from data.storage.connect import get_db

    month = _month(args.month)
    try:
        units = publish_month(get_db(args.db), _office(), month)
    except PublishError as exc:
        raise CliError(str(exc), exc.en) from exc
    print(f"已发布 {month}：{units} 个单位 / published {month}: {units} units")
    return 0


def cmd_unpublish(args: argparse.Namespace) -> int:
    from data.services.months import PublishError
    from data.services.publish import unpublish_month
    from data.storage.connect import get_db

    month = _month(args.month)
    reason = " ".join(args.reason.split())
    if not reason:
        raise CliError("须写明撤销原因（--reason）。", "--reason must not be empty.")
    try:
        unpublish_month(get_db(args.db), _office(), month, reason)
    except PublishError as exc:
        raise CliError(str(exc), exc.en) from exc
    print(f"已撤销 {month} 的发布 / unpublished {month}")
    return 0


# -- the monthly packet ------------------------------------------------------------------------------

def _bulletin_text(db, month: str) -> str:
    """The 通报 of the packet: the published text, else the latest saved draft, else the generated one
    (the same text the 月度考评 page shows)."""
    from data.services.bulletin_store import current_bulletin

    return current_bulletin(db, month)


def _packet_scorecard(db, facts, as_of: dt.date):
    """The scorecard of the month's last day: frozen for a published month, computed otherwise."""
    from data.services.months import scorecard_at
    from metrics.scorecard import scorecard

    return scorecard_at(db, as_of, lambda: scorecard(facts, as_of))


def cmd_packet(args: argparse.Namespace) -> int:
    """Write the month's review workbook, 通报 (.docx), one 督办单 (.docx) per unit needing one and
    the scorecard workbook of the month's last day into --out; print what was written."""
    import polars as pl

    from data.services.publish import review_workbook_for
    from data.services.supervision import notice_list
    from data.storage.connect import get_db
    from data.storage.facts import load_facts
    from data.storage.scope import SYSTEM
    from metrics.supervision import month_end, requested_completion
    from reports.docx_official import bulletin_docx, font_report, notices_docx
    from reports.excel import scorecard_workbook

    month = _month(args.month)
    issued = _date(args.issued) if args.issued else dt.date.today()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"无法创建目录 {out}：{exc.strerror}", f"cannot create {out}: {exc.strerror}") from exc
    db = get_db(args.db)
    facts = load_facts(db)
    as_of = month_end(month)
    text = _bulletin_text(db, month)
    written = []

    def write(name: str, payload: bytes) -> None:
        _write(str(out / name), payload)
        written.append(name)

    write(f"月度考评_{month}.xlsx", review_workbook_for(db, month, bulletin=text))
    write(f"通报_{month}.docx", bulletin_docx(text))
    items = notice_list(SYSTEM, as_of, db=db)
    reply_by = requested_completion(facts, issued)
    units = items.select("unit_id", "unit").unique(maintain_order=True).rows()
    for n, (unit_id, unit) in enumerate(units, start=1):
        safe = "".join("_" if ch in '/\\:*?"<>|' else ch for ch in unit)
        write(f"督办单_{month}_{n:02d}_{safe}.docx",
              notices_docx(items.filter(pl.col("unit_id") == unit_id), as_of, issued, reply_by,
                           prefix=f"督〔{issued.year}〕{issued:%m%d}-{n:02d}"))
    write(f"记分卡_{as_of.isoformat()}.xlsx", scorecard_workbook(_packet_scorecard(db, facts, as_of), as_of))
    for name in written:
        print(out / name)
    print(f"共{len(written)}个文件，其中督办单{len(units)}份（截至{cn_date(as_of)}）。")
    for note in font_report():
        print(f"提示：{note}", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m metrics", description="考评计算 / KPI engine")
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, run, *options: tuple[str, bool, str]) -> None:
        """A subcommand: its own options (flag, required, help), then --db and --debug."""
        p = sub.add_parser(name, help=help_text)
        for flag, required, text in options:
            p.add_argument(flag, required=required, help=text)
        p.set_defaults(run=run)
        p.add_argument("--db", help="数据库文件路径（缺省为 $DASHBOARD_DB 或 data/dashboard.duckdb）")
        p.add_argument("--debug", action="store_true", help="出错时显示完整的调用栈")

    month = ("--month", True, "考评月份 YYYY-MM")
    command("scorecard", "各单位记分卡 / the scorecard of every unit", cmd_scorecard,
            ("--as-of", True, "考评日期 YYYY-MM-DD"), ("--out", False, "输出文件 .csv 或 .xlsx（缺省输出 CSV 到标准输出）"))
    command("review", "月度考评工作簿 / the monthly review workbook", cmd_review, month, ("--out", True, "输出文件 .xlsx"))
    command("publish", "发布已结束月份的考评结果和通报 / freeze a finished month's results", cmd_publish, month)
    command("unpublish", "撤销月份的发布 / undo a month's publication", cmd_unpublish,
            month, ("--reason", True, "撤销原因（记入操作日志）"))
    command("packet", "月度材料包 / the monthly packet (review, 通报, 督办单, scorecard)", cmd_packet,
            month, ("--out", True, "输出目录（不存在则创建）"), ("--issued", False, "督办单发文日期 YYYY-MM-DD（缺省为今天）"))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CliError as exc:
        if args.debug:
            raise
        print(f"错误：{exc.zh}", file=sys.stderr)
        print(f"Error: {exc.en}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if args.debug:
            raise
        from data.storage.db import DatabaseLockedError

        if isinstance(exc, DatabaseLockedError):  # the dashboard holds the file: exit 3, as data's CLI
            zh, _, en = str(exc).partition(" / ")
            print(f"错误：{zh}", file=sys.stderr)
            print(f"Error: {en}", file=sys.stderr)
            return 3
        message = " ".join(str(exc).split())
        zh, _, en = message.partition(" / ")
        print(f"错误：{zh}", file=sys.stderr)
        print(f"Error: {en or type(exc).__name__ + ': ' + message} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
