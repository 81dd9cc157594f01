"""Import: every bad input gives its exact Chinese message and leaves the database unchanged;
a good workbook imports once, and a second time changes nothing."""

from __future__ import annotations

import copy
import datetime as dt
import io

import pytest

from data.imports.importer import import_workbook, run_import_command
from data.imports.spec import ERROR_COLUMNS
from data.imports.validate import validate_workbook
from data.storage.scope import PermissionDenied, Scope
from tests.fixtures.workbooks import (
    FULL_COUNTS,
    TODAY,
    fingerprint,
    full_workbook_rows,
    patch_member,
    with_sheet_states,
    workbook_bytes,
)


def _scorecard_hash(db):
    from data.storage.facts import load_facts
    from metrics.scorecard import scorecard

    frame = scorecard(load_facts(db), dt.date(2023, 12, 31))
    return frame.hash_rows().sum()


@pytest.fixture
def loaded(db):
    """The database after the full example workbook is imported once."""
    result = import_workbook(db, workbook_bytes(full_workbook_rows()), "基础.xlsx", today=TODAY)
    assert result.ok, result.validation.error_messages()
    return db


def _set(rows, sheet, row, label, value):
    """Set one cell: `row` is the Excel row number (1 = header)."""
    header = rows[sheet][0]
    rows[sheet][row - 1][header.index(label)] = value
    return rows


def _mutated(sheet, row, label, value):
    return _set(copy.deepcopy(full_workbook_rows()), sheet, row, label, value)


# (test id, workbook rows, the exact messages expected)
D = dt.datetime
CASES = [
    ("impossible date", _mutated("共享申请", 2, "初审日期", "2023-02-30"),
     ["「共享申请」第 2 行「初审日期」：2023-02-30 不是有效日期"]),
    ("date before 2000", _mutated("数据目录", 2, "发布日期", "1999-12-31"),
     ["「数据目录」第 2 行「发布日期」：1999-12-31 早于2000年1月1日"]),
    ("date after today", _mutated("需求清单", 2, "对接日期", "2024年2月1日"),
     ["「需求清单」第 2 行「对接日期」：2024年2月1日 晚于今天（2024年1月15日）"]),
    ("date with a time", _mutated("共享申请", 2, "提交日期", D(2023, 7, 3, 10, 30)),
     ["「共享申请」第 2 行「提交日期」：2023-07-03 10:30:00 不是有效日期（不应带时间）"]),
    ("formula in a date column", _mutated("共享申请", 2, "提交日期", "=TODAY()"),
     ["「共享申请」第 2 行「提交日期」：=TODAY() 不是有效日期"]),
    ("review before receipt", _mutated("共享申请", 2, "初审日期", "2023-07-01"),
     ["「共享申请」第 2 行「初审日期」：2023年7月1日 早于提交日期（2023年7月3日）"]),
    ("reply before forwarding", _mutated("共享申请", 2, "答复日期", "2023/7/4"),
     ["「共享申请」第 2 行「答复日期」：2023年7月4日 早于转送日期（2023年7月5日）"]),
    ("reply result without reply date", _mutated("共享申请", 2, "答复日期", None),
     ["「共享申请」第 2 行「答复结果」：同意 已填答复结果但没有答复日期"]),
    ("connected more than villages", _mutated("外网覆盖", 2, "已接入数", 13),
     ["「外网覆盖」第 2 行「已接入数」：13 大于行政村（社区）数（12）"]),
    ("score over 100", _mutated("质量检查", 2, "完整性", 101),
     ["「质量检查」第 2 行「完整性」：101 超出范围（应在 0–100 之间）"]),
    ("fixed more than found", _mutated("质量检查", 2, "已整改数", 4),
     ["「质量检查」第 2 行「已整改数」：4 大于发现问题数（3）"]),
    ("done without completion date", _mutated("任务进展", 2, "完成日期", None),
     ["「任务进展」第 2 行「完成日期」：状态为“已完成”时须填写完成日期"]),
    ("completion after the report", _mutated("任务进展", 2, "完成日期", "2023-06-06"),
     ["「任务进展」第 2 行「完成日期」：2023年6月6日 完成日期不能晚于报送日期"]),
    ("unknown catalog code", _mutated("共享申请", 2, "目录编码", "GA-999"),
     ["「共享申请」第 2 行「目录编码」：GA-999 不是已有的目录编码（数据库和本工作簿的「数据目录」中都没有）"]),
    ("unknown unit", _mutated("责任人", 3, "单位名称", "县不存在局"),
     ["「责任人」第 3 行「单位名称」：县不存在局 不是已登记的单位名称（新单位请先在「单位」工作表中填写）"]),
    ("enumeration not in the list", _mutated("数据目录", 2, "资源格式", "数据库"),
     ["「数据目录」第 2 行「资源格式」：数据库 不是允许的取值（可选：库表、文件、接口）"]),
    ("enumeration with half-width brackets", _mutated("单位", 2, "单位类型", "乡镇(街道)"),
     ["「单位」第 2 行「单位类型」：乡镇(街道) 不是允许的取值（可选：县直部门、乡镇（街道）、公共服务企业、其他）"]),
    ("bad yes/no", _mutated("信息系统", 2, "是否涉密", "可能"),
     ["「信息系统」第 2 行「是否涉密」：可能 不是有效的是/否值（可填 是/否、Y/N、1/0、TRUE/FALSE）"]),
    ("required cell empty", _mutated("共享申请", 2, "用途", "  "),
     ["「共享申请」第 2 行「用途」：必填项为空"]),
    ("task number out of range", _mutated("任务进展", 2, "任务序号", 16),
     ["「任务进展」第 2 行「任务序号」：16 超出范围（应在 1–15 之间）"]),
    ("unit not assigned the task", _mutated("任务进展", 2, "任务序号", 1),
     ["「任务进展」第 2 行「单位名称」：县公安局 不是任务 1 的责任单位"]),
    ("coverage of a non-township", _mutated("外网覆盖", 2, "乡镇（街道）", "县公安局"),
     ["「外网覆盖」第 2 行「乡镇（街道）」：县公安局 不是乡镇（街道）类型的单位"]),
    ("fractional count", _mutated("数据目录", 2, "信息项数", "12.5"),
     ["「数据目录」第 2 行「信息项数」：12.5 不是整数"]),
    ("negative count", _mutated("外网覆盖", 2, "行政村（社区）数", -1),
     ["「外网覆盖」第 2 行「行政村（社区）数」：-1 不能小于 0"]),
    ("number in a date column", _mutated("责任人", 2, "明确日期", 45077),
     ["「责任人」第 2 行「明确日期」：45077 不是有效日期"]),
]


