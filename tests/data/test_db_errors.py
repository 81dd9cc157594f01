"""A damaged file or a full disk is named as such (with what to do), other errors are left alone."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pytest

from data.storage.connect import get_db
from data.storage.db import Database, DatabaseUnavailableError, classify_error, holds_lock

P = Path("/srv/dashboard/data/dashboard.duckdb")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (duckdb.IOException('IO Error: Could not write file "x.wal": No space left on device'), "disk_full"),
        (duckdb.IOException('IO Error: The file "x" exists, but it is not a valid DuckDB database file!'), "damaged"),
        (duckdb.IOException('IO Error: Could not read enough bytes from file "x"'), "damaged"),
        (duckdb.Error("Corrupt database file: computed checksum 5381 does not match stored checksum 0"), "damaged"),
        (duckdb.FatalException("FATAL Error: database has been invalidated because of a previous fatal error"), "io"),
        (OSError(errno.ENOENT, "No such file or directory: 'template.xlsx'"), None),
        (duckdb.ConversionException("Conversion Error: Could not convert string 'x' to INT32"), None),
        (duckdb.IOException('IO Error: Could not set lock on file "x": Conflicting lock is held'), None),
        (ValueError("anything else"), None),
    ],
)
def test_classify_error(exc, kind):
    found = classify_error(P, exc)
    assert (found.kind if found else None) == kind
    if found is not None:
        assert "/srv/dashboard/data" in found.chinese and any("\u4e00" <= c <= "\u9fff" for c in found.chinese)


def test_damaged_message_names_the_restore_command_and_disk_full_the_space():
    assert "bash scripts/cli data restore" in DatabaseUnavailableError(P, "damaged").chinese
    assert "清理磁盘空间" in DatabaseUnavailableError(P, "disk_full").chinese


def test_opening_a_damaged_file_says_so_and_keeps_no_lock(tmp_path):
    path = tmp_path / "bad.duckdb"
    path.write_bytes(b"not a database" * 500)
    with pytest.raises(DatabaseUnavailableError) as info:
        Database(path)
    assert info.value.kind == "damaged"
    assert not holds_lock(path)  # a restore (in this process or another) can take the file
    with pytest.raises(DatabaseUnavailableError):
        get_db(path)
    assert not holds_lock(path)
