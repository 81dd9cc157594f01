"""The import contract as data: every sheet and its columns (import-format.md), who may write
each column when a 单位 user imports (docs/security.md "Column ownership per sheet"), and the
limits checked before and while a file is read (each a setting).

The bottom of data/imports: the template, the reader, the checkers and the writer all read these
declarations, so they cannot drift apart; this module imports nothing else of data/imports.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from data.storage.db import Database
from metrics.registry import UNIT_KINDS

TOWNSHIP = "乡镇（街道）"
DEFAULT_UPLOAD_LIMIT_MB = 20
MIN_DATE = dt.date(2000, 1, 1)
ERROR_COLUMNS = ("工作表", "行号", "列", "值", "问题")

# A read of the database: (sql, params) -> rows. The check reads through one, the write through
# its transaction's cursor.
Reader = Callable[[str, Sequence[Any] | None], list[tuple]]

# -- the contract as data ---------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    label: str                 # Chinese header, exactly as import-format.md writes it
    field: str                 # database column
    kind: str                  # text, unit, date, bool, enum, int, score, catalog
    required: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    future_ok: bool = False    # a date that may lie after today (使用期限至)
    note: str = ""             # shown in the template's 说明 sheet


@dataclass(frozen=True)
class Sheet:
    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]       # natural key, as database fields
    owner: str | None          # the field naming the unit a 单位 user must be (None: see code)
    example: tuple[Any, ...]   # the template's example row, in column order

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


def _c(label, field_name, kind, required=False, **kw) -> Column:
    return Column(label, field_name, kind, required, **kw)


YES_NO = ("是", "否")
D = dt.date

SHEETS: tuple[Sheet, ...] = (
    Sheet("单位", "units", (
        _c("单位名称", "name", "text", True, note="单位全称；全角/半角、空格不影响匹配"),
        _c("单位类型", "kind", "enum", True, choices=UNIT_KINDS),
        _c("领导小组成员单位", "is_member", "bool"),
    ), ("name",), "name", ("县大数据发展中心", "县直部门", "是")),
    Sheet("责任人", "contacts", (
        _c("单位名称", "unit_id", "unit", True),
        _c("角色", "role", "enum", True, choices=("分管领导", "经办人")),
        _c("姓名", "name", "text", True),
        _c("职务", "title", "text"),
        _c("联系电话", "phone", "text"),
        _c("明确日期", "named_on", "date", True),
    ), ("unit_id", "role"), "unit_id",
        ("县大数据发展中心", "经办人", "张三", "科员", "0793-2220000", D(2023, 5, 20))),
    Sheet("数据目录", "catalog_items", (
        _c("目录编码", "code", "text", True),
        _c("资源名称", "name", "text", True),
        _c("提供单位", "unit_id", "unit", True),
        _c("资源摘要", "summary", "text"),
        _c("资源格式", "format", "enum", True, choices=("库表", "文件", "接口")),
        _c("共享类型", "share_type", "enum", True, choices=("无条件共享", "有条件共享", "不予共享")),
        _c("共享条件", "share_condition", "text", note="有条件共享时填写"),
        _c("不予共享依据", "nonshare_basis", "text", note="不予共享时必须填写法律法规或政策依据"),
        _c("开放类型", "open_type", "enum", choices=("无条件开放", "有条件开放", "不予开放")),
        _c("更新周期", "update_cycle", "enum", True,
           choices=("实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期")),
        _c("发布日期", "published_on", "date", True),
        _c("最近更新日期", "last_updated_on", "date"),
        _c("挂接日期", "mounted_on", "date"),
        _c("信息项数", "item_count", "int", low=0),
    ), ("code",), "unit_id",
        ("示例-0001", "示例资源", "县大数据发展中心", "资源摘要示例", "库表", "无条件共享", None, None,
         "无条件开放", "每月", D(2023, 6, 1), D(2023, 8, 1), D(2023, 6, 15), 12)),
    Sheet("需求清单", "demands", (
        _c("需求编号", "code", "text", True),
        _c("需求单位", "unit_id", "unit", True),
        _c("需求内容", "content", "text", True),
        _c("目标目录编码", "target_code", "catalog", note="须为已有或本工作簿中的目录编码"),
        _c("提出日期", "raised_on", "date", True),
        _c("对接日期", "matched_on", "date"),
    ), ("code",), "unit_id",
        ("示例-XQ-0001", "县大数据发展中心", "需求内容示例", "示例-0001", D(2023, 6, 5), D(2023, 6, 20))),
    Sheet("共享申请", "share_requests", (
        _c("申请编号", "code", "text", True),
        _c("申请单位", "requester_id", "unit", True),
        _c("提供单位", "provider_id", "unit", True),
        _c("目录编码", "catalog_code", "catalog", note="须为已有或本工作簿中的目录编码"),
        _c("用途", "purpose", "text", True),
        _c("使用期限至", "use_until", "date", future_ok=True),
        _c("提交日期", "received_on", "date", True),
        _c("初审日期", "reviewed_on", "date", note="不得早于提交日期"),
        _c("初审结果", "review_result", "enum", choices=("通过", "退回")),
        _c("转送日期", "forwarded_on", "date"),
        _c("答复日期", "replied_on", "date", note="不得早于转送日期（未转送的不得早于初审日期）"),
        _c("答复结果", "reply_result", "enum", choices=("同意", "部分同意", "不同意"),
           note="填写答复结果时必须填写答复日期"),
        _c("法律政策依据", "legal_basis", "text", note="不同意、部分同意时应填写"),
        _c("不予共享理由", "refusal_reason", "text", note="不同意、部分同意时应填写"),
    ), ("code",), "provider_id",
        ("示例-SQ-0001", "县公安局", "县大数据发展中心", "示例-0001", "用途示例", D(2024, 12, 31),
         D(2023, 7, 3), D(2023, 7, 5), "通过", D(2023, 7, 5), D(2023, 7, 12), "同意", None, None)),
    Sheet("任务进展", "progress_reports", (
        _c("任务序号", "task_no", "int", True, low=1, high=15, note="附件2的任务序号 1–15"),
        _c("单位名称", "unit_id", "unit", True),
        _c("报送日期", "reported_on", "date", True),
        _c("状态", "status", "enum", True, choices=("未启动", "推进中", "已完成")),
        _c("完成比例", "percent", "int", low=0, high=100, note="0–100 的整数"),
        _c("完成日期", "completed_on", "date", note="已完成时必须填写，且不得晚于报送日期"),
        _c("进展说明", "note", "text"),
    ), ("task_no", "unit_id", "reported_on"), "unit_id",
        (1, "县大数据发展中心", D(2023, 5, 8), "已完成", 100, D(2023, 5, 6), "进展说明示例")),
    Sheet("信息系统", "systems", (
        _c("系统名称", "name", "text", True),
        _c("单位名称", "unit_id", "unit", True),
        _c("是否涉密", "classified", "bool", True),
        _c("是否已注册", "registered", "bool", note="留空时：填了注册日期视为是，否则为否"),
        _c("注册日期", "registered_on", "date"),
        _c("是否联通共享平台", "connected", "bool", note="留空时：填了联通日期视为是，否则为否"),
        _c("联通日期", "connected_on", "date"),
        _c("是否提供共享数据", "provides_data", "bool"),
    ), ("unit_id", "name"), "unit_id",
        ("示例系统", "县大数据发展中心", "否", "是", D(2023, 6, 1), "是", D(2023, 7, 1), "是")),
    Sheet("业务专网", "networks", (
        _c("专网名称", "name", "text", True),
        _c("单位名称", "unit_id", "unit", True),
        _c("是否涉密", "classified", "bool", True),
        _c("是否已迁移", "migrated", "bool", note="留空时：填了迁移日期视为是，否则为否"),
        _c("迁移日期", "migrated_on", "date"),
    ), ("unit_id", "name"), "unit_id", ("示例专网", "县大数据发展中心", "否", "是", D(2023, 10, 1))),
    Sheet("安全措施", "security_assessments", (
        _c("单位名称", "unit_id", "unit", True),
        _c("评估日期", "assessed_on", "date", True),
        _c("数据脱敏", "desensitization", "bool", True),
        _c("数据加密", "encryption", "bool", True),
        _c("访问认证", "access_auth", "bool", True),
        _c("备注", "note", "text"),
    ), ("unit_id", "assessed_on"), "unit_id",
        ("县大数据发展中心", D(2023, 11, 1), "是", "是", "否", "备注示例")),
    Sheet("质量检查", "quality_checks", (
        _c("目录编码", "catalog_code", "catalog", True, note="须为已有或本工作簿中的目录编码"),
        _c("检查日期", "checked_on", "date", True),
        _c("完整性", "completeness", "score", True, low=0, high=100, note="0–100 分"),
        _c("准确性", "accuracy", "score", True, low=0, high=100, note="0–100 分"),
        _c("可用性", "usability", "score", True, low=0, high=100, note="0–100 分"),
        _c("时效性", "timeliness", "score", True, low=0, high=100, note="0–100 分"),
        _c("发现问题数", "issues_found", "int", low=0),
        _c("已整改数", "issues_fixed", "int", low=0, note="不得大于发现问题数"),
    ), ("catalog_code", "checked_on"), None,
        ("示例-0001", D(2023, 9, 1), 95, 90, 88, 92, 3, 2)),
    Sheet("外网覆盖", "village_coverage", (
        _c("乡镇（街道）", "unit_id", "unit", True, note="类型为乡镇（街道）的单位"),
        _c("统计日期", "counted_on", "date", True),
        _c("行政村（社区）数", "villages", "int", True, low=0),
        _c("已接入数", "connected", "int", True, low=0, note="不得大于行政村（社区）数"),
    ), ("unit_id", "counted_on"), "unit_id", ("示例镇", D(2023, 12, 1), 12, 10)),
)
SHEET_BY_NAME = {s.name: s for s in SHEETS}
# The 说明 sheet of the template is not data.
IGNORED_SHEETS = {"说明"}


# -- the supervision loop's sheets: 约谈记录 and 整改承诺 (docs/import.md), only the office imports them
INTERVIEWS, COMMITMENTS = "约谈记录", "整改承诺"

SUPERVISION_SHEETS: tuple[Sheet, ...] = (
    Sheet(INTERVIEWS, "interviews", (
        Column("考评月份", "month", "month", True, note="约谈所依据的月度考评，如 2023-10 或 2023年10月"),
        Column("单位名称", "unit_id", "unit", True, note="已登记的单位（领导小组办公室不约谈自身）"),
        Column("约谈日期", "held_on", "date", True),
        Column("参加人员", "attendees", "text", True),
        Column("约谈事由", "reasons", "text", note="留空则按当月考评预填红灯任务和失分较多的指标"),
    ), ("month", "unit_id"), None, ("2023-10", "示例单位", D(2023, 11, 3), "分管领导、经办人", "红灯任务2项")),
    Sheet(COMMITMENTS, "commitments", (
        Column("考评月份", "month", "month", True, note="须有该单位该月的约谈记录（数据库或本工作簿中）"),
        Column("单位名称", "unit_id", "unit", True),
        Column("指标", "indicator", "text", note="指标名称，如 目录挂接率；与任务序号二选一"),
        Column("目标值", "target", "score", low=0, high=100, note="比率填百分数（90 表示 90%）；红灯任务数填个数；得分填分数"),
        Column("任务序号", "task_no", "int", low=1, high=15, note="承诺完成的任务；与指标二选一"),
        Column("整改期限", "due_on", "date", True, future_ok=True, note="不得早于约谈日期"),
        Column("备注", "note", "text"),
    ), ("month", "unit_id", "indicator", "task_no"), None,
        ("2023-10", "示例单位", "目录挂接率", 90, None, D(2023, 12, 31), "")),
)
SUPERVISION_BY_NAME = {s.name: s for s in SUPERVISION_SHEETS}


# -- column ownership for 单位 users (docs/security.md "Column ownership per sheet") -------------
# office: only the leading-group office writes it; unit: the unit named in the sheet's owner
# column; requester / provider: the unit that is the request's 申请单位 / 提供单位.
OFFICE_SHEETS = {"单位": "单位名单只能由领导小组办公室导入",
                  "质量检查": "数据质量检查由领导小组办公室组织并导入，单位账号不能导入"}
_SPECIAL_OWNERS = {
    "需求清单": {"matched_on": "office"},
    "共享申请": {
        "code": "requester", "requester_id": "requester", "provider_id": "requester",
        "catalog_code": "requester", "purpose": "requester", "use_until": "requester",
        "received_on": "requester",
        "reviewed_on": "office", "review_result": "office", "forwarded_on": "office",
        "replied_on": "provider", "reply_result": "provider", "legal_basis": "provider",
        "refusal_reason": "provider",
    },
}
NOT_YOURS = {
    "office": "由领导小组办公室填写（初审、转送、对接），单位账号不能填写或修改",
    "requester": "由申请单位填写，本单位作为提供单位不能填写或修改",
    "provider": "由提供单位答复，本单位作为申请单位不能填写或修改",
}


def column_owner(sheet: Sheet, field_name: str) -> str:
    """Who may write a column when a 单位 user imports: office, unit, requester or provider."""
    if sheet.name in OFFICE_SHEETS:
        return "office"
    return _SPECIAL_OWNERS.get(sheet.name, {}).get(field_name, "unit")


# -- limits -----------------------------------------------------------------------------------
MB = 1024 * 1024
INT32_MAX = 2**31 - 1
CSV_FIELD_LIMIT = 131_072   # the csv module's default field limit, kept: a longer field is refused
NAME_MAX_CHARS = 2_000      # names and codes
TEXT_MAX_CHARS = 10_000     # every other text cell


@dataclass(frozen=True)
class ImportLimits:
    """Caps checked before (or while) a file is parsed; each is a setting (docs/security.md)."""

    upload_mb: float = float(DEFAULT_UPLOAD_LIMIT_MB)   # settings.upload_limit_mb
    max_uncompressed_mb: float = 100.0           # settings.import_max_uncompressed_mb (xlsx zip members)
    max_rows: int = 30_000                       # settings.import_max_rows (data rows per sheet)
    max_columns: int = 64                        # settings.import_max_columns
    max_errors: int = 200                        # settings.import_max_errors (errors listed)
    timeout_seconds: float = 60.0                # settings.import_timeout_seconds


LIMIT_SETTINGS = {
    "upload_mb": "upload_limit_mb",
    "max_uncompressed_mb": "import_max_uncompressed_mb",
    "max_rows": "import_max_rows",
    "max_columns": "import_max_columns",
    "max_errors": "import_max_errors",
    "timeout_seconds": "import_timeout_seconds",
}


def import_limits(db: Database) -> ImportLimits:
    """The limits in force: each setting when it is a positive number, else the default."""
    stored = dict(db.rows("SELECT key, value FROM settings WHERE key IN ("
                          + ", ".join("?" for _ in LIMIT_SETTINGS) + ")", list(LIMIT_SETTINGS.values())))
    values = {}
    for attr, key in LIMIT_SETTINGS.items():
        default = getattr(ImportLimits, attr)
        try:
            number = float(json.loads(stored[key])) if key in stored else default
        except (TypeError, ValueError):
            number = default
        if not math.isfinite(number) or number <= 0:
            number = default
        values[attr] = int(number) if isinstance(default, int) else number
    return ImportLimits(**values)


def upload_limit_mb(db: Database) -> float:
    return import_limits(db).upload_mb

