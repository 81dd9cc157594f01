"""The formula texts and setting-naming captions pages show, rendered from the settings and the SLA rule in
force at the as-of date (metrics.registry declares each formula once, as a template)."""

from __future__ import annotations

import datetime as dt

from data.services.reading import read
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import Scope
from metrics.registry import formula_settings, formula_text, settings_text


@read
def formula(scope: Scope, as_of: dt.date, code: str, *, db: Database | None = None) -> str:
    """The formula of the indicator or measure `code` as users read it at D."""
    return formula_text(code, formula_settings(load_facts(db), as_of))


@read
def with_settings(scope: Scope, as_of: dt.date, template: str, *, db: Database | None = None) -> str:
    """A caption naming settings by placeholder ({review_days}, {reply_days}, {warning_workdays},
    {catalog_deadline} …), filled with those in force at D."""
    return settings_text(template, formula_settings(load_facts(db), as_of))
