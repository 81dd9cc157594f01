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
    assert "catalog_code" not in cols
    item = request_text(county, codes, ["catalog_code"])
    expected = county.rows("SELECT code, catalog_code FROM share_requests WHERE code IN (SELECT unnest(?::VARCHAR[]))",
                           [codes.to_list()])
    assert sorted(item.rows()) == sorted(expected)
    assert facts.requests.schema["review_result"] == pl.Enum(["通过", "退回"])
    assert facts.requests.schema["reply_result"] == pl.Enum(["同意", "部分同意", "不同意"])


def test_a_result_outside_the_known_values_is_loaded_as_it_is(county):
    """Results are enumerations of the values found: one the rules do not know stays readable."""
    with county.transaction() as cur:
        cur.execute("UPDATE share_requests SET reply_result = '待定' WHERE code = 'R1'")
    requests = load_facts(county).requests
    assert requests.filter(pl.col("code") == "R1")["reply_result"].cast(pl.String).to_list() == ["待定"]
    assert requests.schema["reply_result"] == pl.Enum(["同意", "部分同意", "不同意", "待定"])
    assert requests.filter(pl.col("reply_result") == "同意").height == 0  # R1 was the only one


def test_every_update_carries_the_key_of_its_item_whatever_the_codes(county):
    """The catalog is sorted by code in Polars, the updates numbered by code in DuckDB: the two
    orders must agree for codes mixing case, digits, punctuation and Chinese."""
    codes = ["b-1", "B-1", "目录-2", "目录-10", "a10", "a9", "Z", "_x", "é"]
    with county.transaction() as cur:
        cur.execute("DELETE FROM catalog_updates")
        for i, code in enumerate(codes):
            cur.execute("INSERT INTO catalog_items (code, name, unit_id, format, share_type, open_type, update_cycle, "
                        "published_on) SELECT ?, ?, unit_id, '库表', '无条件共享', '不予开放', '实时', DATE '2023-12-01' "
                        "FROM units LIMIT 1", [code, code])
            cur.execute("INSERT INTO catalog_updates VALUES (?, ?)", [code, dt.date(2024, 1, 1 + i)])
    facts = load_facts(county)
    joined = facts.catalog_updates.join(facts.catalog.select("item", "code"), on="item")
    stored = dict(county.rows("SELECT code, updated_on FROM catalog_updates"))
    assert dict(joined.select("code", "updated_on").rows()) == stored
    assert facts.catalog["code"].to_list() == sorted(facts.catalog["code"].to_list())


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as a list shows it: the loaded facts hold the review and reply results as
    enumerations (one byte a row), the text as strings; both read the same."""
    return frame.with_columns(pl.col(pl.Enum).cast(pl.String))


def assert_shown_equal(left: pl.DataFrame, right: pl.DataFrame, **kwargs) -> None:
    assert_frame_equal(shown(left), shown(right), **kwargs)


@pytest.mark.parametrize("day", [dt.date(2023, 10, 24), dt.date(2023, 10, 27), dt.date(2024, 3, 31)])
def test_figures_and_lists_equal_those_of_the_facts_holding_the_text(county, day):
    lean = load_facts(county)
    full = with_text(county, lean)
    if day == dt.date(2024, 3, 31):  # the comparisons below compare rows, not empty frames
        assert refusals(lean, day).height and m_supervision.authorisation_states(lean, day).height
        assert m_supervision.expiring_authorisations(lean, "2024-03").height
        assert m_supervision.authorisation_states(lean, day)["use_until"].is_not_null().any()
    assert_shown_equal(request_indicators(lean, day), request_indicators(full, day))
    assert_shown_equal(refusals(lean, day), refusals(full, day))
    assert_shown_equal(refusals(lean, day, text=False), refusals(full, day, text=False), check_column_order=False)
    lacking = ~pl.col("complete")
    assert_shown_equal(refusals(lean, day, where=lacking), refusals(full, day).filter(lacking))
    assert_shown_equal(m_supervision.authorisation_states(lean, day), m_supervision.authorisation_states(full, day))
    assert_shown_equal(m_supervision.authorisation_summary(lean, day),
                       m_supervision.authorisation_summary(full, day))
    month = f"{day:%Y-%m}"
    assert_shown_equal(m_supervision.expiring_authorisations(lean, month),
                       m_supervision.expiring_authorisations(full, month))
    # Computed for the authorisations ending within the window only: those of every one, filtered.
    end = m_supervision.month_end(month)
    assert_shown_equal(m_supervision.expiring_authorisations(full, month),
                       m_supervision.authorisation_states(full, end).filter(pl.col("state") == m_supervision.EXPIRING))
    for unit_id in lean.units["unit_id"].to_list():
        assert_shown_equal(m_trace.refusal_rows(lean, day, unit_id, "refusal_basis_rate"),
                           m_trace.refusal_rows(full, day, unit_id, "refusal_basis_rate"))


def duckdb_bytes(db) -> int:
    return int(db.scalar("SELECT sum(memory_usage_bytes) FROM duckdb_memory()"))


def test_loading_the_facts_gives_back_the_table_blocks_it_read(county):
    """DuckDB keeps the blocks of the tables the facts were read from; the engine works on its own
    copy, so the load evicts them (about 200 MB at province scale) and leaves the limit as it was."""
    with county.transaction() as cur:  # a table large enough to show: some 250 MB of text
        cur.execute("CREATE TABLE filler AS SELECT range AS i, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS s "
                    "FROM range(4000000)")
    county.checkpoint()
    limit = county.scalar("SELECT current_setting('memory_limit')")
    county.scalar("SELECT count(DISTINCT s) FROM filler")
    assert duckdb_bytes(county) > 64 * 2**20
    load_facts(county)
    assert duckdb_bytes(county) <= 64 * 2**20
    assert county.scalar("SELECT current_setting('memory_limit')") == limit


def test_a_refusal_list_reads_the_text_of_its_own_rows_only(county):
    """refusals(where=...) keeps its rows before reading their text: the codes asked for are the
    kept refusals' (the province has hundreds of thousands of refusals, a few of them lacking)."""
    first = county.scalar("SELECT min(code) FROM share_requests WHERE reply_result IN ('不同意', '部分同意')")
    with county.transaction() as cur:  # one refusal that gives both: the list must leave it out
        cur.execute("UPDATE share_requests SET legal_basis = '依据', refusal_reason = '理由' WHERE code = ?", [first])
    lean = load_facts(county)
    asked = []

    def reader(codes, columns):
        asked.extend(codes.to_list())
        return lean.request_text(codes, columns)

    day = dt.date(2024, 3, 31)
    counting = dataclasses.replace(lean, request_text=reader)
    lacking = refusals(counting, day, where=~pl.col("complete"))
    assert sorted(asked) == sorted(lacking["code"].to_list())
    assert 0 < lacking.height < refusals(lean, day, text=False).height
    assert first not in lacking["code"].to_list()


def test_a_result_changed_to_another_unknown_value_is_seen_as_a_change(county):
    """Enumerations hash by their place in the list of values: two loads whose lists differ are
    never compared place by place (metrics.changes sees different schemas: every day may differ)."""
    from metrics.changes import EVERY_DAY, earliest_change

    def load_with(value):
        with county.transaction() as cur:
            cur.execute("UPDATE share_requests SET reply_result = ? WHERE code = 'R1'", [value])
        return load_facts(county)

    before, after = load_with("待定"), load_with("暂缓")
    assert before.requests.hash_rows().to_list() == after.requests.hash_rows().to_list()  # why it matters
    assert earliest_change(before, after) == EVERY_DAY
