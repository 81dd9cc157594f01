"""The office's paperwork as Word documents in the official-document layout (GB/T 9704-2012):
the monthly 通报 (from its text) and the 督办单 (supervision notice) of each unit.

Layout: A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; title in 方正小标宋简体 二号
(22 pt) centred; body in 仿宋_GB2312 三号 (16 pt), 22 lines of 28 characters per page (a line grid
with a pitch of 28.95 pt, exact line spacing of the same, and −0.25 pt character spacing);
first-level headings in 黑体; page numbers "— 1 —" in 宋体 四号 (14 pt), odd pages on the right
and even pages on the left, one character in from the edge.

Fonts (fonts="auto", the default): the document names each official font installed on this
machine and, for one that is missing, the installed CJK font that replaces it (Noto Serif CJK SC
for the 宋/仿宋 faces, Noto Sans CJK SC for 黑体, from Debian's fonts-noto-cjk); `font_report()`
says which replacements apply, and the packet command and the page print it. With
fonts="official" the document names the official fonts whatever is installed, and its font table
lists the installed replacement of each as w:altName (Word honours it; LibreOffice substitutes
through fontconfig and ignores it). See docs/supervision.md.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

import polars as pl
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from metrics.cn import cn_date

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TITLE_SIZE, BODY_SIZE, PAGE_NUMBER_SIZE = Pt(22), Pt(16), Pt(14)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
PAGE_MM = (210, 297)
# Text area 225 mm (637.8 pt) high: 22 lines of 28.95 pt (579 twips, the usual official template
# value, leaving 0.9 pt spare); 156 mm wide / 28 characters = 15.79 pt per character.
LINE_PITCH_PT = 28.95
SQUEEZE_TWIPS = -5   # −0.25 pt between characters: 28 × 15.75 pt ≤ 442.2 pt
# Installed fonts tried, in order, when an official one is missing (Debian's fonts-noto-cjk).
SERIF_FALLBACKS = ("Noto Serif CJK SC", "Source Han Serif SC", "Noto Sans CJK SC", "Source Han Sans SC")
SANS_FALLBACKS = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Serif CJK SC")
OFFICIAL = {TITLE_FONT: SERIF_FALLBACKS, BODY_FONT: SERIF_FALLBACKS, HEADING_FONT: SANS_FALLBACKS,
            PAGE_NUMBER_FONT: SERIF_FALLBACKS, "楷体_GB2312": SERIF_FALLBACKS}

_HEADING1 = re.compile(r"^[一二三四五六七八九十]+、")
_DATE_LINE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")


@lru_cache(maxsize=1)
def installed_cjk_fonts() -> tuple[str, ...]:
    """Family names of the Chinese fonts fontconfig knows (empty when fc-list is absent)."""
    if not shutil.which("fc-list"):
        return ()
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    names = {part.strip() for line in out.splitlines() for part in line.split(",") if part.strip()}
    return tuple(sorted(names))


def substitute(font: str, installed: tuple[str, ...] | None = None) -> str | None:
    """The installed font used instead of `font`, or None when `font` itself is installed."""
    installed = installed_cjk_fonts() if installed is None else installed
    if font in installed:
        return None
    for candidate in OFFICIAL.get(font, SERIF_FALLBACKS):
        if candidate in installed:
            return candidate
    return installed[0] if installed else None


def font_report(installed: tuple[str, ...] | None = None) -> list[str]:
    """One Chinese sentence per official font missing here, naming its substitute."""
    out = []
    for font in (TITLE_FONT, BODY_FONT, HEADING_FONT, PAGE_NUMBER_FONT):
        sub = substitute(font, installed)
        if sub:
            out.append(f"本机未安装“{font}”，转换或打印时以“{sub}”代替；在装有该字体的电脑上打开即为标准字体。")
    return out


@dataclass
class _Fonts:
    names: dict[str, str]    # official name -> name written into the document


def _fonts(mode: str) -> _Fonts:
    if mode not in ("official", "auto"):
        raise ValueError("fonts must be 'auto' or 'official'")
    if mode == "official":
        return _Fonts({f: f for f in OFFICIAL})
    return _Fonts({f: substitute(f) or f for f in OFFICIAL})


def _set_fonts(rpr, east_asia: str) -> None:
    """The East Asian font and the Latin font of a run's or a style's properties (w:rFonts)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _set_run_font(run, east_asia: str, size: Pt, bold: bool = False) -> None:
    run.font.size = size
    run.font.bold = bold
    run.font.name = LATIN_FONT
    _set_fonts(run._element.get_or_add_rPr(), east_asia)


