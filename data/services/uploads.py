"""What the 数据导入 page calls: the upload limit, checking and importing an uploaded file, and the
unit submissions the office verifies (核验通过) or returns (退回). The rules, their permission
checks and audit entries are data/imports' (importer.py, batches.py); these only resolve the
database so that the page passes the scope and its arguments alone.
"""

from __future__ import annotations

import polars as pl

from data.imports.batches import PENDING, BatchError, list_batches, return_batch, verify_batch
from data.imports.importer import import_workbook
from data.imports.results import ImportResult, ValidationResult
from data.imports.spec import upload_limit_mb
from data.imports.template import template_bytes
from data.imports.validate import validate_upload
from data.services.reading import read, resolve_db
from data.storage.db import Database
from data.storage.scope import Scope

__all__ = ["PENDING", "BatchError", "check_upload", "import_template", "import_upload", "return_submission", "submissions",
           "upload_limit", "verify_submission"]


def import_template() -> bytes:
    """The blank import workbook the page offers for download."""
    return template_bytes()


@read
def upload_limit(scope: Scope, *, db: Database | None = None) -> float:
    """The largest file the page accepts, in MB."""
    return upload_limit_mb(db)


def check_upload(scope: Scope, data: bytes, file_name: str, *, db: Database | None = None) -> ValidationResult:
    """Check an uploaded file without writing anything (validate_upload keeps its own result cache
    per file, user and data version)."""
    return validate_upload(resolve_db(db), data, file_name, scope)


def import_upload(scope: Scope, data: bytes, file_name: str, validation: ValidationResult, *,
                  db: Database | None = None) -> ImportResult:
    """Write a checked file (the office), or keep it as a submission to verify (a 单位 user)."""
    return import_workbook(resolve_db(db), data, file_name, scope, validation=validation)


@read
def submissions(scope: Scope, status: str | None = None, *, db: Database | None = None) -> pl.DataFrame:
    """The unit submissions this scope may see (the office every unit's, a 单位 user its own), newest
    first, optionally only those with `status`."""
    return list_batches(db, scope, status)


def verify_submission(scope: Scope, batch_id: int, *, db: Database | None = None) -> ImportResult:
    return verify_batch(resolve_db(db), scope, batch_id)


def return_submission(scope: Scope, batch_id: int, reason: str, *, db: Database | None = None) -> None:
    return_batch(resolve_db(db), scope, batch_id, reason)
