"""Workbook/CSV import, the entry: check the whole file first, then write everything or nothing.

The format is ../shared/design/import-format.md; docs/import.md records every decision the
contract left open. The work is done below this module, each layer importing only the ones under
it: spec.py (the contract as data, ownership, limits) <- cells.py / results.py <- read.py (files,
sheets, headers) <- checks.py (one checker per sheet) <- validate.py (`validate_workbook`,
`validate_upload`) <- write.py (`write_validated`: backup, one transaction, import_log, audit) <-
batches.py (a 单位 user's submission) <- this module (`import_workbook`, `run_import_command`).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path

from data.imports.batches import submit_batch
from data.imports.read import read_bytes
from data.imports.results import ImportResult, ValidationResult
from data.imports.spec import import_limits
from data.imports.validate import validate_workbook
from data.imports.write import write_validated
from data.storage.db import Database
from data.storage.scope import SYSTEM, Scope


def import_workbook(
    db: Database,
    data: str | Path | bytes,
    file_name: str | None = None,
    scope: Scope | None = None,
    *,
    today: dt.date | None = None,
    validation: ValidationResult | None = None,
) -> ImportResult:
    """Validate, and when there is no error: the office's import is backed up and written in one
    transaction; a 单位 user's import is kept as a submission (import_batches, 待核验) and written
    only when the office verifies it (data.imports.batches.verify_batch)."""
    scope = scope or SYSTEM
    scope.require_write()
    result = validation or validate_workbook(db, data, file_name, scope, today=today)
    out = ImportResult(result)
    if not result.ok:
        return out
    if not scope.is_admin:
        content = read_bytes(data, import_limits(db).upload_mb)
        out.batch_id = submit_batch(db, scope, result, content)
        return out
    return write_validated(db, result, scope, submitter=scope.username)


# -- command line -----------------------------------------------------------------------------
def run_import_command(db: Database, paths: Iterable[str | Path], scope: Scope | None = None,
                       *, out=None, err=None) -> int:
    """`python -m data import FILE...`: 0 imported, 1 validation errors (nothing written),
    2 a file could not be read (nothing written). Every file is validated before any is written."""
    out, err = out or sys.stdout, err or sys.stderr
    scope = scope or SYSTEM
    paths = list(paths)
    results = [validate_workbook(db, p, Path(p).name, scope) for p in paths]
    for res in results:
        for msg in res.warning_messages():
            print(f"{res.file_name} 提示：{msg}", file=out)
    fatal = [r for r in results if r.fatal]
    bad = [r for r in results if not r.ok and not r.fatal]
    if fatal or bad:
        for res in fatal:
            print(f"{res.file_name}：{res.fatal}", file=err)
        for res in bad:
            for msg in res.error_messages():
                print(f"{res.file_name} 错误：{msg}", file=err)
        total = sum(r.errors.height for r in bad)
        print(f"未导入任何数据：{len(fatal)} 个文件无法读取，{total} 处错误。 / Nothing imported: "
              f"{len(fatal)} unreadable file(s), {total} validation error(s).", file=err)
        return 2 if fatal else 1
    for res, path in zip(results, paths, strict=False):
        imported = import_workbook(db, path, res.file_name, scope, validation=res)
        print(f"{res.file_name} 已导入：", file=out)
        for line in imported.summary_lines():
            print(f"  {line}", file=out)
    return 0
