"""`python -m metrics scorecard|review|publish|unpublish`: the scorecard CSV / workbook, the monthly
review workbook (frozen figures plus a 差异 sheet for a published month), and publishing or
unpublishing a finished month as the office (管理员) does on 月度考评, audited."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


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
    from data.db import get_db
    from data.facts import load_facts

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
    from metrics.scorecard import scorecard, scorecard_csv

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
    from data.db import get_db
    from data.publish import review_workbook_for

    _write(args.out, review_workbook_for(get_db(args.db), month))
    return 0


def _office():
    """The console user acts as the office (管理员), as on the 月度考评 page; audited under this name."""
    import getpass

    from data.scope import Scope

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Scope(username=f"cli:{who}", role="管理员", display_name="命令行")


def cmd_publish(args: argparse.Namespace) -> int:
    from data.db import get_db
    from data.publish import PublishError, publish_month

    month = _month(args.month)
    try:
        units = publish_month(get_db(args.db), _office(), month)
    except PublishError as exc:
        raise CliError(str(exc), exc.en) from exc
    print(f"已发布 {month}：{units} 个单位 / published {month}: {units} units")
    return 0


def cmd_unpublish(args: argparse.Namespace) -> int:
    from data.db import get_db
    from data.publish import PublishError, unpublish_month

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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m metrics", description="考评计算 / KPI engine")
    sub = top.add_subparsers(dest="command", required=True)
    sc = sub.add_parser("scorecard", help="各单位记分卡 / the scorecard of every unit")
    sc.add_argument("--as-of", required=True, help="考评日期 YYYY-MM-DD")
    sc.add_argument("--out", help="输出文件 .csv 或 .xlsx（缺省输出 CSV 到标准输出）")
    sc.set_defaults(run=cmd_scorecard)
    rv = sub.add_parser("review", help="月度考评工作簿 / the monthly review workbook")
    rv.add_argument("--month", required=True, help="考评月份 YYYY-MM")
    rv.add_argument("--out", required=True, help="输出文件 .xlsx")
    rv.set_defaults(run=cmd_review)
    pb = sub.add_parser("publish", help="发布已结束月份的考评结果和通报 / freeze a finished month's results")
    pb.add_argument("--month", required=True, help="考评月份 YYYY-MM")
    pb.set_defaults(run=cmd_publish)
    up = sub.add_parser("unpublish", help="撤销月份的发布 / undo a month's publication")
    up.add_argument("--month", required=True, help="考评月份 YYYY-MM")
    up.add_argument("--reason", required=True, help="撤销原因（记入操作日志）")
    up.set_defaults(run=cmd_unpublish)
    for p in (sc, rv, pb, up):
        p.add_argument("--db", help="数据库文件路径（缺省为 $DASHBOARD_DB 或 data/dashboard.duckdb）")
        p.add_argument("--debug", action="store_true", help="出错时显示完整的调用栈")
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
        message = " ".join(str(exc).split())
        zh, _, en = message.partition(" / ")
        print(f"错误：{zh}", file=sys.stderr)
        print(f"Error: {en or type(exc).__name__ + ': ' + message} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
