"""The WHERE clause of a filtered listing, built one optional condition at a time.

Every listing that narrows by scope, state, task or date (import batches, extension requests,
progress reports, the audit log) adds its conditions here instead of keeping its own pair of
lists, so a 单位 scope is narrowed to its own unit the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from data.storage.scope import Scope


class Where:
    """AND-ed SQL conditions and their `?` parameters, in the order they were added."""

    def __init__(self, condition: str | None = None, *params: Any):
        self.conditions: list[str] = []
        self.params: list[Any] = []
        if condition is not None:
            self.add(condition, *params)

    def add(self, condition: str, *params: Any) -> Where:
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    def when(self, wanted: Any, condition: str, *params: Any) -> Where:
        """`condition` only when `wanted` is truthy (an optional filter the caller was given)."""
        return self.add(condition, *params) if wanted else self

    def own_unit(self, scope: Scope, column: str) -> Where:
        """`column = ?` the scope's unit for a 单位 scope; 管理员 and 领导 see every unit."""
        return self.when(not scope.sees_all, f"{column} = ?", scope.unit_id)

    def sql(self) -> str:
        """" WHERE a AND b …" (with its leading space), or "" when nothing was added."""
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""