def _style_font(style, east_asia: str, size: Pt) -> None:
    style.font.size = size
    style.font.name = LATIN_FONT
    _set_fonts(style.element.get_or_add_rPr(), east_asia)


def _squeeze(style) -> None:
    """Character spacing of −0.25 pt: 28 characters of 16 pt fit the 156 mm line."""
    rpr = style.element.get_or_add_rPr()
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(SQUEEZE_TWIPS))
    size = rpr.find(qn("w:sz"))
    if size is not None:
        size.addprevious(spacing)
    else:
        rpr.append(spacing)


def _no_grid_snap(paragraph) -> None:
    """Titles, tables and page numbers are not snapped to the character grid."""
    ppr = paragraph._p.get_or_add_pPr()
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    ppr.insert(0, snap) if ppr.find(qn("w:pStyle")) is None else ppr.find(qn("w:pStyle")).addnext(snap)


def _doc_grid(section) -> None:
    """<w:docGrid w:type="lines" w:linePitch="579"/>: 22 lines per page. The 28 characters per
    line come from the −0.25 pt character spacing (28 × 15.75 pt fit the 442.2 pt line), not from
    a character grid: with type="linesAndChars" and the negative w:charSpace that 28 characters
    need, LibreOffice gives every 16 pt character two grid cells and breaks lines after 14
    characters (Word squeezes instead). This way both show 22 × 28. See docs/supervision.md."""
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    for attr in list(grid.attrib):
        del grid.attrib[attr]
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH_PT * 20)))


def _page_setup(section) -> None:
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.footer_distance = Mm(28)   # the page number sits about 7 mm below the text area
    section.header_distance = Mm(15)
    _doc_grid(section)


def _page_number(paragraph, fonts: _Fonts, align) -> None:
    """'— PAGE —' in 宋体 四号."""
    _no_grid_snap(paragraph)
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.paragraph_format.line_spacing = Pt(16)   # fits the 7 mm below the text area
    paragraph.alignment = align
    paragraph.paragraph_format.left_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.LEFT else None
    paragraph.paragraph_format.right_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.RIGHT else None
    font = fonts.names[PAGE_NUMBER_FONT]

    def add(text=None, field=None):
        run = paragraph.add_run(text or "")
        _set_run_font(run, font, PAGE_NUMBER_SIZE)
        if field:
            for kind, instr in (("begin", None), (None, field), ("separate", None), (None, None), ("end", None)):
                if kind:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                    run._element.append(el)
                elif instr:
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = f" {instr} "
                    run._element.append(el)
                else:
                    t = OxmlElement("w:t")
                    t.text = "1"
                    run._element.append(t)
        return run

    add("— ")
    add(field="PAGE")
    add(" —")


