"""The 通报 and the 督办单 as Word documents: page setup, styles and fonts read back with
python-docx, and a LibreOffice conversion to PDF whose pages and text are checked."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from reports import docx_official as official

D = dt.date
TEXT = "\n".join([
    "关于2023年10月全县政务数据共享工作情况的通报",
    "",
    "一、总体进展",
    "截至2023年10月31日，全县参与考评的单位共47个，平均综合得分80.00分。",
    "二、下月工作要求",
    *[f"{i}. 第{i}项要求：各责任单位须按期完成分工任务，按月报送进展，逾期未完成的须说明原因并提出整改时限。"
      for i in range(1, 26)],
    "",
    "领导小组办公室（县大数据发展中心）",
    "2023年10月31日",
])
ITEMS = pl.DataFrame({
    "unit_id": [3, 3, 4], "unit": ["县政府办", "县政府办", "县委组织部"],
    "kind": ["红灯任务", "逾期申请环节", "红灯任务"],
    "item": ["任务2“明确工作职责”逾期未完成", "共享申请R3（县委办申请）逾期未答复", "任务6“编制目录”逾期未完成"],
    "deadline": [D(2023, 6, 10), D(2023, 10, 24), D(2023, 9, 30)],
    "days_overdue": [143, 5, 31], "day_kind": ["日", "工作日", "日"],
})


def _east_asia(run_or_style) -> str:
    return run_or_style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def _mm(length) -> float:
    return round(length / Mm(1), 1)


def _doc(payload: bytes):
    return Document(io.BytesIO(payload))


def test_bulletin_page_setup_grid_and_page_numbers():
    doc = _doc(official.bulletin_docx(TEXT, fonts="official"))
    section = doc.sections[0]
    assert (_mm(section.page_width), _mm(section.page_height)) == (210, 297)
    assert [_mm(m) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                              section.right_margin)] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"   # 28.95 pt: 22 lines
    normal = doc.styles["Normal"]
    assert normal.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert abs(normal.paragraph_format.line_spacing.pt - 28.95) < 0.01
    # 28 characters of 16 pt with −0.25 pt spacing fit the 156 mm line
    spacing = int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    assert 27 * (16 + spacing) < Mm(156).pt / 1 and 28 * (16 + spacing) <= Mm(156).pt
    footer = section.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")
    assert "PAGE" in footer._p.xml and footer.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert footer.runs[0].font.size == Pt(14) and _east_asia(footer.runs[0]) == "宋体"
    assert section.even_page_footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert doc.settings.odd_and_even_pages_header_footer


def test_bulletin_styles_and_official_fonts():
    doc = _doc(official.bulletin_docx(TEXT, fonts="official"))
    title, heading, body = doc.paragraphs[0], doc.paragraphs[1], doc.paragraphs[2]
    assert title.text == "关于2023年10月全县政务数据共享工作情况的通报"
    assert title.style.name == "Title" and title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22) and _east_asia(title.runs[0]) == "方正小标宋简体"
    assert heading.text == "一、总体进展" and _east_asia(heading.runs[0]) == "黑体"
    assert body.runs[0].font.size == Pt(16) and _east_asia(body.runs[0]) == "仿宋_GB2312"
    assert body.paragraph_format.first_line_indent == Pt(32)
    assert _east_asia(doc.styles["Normal"]) == "仿宋_GB2312"
    # the closing office and date are right-aligned
    assert [p.text for p in doc.paragraphs[-2:]] == ["领导小组办公室（县大数据发展中心）", "2023年10月31日"]
    assert doc.paragraphs[-1].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_missing_official_fonts_fall_back_to_installed_ones_and_say_so():
    installed = ("Noto Sans CJK SC", "Noto Serif CJK SC")
    assert official.substitute("仿宋_GB2312", installed) == "Noto Serif CJK SC"
    assert official.substitute("黑体", installed) == "Noto Sans CJK SC"
    assert official.substitute("仿宋_GB2312", ("仿宋_GB2312",)) is None
    report = official.font_report(installed)
    assert "本机未安装“仿宋_GB2312”，转换或打印时以“Noto Serif CJK SC”代替" in report[1]
    # auto: the document names the font that will actually be used on this machine
    doc = _doc(official.bulletin_docx(TEXT))
    expected = official.substitute("仿宋_GB2312") or "仿宋_GB2312"
    assert _east_asia(doc.paragraphs[2].runs[0]) == expected
    # official: the font table lists the substitute as the alternative name
    doc = _doc(official.bulletin_docx(TEXT, fonts="official"))
    table = next(p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml").blob.decode()
    assert 'w:name="仿宋_GB2312"' in table
    if official.substitute("仿宋_GB2312"):
        assert f'w:altName w:val="{official.substitute("仿宋_GB2312")}"' in table


def test_notices_one_section_per_unit_with_items_and_reply():
    doc = _doc(official.notices_docx(ITEMS, D(2023, 10, 31), D(2023, 11, 3), D(2023, 11, 17)))
    assert len(doc.sections) == 2
    texts = [p.text for p in doc.paragraphs]
    assert texts.count("督 办 单") == 2 and texts.count("回  执") == 2
    assert "县政府办：" in texts and "县委组织部：" in texts
    assert "要求完成日期：2023年11月17日" in texts
    table = doc.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["序号", "督办事项", "类别", "时限", "逾期"]
    assert rows[1] == ["1", "任务2“明确工作职责”逾期未完成", "红灯任务", "2023年6月10日", "143天"]
    assert rows[2][4] == "5个工作日" and len(rows) == 3
    assert doc.sections[1]._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    for section in doc.sections:
        assert [_mm(section.page_width), _mm(section.top_margin), _mm(section.left_margin)] == [210, 37, 28]


LIBREOFFICE = shutil.which("libreoffice") or "/usr/bin/libreoffice"


def _pdf_text(pdf: Path) -> tuple[int, str]:
    """(pages, text) with poppler's pdfinfo/pdftotext."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return pages, text


