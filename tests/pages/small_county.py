"""A small hand-checkable county on top of the plan's units (loaded by data.storage.connect.get_db).

Units used (ids from the plan seed): 1 县大数据发展中心 (the office), 2 县委办, 3 县政府办, plus
47 冰溪街道, a township added here. The main as-of date is 2023-10-31; the figures a page shows at
that date are written beside the rows that make them.
"""

from __future__ import annotations

import datetime as dt

from data.storage.db import Database

AS_OF = dt.date(2023, 10, 31)
EARLIER = dt.date(2023, 6, 30)
OFFICE, WEIBAN, ZHENGFUBAN, TOWN = 1, 2, 3, 47

ADMIN = {"username": "office", "role": "管理员", "unit_id": None, "display_name": "办公室"}
LEADER = {"username": "leader", "role": "领导", "unit_id": None, "display_name": "组长"}
UNIT2 = {"username": "weiban", "role": "单位", "unit_id": WEIBAN, "display_name": "县委办经办人"}
UNIT3 = {"username": "zfb", "role": "单位", "unit_id": ZHENGFUBAN, "display_name": "县政府办经办人"}

D = dt.date

ROWS = {
    "units (unit_id, name, kind, origin, sort_order)": [
        (TOWN, "冰溪街道", "乡镇（街道）", "import", 100),
    ],
    # 县委办 named both (contacts_named = 1); 县政府办 only its leader (0).
    "contacts (unit_id, role, name, title, phone, named_on)": [
        (OFFICE, "分管领导", "赵强", "主任", "13600000011", D(2023, 5, 10)),
        (OFFICE, "经办人", "钱芳", "科员", "13600000012", D(2023, 5, 10)),
        (WEIBAN, "分管领导", "王小明", "副主任", "13800000001", D(2023, 5, 20)),
        (WEIBAN, "经办人", "李华", "科员", "13900000002", D(2023, 5, 25)),
        (ZHENGFUBAN, "分管领导", "张伟", "副主任", "13700000003", D(2023, 7, 1)),
    ],
    # 县委办: 3 items at 2023-10-31 (1 无条件, 1 有条件, 1 不予共享 without basis): mounted 1/3,
    # share rate 2/3, non-share basis 0/1. 县政府办: 1 item published 2023-10-20. The office: one
    # 不予共享 item with its basis.
    "catalog_items (code, name, unit_id, summary, format, share_type, share_condition, nonshare_basis, "
    "open_type, update_cycle, published_on, last_updated_on, mounted_on, item_count)": [
        ("C1", "县委文件目录", WEIBAN, "文件清单", "库表", "无条件共享", None, None, "无条件开放", "每月",
         D(2023, 8, 1), D(2023, 10, 15), D(2023, 8, 10), 10),
        ("C2", "督查事项", WEIBAN, "督查事项清单", "库表", "有条件共享", "仅限审批使用", None, "有条件开放", "每年",
         D(2023, 8, 1), None, None, 6),
        ("C3", "机要文件", WEIBAN, "机要", "文件", "不予共享", None, None, "不予开放", "不定期",
         D(2023, 9, 1), None, None, 3),
        ("C4", "政务服务事项", ZHENGFUBAN, "事项清单", "接口", "无条件共享", None, None, "无条件开放", "每日",
         D(2023, 10, 20), None, D(2023, 10, 20), 12),
        ("C5", "视频监控点位", OFFICE, "点位清单", "库表", "不予共享", None, "《中华人民共和国保守国家秘密法》",
         "不予开放", "每年", D(2023, 9, 15), None, None, 4),
    ],
    # 县政府办 raised 2 demands by 2023-10-31, one matched: 50%. 县委办 raised one, open: 0%.
    "demands (code, unit_id, content, target_code, raised_on, matched_on)": [
        ("D1", ZHENGFUBAN, "县委文件共享", "C1", D(2023, 8, 5), D(2023, 8, 20)),
        ("D2", ZHENGFUBAN, "督查事项共享", "C2", D(2023, 9, 10), None),
        ("D3", WEIBAN, "政务服务事项共享", "C4", D(2023, 10, 25), None),
    ],
    # As of 2023-10-31: R1 on time twice; R2 review late (deadline 2023-10-09), reply on time,
    # a refusal without legal basis; R3 reply overdue since 2023-10-24 (5 working days);
    # R4 review pending, due 2023-11-01 (warning list). R5 (冰溪街道 -> the office) is on time but
    # its refusal gives neither basis nor reason; R6 (the office -> 冰溪街道) waits for review,
    # due 2023-11-02 (warning list); R7 (冰溪街道 -> the office) was never reviewed: overdue since
    # 2023-10-26, 3 working days by 2023-10-31.
    "share_requests (code, requester_id, provider_id, catalog_code, purpose, received_on, reviewed_on, "
    "review_result, forwarded_on, replied_on, reply_result, legal_basis, refusal_reason)": [
        ("R1", ZHENGFUBAN, WEIBAN, "C1", "审批核验", D(2023, 9, 4), D(2023, 9, 5), "通过", D(2023, 9, 5),
         D(2023, 9, 12), "同意", None, None),
        ("R2", ZHENGFUBAN, WEIBAN, "C2", "督查统计", D(2023, 9, 28), D(2023, 10, 10), "通过", D(2023, 10, 10),
         D(2023, 10, 20), "不同意", None, "涉及工作秘密"),
        ("R3", WEIBAN, ZHENGFUBAN, "C4", "事项梳理", D(2023, 10, 9), D(2023, 10, 10), "通过", D(2023, 10, 10),
         None, None, None, None),
        ("R4", WEIBAN, ZHENGFUBAN, "C4", "事项核对", D(2023, 10, 27), None, None, None, None, None, None, None),
        ("R5", TOWN, OFFICE, None, "人口核对", D(2023, 9, 4), D(2023, 9, 5), "通过", D(2023, 9, 5),
         D(2023, 9, 11), "不同意", None, None),
        ("R6", OFFICE, TOWN, None, "村情统计", D(2023, 10, 30), None, None, None, None, None, None, None),
        ("R7", TOWN, OFFICE, None, "证照核验", D(2023, 10, 23), None, None, None, None, None, None, None),
    ],
    # Task 2 (due 2023-06-10): 县委办 completed on time; 县政府办 still 推进中 -> red from 2023-06-11.
    # The 县政府办 report on task 6 waits for verification.
    "progress_reports (task_no, unit_id, reported_on, status, percent, completed_on, note, submitted_by, "
    "verified)": [
        (2, WEIBAN, D(2023, 6, 5), "已完成", 100, D(2023, 6, 1), "已明确分管领导和经办人", "office", True),
        (2, ZHENGFUBAN, D(2023, 6, 20), "推进中", 50, None, "经办人待定", "office", True),
        (6, ZHENGFUBAN, D(2023, 10, 25), "推进中", 60, None, "目录编制中", "zfb", False),
    ],
    "systems (unit_id, name, classified, registered, registered_on, connected, connected_on, provides_data)": [
        (WEIBAN, "公文交换系统", False, True, D(2023, 7, 1), True, D(2023, 8, 1), True),
        (WEIBAN, "机要系统", True, False, None, False, None, None),
        (ZHENGFUBAN, "审批系统", False, True, None, False, None, None),
    ],
    "networks (unit_id, name, classified, migrated, migrated_on)": [
        (WEIBAN, "机要专网", False, True, D(2023, 11, 15)),
        (ZHENGFUBAN, "政务专线", False, False, None),
    ],
    "security_assessments (unit_id, assessed_on, desensitization, encryption, access_auth, note)": [
        (WEIBAN, D(2023, 9, 1), True, True, False, "访问认证待完善"),
    ],
    "quality_checks (catalog_code, checked_on, completeness, accuracy, usability, timeliness, issues_found, "
    "issues_fixed)": [
        ("C1", D(2023, 9, 15), 90, 80, 100, 70, 4, 3),
    ],
    # The logins of the scopes above (pages re-check the session's user against this table).
    "users (username, display_name, password_hash, role, unit_id)": [
        (u["username"], u["display_name"], "not-a-real-hash", u["role"], u["unit_id"])
        for u in (ADMIN, LEADER, UNIT2, UNIT3)
    ],
    # 冰溪街道: 6 of 10 villages on 2023-06-30, 8 of 10 on 2023-09-30.
    "village_coverage (unit_id, counted_on, villages, connected)": [
        (TOWN, D(2023, 6, 30), 10, 6),
        (TOWN, D(2023, 9, 30), 10, 8),
    ],
}


def fill(db: Database) -> None:
    """Insert the rows above (the plan is already loaded by get_db)."""
    with db.transaction() as cur:
        for table, rows in ROWS.items():
            width = len(rows[0])
            cur.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", [list(r) for r in rows])
