"""Applying many import items at once: set-based writes for the common case of a large import.

The catalog and lineage services write one row at a time (validation, history and search per row), which is right
for the API and for events but makes a 50,000-asset bundle take tens of minutes. For a batch of already validated
plans this module creates the new assets, columns, edges, column edges and folder memberships with one INSERT per
table (with their history rows, as the services would write them) and refreshes the search documents in one
statement through `catalog.services.search_index_refresh`. Updates of existing assets and ended edges, which are
rare in imports, still go through the services one by one.

The catalog and lineage should expose batched variants of asset_create / edge_upsert; until they do, this module
is the one place outside those apps that writes their tables, and it validates rows the way their services do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from catalog import services as catalog_services
from catalog.attributes import attribute_errors
from catalog.choices import KINDS_WITH_COLUMNS, AssetKind, AssetStatus
from catalog.models import Asset, Column, FolderMembership
from config.errors import DomainError
from lineage import services as lineage_services
from lineage.models import ColumnEdge, Edge

from .changes import AssetChange, Plan, Ref

BATCH_SIZE = 2000


@dataclass
class BulkResult:
    created: set[Ref] = field(default_factory=set)
    changed: set[Ref] = field(default_factory=set)
    ids: dict[Ref, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _actor(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None


def _placeholder(ref: Ref) -> AssetChange:
    from .services import _placeholder_name

    return AssetChange(ref=ref, name=_placeholder_name(ref))


def _creations(plans: list[Plan], existing: dict[Ref, Asset]) -> dict[Ref, AssetChange]:
    """One creation per missing asset: its described change (columns of repeated table changes united), or a
    placeholder for an asset that is only referenced."""
    from .services import _refs_of

    wanted: dict[Ref, AssetChange] = {}
    for plan in plans:
        for change in plan.assets:
            if change.ref in existing or change.delete:
                continue
            first = wanted.get(change.ref)
            if first is None:
                wanted[change.ref] = AssetChange(
                    ref=change.ref,
                    name=change.name,
                    attributes=dict(change.attributes or {}),
                    version=change.version,
                    columns=list(change.columns) if change.columns is not None else None,
                    tags=change.tags,
                    description=change.description,
                )
                continue
            first.name = first.name or change.name
            if change.columns:
                names = {c["name"] for c in first.columns or []}
                first.columns = [*(first.columns or []), *[c for c in change.columns if c["name"] not in names]]
    deleted = {c.ref for plan in plans for c in plan.assets if c.delete}
    for plan in plans:
        for ref in _refs_of(plan):
            if ref not in existing and ref not in wanted and ref not in deleted:
                wanted[ref] = _placeholder(ref)
    return wanted


def _assets_create(creations: dict[Ref, AssetChange], *, actor: AbstractBaseUser | None, via: str) -> dict[Ref, Asset]:
    from catalog.services import tags_resolve

    from .services import _placeholder_name

    rows = []
    for change in creations.values():
        attributes = change.attributes or {}
        errors = attribute_errors(kind=change.ref[0], attributes=attributes)
        if errors:
            raise DomainError("; ".join(errors), field="attributes")
        asset = Asset(
            kind=change.ref[0],
            external_id=change.ref[1],
            name=change.name or _placeholder_name(change.ref),
            description=change.description,
            attributes=attributes,
            version=change.version or 1,
        )
        asset.full_clean(exclude=["search_vector", "tags"], validate_unique=False, validate_constraints=False)
        rows.append(asset)
    created = bulk_create_with_history(
        rows,
        Asset,
        batch_size=BATCH_SIZE,
        default_user=_actor(actor),
        custom_historical_attrs={"history_source": via},
    )
    by_ref = {(a.kind, a.external_id): a for a in created}
    tag_names = {name for change in creations.values() for name in change.tags or ()}
    if tag_names:
        tags = {t.name: t for t in tags_resolve(names=sorted(tag_names))}
        links = [
            Asset.tags.through(asset_id=by_ref[ref].pk, tag_id=tags[name].pk)
            for ref, change in creations.items()
            for name in change.tags or ()
            if name in tags
        ]
        Asset.tags.through.objects.bulk_create(links, ignore_conflicts=True)
    columns = []
    for ref, change in creations.items():
        if not change.columns or ref[0] not in KINDS_WITH_COLUMNS:
            continue
        for position, spec in enumerate(change.columns):
            column = Column(
                asset=by_ref[ref], name=spec["name"], data_type=spec.get("data_type", ""), position=position
            )
            column.full_clean(exclude=["asset"], validate_unique=False, validate_constraints=False)
            columns.append(column)
    if columns:
        bulk_create_with_history(
            columns,
            Column,
            batch_size=BATCH_SIZE,
            default_user=_actor(actor),
            custom_historical_attrs={"history_source": via},
        )
    catalog_services.search_index_refresh(asset_ids=[a.pk for a in created])
    return by_ref


def plans_apply_bulk(
    *, plans: list[Plan], actor: AbstractBaseUser | None, via: str, at: datetime | None = None
) -> BulkResult:
    """Applies plans together; new edges begin at `at` (the event time) or now. Raises DomainError (or a database
    error) when any part is refused; an import then applies its plans one by one to find the bad item."""
    from .services import _attribute_update, _columns_target, _fetch, _refs_of

    result = BulkResult()
    refs: set[Ref] = set()
    for plan in plans:
        refs |= _refs_of(plan)
    assets = _fetch(refs)
    creations = _creations(plans, assets)
    if creations:
        assets.update(_assets_create(creations, actor=actor, via=via))
        result.created |= set(creations)
    # existing assets whose described state differs: the catalog's own update, one by one
    column_rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    described = [c for plan in plans for c in plan.assets if c.ref not in creations]
    with_columns = [assets[c.ref].pk for c in described if c.columns is not None]
    for row in Column.objects.filter(asset_id__in=with_columns).values("asset_id", "name", "data_type"):
        column_rows[row["asset_id"]].append(row)
    for change in described:
        asset = assets.get(change.ref)
        if asset is None:  # only a delete of an asset never catalogued
            result.notes.append(f"{change.ref[1]} is not in the catalog; nothing to delete")
            continue
        if change.delete:
            if asset.status != AssetStatus.DELETED:
                assets[change.ref] = catalog_services.asset_delete(asset=asset, actor=actor, source=via)
                result.changed.add(change.ref)
            continue
        attributes = _attribute_update(asset, change)
        errors = attribute_errors(kind=change.ref[0], attributes=attributes)
        if errors:
            raise DomainError("; ".join(errors), field="attributes")
        columns = _columns_target(asset, change, column_rows.get(asset.pk, []))
        fields: dict[str, Any] = {}
        if change.name and change.name != asset.name:
            fields["name"] = change.name
        if attributes != asset.attributes:
            fields["attributes"] = attributes
        if change.version and change.version != asset.version:
            fields["version"] = change.version
        if asset.status == AssetStatus.DELETED:
            fields["status"] = AssetStatus.ACTIVE
        if fields or columns is not None:
            assets[change.ref] = catalog_services.asset_update(
                asset=asset, actor=actor, source=via, columns=columns, **fields
            )
            if columns is not None:
                column_rows[asset.pk] = [
                    {"asset_id": asset.pk, "name": c["name"], "data_type": c.get("data_type", "")} for c in columns
                ]
            result.changed.add(change.ref)
    result.ids = {ref: asset.pk for ref, asset in assets.items()}
    _edges(plans, assets, actor=actor, via=via, result=result, at=at)
    _column_edges(plans, assets, actor=actor, via=via, result=result)
    _memberships(plans, assets, actor=actor, via=via, result=result)
    from .services import _joins_apply

    for plan in plans:
        _joins_apply(plan=plan, assets=assets, at=at)
    return result


def _edges(
    plans: list[Plan],
    assets: dict[Ref, Asset],
    *,
    actor: AbstractBaseUser | None,
    via: str,
    result: BulkResult,
    at: datetime | None,
) -> None:
    wanted: dict[tuple[Ref, str], tuple[list[Ref], bool]] = {}
    for plan in plans:
        for change in plan.assets:
            if change.delete:
                continue
            for kind, sources in change.incoming.items():
                wanted[(change.ref, kind)] = (sources, True)
            for kind, sources in change.incoming_add.items():
                previous = wanted.get((change.ref, kind), ([], False))
                wanted[(change.ref, kind)] = (previous[0] + sources, previous[1])
    if not wanted:
        return
    target_ids = {assets[ref].pk for ref, _ in wanted}
    open_edges: dict[tuple[int, str], dict[int, Edge]] = defaultdict(dict)
    for edge in Edge.objects.filter(target_id__in=target_ids, valid_to__isnull=True):
        open_edges[(edge.target_id, edge.kind)][edge.source_id] = edge
    now = timezone.now()
    begins = min(at, now) if at is not None else now
    new: list[Edge] = []
    seen: set[tuple[int, int, str]] = set()
    for (ref, kind), (sources, exact) in wanted.items():
        target = assets[ref]
        current = open_edges[(target.pk, kind)]
        source_ids = {assets[s].pk for s in sources}
        if exact:
            for source_id, edge in current.items():
                if source_id not in source_ids:
                    lineage_services.edge_end(edge=edge, actor=actor, via=via, at=max(begins, edge.valid_from))
                    result.changed.add(ref)
        for source_ref in sources:
            source = assets[source_ref]
            key = (source.pk, target.pk, kind)
            if source.pk in current or source.pk == target.pk or key in seen:
                continue
            lineage_services.edge_check(source=source, target=target, kind=kind)
            seen.add(key)
            new.append(
                Edge(
                    source=source,
                    target=target,
                    kind=kind,
                    valid_from=begins,
                    recorded_by=_actor(actor),
                    recorded_via=via,
                )
            )
            result.changed.add(ref)
    if new:
        bulk_create_with_history(
            new,
            Edge,
            batch_size=BATCH_SIZE,
            default_user=_actor(actor),
            custom_historical_attrs={"history_source": via},
        )


def _column_edges(
    plans: list[Plan], assets: dict[Ref, Asset], *, actor: AbstractBaseUser | None, via: str, result: BulkResult
) -> None:
    links = [link for plan in plans for link in plan.column_links]
    if not links:
        return
    asset_ids = {assets[ref].pk for link in links for ref in (link.source, link.target)}
    columns = {
        (c.asset_id, c.name): c.pk for c in Column.objects.filter(asset_id__in=asset_ids).only("asset_id", "name")
    }
    existing = set(
        ColumnEdge.objects.filter(target__asset_id__in=asset_ids, valid_to__isnull=True).values_list(
            "source_id", "target_id"
        )
    )
    new = []
    for link in links:
        source = columns.get((assets[link.source].pk, link.source_column))
        target = columns.get((assets[link.target].pk, link.target_column))
        if source is None or target is None or source == target or (source, target) in existing:
            continue
        existing.add((source, target))
        new.append(
            ColumnEdge(
                source_id=source,
                target_id=target,
                transformation=link.transformation,
                subtype=link.subtype[:40],
                recorded_by=_actor(actor),
                recorded_via=via,
            )
        )
        result.changed.add(link.target)
    ColumnEdge.objects.bulk_create(new, batch_size=BATCH_SIZE)


def _memberships(
    plans: list[Plan], assets: dict[Ref, Asset], *, actor: AbstractBaseUser | None, via: str, result: BulkResult
) -> None:
    memberships = [m for plan in plans for m in plan.memberships]
    exact = {ref for plan in plans for ref in plan.exact_folders}
    if not memberships and not exact:
        return
    folder_ids = {assets[m.folder].pk for m in memberships} | {assets[ref].pk for ref in exact}
    current = set(FolderMembership.objects.filter(folder_id__in=folder_ids).values_list("folder_id", "asset_id"))
    wanted: set[tuple[int, int]] = set()
    new = []
    for membership in memberships:
        folder, member = assets[membership.folder], assets[membership.member]
        pair = (folder.pk, member.pk)
        if membership.remove:
            if pair in current:
                catalog_services.folder_membership_remove(folder=folder, asset=member, actor=actor, source=via)
                current.discard(pair)
                result.changed.add(membership.folder)
            continue
        wanted.add(pair)
        if pair in current:
            continue
        if folder.kind != AssetKind.FOLDER or member.kind == AssetKind.FOLDER or folder.pk == member.pk:
            # nesting folders needs the cycle check of the catalog's service
            catalog_services.folder_membership_add(folder=folder, asset=member, actor=actor, source=via)
        else:
            new.append(FolderMembership(folder=folder, asset=member))
        current.add(pair)
        result.changed.add(membership.folder)
    if new:
        bulk_create_with_history(
            new,
            FolderMembership,
            batch_size=BATCH_SIZE,
            default_user=_actor(actor),
            custom_historical_attrs={"history_source": via},
        )
    exact_ids = {assets[ref].pk: ref for ref in exact}
    gone = [pair for pair in current if pair[0] in exact_ids and pair not in wanted]
    if gone:
        by_pk = {a.pk: a for a in Asset.objects.filter(pk__in={pk for pair in gone for pk in pair})}
        for folder_id, asset_id in gone:
            catalog_services.folder_membership_remove(
                folder=by_pk[folder_id], asset=by_pk[asset_id], actor=actor, source=via
            )
            result.changed.add(exact_ids[folder_id])
