"""What the shared sidebar warns about on every page: demo data, and an as-of year the working-day
calendar does not cover. Plain functions of the database (no scope: the same for every user)."""

from __future__ import annotations

import datetime as dt

from data.services.demo import demo_info
from data.storage.calendar import covered_years
from data.storage.db import Database

__all__ = ["calendar_covered", "demo_info"]


def calendar_covered(db: Database, as_of: dt.date) -> bool:
    """Whether the calendar holds the holidays of the as-of year."""
    return as_of.year in covered_years(db)
