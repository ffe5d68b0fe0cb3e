"""Reading the change history of assets: who changed what, from where, and the fields before → after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .choices import ChangeSource
from .models import Asset, BusinessUnit, Column, Customer, Domain, FolderMembership, ProductLine

HISTORY_TYPES = {"+": "created", "~": "updated", "-": "deleted"}
ASSET_TRACKED = (
    "kind",
    "external_id",
    "name",
    "description",
    "owner_id",
    "owner_group_id",
    "domain_id",
    "business_unit_id",
    "customer_id",
    "product_line_id",
    "environment",
    "version",
    "status",
    "attributes",
)
COLUMN_TRACKED = ("name", "data_type", "description", "position", "nullable")
_LABELS = {
    "owner_id": ("owner", lambda ids: dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))),
    "owner_group_id": ("owner_group", lambda ids: dict(Group.objects.filter(pk__in=ids).values_list("pk", "name"))),
    "domain_id": ("domain", lambda ids: dict(Domain.objects.filter(pk__in=ids).values_list("pk", "name"))),
    "business_unit_id": (
        "business_unit",
        lambda ids: dict(BusinessUnit.objects.filter(pk__in=ids).values_list("pk", "name")),
    ),
    "customer_id": ("customer", lambda ids: dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))),
    "product_line_id": (
        "product_line",
        lambda ids: dict(ProductLine.objects.filter(pk__in=ids).values_list("pk", "name")),
    ),
}


def stamp_change_source(sender, instance, history_instance, **kwargs) -> None:
    """Copies the source a service set on the instance (api, ui, import, event) onto its history row."""
    if hasattr(history_instance, "history_source"):
        history_instance.history_source = getattr(instance, "_history_source", ChangeSource.SYSTEM)


@dataclass
class Change:
    at: datetime
    action: str
    entity: str  # asset, column or folder
    label: str
    actor: str | None
    source: str
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    reason: str = ""  # why, when the writer said (e.g. "promotion 12")


def _diff(previous: dict | None, current: dict, tracked: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    if previous is None:
        return {
            name: {"before": None, "after": current[name]} for name in tracked if current[name] not in (None, "", {})
        }
    return {
        name: {"before": previous[name], "after": current[name]} for name in tracked if previous[name] != current[name]
    }


def asset_history(*, asset: Asset, limit: int = 500) -> list[Change]:
    """Every change to the asset, its columns and its folder memberships, newest first."""
    users = dict(get_user_model().objects.values_list("pk", "username").filter(pk__in=_actor_ids(asset)))
    entries: list[Change] = []

    rows = list(
        asset.history.order_by("history_date", "history_id").values(
            "history_id",
            "history_date",
            "history_type",
            "history_user_id",
            "history_source",
            "history_change_reason",
            *ASSET_TRACKED,
        )
    )
    tags_by_history = _asset_tags_by_history([r["history_id"] for r in rows])
    previous = None
    for row in rows:
        row["tags"] = tags_by_history.get(row["history_id"], [])
        changes = _diff(previous, row, (*ASSET_TRACKED, "tags"))
        if row["history_type"] == "~" and not changes:
            previous = row
            continue
        entries.append(
            Change(
                at=row["history_date"],
                action=HISTORY_TYPES[row["history_type"]],
                entity="asset",
                label=row["name"],
                actor=users.get(row["history_user_id"]),
                source=row["history_source"],
                changes=changes,
                reason=row["history_change_reason"] or "",
            )
        )
        previous = row

    column_rows = Column.history.filter(asset_id=asset.pk).order_by("id", "history_date", "history_id")
    previous_by_column: dict[int, dict] = {}
    for row in column_rows.values(
        "id", "history_date", "history_type", "history_user_id", "history_source", *COLUMN_TRACKED
    ):
        before = previous_by_column.get(row["id"])
        changes = {} if row["history_type"] == "-" else _diff(before, row, COLUMN_TRACKED)
        entries.append(
            Change(
                at=row["history_date"],
                action=HISTORY_TYPES[row["history_type"]],
                entity="column",
                label=row["name"],
                actor=users.get(row["history_user_id"]),
                source=row["history_source"],
                changes=changes,
            )
        )
        previous_by_column[row["id"]] = row

    folder_names = dict(
        Asset.objects.filter(kind="folder")
        .values_list("pk", "name")
        .filter(pk__in=FolderMembership.history.filter(asset_id=asset.pk).values("folder_id"))
    )
    for row in FolderMembership.history.filter(asset_id=asset.pk).values(
        "folder_id", "history_date", "history_type", "history_user_id", "history_source"
    ):
        entries.append(
            Change(
                at=row["history_date"],
                action="added to folder" if row["history_type"] == "+" else "removed from folder",
                entity="folder",
                label=folder_names.get(row["folder_id"], f"folder {row['folder_id']}"),
                actor=users.get(row["history_user_id"]),
                source=row["history_source"],
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    entries = entries[:limit]
    _label_references(entries)
    return entries


def _actor_ids(asset: Asset):
    from django.db.models import Q

    return (
        get_user_model()
        .objects.filter(
            Q(pk__in=asset.history.values("history_user_id"))
            | Q(pk__in=Column.history.filter(asset_id=asset.pk).values("history_user_id"))
            | Q(pk__in=FolderMembership.history.filter(asset_id=asset.pk).values("history_user_id"))
        )
        .values("pk")
    )


def _asset_tags_by_history(history_ids: list[int]) -> dict[int, list[str]]:
    if not history_ids:
        return {}
    m2m_model = Asset.history.model._meta.get_field("historicalasset_tags").related_model
    result: dict[int, list[str]] = {}
    for history_id, name in m2m_model.objects.filter(history_id__in=history_ids).values_list("history_id", "tag__name"):
        result.setdefault(history_id, []).append(name)
    return {key: sorted(names) for key, names in result.items()}


def _label_references(entries: list[Change]) -> None:
    """Replaces foreign-key ids in the changes with names ("owner_id": 3 → "owner": "alice")."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        for name, change in entry.changes.items():
            if name in _LABELS:
                wanted.setdefault(name, set()).update(v for v in change.values() if v is not None)
    labels = {name: _LABELS[name][1](ids) for name, ids in wanted.items()}
    for entry in entries:
        for name in [n for n in entry.changes if n in _LABELS]:
            change = entry.changes.pop(name)
            names = labels.get(name, {})
            entry.changes[_LABELS[name][0]] = {
                key: (names.get(value, f"#{value}") if value is not None else None) for key, value in change.items()
            }
