"""The plan itself (玉山县实施方案 and its two annexes), loaded on first start.

Everything here is read from ../shared/seed/implementation-plan.txt by a person and written down
once; docs/plan-mapping.md explains each decision (unit kinds, group words, deadline words).
Loading is idempotent: rows that exist are left alone, so office edits survive a re-run.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import json
import re

from data.storage.db import Database

# The engine's defaults are declared in metrics (data -> metrics is the allowed direction); they are
# re-exported here for the seeding below and the callers that read them as the plan's.
from metrics.registry import DEFAULT_SETTINGS as DEFAULT_SETTINGS
from metrics.registry import DEFAULT_SLA as DEFAULT_SLA
from metrics.registry import DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
from metrics.registry import OFFICE as OFFICE

# (name, kind, member of the leading group per annex 1)
PLAN_UNITS: list[tuple[str, str, bool]] = [
    ("县大数据发展中心", "县直部门", True),
    ("县委办", "县直部门", True),
    ("县政府办", "县直部门", True),
    ("县委组织部", "县直部门", True),
    ("县委编办", "县直部门", True),
    ("县委政法委", "县直部门", True),
    ("县委宣传部", "县直部门", True),
    ("县委保密机要局", "县直部门", False),
    ("县委网信中心", "县直部门", False),
    ("县发改委", "县直部门", True),
    ("县财政局", "县直部门", True),
    ("县工信局", "县直部门", True),
    ("县公安局", "县直部门", True),
    ("县卫健委", "县直部门", True),
    ("县审计局", "县直部门", True),
    ("县自然资源局", "县直部门", True),
    ("县住建局", "县直部门", True),
    ("县城管局", "县直部门", True),
    ("玉山生态环境局", "县直部门", True),
    ("县交通运输局", "县直部门", True),
    ("县农业农村局", "县直部门", True),
    ("县林业局", "县直部门", True),
    ("县水利局", "县直部门", True),
    ("县教体局", "县直部门", True),
    ("县司法局", "县直部门", True),
    ("县民政局", "县直部门", True),
    ("县人社局", "县直部门", True),
    ("县文广新旅局", "县直部门", True),
    ("县市监局", "县直部门", True),
    ("县应急管理局", "县直部门", True),
    ("县统计局", "县直部门", True),
    ("县商务局", "县直部门", True),
    ("县医疗保障局", "县直部门", True),
    ("县科技局", "县直部门", True),
    ("县乡村振兴局", "县直部门", True),
    ("县退役军人事务局", "县直部门", True),
    ("县档案馆", "县直部门", True),
    ("县政务服务中心", "县直部门", True),
    ("县电信公司", "公共服务企业", True),
    ("县移动公司", "公共服务企业", True),
    ("县联通公司", "公共服务企业", True),
    ("县供电公司", "公共服务企业", False),
    ("县水投公司", "公共服务企业", False),
    ("利泰燃气公司", "公共服务企业", False),
    ("县公交公司", "公共服务企业", False),
    ("人民银行玉山支行", "其他", False),
]

# Other names the plan uses for the same unit.
PLAN_ALIASES: dict[str, str] = {
    "县网信中心": "县委网信中心",
    "医保局": "县医疗保障局",
    "卫健委": "县卫健委",
    "县大数据发展服务中心": OFFICE,
    "玉山县大数据发展中心": OFFICE,
}

# Group words of annex 2 and the unit kinds they expand to (editable in assignment_groups).
PLAN_GROUPS: list[tuple[str, str]] = [
    ("县直各单位", "县直部门"),
    ("县直各部门", "县直部门"),
    ("县有关单位", "县直部门"),
    ("各乡镇（街道）", "乡镇（街道）"),
]

# Annex 2: (no, section, title, goal, deadline text, responsible units as written, named units, group words)
PLAN_TASKS: list[tuple[int, str, str, str, str, str, list[str], list[str]]] = [
    (1, "加强组织领导", "建立县级议事协调机制", "建立县级政务数据共享协调机制",
     "2023年5月初", "县大数据发展中心", [OFFICE], []),
    (2, "加强组织领导", "明确工作职责",
     "明确各部门单位政务数据共享工作分管负责人和经办人，建立完善本部门政务数据共享工作机制，落实共享责任。",
     "2023年6月初", "县大数据发展中心、县直各单位", [OFFICE], ["县直各单位"]),
    (3, "夯实基础设施体系", "升级整合电子政务网络",
     "政务外网实现“村村通”和五级全覆盖；县直各部门现有各类非涉密业务专网按要求接入电子政务外网，"
     "原则上不再新建业务专网或搭设部门间专线，畅通网间数据共享通道。",
     "2023年12月底", "县大数据发展中心、县委保密机要局、县有关单位，各乡镇（街道）",
     [OFFICE, "县委保密机要局"], ["县有关单位", "各乡镇（街道）"]),
    (4, "夯实基础设施体系", "构建全县一体化政务大数据体系",
     "加快建设县大数据中心，实现与省市大数据中心的互联互通。持续提升数据交换通道的支撑保障能力，"
     "充分发挥数据共享枢纽作用，统一受理办理全县数据共享需求，有效满足各级各部门的数据共享需求。",
     "2024年12月底", "县大数据发展中心、县直各单位", [OFFICE], ["县直各单位"]),
    (5, "夯实基础设施体系", "强化平台支撑",
     "利用全国一体化政务服务平台和国家、省、市三级数据共享交换平台，在保障数据安全的前提下，"
     "实现政务数据跨层级、跨地域、跨系统、跨部门、跨业务高效便捷共享。",
     "持续并长期坚持", "县大数据发展中心", [OFFICE], []),
    (6, "提升政务数据共享管理服务水平", "编制政务数据目录和供需对接清单",
     "汇总形成县级数据目录、数据供需对接清单，纳入市数据共享交换平台统一发布、运行管理，"
     "并结合业务办理实际，进行常态化更新维护。",
     "2023年9月底", "县大数据发展中心、县直各单位", [OFFICE], ["县直各单位"]),
    (7, "提升政务数据共享管理服务水平", "建立健全政务数据供需对接机制",
     "依托市数据共享交换平台，数据使用部门按需在市数据共享交换平台提出数据使用申请，"
     "数据提供部门对使用部门提出的申请及时审核。",
     "2023年12月底", "县大数据发展中心、县直各单位", [OFFICE], ["县直各单位"]),
    (8, "提升政务数据共享管理服务水平", "推动汇聚各类服务数据按需融合",
     "加快水、电、气、暖、金融、医疗等重点民生领域数据共享共用，推动社会数据与政务数据相融合，"
     "鼓励各部门探索更多融合创新应用场景。",
     "2023年12月底", "县大数据发展中心、县直各单位负责", [OFFICE], ["县直各单位"]),
    (9, "提升政务数据共享管理服务水平", "提高政务数据质量管理能力",
     "以“赣服通”、“赣政通”等应用效果倒逼数据质量提升，进一步完善数据分级分类标准，加强数据治理，"
     "通过多源比对、关联分析等手段提升数据完整性、准确性、可用性和时效性。",
     "2023年12月底", "县大数据发展中心、县直各单位", [OFFICE], ["县直各单位"]),
    (10, "提升政务数据共享管理服务水平", "提高共享数据应用能力",
     "基于“赣服通”、“赣政通”等业务协同应用场景，分级分类推进共享数据在公共服务、社会治理和辅助决策等方面的应用。",
     "2023年12月底", "县大数据发展中心、县直各单位", [OFFICE], ["县直各单位"]),
    (11, "构建政务数据共享安全保障体系", "完善安全管理制度",
     "按照“谁管理、谁负责”和“谁使用、谁负责”的原则，落实政务数据采集、汇聚、存储、共享开发利用等各环节安全责任。"
     "各部门应当落实本部门信息系统的数据脱敏、数据加密、访问认证等安全防护措施。",
     "2023年12月底", "县大数据发展中心、县网信中心、县公安局等",
     [OFFICE, "县委网信中心", "县公安局"], []),
    (12, "构建政务数据共享安全保障体系", "加强政务数据使用安全",
     "强化各类政务信息系统和应用终端的技术防护，严格履行政务数据使用安全责任，加强共享数据授权管理，"
     "严格按照经批准的数据共享范围、时限、用途等使用数据，不得随意扩大应用场景。",
     "2023年12月底", "县直各部门", [], ["县直各部门"]),
    (13, "保障措施", "做好项目统筹管理和经费保障",
     "建立全县政务信息系统资产管理制度，对各单位政务信息系统实行统一注册管理。制订《玉山县信息化项目建设管理办法》；"
     "无数据资源共享的信息化系统不予安排运维经费。",
     "2023年5月底", "县财政局、县发改委、县大数据发展中心", ["县财政局", "县发改委", OFFICE], []),
    (14, "保障措施", "加强培训交流",
     "加强政务数据共享人才队伍建设，积极培养既精通政府业务又能运用互联网、大数据技术开展工作的综合型人才。",
     "持续并长期坚持", "县人社局、县大数据发展中心", ["县人社局", OFFICE], []),
    (15, "保障措施", "强化监督评估",
     "建立政务数据共享工作监督评估机制，按程序将政务数据共享工作纳入政府绩效考核内容。",
     "2023年12月底", "县委组织部、县政府办、县人社局、县大数据发展中心",
     ["县委组织部", "县政府办", "县人社局", OFFICE], []),
]

PLAN_MILESTONES = [
    ("M1", dt.date(2023, 5, 31), "建立协调机制、明确责任人",
     "县级政务数据共享议事协调机制建立；各单位明确分管领导和经办人",
     [1, 2, 13], ["contacts_named"]),
    ("M2", dt.date(2023, 9, 30), "摸清底数、发布目录",
     "形成政务数据资源清单和需求清单，通过平台发布全县政务数据目录并常态化更新",
     [6], ["catalog_published", "catalog_fresh_rate", "demand_matched_rate"]),
    ("M3", dt.date(2023, 12, 31), "平台能力到位、质量改善",
     "平台具备目录管理、归集、治理、分析、安全防护能力；县数据中心与省市互联互通；数据质量不断改善",
     [3, 7, 8, 9, 10, 11, 12, 15],
     ["systems_connected_rate", "networks_migrated_rate", "security_rate", "reply_ontime_rate", "quality_score"]),
    ("M4", dt.date(2024, 12, 31), "共享体系基本建成",
     "质量显著提升、标准规范完善、数据中心高效运营、供需对接精准顺畅、安全保障水平显著提高",
     [4], ["catalog_mounted_rate", "demand_matched_rate", "quality_score", "security_rate", "task_ontime_rate"]),
]

_DEADLINE = re.compile(r"(\d{4})年(\d{1,2})月(初|底|上旬|中旬|下旬|末)?")


def parse_deadline(text: str) -> dt.date | None:
    """Annex 2 deadline words to a date: 月初/上旬 = the 10th, 中旬 = the 20th, 月底/下旬/月末 =
    the last day; 持续并长期坚持 (ongoing) = None."""
    text = text.strip()
    if "持续" in text or "长期" in text:
        return None
    m = _DEADLINE.search(text)
    if not m:
        raise ValueError(f"无法识别的完成时限：{text}")
    year, month, word = int(m[1]), int(m[2]), m[3] or "底"
    if word in ("初", "上旬"):
        return dt.date(year, month, 10)
    if word == "中旬":
        return dt.date(year, month, 20)
    return dt.date(year, month, _cal.monthrange(year, month)[1])


def normalize_name(name: str) -> str:
    """Unit names compare after dropping invisible characters, NFKC, a small look-alike map and
    removing spaces (the full-width brackets of 乡镇（街道） are kept: that is how the plan writes
    them). One rule for every match: data.storage.identity.normalize_name."""
    from data.storage.identity import normalize_name as identity_name

    return identity_name(name)


def expand_assignments(cur) -> int:
    """Insert the (task, unit) pairs that annex 2 implies and that are missing: named units
    and every unit of the kinds a group word maps to. Run after units are added."""
    before = cur.execute("SELECT count(*) FROM task_assignments").fetchone()[0]
    for no, _s, _t, _g, _d, _w, named, groups in PLAN_TASKS:
        for unit in named:
            cur.execute(
                "INSERT INTO task_assignments SELECT ?, unit_id, ? FROM units WHERE name = ? "
                "ON CONFLICT DO NOTHING",
                [no, unit, unit],
            )
        for word in groups:
            cur.execute(
                "INSERT INTO task_assignments SELECT ?, u.unit_id, ? FROM units u "
                "JOIN assignment_groups g ON g.unit_kind = u.kind AND g.group_word = ? "
                "ON CONFLICT DO NOTHING",
                [no, word, word],
            )
    return cur.execute("SELECT count(*) FROM task_assignments").fetchone()[0] - before


def seed_milestone_criteria(cur) -> None:
    """The default milestone criteria (metrics.criteria.DEFAULT_CRITERIA, in force from
    2023-01-01); rows that exist are left alone, so office edits survive a re-run."""
    from metrics.criteria import default_criteria

    if not cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'milestone_criteria'"
    ).fetchone()[0]:
        return  # a database still at an older schema version (only tests build one)
    rows = default_criteria().select("milestone", "criterion", "effective_from", "op", "threshold",
                                     "unit_kinds", "active", "note").rows()
    cur.executemany(
        "INSERT INTO milestone_criteria VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows
    )


def load_plan(db: Database) -> dict[str, int]:
    """Create what the plan names, leaving existing rows (and office edits) untouched."""
    from data.storage.calendar import seed_calendar

    with db.transaction() as cur:
        next_id = cur.execute("SELECT coalesce(max(unit_id), 0) + 1 FROM units").fetchone()[0]
        for order, (name, kind, member) in enumerate(PLAN_UNITS, start=1):
            if cur.execute("SELECT 1 FROM units WHERE name = ?", [name]).fetchone():
                continue
            cur.execute(
                "INSERT INTO units (unit_id, name, kind, is_member, origin, sort_order) VALUES (?, ?, ?, ?, 'plan', ?)",
                [next_id, name, kind, member, order],
            )
            next_id += 1
        for alias, name in PLAN_ALIASES.items():
            cur.execute(
                "INSERT INTO unit_aliases SELECT ?, unit_id FROM units WHERE name = ? ON CONFLICT DO NOTHING",
                [alias, name],
            )
        cur.executemany("INSERT INTO assignment_groups VALUES (?, ?) ON CONFLICT DO NOTHING", PLAN_GROUPS)
        for no, section, title, goal, text, units_text, _n, _g in PLAN_TASKS:
            due = parse_deadline(text)
            cur.execute(
                "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [no, section, title, goal, text, due, due is None, units_text],
            )
        for code, due, title, req, task_nos, indicators in PLAN_MILESTONES:
            cur.execute(
                "INSERT INTO milestones VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [code, due, title, req, task_nos, indicators],
            )
        for key, value in DEFAULT_SETTINGS.items():
            cur.execute(
                "INSERT INTO settings VALUES (?, ?) ON CONFLICT DO NOTHING",
                [key, json.dumps(value, ensure_ascii=False)],
            )
        cur.executemany("INSERT INTO sla_rules VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", DEFAULT_SLA)
        seed_milestone_criteria(cur)
        seed_calendar(cur)
        expand_assignments(cur)
    return plan_counts(db)


def plan_counts(db: Database) -> dict[str, int]:
    """How many units, tasks, assignments and milestones the database holds."""
    return {
        "units": db.scalar("SELECT count(*) FROM units"),
        "tasks": db.scalar("SELECT count(*) FROM tasks"),
        "assignments": db.scalar("SELECT count(*) FROM task_assignments"),
        "milestones": db.scalar("SELECT count(*) FROM milestones"),
    }
