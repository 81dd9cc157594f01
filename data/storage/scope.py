"""Who is asking: every query function in data/ that returns unit data takes a Scope.

Permissions are enforced here and in the read functions of data.services, never only by hiding buttons: a 单位 user's
scope names one unit, and whatever arguments a page passes, only that unit's detail comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("管理员", "领导", "单位")


class PermissionDenied(PermissionError):
    """Raised with a Chinese message when a scope asks for what its role may not see or do."""


@dataclass(frozen=True)
class Scope:
    username: str
    role: str                  # 管理员 / 领导 / 单位
    unit_id: int | None = None  # set for 单位 only
    display_name: str = ""

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "单位" and self.unit_id is None:
            raise ValueError("a 单位 scope needs its unit_id")

    @property
    def sees_all(self) -> bool:
        return self.role in ("管理员", "领导")

    @property
    def can_write(self) -> bool:
        return self.role in ("管理员", "单位")

    @property
    def is_admin(self) -> bool:
        return self.role == "管理员"

    def allows_unit(self, unit_id: int | None) -> bool:
        return self.sees_all or (unit_id is not None and int(unit_id) == self.unit_id)

    def require_unit(self, unit_id: int | None) -> None:
        if not self.allows_unit(unit_id):
            raise PermissionDenied("无权查看或修改其他单位的数据。")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied("此操作仅限领导小组办公室（管理员）。")

    def require_write(self) -> None:
        if not self.can_write:
            raise PermissionDenied("领导账号为只读，不能修改数据。")


# Used by the command line and by first-start seeding: the operator at the console is the office.
SYSTEM = Scope(username="system", role="管理员", display_name="系统")
