"""Row- and column-level security: what part of a dataset's data a reader may see. Every read of data goes here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from access.permissions import sees_everything, user_group_ids

from .models import Dataset


@dataclass(frozen=True)
class DataAccess:
    """The rules for one reader: columns hidden from them, and per column the values their rows may have."""

    hidden_columns: frozenset[str] = frozenset()
    row_filters: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    restricted: bool = False  # some rule applied (for the UI: "you see a filtered view")
    rules: list[str] = field(default_factory=list)


def data_access(*, user, dataset: Dataset) -> DataAccess:
    """Applies the dataset's row and column rules to the reader (staff see everything)."""
    if sees_everything(user):
        return DataAccess()
    column_rules = list(dataset.column_rules.all())
    rules = list(dataset.row_rules.all())
    if not column_rules and not rules:
        return DataAccess()  # nothing to apply: the reader's groups need not be read
    groups = set(user_group_ids(user))
    hidden = frozenset(rule.column for rule in column_rules if rule.group_id in groups)
    if not rules:
        return DataAccess(hidden_columns=hidden, restricted=bool(hidden))
    # all() answers from attributes prefetched with the user (batch work over many readers) without a query
    attributes = {a.name: a.value for a in user.attributes.all()} if user.is_authenticated else {}
    allowed: dict[str, set[Any]] = {}
    applied = []
    for rule in rules:
        if rule.group_id is not None and rule.group_id in groups:
            allowed.setdefault(rule.column, set()).update(rule.allowed_values)
            applied.append(f"{rule.column} in group rule")
        elif rule.user_attribute and rule.user_attribute in attributes:
            allowed.setdefault(rule.column, set()).add(attributes[rule.user_attribute])
            applied.append(f"{rule.column} = your {rule.user_attribute}")
    if not allowed:
        # the dataset is protected by row rules and none applies to this reader: no rows
        column = rules[0].column
        return DataAccess(hidden_columns=hidden, row_filters=((column, ()),), restricted=True, rules=["no rule"])
    filters = tuple((column, tuple(sorted(values, key=str))) for column, values in sorted(allowed.items()))
    return DataAccess(hidden_columns=hidden, row_filters=filters, restricted=True, rules=applied)
