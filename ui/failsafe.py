"""What a visitor sees when something fails: a Chinese page that says what to do, never a traceback.

`app.py` runs everything (opening the database, the login gate, the page) inside `guard()`. A
read refusing the user's scope (PermissionDenied) shows its Chinese message and the page stops. A
damaged or truncated database file, a full disk or an I/O failure gets a page naming the remedy
(the exact restore command with the newest backup, or freeing disk space); any other unexpected
exception gets a short Chinese apology with a reference number, and the traceback goes only to the
server's log under that number. `.streamlit/config.toml` sets `client.showErrorDetails = "none"`,
and `install()` routes what Streamlit itself would report (an exception in a widget callback,
which runs before app.py) to the same Chinese message.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from data.storage.connect import close_db
from data.storage.db import DEFAULT_PATH, DatabaseUnavailableError, classify_error, resolve_path
from data.storage.scope import PermissionDenied

LOG = logging.getLogger("dashboard.failsafe")
LOW_SPACE = 64 * 1024**2  # below this, an I/O failure is reported as a full disk


def diagnose(exc: BaseException, path: Path | None = None) -> DatabaseUnavailableError | None:
    """A DatabaseUnavailableError when `exc` means the database file is damaged, the disk full or
    the file unreadable; None for any other failure."""
    path = path or resolve_path()
    if getattr(exc, "kind", None) == "space":  # data.storage.backup.BackupError: the backup before a write
        return DatabaseUnavailableError(path, "disk_full")
    found = classify_error(path, exc)
    if found is None:
        return None
    if found.kind == "io" and _low_space(path):
        return DatabaseUnavailableError(path, "disk_full")
    return found


def _low_space(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE
    except OSError:
        return False


def _newest_backup(path: Path) -> Path | None:
    folder = path.parent / "backups"
    try:
        archives = sorted(folder.glob(f"{path.stem}-*.zip"), key=lambda p: p.name)
    except OSError:
        return None
    return archives[-1] if archives else None


def _shown(path: Path) -> str:
    """`path` relative to the working directory (where the operator runs the command), if inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def restore_command(path: Path) -> str:
    newest = _newest_backup(path)
    archive = _shown(newest) if newest else f"{_shown(path.parent / 'backups')}/{path.stem}-<日期时间>.zip"
    # The operator's shell may not have the server's $DASHBOARD_DB: name any other file explicitly.
    db = "" if path == DEFAULT_PATH else f" --db {_shown(path)}"
    return f"bash scripts/cli data restore {archive}{db}"


def show_unavailable(problem: DatabaseUnavailableError) -> None:
    """The page for a database that cannot be used, with what the office's operator must do."""
    path = problem.path
    st.title("看板暂时无法使用")
    if problem.kind == "damaged":
        st.error("数据库文件已损坏（可能是磁盘故障或异常断电造成的），看板无法读取数据。")
        newest = _newest_backup(path)
        st.markdown(
            "请系统管理员按以下步骤处理：\n\n"
            "1. 停止看板服务；\n"
            "2. 在看板程序目录下执行以下命令，用最近的备份恢复数据库"
            + (f"（最近的备份：{newest.name}）" if newest else "（备份位于数据库旁的 backups 文件夹）")
            + "：",
        )
        st.code(restore_command(path), language="bash")
        st.markdown("3. 重新启动看板。恢复后，备份时间之后导入或填报的数据需要重新导入或填报。")
    elif problem.kind == "disk_full":
        st.error("服务器磁盘空间已满，看板无法写入数据，刚才的操作没有保存。")
        st.markdown(
            "请系统管理员清理服务器磁盘空间（例如删除 "
            f"{_shown(path.parent / 'backups')} 中较早的备份，或其他不需要的大文件），"
            "然后刷新本页面；如仍无法使用，请重新启动看板。"
        )
    else:
        st.error("看板无法读写数据库文件，刚才的操作没有保存。")
        st.markdown(
            "请系统管理员检查服务器磁盘和数据库文件的权限，然后刷新本页面；如仍无法使用，请重新启动看板。"
            "如数据库文件已损坏，请用以下命令从最近的备份恢复（先停止看板）："
        )
        st.code(restore_command(path), language="bash")


def show_unexpected(exc: BaseException) -> None:
    """A Chinese apology with a reference; the traceback goes to the server log only."""
    ref = uuid.uuid4().hex[:8]
    LOG.error("unexpected error on a page (reference %s)", ref, exc_info=exc)
    st.error(
        f"页面出现意外错误，刚才的操作没有完成（错误编号 {ref}）。请刷新页面后重试；"
        "如仍然出错，请把错误编号告诉领导小组办公室。"
    )


def handle(exc: BaseException) -> None:
    """Show the right Chinese page for `exc` (anything but Streamlit's own control flow)."""
    if isinstance(exc, PermissionDenied):
        # A read or write refusing the scope, however the page was reached or what it passed: its
        # Chinese refusal, nothing else (data.services.reading).
        st.error(str(exc))
        return
    problem = diagnose(exc)
    if problem is None:
        show_unexpected(exc)
        return
    LOG.error("database unavailable (%s): %s", problem.kind, exc)
    if "invalidated" in str(exc).lower() or problem.kind != "damaged":
        # DuckDB refuses every statement after a fatal write error: drop the connection so the
        # next request opens the file afresh (once space is freed, a reload is enough).
        try:
            close_db(problem.path)
        except Exception:  # noqa: BLE001  closing a broken connection may fail too
            LOG.exception("closing the database after a failure")
    show_unavailable(problem)


@contextmanager
def guard() -> Iterator[None]:
    """Run the block; an exception becomes a Chinese page and the run stops (st.stop and st.rerun,
    which are not Exceptions, pass through)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001  the last line of defence: the visitor sees Chinese
        handle(exc)
        st.stop()


def _running_the_app() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    main = getattr(ctx, "main_script_path", "") or ""
    return Path(main).name == "app.py"


def install() -> None:
    """Send exceptions Streamlit catches itself (widget callbacks run before app.py) to `handle`."""
    from streamlit import error_util

    original = error_util.show_uncaught_app_exception
    if getattr(original, "_dashboard_failsafe", False):
        return

    def show(ex: BaseException) -> None:
        if not _running_the_app():  # a single page run on its own (tests): Streamlit's own display
            original(ex)
            return
        try:
            handle(ex)
        except Exception:  # noqa: BLE001  displaying the error must not fail the session
            LOG.exception("failsafe display failed")

    show._dashboard_failsafe = True  # type: ignore[attr-defined]
    error_util.show_uncaught_app_exception = show