def _mutated_many(sheet, row, cells):
    rows = copy.deepcopy(full_workbook_rows())
    for label, value in cells.items():
        _set(rows, sheet, row, label, value)
    return rows


# Every step in order (one checker, data.imports.checks.request_step_problems), and the progress rule
# the 进展报送 form applies (data.imports.checks.report_rule_problems).
CASES += [
    ("forwarded before reviewed", _mutated("共享申请", 2, "转送日期", "2023-07-04"),
     ["「共享申请」第 2 行「转送日期」：2023年7月4日 早于初审日期（2023年7月5日）"]),
    ("reply before receipt without other steps",
     _mutated_many("共享申请", 2, {"初审日期": None, "初审结果": None, "转送日期": None, "答复日期": "2023-06-24"}),
     ["「共享申请」第 2 行「答复日期」：2023年6月24日 早于提交日期（2023年7月3日）"]),
    ("use until before submission", _mutated("共享申请", 2, "使用期限至", "2023-07-01"),
     ["「共享申请」第 2 行「使用期限至」：2023年7月1日 早于提交日期（2023年7月3日）"]),
    ("forwarded and answered after 退回", _mutated("共享申请", 2, "初审结果", "退回"),
     ["「共享申请」第 2 行「转送日期」：2023年7月5日 初审结果为退回，退回后不应再有转送或答复",
      "「共享申请」第 2 行「答复日期」：2023年7月12日 初审结果为退回，退回后不应再有转送或答复",
      "「共享申请」第 2 行「答复结果」：同意 初审结果为退回，退回后不应再有转送或答复"]),
    ("review result without review date", _mutated("共享申请", 2, "初审日期", None),
     ["「共享申请」第 2 行「初审结果」：通过 已填初审结果但没有初审日期"]),
    ("request to oneself", _mutated("共享申请", 2, "申请单位", "县公安局"),
     ["「共享申请」第 2 行「提供单位」：县公安局 与申请单位相同：单位不能向本单位申请共享"]),
    ("in progress with a completion date", _mutated("任务进展", 2, "状态", "推进中"),
     ["「任务进展」第 2 行「完成日期」：2023年6月1日 只有状态为“已完成”时才填写完成日期"]),
]


def test_the_form_and_the_import_share_one_progress_rule(monkeypatch):
    import data.imports.checks as checks
    import data.services.progress as progress

    assert checks.report_rule_problems is progress.report_rule_problems


def _missing_column():
    rows = full_workbook_rows()
    rows["共享申请"] = [r[:6] + r[7:] for r in rows["共享申请"]]  # drop 提交日期
    return rows


def _duplicate_key():
    rows = full_workbook_rows()
    rows["数据目录"].append(list(rows["数据目录"][1]))
    return rows


def _duplicate_header():
    rows = full_workbook_rows()
    rows["业务专网"] = [r + [r[0]] for r in rows["业务专网"]]
    return rows


def _fixed_without_found():
    return _mutated("质量检查", 2, "发现问题数", None)


CASES += [
    ("missing required column", _missing_column(), ["「共享申请」第 1 行「提交日期」：缺少必填列"]),
    ("duplicate natural key", _duplicate_key(),
     ["「数据目录」第 4 行「目录编码」：GA-001 与第 2 行重复（同一条记录只能出现一次）"]),
    ("duplicate column", _duplicate_header(), ["「业务专网」第 1 行「专网名称」：列名重复"]),
    ("fixed without found", _fixed_without_found(),
     ["「质量检查」第 2 行「已整改数」：2 填了已整改数，但没有发现问题数"]),
]


