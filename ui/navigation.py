"""The page registry: which page files exist, their Chinese titles, and which roles may open them.

app.py hands `st.navigation` only the pages of the logged-in role, and each page checks again with
ui.auth.require_role (a page file can be reached by a typed URL or a test harness, not only by the
menu). Only files present in the tree are registered, so the menu grows as pages land.

A 单位 user has its own workspace pages. Those that stand in for a county page are registered
under that page's URL (url_path): a 单位 user typing /requests, /catalog or /infra opens its own
unit's view instead of landing on the default page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ALL = ("管理员", "领导", "单位")
VIEWERS = ("管理员", "领导")
ADMIN = ("管理员",)
UNIT = ("单位",)


@dataclass(frozen=True)
class PageSpec:
    file: str              # relative to the repository root
    title: str             # shown in the menu and the browser tab
    icon: str
    roles: tuple[str, ...]
    section: str
    url_path: str | None = None  # None: Streamlit derives it from the file name


# In menu order; the first page a role may open is its default page.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "总览", ":material/dashboard:", VIEWERS, "督查看板"),
    PageSpec("pages/my_unit.py", "本单位工作台", ":material/home_work:", UNIT, "本单位"),
    PageSpec("pages/my_requests.py", "本单位共享申请", ":material/swap_horiz:", UNIT, "本单位", "requests"),
    PageSpec("pages/my_catalog.py", "本单位目录", ":material/folder_open:", UNIT, "本单位", "catalog"),
    PageSpec("pages/my_infra.py", "本单位系统与安全", ":material/security:", UNIT, "本单位", "infra"),
    PageSpec("pages/scorecards.py", "单位考评", ":material/leaderboard:", ALL, "督查看板"),
    PageSpec("pages/tasks.py", "任务督办", ":material/task_alt:", ALL, "督查看板"),
    PageSpec("pages/requests.py", "共享申请", ":material/swap_horiz:", VIEWERS, "督查看板"),
    PageSpec("pages/catalog.py", "目录与需求", ":material/folder_open:", VIEWERS, "督查看板"),
    PageSpec("pages/infra.py", "基础设施与安全", ":material/security:", VIEWERS, "督查看板"),
    PageSpec("pages/review.py", "月度考评", ":material/calendar_month:", VIEWERS, "考评与数据"),
    PageSpec("pages/supervision.py", "督查督办", ":material/gavel:", ALL, "考评与数据"),
    PageSpec("pages/import.py", "数据导入", ":material/upload_file:", ("管理员", "单位"), "考评与数据"),
    PageSpec("pages/users.py", "用户管理", ":material/group:", ADMIN, "系统管理"),
    PageSpec("pages/settings.py", "系统设置", ":material/settings:", ADMIN, "系统管理"),
    PageSpec("pages/audit.py", "操作日志", ":material/history:", ADMIN, "系统管理"),
    PageSpec("pages/account.py", "修改密码", ":material/key:", ALL, "系统管理"),
)

PAGE_BY_FILE = {p.file: p for p in PAGES}


def roles_for(file: str) -> tuple[str, ...]:
    """Roles allowed to open a page file (pages call ui.auth.require_role with this)."""
    return PAGE_BY_FILE[file].roles


def specs_for(role: str, root: Path = ROOT) -> list[PageSpec]:
    """The pages `role` may open that exist in the tree, in menu order."""
    return [p for p in PAGES if role in p.roles and (root / p.file).is_file()]


def titles_for(role: str, root: Path = ROOT) -> list[str]:
    return [p.title for p in specs_for(role, root)]


def navigation_pages(role: str, root: Path = ROOT) -> dict[str, list]:
    """{section: [st.Page, ...]} for st.navigation; the role's first page is the default."""
    import streamlit as st

    sections: dict[str, list] = {}
    for i, spec in enumerate(specs_for(role, root)):
        extra = {"url_path": spec.url_path} if spec.url_path else {}
        page = st.Page(str(root / spec.file), title=spec.title, icon=spec.icon, default=(i == 0), **extra)
        sections.setdefault(spec.section, []).append(page)
    return sections