def _font_table(document, fonts: _Fonts) -> None:
    """List each official font in the font table with the installed substitute as w:altName."""
    part = next((p for p in document.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml"), None)
    if part is None:
        return
    from docx.opc.oxml import parse_xml
    from lxml import etree

    root = parse_xml(part.blob)
    for official in OFFICIAL:
        sub = substitute(official)
        font = OxmlElement("w:font")
        font.set(qn("w:name"), fonts.names[official])
        if sub and fonts.names[official] == official:
            alt = OxmlElement("w:altName")
            alt.set(qn("w:val"), sub)
            font.append(alt)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")      # GB2312
        font.append(charset)
        family = OxmlElement("w:family")
        family.set(qn("w:val"), "modern" if official == HEADING_FONT else "roman")
        font.append(family)
        root.append(font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _defaults(doc, fonts: _Fonts) -> None:
    """Document defaults: Chinese text (zh-CN, so lines break between any two characters), 三号 and
    the body font; Word's character grid is measured against this size."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts_el = rpr.find(qn("w:rFonts"))
    for attr in list(fonts_el.attrib):
        del fonts_el.attrib[attr]
    fonts_el.set(qn("w:ascii"), LATIN_FONT)
    fonts_el.set(qn("w:hAnsi"), LATIN_FONT)
    fonts_el.set(qn("w:eastAsia"), fonts.names[BODY_FONT])
    for tag in ("w:sz", "w:szCs"):
        rpr.find(qn(tag)).set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def new_document(fonts: str = "auto"):
    """An empty A4 document with the official page setup, styles, grid and page numbers."""
    chosen = _fonts(fonts)
    doc = Document()
    _defaults(doc, chosen)
    normal = doc.styles["Normal"]
    _style_font(normal, chosen.names[BODY_FONT], BODY_SIZE)
    pf = normal.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(round(LINE_PITCH_PT, 2))
    pf.space_before = pf.space_after = Pt(0)
    _squeeze(normal)
    title = doc.styles["Title"]
    _style_font(title, chosen.names[TITLE_FONT], TITLE_SIZE)
    title.font.bold = False
    title.font.color.rgb = None
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    title.paragraph_format.line_spacing = Pt(round(LINE_PITCH_PT * 1.2, 2))
    title.paragraph_format.space_after = Pt(round(LINE_PITCH_PT, 2))
    # the default Title style draws a blue rule below the title; an official document has none
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    heading = doc.styles["Heading 1"]
    _style_font(heading, chosen.names[HEADING_FONT], BODY_SIZE)
    heading.font.bold = False
    heading.font.color.rgb = None
    heading.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    heading.paragraph_format.line_spacing = Pt(round(LINE_PITCH_PT, 2))
    heading.paragraph_format.space_before = heading.paragraph_format.space_after = Pt(0)
    heading.paragraph_format.first_line_indent = Pt(32)
    heading.paragraph_format.keep_with_next = True
    _page_setup(doc.sections[0])
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    _page_number(section.footer.paragraphs[0], chosen, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], chosen, WD_ALIGN_PARAGRAPH.LEFT)
    _font_table(doc, chosen)
    doc._official_fonts = chosen
    return doc


def _paragraph(doc, text: str, font: str, size: Pt, style: str | None = None):
    """A paragraph of one run of `text` in the official `font` (or its substitute) at `size`."""
    p = doc.add_paragraph(style=style)
    run = p.add_run(text)
    _set_run_font(run, doc._official_fonts.names[font], size)
    return p


def _body(doc, text: str, indent: bool = True, align=None):
    p = _paragraph(doc, text, BODY_FONT, BODY_SIZE)
    if indent:
        p.paragraph_format.first_line_indent = Pt(32)   # two characters
    if align is not None:
        p.alignment = align
    return p


def _title(doc, text: str):
    p = _paragraph(doc, text, TITLE_FONT, TITLE_SIZE, style="Title")
    _no_grid_snap(p)
    return p


def _heading(doc, text: str):
    return _paragraph(doc, text, HEADING_FONT, BODY_SIZE, style="Heading 1")


def _signature(doc, lines: list[str]) -> None:
    """The issuing office and the date, right-aligned four characters in from the margin."""
    doc.add_paragraph()
    for line in lines:
        p = _body(doc, line, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(64)


def _save(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def bulletin_docx(text: str, fonts: str = "auto") -> bytes:
    """The 通报 as a .docx from its (edited) text: the first line is the title, lines such as
    '一、…' are first-level headings, the closing office name and date are set right-aligned."""
    doc = new_document(fonts)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ValueError("通报内容为空。")
    _title(doc, lines.pop(0).strip())
    tail: list[str] = []
    if lines and _DATE_LINE.match(lines[-1].strip() if lines else ""):
        tail = [lines.pop().strip()]
        if lines and lines[-1].strip():
            tail.insert(0, lines.pop().strip())
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if _HEADING1.match(stripped):
            _heading(doc, stripped)
        else:
            _body(doc, stripped)
    if tail:
        _signature(doc, tail)
    return _save(doc)


def overdue_text(days: int | None, day_kind: str) -> str:
    """143 -> '143天'; working days -> '5个工作日'."""
    if days is None:
        return "—"
    return f"{days}个工作日" if day_kind == "工作日" else f"{days}天"


def _cn(day: dt.date | None) -> str:
    return "—" if day is None else cn_date(day)


def _cell(cell, text: str, doc, bold: bool = False, align=WD_ALIGN_PARAGRAPH.LEFT, size: float = 14) -> None:
    p = cell.paragraphs[0]
    _no_grid_snap(p)
    p.alignment = align
    p.paragraph_format.first_line_indent = None
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    run = p.add_run(text)
    _set_run_font(run, doc._official_fonts.names[HEADING_FONT if bold else BODY_FONT], Pt(size))


def _notice(doc, unit: str, items: pl.DataFrame, as_of: dt.date, issued_on: dt.date, reply_by: dt.date,
            number: str, office: str) -> None:
    _title(doc, "督 办 单")
    _body(doc, f"编号：{number}", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _body(doc, f"{unit}：", indent=False)
    _body(doc, f"根据全县政务数据共享工作督查考评情况，截至{_cn(as_of)}，你单位以下{items.height}项工作"
               "逾期未完成，现予督办。请于" + _cn(reply_by) + "前整改到位，并填写回执报领导小组办公室。")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = (Mm(14), Mm(64), Mm(26), Mm(28), Mm(24))
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for cell, head, width in zip(table.rows[0].cells, ("序号", "督办事项", "类别", "时限", "逾期"), widths, strict=True):
        _cell(cell, head, doc, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        cell.width = width
    for i, row in enumerate(items.iter_rows(named=True), start=1):
        cells = table.add_row().cells
        overdue = overdue_text(row["days_overdue"], row["day_kind"])
        for cell, value, width in zip(cells, (str(i), row["item"], row["kind"], _cn(row["deadline"]), overdue),
                                      widths, strict=True):
            _cell(cell, value, doc, align=WD_ALIGN_PARAGRAPH.LEFT if value == row["item"] else WD_ALIGN_PARAGRAPH.CENTER)
            cell.width = width
    _body(doc, f"要求完成日期：{_cn(reply_by)}", indent=False)
    _signature(doc, [office, _cn(issued_on)])
    # the reply (回执) is a sheet of its own: the unit fills it in and returns it
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _title(doc, "回  执")
    _body(doc, f"督办单编号：{number}", indent=False)
    _body(doc, f"单位：{unit}", indent=False)
    _body(doc, "整改情况（逐项说明）：", indent=False)
    for _ in range(8):
        _body(doc, "", indent=False)
    _body(doc, "完成日期：　　　　年　　月　　日", indent=False)
    _body(doc, "单位负责人（签字）：", indent=False)
    _body(doc, "经办人：　　　　　　　　联系电话：", indent=False)
    _body(doc, "（单位盖章）", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT).paragraph_format.right_indent = Pt(64)
    _body(doc, "年　　月　　日", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT).paragraph_format.right_indent = Pt(64)


def notices_docx(items: pl.DataFrame, as_of: dt.date, issued_on: dt.date, reply_by: dt.date,
                 fonts: str = "auto", office: str = "县政务数据共享工作领导小组办公室",
                 prefix: str | None = None) -> bytes:
    """督办单 for every unit in `items` (columns unit, unit_id, kind, item, deadline, days_overdue,
    day_kind, as of `as_of`), each unit in its own section numbered from page 1; one unit's
    notice when items hold one unit. `reply_by` is the requested completion date."""
    if items.is_empty():
        raise ValueError("没有需要督办的单位。")
    doc = new_document(fonts)
    prefix = prefix or f"督〔{issued_on.year}〕{issued_on:%m%d}"
    units = items.select("unit_id", "unit").unique(maintain_order=True)
    for n, (unit_id, unit) in enumerate(units.iter_rows(), start=1):
        if n > 1:
            section = doc.add_section(WD_SECTION.NEW_PAGE)
            _page_setup(section)
            numbering = OxmlElement("w:pgNumType")      # each unit's notice is numbered from 1
            numbering.set(qn("w:start"), "1")
            section._sectPr.append(numbering)
        _notice(doc, unit, items.filter(pl.col("unit_id") == unit_id), as_of, issued_on, reply_by,
                f"{prefix}-{n:02d}", office)
    return _save(doc)
