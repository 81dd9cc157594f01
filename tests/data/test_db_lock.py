"""One writer, always: no second process can open the database while this one has it open,
whatever this process did with the file meanwhile (a backup, a restore, a handle closed by path).

The probes run in child processes, as the command line or a second dashboard would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from data.storage import backup as bk
from data.storage.connect import close_db, get_db
from data.storage.db import Database, lock_path

ROOT = Path(__file__).resolve().parents[2]

_RAW_DUCKDB = """
import duckdb, sys
try:
    duckdb.connect(sys.argv[1]).close()
    print("OPENED")
except duckdb.IOException as exc:
    print("LOCKED" if "lock" in str(exc).lower() else "ERROR " + str(exc))
"""

_DATABASE = """
import sys
from data.storage.db import Database, DatabaseLockedError
try:
    Database(sys.argv[1]).close()
    print("OPENED")
except DatabaseLockedError:
    print("LOCKED")
"""


def _child(script: str, path: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _my_locks(path: Path) -> list[str]:
    """This process's entries in /proc/locks for `path` ("POSIX" = DuckDB's, "FLOCK" = ours)."""
    st = os.stat(path)
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    out = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[4] == str(os.getpid()) and fields[5] == inode:
            out.append(fields[1])
    return out


def test_backup_keeps_duckdbs_lock_on_the_file(db, db_path, tmp_path):
    assert "POSIX" in _my_locks(db_path)
    bk.backup(db, tmp_path / "bk")
    bk.backup(db, tmp_path / "bk")
    assert "POSIX" in _my_locks(db_path), "the backup dropped DuckDB's lock on the database file"
    # a raw DuckDB opener (no lock file involved) is still refused by DuckDB itself
    assert _child(_RAW_DUCKDB, db_path) == "LOCKED"
    with db.transaction() as cur:  # and this process goes on writing to the same file
        cur.execute("UPDATE settings SET value = '4' WHERE key = 'praise_top_n'")
    assert db.scalar("SELECT value FROM settings WHERE key = 'praise_top_n'") == "4"


def test_the_lock_file_refuses_a_second_process_even_after_duckdbs_lock_is_gone(db, db_path):
    # Any descriptor of the file closed anywhere in the process drops DuckDB's POSIX lock ...
    with open(db_path, "rb") as handle:
        handle.read(16)
    assert "POSIX" not in _my_locks(db_path)
    # ... but not the flock on the lock file, which every process takes before opening
    assert "FLOCK" in _my_locks(lock_path(db_path))
    assert _child(_DATABASE, db_path) == "LOCKED"
    with open(lock_path(db_path), "rb") as handle:  # nor does closing a handle on the lock file
        handle.read()
    assert _child(_DATABASE, db_path) == "LOCKED"


def test_the_lock_is_released_when_the_database_is_closed(db_path):
    get_db(db_path)
    assert _child(_DATABASE, db_path) == "LOCKED"
    close_db(db_path)
    assert _child(_DATABASE, db_path) == "OPENED"


def test_a_second_database_object_in_the_process_shares_the_lock(db, db_path):
    other = Database(db_path)
    assert other.scalar("SELECT count(*) FROM units") == 46
    other.close()
    other.close()  # closing twice releases once
    assert "FLOCK" in _my_locks(lock_path(db_path))
    assert _child(_DATABASE, db_path) == "LOCKED"


def test_restore_inside_the_process_never_leaves_it_writing_to_the_replaced_file(db, db_path, tmp_path):
    path = bk.backup(db, tmp_path / "bk")
    old = db
    bk.restore(path, db_path)
    # the Database the pages held is closed: it cannot write to the replaced (deleted) file
    with pytest.raises(duckdb.ConnectionException):
        old.rows("SELECT 1")
    with pytest.raises(duckdb.ConnectionException):
        with old.transaction() as cur:
            cur.execute("UPDATE settings SET value = '9' WHERE key = 'praise_top_n'")
    new = get_db(db_path)
    with new.transaction() as cur:
        cur.execute("UPDATE settings SET value = '6' WHERE key = 'praise_top_n'")
    close_db(db_path)
    # what was written after the restore is in the file on disk
    assert Database(db_path).scalar("SELECT value FROM settings WHERE key = 'praise_top_n'") == "6"


def test_restore_refuses_while_another_process_holds_the_database(tmp_path):
    live = tmp_path / "live.duckdb"
    get_db(live)
    archive = bk.backup(get_db(live), tmp_path / "bk")
    close_db(live)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from data.storage.connect import get_db; get_db(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.read()", str(live)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        before = live.stat().st_mtime_ns, live.stat().st_ino
        from data.storage.db import DatabaseLockedError

        with pytest.raises(DatabaseLockedError):
            bk.restore(archive, live)
        assert (live.stat().st_mtime_ns, live.stat().st_ino) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_restore_refuses_while_another_connection_of_the_process_has_the_file(db, db_path, tmp_path):
    path = bk.backup(db, tmp_path / "bk")
    direct = Database(db_path)  # not through get_db: restore cannot close it for its owner
    try:
        before = db_path.stat().st_ino
        with pytest.raises(RuntimeError, match="其他连接"):
            bk.restore(path, db_path)
        assert db_path.stat().st_ino == before
        assert direct.scalar("SELECT count(*) FROM units") == 46
    finally:
        direct.close()