@pytest.mark.parametrize("rows,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_cell_and_writes_nothing(loaded, rows, expected):
    db = loaded
    before, score_before = fingerprint(db), _scorecard_hash(db)
    data = workbook_bytes(rows)
    result = validate_workbook(db, data, "坏.xlsx", today=TODAY)
    assert result.error_messages() == expected
    assert result.errors.columns == list(ERROR_COLUMNS)
    imported = import_workbook(db, data, "坏.xlsx", today=TODAY)
    assert not imported.ok and imported.import_id is None
    assert fingerprint(db) == before
    assert _scorecard_hash(db) == score_before


def test_at_least_twenty_distinct_bad_inputs():
    assert len({c[0] for c in CASES}) >= 20


def test_every_error_is_listed_not_just_the_first(db):
    rows = _mutated("共享申请", 2, "初审日期", "2023-02-30")
    _set(rows, "外网覆盖", 2, "已接入数", 99)
    _set(rows, "数据目录", 3, "更新周期", "每两月")
    result = validate_workbook(db, workbook_bytes(rows), "多处.xlsx", today=TODAY)
    assert result.errors.select("工作表", "行号", "列").rows() == [
        ("数据目录", 3, "更新周期"), ("共享申请", 2, "初审日期"), ("外网覆盖", 2, "已接入数")]
    assert result.errors["值"].to_list() == ["每两月", "2023-02-30", "99"]


def _plain_zip() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    return buf.getvalue()


UNREADABLE = [
    ("a zip that is no workbook", _plain_zip(), "改名的文档.xlsx", "文件不是有效的 Excel 工作簿（.xlsx），无法读取。"),
    ("binary named csv", bytes(range(128, 256)) * 4, "共享申请.csv",
     "CSV 文件的编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV。"),
    ("old xls by name", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧表.xls",
     "不支持旧版 Excel（.xls）格式：请在 Excel 中“另存为”.xlsx 格式后再导入。"),
    ("xls renamed xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "改名.xlsx",
     "这是旧版 Excel（.xls）或加密的工作簿，不能直接导入：请在 Excel 中“另存为”.xlsx 格式后再导入。"),
    ("not a spreadsheet", b"%PDF-1.4 hello", "报告.xlsx", "文件不是有效的 Excel 工作簿（.xlsx），无法读取。"),
    ("empty file", b"", "空.xlsx", "文件为空（0 字节），无法读取。"),
    ("a word file", b"hello", "说明.docx", "不支持的文件类型「.docx」：请导入 .xlsx 工作簿或 .csv 文件。"),
]


@pytest.mark.parametrize("data,name,message", [u[1:] for u in UNREADABLE], ids=[u[0] for u in UNREADABLE])
def test_unreadable_files_are_refused(loaded, data, name, message):
    before = fingerprint(loaded)
    result = validate_workbook(loaded, data, name, today=TODAY)
    assert result.fatal == message
    assert not import_workbook(loaded, data, name, today=TODAY).ok
    assert fingerprint(loaded) == before


def test_truncated_workbook_is_refused(loaded):
    data = workbook_bytes(full_workbook_rows())
    result = validate_workbook(loaded, data[: len(data) // 2], "断了.xlsx", today=TODAY)
    assert result.fatal == "文件已损坏或不完整（可能上传中断），无法读取。"


def test_upload_size_limit_is_a_setting(loaded):
    loaded.rows("INSERT INTO settings VALUES ('upload_limit_mb', '0.001')")
    data = workbook_bytes(full_workbook_rows())
    result = validate_workbook(loaded, data, "大.xlsx", today=TODAY)
    assert result.fatal == f"文件大小 {len(data) / 1024 / 1024:.1f} MB，超过上限 0.001 MB。"


def test_good_workbook_imports_once_then_changes_nothing(db):
    data = workbook_bytes(full_workbook_rows())
    first = import_workbook(db, data, "基础.xlsx", today=TODAY)
    assert first.validation.counts == FULL_COUNTS
    assert first.inserted == FULL_COUNTS
    assert set(first.updated.values()) == {0}
    after_first = fingerprint(db)
    second = import_workbook(db, data, "基础.xlsx", today=TODAY)
    assert second.ok
    assert set(second.inserted.values()) == {0} and set(second.updated.values()) == {0}
    content = {t: v for t, v in fingerprint(db).items() if t not in ("import_log", "audit_log")}
    assert content == {t: v for t, v in after_first.items() if t not in ("import_log", "audit_log")}


def test_import_is_logged_with_hash_and_audited(db):
    import hashlib

    data = workbook_bytes(full_workbook_rows())
    result = import_workbook(db, data, "基础.xlsx", today=TODAY)
    rows = db.rows("SELECT id, username, file_name, file_sha256, sheet, inserted, updated FROM import_log "
                   "ORDER BY sheet")
    assert len(rows) == 11
    assert {r[0] for r in rows} == {result.import_id}
    assert {r[3] for r in rows} == {hashlib.sha256(data).hexdigest()}
    assert ("信息系统", 1, 0) in [(r[4], r[5], r[6]) for r in rows]
    audit = db.rows("SELECT username, action, target FROM audit_log WHERE action = '导入'")
    assert audit == [("system", "导入", "基础.xlsx")]


def test_stored_values(db):
    import_workbook(db, workbook_bytes(full_workbook_rows()), "基础.xlsx", today=TODAY)
    # full-width letters and the trailing space are folded; kinds as given
    assert db.rows("SELECT name, kind, is_member, origin FROM units WHERE origin = 'import' ORDER BY unit_id") == [
        ("冰溪街道", "乡镇（街道）", False, "import"), ("AB县测试局", "县直部门", True, "import")]
    # every date form of the contract
    assert db.rows("SELECT published_on, last_updated_on, mounted_on FROM catalog_items WHERE code = 'GA-001'") == [
        (dt.date(2023, 6, 1), dt.date(2023, 8, 1), dt.date(2023, 6, 15))]
    # formula-looking text is stored as the text typed, never evaluated
    assert db.scalar("SELECT name FROM catalog_items WHERE code = 'GA-002'") == "=出入境"
    # a blank 是否已注册 with a 注册日期 counts as registered; N is no
    assert db.rows("SELECT registered, connected, provides_data FROM systems") == [(True, False, True)]
    # 是 / TRUE / 0
    assert db.rows("SELECT desensitization, encryption, access_auth FROM security_assessments") == [
        (True, True, False)]
    # the new township received task 3 (各乡镇（街道）)
    assert db.rows("SELECT a.task_no FROM task_assignments a JOIN units u USING (unit_id) "
                   "WHERE u.name = '冰溪街道'") == [(3,)]
    assert db.rows("SELECT verified, submitted_by FROM progress_reports") == [(True, "system")]
    assert db.scalar("SELECT accuracy FROM quality_checks") == 90.5


def test_changed_row_updates_and_absent_columns_are_kept(loaded):
    rows = {"数据目录": [["目录编码", "资源名称", "提供单位", "资源格式", "共享类型", "更新周期", "发布日期"],
                     ["GA-001", "户籍人口（新）", "县公安局", "库表", "有条件共享", "每月", "2023-06-01"]]}
    result = import_workbook(loaded, workbook_bytes(rows), "改.xlsx", today=TODAY)
    assert result.inserted == {"数据目录": 0} and result.updated == {"数据目录": 1}
    assert loaded.rows("SELECT name, summary, item_count FROM catalog_items WHERE code = 'GA-001'") == [
        ("户籍人口（新）", "户籍信息", 20)]


CATALOG_HEADER = ["目录编码", "资源名称", "提供单位", "资源格式", "共享类型", "更新周期", "发布日期", "最近更新日期"]


def _history(db):
    return db.rows("SELECT code, updated_on FROM catalog_updates ORDER BY ALL")


def test_each_update_date_joins_the_catalog_history(loaded):
    # the example workbook: GA-001 updated 2023-08-01, GA-002 never
    assert _history(loaded) == [("GA-001", dt.date(2023, 8, 1))]
    # a later workbook reports GA-001 updated again on 2023-09-01: the item keeps only the latest,
    # the history keeps both
    rows = {"数据目录": [CATALOG_HEADER,
                     ["GA-001", "户籍人口", "县公安局", "库表", "有条件共享", "每月", "2023-06-01", "2023-09-01"]]}
    data = workbook_bytes(rows)
    result = import_workbook(loaded, data, "更新.xlsx", today=TODAY)
    assert result.inserted == {"数据目录": 0} and result.updated == {"数据目录": 1}
    assert loaded.scalar("SELECT last_updated_on FROM catalog_items WHERE code = 'GA-001'") == dt.date(2023, 9, 1)
    assert _history(loaded) == [("GA-001", dt.date(2023, 8, 1)), ("GA-001", dt.date(2023, 9, 1))]
    # the same workbook again: nothing inserted or updated, nothing added to the history
    again = import_workbook(loaded, data, "更新.xlsx", today=TODAY)
    assert again.inserted == {"数据目录": 0} and again.updated == {"数据目录": 0}
    assert _history(loaded) == [("GA-001", dt.date(2023, 8, 1)), ("GA-001", dt.date(2023, 9, 1))]
    # and the engine sees the update that was the latest then: as of 2023-08-31, 2023-08-01
    from data.storage.facts import load_facts
    from metrics.catalog import catalog_items_as_of

    items = catalog_items_as_of(load_facts(loaded), dt.date(2023, 8, 31)).filter(code="GA-001")
    assert items.select("last_touched_on", "age_days", "fresh").rows() == [(dt.date(2023, 8, 1), 30, True)]


def test_a_sheet_without_update_dates_leaves_the_history_alone(loaded):
    rows = {"数据目录": [CATALOG_HEADER[:-1],
                     ["GA-003", "居住证", "县公安局", "库表", "无条件共享", "每月", "2023-06-01"]]}
    assert import_workbook(loaded, workbook_bytes(rows), "新.xlsx", today=TODAY).inserted == {"数据目录": 1}
    assert _history(loaded) == [("GA-001", dt.date(2023, 8, 1))]


def test_unit_names_match_after_normalisation_and_aliases(loaded):
    rows = {"责任人": [["单位名称", "角色", "姓名", "明确日期"],
                    [" 县 公安局 ", "经办人", "赵六", "2023-05-22"],      # spaces
                    ["县网信中心", "经办人", "钱七", "2023-05-22"],       # the plan's alias of 县委网信中心
                    ["ab县测试局", "经办人", "孙八", "2023-05-22"]]}     # case differs: not the same unit
    result = validate_workbook(loaded, workbook_bytes(rows), "人.xlsx", today=TODAY)
    assert result.error_messages() == [
        "「责任人」第 4 行「单位名称」：ab县测试局 不是已登记的单位名称（新单位请先在「单位」工作表中填写）"]
    rows["责任人"].pop()
    result = import_workbook(loaded, workbook_bytes(rows), "人.xlsx", today=TODAY)
    assert result.updated == {"责任人": 1} and result.inserted == {"责任人": 1}
    assert loaded.rows("SELECT u.name, c.name FROM contacts c JOIN units u USING (unit_id) "
                       "WHERE c.role = '经办人' ORDER BY u.name") == [("县公安局", "赵六"), ("县委网信中心", "钱七")]


def test_warnings_are_shown_but_imported(db):
    rows = full_workbook_rows()
    _set(rows, "共享申请", 2, "答复结果", "不同意")
    _set(rows, "共享申请", 2, "法律政策依据", "《数据安全法》第三十八条")
    _set(rows, "数据目录", 3, "共享类型", "不予共享")
    rows["共享申请"][0].append("备用列")
    result = import_workbook(db, workbook_bytes(rows), "提示.xlsx", today=TODAY)
    assert result.ok
    assert result.validation.warning_messages() == [
        "「数据目录」第 3 行「不予共享依据」：共享类型为不予共享，但未填写不予共享依据",
        "「共享申请」第 1 行「备用列」：不是本工作表的列，已忽略",
        "「共享申请」第 2 行「不予共享理由」：答复结果为不同意，但未填写不予共享理由（计入拒绝依据完备率）",
    ]
    assert db.scalar("SELECT reply_result FROM share_requests") == "不同意"


def test_unknown_sheet_warns_and_a_workbook_without_any_sheet_is_an_error(db):
    result = validate_workbook(db, workbook_bytes({"Sheet1": [["a"], [1]]}), "空.xlsx", today=TODAY)
    assert result.warning_messages() == ["「Sheet1」：不是导入模板中的工作表，已忽略"]
    assert result.error_messages() == [
        "文件中没有可导入的工作表（工作表名称应为：单位、责任人、数据目录、需求清单、共享申请、任务进展、"
        "信息系统、业务专网、安全措施、质量检查、外网覆盖）"]


def test_catalog_code_may_come_from_the_same_workbook_or_the_database(loaded):
    rows = {"质量检查": [["目录编码", "检查日期", "完整性", "准确性", "可用性", "时效性"],
                     ["GA-002", "2023-10-01", 80, 80, 80, 80]]}
    assert import_workbook(loaded, workbook_bytes(rows), "质检.xlsx", today=TODAY).inserted == {"质量检查": 1}


def test_csv_utf8_bom_and_gbk(db):
    text = "单位名称,角色,姓名,明确日期\n县公安局,经办人,王五,2023年5月21日\n"
    for encoded in (("\ufeff" + text).encode("utf-8"), text.encode("gbk")):
        result = validate_workbook(db, encoded, "责任人.csv", today=TODAY)
        assert result.ok and result.counts == {"责任人": 1}
    first = import_workbook(db, text.encode("gbk"), "责任人.csv", today=TODAY)
    assert first.inserted == {"责任人": 1}
    assert import_workbook(db, ("\ufeff" + text).encode("utf-8"), "责任人.csv", today=TODAY).updated == {"责任人": 0}
    assert db.rows("SELECT named_on FROM contacts") == [(dt.date(2023, 5, 21),)]


def test_csv_named_unlike_a_sheet(db):
    result = validate_workbook(db, b"a,b\n1,2\n", "导出数据.csv", today=TODAY)
    assert result.warning_messages() == ["「导出数据」：不是导入模板中的工作表，已忽略"]
    assert not result.ok


def test_template_example_row_is_skipped(db):
    from data.imports.spec import SHEET_BY_NAME

    sheet = SHEET_BY_NAME["安全措施"]
    rows = {"安全措施": [[c.label for c in sheet.columns], list(sheet.example)]}
    result = import_workbook(db, workbook_bytes(rows), "模板.xlsx", today=TODAY)
    assert result.ok and result.inserted == {"安全措施": 0}
    assert result.validation.warning_messages() == ["「安全措施」第 2 行：模板示例行，未导入"]


# -- roles ------------------------------------------------------------------------------------
def _unit_scope(db, name):
    unit_id = db.scalar("SELECT unit_id FROM units WHERE name = ?", [name])
    return Scope(username="ga", role="单位", unit_id=unit_id)


def test_leader_may_not_import(db):
    leader = Scope(username="boss", role="领导")
    with pytest.raises(PermissionDenied):
        import_workbook(db, workbook_bytes(full_workbook_rows()), "x.xlsx", leader, today=TODAY)


def test_unit_user_imports_only_its_own_rows(loaded):
    scope = _unit_scope(loaded, "县公安局")
    before = fingerprint(loaded)
    rows = {
        "单位": [["单位名称", "单位类型"], ["县公安局", "县直部门"]],
        "责任人": [["单位名称", "角色", "姓名", "明确日期"], ["县公安局", "经办人", "王五", "2023-05-21"],
                 ["县民政局", "经办人", "冒名", "2023-05-21"]],
        "需求清单": [["需求编号", "需求单位", "需求内容", "提出日期"], ["XQ-1", "县公安局", "改别人的需求", "2023-06-05"]],
        "质量检查": [["目录编码", "检查日期", "完整性", "准确性", "可用性", "时效性"],
                 ["GA-001", "2023-10-02", 90, 90, 90, 90]],
    }
    result = import_workbook(loaded, workbook_bytes(rows), "公安.xlsx", scope, today=TODAY)
    assert result.validation.error_messages() == [
        "「单位」第 2 行「单位名称」：县公安局 单位名单只能由领导小组办公室导入",
        "「责任人」第 3 行「单位名称」：县民政局 不是本单位的数据，单位账号只能导入本单位的数据",
        "「需求清单」第 2 行「需求编号」：XQ-1 已登记为其他单位的数据，单位账号不能修改",
        "「质量检查」第 2 行「目录编码」：GA-001 数据质量检查由领导小组办公室组织并导入，单位账号不能导入",
    ]
    assert fingerprint(loaded) == before


def test_progress_from_a_unit_waits_for_verification(loaded):
    from data.imports.batches import verify_batch

    scope = _unit_scope(loaded, "县公安局")
    rows = {"任务进展": [["任务序号", "单位名称", "报送日期", "状态", "完成比例"],
                     [6, "县公安局", "2023-08-31", "推进中", 60]]}
    result = import_workbook(loaded, workbook_bytes(rows), "进展.xlsx", scope, today=TODAY)
    assert result.ok and result.batch_id is not None and result.inserted == {}
    assert loaded.rows("SELECT * FROM progress_reports WHERE task_no = 6") == []   # held, not written
    verified = verify_batch(loaded, Scope(username="office", role="管理员"), result.batch_id, today=TODAY)
    assert verified.inserted == {"任务进展": 1}
    assert loaded.rows("SELECT verified, submitted_by, verified_by FROM progress_reports WHERE task_no = 6") == [
        (True, "ga", "office")]
    assert import_workbook(loaded, workbook_bytes(rows), "进展.xlsx", today=TODAY).updated == {"任务进展": 0}


# -- units write only their own facts, and only after the office verifies them --------------
REQUEST_HEADER = ["申请编号", "申请单位", "提供单位", "目录编码", "用途", "使用期限至", "提交日期", "初审日期",
                  "初审结果", "转送日期", "答复日期", "答复结果", "法律政策依据", "不予共享理由"]
OFFICE = Scope(username="office", role="管理员")


def test_a_unit_cannot_forge_the_office_steps_or_another_units_request(loaded):
    police = _unit_scope(loaded, "县公安局")          # provider of SQ-1 (requested by 县民政局)
    before, score_before = fingerprint(loaded), _scorecard_hash(loaded)
    rows = {"共享申请": [REQUEST_HEADER,
                     # its own reply as provider, but with the office's review moved late
                     ["SQ-1", "县民政局", "县公安局", "GA-001", "低保核查", "2025-12-31", "2023-07-03", "2023-07-20",
                      "通过", "2023-07-20", "2023-07-21", "同意", None, None],
                     # a new request "from" another unit to itself
                     ["SQ-9", "县民政局", "县公安局", "GA-001", "伪造", None, "2023-08-01", None, None, None,
                      None, None, None, None],
                     # a request it makes, with the office's steps filled in by itself
                     ["SQ-10", "县公安局", "县民政局", None, "治安管理", None, "2023-08-01", "2023-08-02", "通过",
                      "2023-08-02", None, None, None, None]]}
    result = import_workbook(loaded, workbook_bytes(rows), "伪造.xlsx", police, today=TODAY)
    office_step = "由领导小组办公室填写（初审、转送、对接），单位账号不能填写或修改"
    assert result.validation.error_messages() == [
        f"「共享申请」第 2 行「初审日期」：2023年7月20日 {office_step}",
        f"「共享申请」第 2 行「转送日期」：2023年7月20日 {office_step}",
        "「共享申请」第 3 行「申请单位」：县民政局 新的共享申请只能由申请单位提交",
        f"「共享申请」第 4 行「初审日期」：2023年8月2日 {office_step}",
        f"「共享申请」第 4 行「初审结果」：通过 {office_step}",
        f"「共享申请」第 4 行「转送日期」：2023年8月2日 {office_step}",
    ]
    assert not result.ok
    assert fingerprint(loaded) == before and _scorecard_hash(loaded) == score_before


def test_a_requester_cannot_answer_its_own_request_nor_set_a_demand_as_matched(loaded):
    civil = _unit_scope(loaded, "县民政局")           # requester of SQ-1 and of demand XQ-1
    rows = {
        "需求清单": [["需求编号", "需求单位", "需求内容", "提出日期", "对接日期"],
                 ["XQ-1", "县民政局", "低保核查用户籍", "2023-06-05", "2023-06-10"]],
        "共享申请": [REQUEST_HEADER,
                 ["SQ-1", "县民政局", "县公安局", "GA-001", "低保核查", "2025-12-31", "2023-07-03", "2023-07-05",
                  "通过", "2023-07-05", "2023-07-12", "部分同意", None, None]],
    }
    result = validate_workbook(loaded, workbook_bytes(rows), "民政.xlsx", civil, today=TODAY)
    assert result.error_messages() == [
        "「需求清单」第 2 行「对接日期」：2023年6月10日 由领导小组办公室填写（初审、转送、对接），单位账号不能填写或修改",
        "「共享申请」第 2 行「答复结果」：部分同意 由提供单位答复，本单位作为申请单位不能填写或修改",
    ]
    # once the office has reviewed a request, its requester cannot move the date it was received
    rows = {"共享申请": [REQUEST_HEADER[:7], ["SQ-1", "县民政局", "县公安局", "GA-001", "低保核查", "2025-12-31",
                                          "2023-07-01"]]}
    result = validate_workbook(loaded, workbook_bytes(rows), "民政.xlsx", civil, today=TODAY)
    assert result.error_messages() == [
        "「共享申请」第 2 行「提交日期」：2023年7月1日 申请已经初审，申请内容和提交日期不能再由单位修改"]


def test_a_units_own_facts_are_held_until_the_office_verifies_them(loaded):
    from data.imports.batches import list_batches, verify_batch

    police = _unit_scope(loaded, "县公安局")
    score_before = _scorecard_hash(loaded)
    rows = {
        # its reply as provider (the office's steps unchanged) and a system of its own
        "共享申请": [REQUEST_HEADER,
                 ["SQ-1", "县民政局", "县公安局", "GA-001", "低保核查", "2025-12-31", "2023-07-03", "2023-07-05",
                  "通过", "2023-07-05", "2023-07-10", "不同意", "《户籍管理办法》", "涉及个人隐私"]],
        "信息系统": [["系统名称", "单位名称", "是否涉密", "注册日期"], ["指挥系统", "县公安局", "否", "2023-09-01"]],
    }
    result = import_workbook(loaded, workbook_bytes(rows), "公安.xlsx", police, today=TODAY)
    assert result.ok and result.summary_lines() == ["「共享申请」：共 1 行", "「信息系统」：共 1 行"]
    assert _scorecard_hash(loaded) == score_before
    assert loaded.scalar("SELECT reply_result FROM share_requests WHERE code = 'SQ-1'") == "同意"
    pending = list_batches(loaded, OFFICE, "待核验")
    assert pending.select("单位", "提交人", "文件", "内容", "状态").rows() == [
        ("县公安局", "ga", "公安.xlsx", "「共享申请」1 行；「信息系统」1 行", "待核验")]
    verified = verify_batch(loaded, OFFICE, result.batch_id, today=TODAY)
    assert verified.updated == {"共享申请": 1, "信息系统": 0} and verified.inserted == {"共享申请": 0, "信息系统": 1}
    assert loaded.scalar("SELECT reply_result FROM share_requests WHERE code = 'SQ-1'") == "不同意"
    assert _scorecard_hash(loaded) != score_before
    assert list_batches(loaded, police).select("状态", "处理人").rows() == [("已核验", "office")]
    actions = [r[0] for r in loaded.rows("SELECT action FROM audit_log ORDER BY logged_at, action")]
    assert "提交导入" in actions and "核验导入" in actions


def test_verification_is_the_offices_and_happens_once(loaded):
    from data.imports.batches import BatchError, list_batches, return_batch, verify_batch

    police = _unit_scope(loaded, "县公安局")
    rows = {"信息系统": [["系统名称", "单位名称", "是否涉密"], ["指挥系统", "县公安局", "否"]]}
    first = import_workbook(loaded, workbook_bytes(rows), "一.xlsx", police, today=TODAY).batch_id
    second = import_workbook(loaded, workbook_bytes(rows), "二.xlsx", police, today=TODAY).batch_id
    with pytest.raises(PermissionDenied):
        verify_batch(loaded, police, first, today=TODAY)
    with pytest.raises(BatchError, match="退回时请填写退回原因。"):
        return_batch(loaded, OFFICE, second, "  ")
    return_batch(loaded, OFFICE, second, "与第一份重复")
    with pytest.raises(BatchError, match="已退回，不能再处理"):
        verify_batch(loaded, OFFICE, second, today=TODAY)
    verify_batch(loaded, OFFICE, first, today=TODAY)
    with pytest.raises(BatchError, match="已核验，不能再处理"):
        verify_batch(loaded, OFFICE, first, today=TODAY)
    assert list_batches(loaded, police).select("编号", "状态", "说明").rows() == [
        (second, "已退回", "与第一份重复"), (first, "已核验", None)]


def test_a_batch_that_no_longer_validates_is_not_written(loaded):
    from data.imports.batches import BatchError, verify_batch

    police = _unit_scope(loaded, "县公安局")
    rows = {"共享申请": [REQUEST_HEADER[:7], ["SQ-10", "县公安局", "县民政局", None, "治安管理", None, "2023-08-01"]]}
    batch = import_workbook(loaded, workbook_bytes(rows), "申请.xlsx", police, today=TODAY).batch_id
    # meanwhile the office registers SQ-10 as another unit's request
    office_rows = {"共享申请": [REQUEST_HEADER[:7], ["SQ-10", "县民政局", "县公安局", None, "其他", None, "2023-08-01"]]}
    assert import_workbook(loaded, workbook_bytes(office_rows), "办.xlsx", today=TODAY).ok
    before = fingerprint(loaded)
    with pytest.raises(BatchError) as refused:
        verify_batch(loaded, OFFICE, batch, today=TODAY)
    assert refused.value.errors == [
        "「共享申请」第 2 行「申请单位」：县公安局 由申请单位填写，本单位作为提供单位不能填写或修改",
        "「共享申请」第 2 行「提供单位」：县民政局 由申请单位填写，本单位作为提供单位不能填写或修改",
        "「共享申请」第 2 行「用途」：治安管理 由申请单位填写，本单位作为提供单位不能填写或修改",
    ]
    assert fingerprint(loaded) == before


# -- command line ------------------------------------------------------------------------------
def test_command_exit_codes(db, tmp_path, monkeypatch):
    import data.imports.validate as validate

    monkeypatch.setattr(validate, "_today", lambda: TODAY)
    good = tmp_path / "基础.xlsx"
    good.write_bytes(workbook_bytes(full_workbook_rows()))
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(workbook_bytes(_mutated("共享申请", 2, "初审日期", "2023-02-30")))
    old = tmp_path / "旧.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    out, err = io.StringIO(), io.StringIO()
    assert run_import_command(db, [good, bad], out=out, err=err) == 1
    assert "坏.xlsx 错误：「共享申请」第 2 行「初审日期」：2023-02-30 不是有效日期" in err.getvalue()
    assert db.scalar("SELECT count(*) FROM catalog_items") == 0   # the good file was not written either
    assert run_import_command(db, [old], out=out, err=err) == 2
    out = io.StringIO()
    assert run_import_command(db, [good], out=out, err=err) == 0
    assert "  「共享申请」：共 1 行，新增 1 行，更新 0 行" in out.getvalue().splitlines()


def test_a_stray_formatted_cell_at_the_grid_end_does_not_blow_up_the_read(loaded):
    # A careless export formats one empty cell at XFD1048576: the sheet then claims a million rows
    # of 16,384 columns, and padding rows to that range exhausted memory (found by the e2e suite).
    from openpyxl import Workbook, load_workbook
    from openpyxl.styles import PatternFill

    wb = load_workbook(io.BytesIO(workbook_bytes(full_workbook_rows())))
    wb["数据目录"].cell(row=1_048_576, column=16_384).fill = PatternFill("solid", fgColor="FFFF00")
    buffer = io.BytesIO()
    wb.save(buffer)
    assert isinstance(wb, Workbook)
    result = validate_workbook(loaded, buffer.getvalue(), "带格式的空单元格.xlsx", today=TODAY)
    assert result.fatal is None and result.errors.is_empty()
    assert result.counts == FULL_COUNTS


# -- sheets: one name, visible ------------------------------------------------------------------
def test_two_sheets_whose_names_normalise_alike_are_an_error_naming_both(loaded):
    before = fingerprint(loaded)
    rows = full_workbook_rows()
    sheets = {"共享申请": rows["共享申请"], "共享申请 ": [rows["共享申请"][0],
                                                   ["SQ-2"] + rows["共享申请"][1][1:]]}
    result = import_workbook(loaded, workbook_bytes(sheets), "两张表.xlsx", today=TODAY)
    assert result.validation.error_messages() == [
        "「共享申请 」：与工作表「共享申请」名称相同（忽略空格、全角半角后都是「共享申请」），请合并为一个工作表"]
    assert not result.ok and fingerprint(loaded) == before


@pytest.mark.parametrize("state,how", [("hidden", "隐藏"), ("veryHidden", "深度隐藏（只能用宏取消）")])
def test_hidden_data_sheets_are_refused(loaded, state, how):
    before = fingerprint(loaded)
    rows = full_workbook_rows()
    data = with_sheet_states(workbook_bytes({"责任人": rows["责任人"], "共享申请": rows["共享申请"]}),
                             {"共享申请": state})
    result = import_workbook(loaded, data, "隐藏.xlsx", today=TODAY)
    assert result.validation.error_messages() == [
        f"「共享申请」：是{how}的工作表：隐藏的数据不会导入，请在 Excel 中取消隐藏并核对后重新上传，或删除该工作表"]
    assert fingerprint(loaded) == before


# -- bounded inputs -----------------------------------------------------------------------------
def _setting(db, key, value):
    db.rows("INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, str(value)])


def test_a_zip_bomb_is_refused_before_it_is_inflated(loaded):
    import zipfile

    buffer = io.BytesIO(workbook_bytes({"责任人": full_workbook_rows()["责任人"]}))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (101 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    result = validate_workbook(loaded, data, "炸弹.xlsx", today=TODAY)
    assert result.fatal == "文件解压后有 101 MB，超过上限 100 MB（可能是异常构造的文件），未读取。"


def test_rows_and_columns_are_capped_by_settings(loaded):
    _setting(loaded, "import_max_rows", 5)
    contacts = [["单位名称", "角色", "姓名", "明确日期"]] + [["县公安局", "经办人", f"人{i}", "2023-05-21"]
                                                      for i in range(7)]
    result = validate_workbook(loaded, workbook_bytes({"责任人": contacts}), "多.xlsx", today=TODAY)
    assert result.fatal == "工作表「责任人」超过 5 行数据的上限（第 7 行仍有内容），未读取：请拆分后分批导入。"
    _setting(loaded, "import_max_columns", 10)
    result = validate_workbook(loaded, workbook_bytes({"数据目录": full_workbook_rows()["数据目录"]}), "宽.xlsx",
                               today=TODAY)
    assert result.fatal == "工作表「数据目录」第 1 行超过 10 列的上限，未读取。"


def test_the_error_list_is_capped_with_a_count_of_the_rest(loaded):
    contacts = [["单位名称", "角色", "姓名", "明确日期"]] + [["县公安局", "经办人", f"人{i}", "2023-02-30"]
                                                      for i in range(250)]
    result = validate_workbook(loaded, workbook_bytes({"责任人": contacts}), "错.xlsx", today=TODAY)
    assert result.errors.height == 200
    assert result.error_total == 250 and result.errors_not_listed == 50


def test_a_validation_past_its_time_limit_stops_with_a_message(loaded, monkeypatch):
    import itertools

    import data.imports.read as read

    _setting(loaded, "import_timeout_seconds", 30)
    clock = itertools.count(0, 100)   # every look at the clock is 100 s later: no real waiting
    monkeypatch.setattr(read.time, "monotonic", lambda: next(clock))
    result = validate_workbook(loaded, workbook_bytes(full_workbook_rows()), "慢.xlsx", today=TODAY)
    assert result.fatal == "检查超过 30 秒仍未完成，已停止：文件过大或过于复杂，请拆分后分批导入。"


def test_counts_beyond_int32_are_refused_at_validation_not_at_commit(loaded):
    before = fingerprint(loaded)
    rows = _mutated("数据目录", 2, "信息项数", 2**40)
    result = import_workbook(loaded, workbook_bytes(rows), "大数.xlsx", today=TODAY)
    assert result.validation.error_messages() == ["「数据目录」第 2 行「信息项数」：1099511627776 超过上限 2147483647"]
    assert fingerprint(loaded) == before


@pytest.mark.parametrize("sheet,label", [("数据目录", "信息项数"), ("质量检查", "完整性")])
def test_infinite_numbers_are_refused(loaded, sheet, label):
    data = workbook_bytes(_mutated(sheet, 2, label, 987654321))
    data = patch_member(data, "xl/worksheets/", b"<v>987654321</v>", b"<v>1E400</v>")
    result = validate_workbook(loaded, data, "无穷.xlsx", today=TODAY)
    assert result.error_messages() == [f"「{sheet}」第 2 行「{label}」：inf 不是有效数字（超出可表示的范围）"]


def test_a_bad_shared_string_index_is_a_damaged_file(loaded):
    data = workbook_bytes({"责任人": full_workbook_rows()["责任人"]})
    header_cell = b't="inlineStr"><is><t>&#21333;&#20301;&#21517;&#31216;</t></is>'   # 单位名称
    data = patch_member(data, "xl/worksheets/", header_cell, b't="s"><v>99999</v>')
    result = validate_workbook(loaded, data, "坏索引.xlsx", today=TODAY)
    assert result.fatal == "文件已损坏或不完整（可能上传中断），无法读取。"


def test_cell_length_is_limited(loaded):
    before = fingerprint(loaded)
    rows = _mutated("安全措施", 2, "备注", "PLACEHOLDER")
    _set(rows, "业务专网", 2, "专网名称", "网" * 2_001)
    # openpyxl cuts what it writes to Excel's 32,767 characters: a hostile file is written by hand.
    data = patch_member(workbook_bytes(rows), "xl/worksheets/", b"PLACEHOLDER", "长".encode() * 1_000_000)
    result = import_workbook(loaded, data, "长.xlsx", today=TODAY)
    assert result.validation.error_messages() == [
        "「业务专网」第 2 行「专网名称」：" + "网" * 200 + "…（共 2,001 个字符） 超过 2,000 个字符的长度上限（共 2,001 个字符）",
        "「安全措施」第 2 行「备注」：" + "长" * 200 + "…（共 1,000,000 个字符） 超过 10,000 个字符的长度上限（共 1,000,000 个字符）",
    ]
    assert fingerprint(loaded) == before


def test_a_csv_field_over_the_csv_limit_is_a_chinese_error(loaded):
    text = "单位名称,评估日期,数据脱敏,数据加密,访问认证,备注\n县公安局,2023-11-02,是,是,是," + "x" * 131_073 + "\n"
    result = validate_workbook(loaded, text.encode("utf-8"), "安全措施.csv", today=TODAY)
    assert result.fatal == "CSV 第 2 行有一个单元格超过 131,072 个字符，未读取：请检查文件（可能缺少配对的引号）。"


def test_a_path_that_is_not_a_regular_file_is_refused_unread(loaded, tmp_path):
    result = validate_workbook(loaded, "/dev/zero", today=TODAY)
    assert result.fatal == "/dev/zero 是设备、管道或其他特殊文件，不是普通文件：只能导入 .xlsx 工作簿或 .csv 文件。"
    result = validate_workbook(loaded, tmp_path, today=TODAY)
    assert result.fatal == f"{tmp_path} 是文件夹，不是普通文件：只能导入 .xlsx 工作簿或 .csv 文件。"


# -- identity normalisation ---------------------------------------------------------------------
def test_look_alike_identities_find_the_unit_and_the_record_they_look_like(loaded):
    units_before = loaded.scalar("SELECT count(*) FROM units")
    requests_before = loaded.rows("SELECT code FROM share_requests ORDER BY code")
    rows = {
        "单位": [["单位名称", "单位类型"], ["县\u200b公安\u202e局", "县直部门"], ["\u200b\u2066 ", "县直部门"]],
        "责任人": [["单位名称", "角色", "姓名", "明确日期"], ["県公安局", "经办人", "王五", "2023-05-21"]],
        "共享申请": [["申请编号", "申请单位", "提供单位", "目录编码", "用途", "提交日期"],
                 ["sq－1", "县民政局\ufeff", "县公安局", "ｇａ－００１", "低保核查（改）", "2023-07-03"]],
    }
    result = validate_workbook(loaded, workbook_bytes(rows), "相似.xlsx", today=TODAY)
    assert result.error_messages() == ["「单位」第 3 行「单位名称」：必填项为空（只有空格或不可见字符）"]
    del rows["单位"][2]
    result = import_workbook(loaded, workbook_bytes(rows), "相似.xlsx", today=TODAY)
    assert result.ok, result.validation.error_messages()
    assert result.inserted == {"单位": 0, "责任人": 0, "共享申请": 0}
    assert loaded.scalar("SELECT count(*) FROM units") == units_before
    assert loaded.rows("SELECT code FROM share_requests ORDER BY code") == requests_before
    assert loaded.rows("SELECT catalog_code, purpose FROM share_requests") == [("GA-001", "低保核查（改）")]


def test_new_codes_are_stored_in_one_case():
    from data.storage.identity import code_key, normalize_code, normalize_name

    assert normalize_code(" ｇａ－００１\u200b ") == "GA-001"
    assert code_key("ga-001") == code_key("GA-001")
    assert normalize_name("ＡＢ県\u2067测试局 (街道)") == "AB县测试局（街道）"