@pytest.mark.skipif(not Path(LIBREOFFICE).exists(), reason="LibreOffice (libreoffice-writer-nogui) is not installed")
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed")
def test_libreoffice_converts_both_to_pdf_with_the_text_and_page_count(tmp_path):
    (tmp_path / "bulletin.docx").write_bytes(official.bulletin_docx(TEXT))
    (tmp_path / "notices.docx").write_bytes(
        official.notices_docx(ITEMS, D(2023, 10, 31), D(2023, 11, 3), D(2023, 11, 17)))
    subprocess.run([LIBREOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(tmp_path / "bulletin.docx"), str(tmp_path / "notices.docx")],
                   check=True, capture_output=True, timeout=300)
    pages, text = _pdf_text(tmp_path / "bulletin.pdf")
    flat = "".join(text.split())
    # Page 1: the title, then 18 lines; pages 2 and 3 hold 22 lines each. The body is 2 headings,
    # 2 lines, 25 requirements of 2 lines (28 characters a line) and the signature (a blank line
    # and 2 lines): 57 lines -> 18 + 22 + 17 = 3 pages.
    assert pages == 3
    page2 = [line for line in text.split("\f")[1].splitlines() if line.strip()]
    assert len(page2) == 22 + 1                       # 22 lines and the page number
    assert page2[0].strip().startswith("8.") and page2[-1].strip() == "—2—"
    assert page2[1].strip() == "进展，逾期未完成的须说明原因并提出整改时限。"
    assert "关于2023年10月全县政务数据共享工作情况的通报" in flat and "一、总体进展" in flat
    assert "第25项要求" in flat and "—3—" in flat
    pages, text = _pdf_text(tmp_path / "notices.pdf")
    flat = "".join(text.split())
    assert pages == 4     # per unit: the notice and its reply sheet
    assert flat.count("督办单") >= 2 and "县委组织部" in flat and "143天" in flat and "回执" in flat
