"""data.storage.facts loads the requests without their free text (flags instead) and reads the text
of the rows a list shows: every figure and every list is what the facts holding the text give."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.storage.facts import filled_sql, load_facts, request_text
from metrics import supervision as m_supervision
from metrics import trace as m_trace
from metrics.registry import filled
from metrics.requests import REQUEST_COLUMNS, refusals, request_indicators
from tests.pages import small_county as sc

TRICKY = [None, "", " ", "  \t\n", "\u3000", "\u3000\u00a0 ", "\u2028", "\u200b", "依据", " 理由 ", "\u3000x\u3000",
          "\u0085", "\u202f\u205f", "a"]


@pytest.fixture
def county(db):
    sc.fill(db)
    # 使用期限至 on the authorisation R1 (同意; valid at the first dates below, 即将到期 at the
    # last) and on the refusal R2 (never an authorisation).
    with db.transaction() as cur:
        cur.execute("UPDATE share_requests SET use_until = CASE code WHEN 'R1' THEN DATE '2024-04-15' "
                    "WHEN 'R2' THEN DATE '2023-10-30' END")
    return db


def with_text(db, facts):
    """The same facts holding the request text, as loaded before the flags."""
    full = db.frame(f"SELECT {', '.join(REQUEST_COLUMNS)} FROM share_requests")
    use_until = db.frame("SELECT code, use_until FROM share_requests "
                         "WHERE reply_result IN ('同意', '部分同意') AND use_until IS NOT NULL")
    return dataclasses.replace(facts, requests=full, use_until=use_until, request_text=None)


def test_the_sql_flag_is_filled_for_every_kind_of_white_space(db):
    frame = pl.DataFrame({"t": TRICKY}, schema={"t": pl.String})
    expected = frame.select(filled("t"))["t"].to_list()
    got = db.frame(f"SELECT {filled_sql('t')} AS f FROM (SELECT unnest(?::VARCHAR[]) AS t)", [TRICKY])
    assert got["f"].to_list() == expected


def test_loaded_requests_hold_flags_not_text(county):
    facts = load_facts(county)
    cols = facts.requests.columns
    assert not {"purpose", "legal_basis", "refusal_reason"} & set(cols)
    assert {"has_legal_basis", "has_refusal_reason"} <= set(cols)
    codes = facts.requests["code"].head(3)
    text = request_text(county, codes, ["purpose", "legal_basis"])
    assert sorted(text["code"].to_list()) == sorted(codes.to_list())
    assert text.columns == ["code", "purpose", "legal_basis"]


@pytest.mark.parametrize("day", [dt.date(2023, 10, 24), dt.date(2023, 10, 27), dt.date(2024, 3, 31)])
def test_figures_and_lists_equal_those_of_the_facts_holding_the_text(county, day):
    lean = load_facts(county)
    full = with_text(county, lean)
    if day == dt.date(2024, 3, 31):  # the comparisons below compare rows, not empty frames
        assert refusals(lean, day).height and m_supervision.authorisation_states(lean, day).height
        assert m_supervision.expiring_authorisations(lean, "2024-03").height
        assert m_supervision.authorisation_states(lean, day)["use_until"].is_not_null().any()
    assert_frame_equal(request_indicators(lean, day), request_indicators(full, day))
    assert_frame_equal(refusals(lean, day), refusals(full, day))
    assert_frame_equal(refusals(lean, day, text=False), refusals(full, day, text=False), check_column_order=False)
    assert_frame_equal(m_supervision.authorisation_states(lean, day), m_supervision.authorisation_states(full, day))
    assert_frame_equal(m_supervision.authorisation_summary(lean, day),
                       m_supervision.authorisation_summary(full, day))
    month = f"{day:%Y-%m}"
    assert_frame_equal(m_supervision.expiring_authorisations(lean, month),
                       m_supervision.expiring_authorisations(full, month))
    # Computed for the authorisations ending within the window only: those of every one, filtered.
    end = m_supervision.month_end(month)
    assert_frame_equal(m_supervision.expiring_authorisations(full, month),
                       m_supervision.authorisation_states(full, end).filter(pl.col("state") == m_supervision.EXPIRING))
    for unit_id in lean.units["unit_id"].to_list():
        assert_frame_equal(m_trace.refusal_rows(lean, day, unit_id, "refusal_basis_rate"),
                           m_trace.refusal_rows(full, day, unit_id, "refusal_basis_rate"))
