"""What a dataset's row and column rules leave visible to the members of one group: pure, tested without a database.

Mirrors `catalog.security.data_access` for a group instead of a reader: a group rule lists the values the group's
rows may have per column; once a dataset has row rules, a group no rule names sees no rows (except through
user-attribute rules, which depend on each member and so are reported separately).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuleView:
    """A plain copy of one rule: `group_id` None means a user-attribute rule."""

    column: str
    group_id: int | None
    allowed_values: tuple[Any, ...] = ()
    user_attribute: str = ""


@dataclass(frozen=True)
class GroupEffect:
    hidden_columns: tuple[str, ...]
    row_filters: tuple[tuple[str, tuple[Any, ...]], ...]
    all_rows: bool  # no row rule restricts the group
    by_attribute: tuple[str, ...]  # user attributes that may add rows for individual members


def group_effect(*, group_id: int, row_rules: Iterable[RuleView], hidden: Iterable[tuple[str, int]]) -> GroupEffect:
    """The columns hidden from the group and the row filters that apply to its members."""
    rules = list(row_rules)
    hidden_columns = tuple(sorted({column for column, gid in hidden if gid == group_id}))
    attributes = tuple(sorted({r.user_attribute for r in rules if r.group_id is None and r.user_attribute}))
    if not rules:
        return GroupEffect(hidden_columns, (), True, ())
    allowed: dict[str, set[Any]] = {}
    for rule in rules:
        if rule.group_id == group_id:
            allowed.setdefault(rule.column, set()).update(rule.allowed_values)
    if not allowed:
        return GroupEffect(hidden_columns, ((rules[0].column, ()),), False, attributes)
    filters = tuple((column, tuple(sorted(values, key=str))) for column, values in sorted(allowed.items()))
    return GroupEffect(hidden_columns, filters, False, attributes)
