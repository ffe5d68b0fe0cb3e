"""Applying many plans at once: set-based writes for large imports and for batches of change events.

The catalog and lineage services write one row at a time (validation, history and search per row), which is right
for the API but makes a 50,000-asset bundle take many minutes. For a batch of plans this module decides what
changes and hands the writes to the set-based services of those apps: `catalog.services.assets_create_many`
(assets, columns, tags, history rows, search documents), `assets_update_many` (plain fields),
`columns_create_many` (a first schema) and `lineage.services.edges_create_many` / `edges_end_many` /
`column_edges_create_many`, each a few statements whatever the batch size and each validating rows the way the
single-row services do. Rarer changes (a schema that replaces another, deletes, folder nesting) still go through
the single-row services. New folder memberships are written here with their history rows.
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
    """Creates the missing assets with the catalog's set-based service (which checks each as `asset_create` does);
    returns them by reference."""
    from .services import _placeholder_name

    specs = []
    for change in creations.values():
        attributes = change.attributes or {}
        specs.append(
            catalog_services.AssetSpec(
                kind=change.ref[0],
                external_id=change.ref[1],
                name=change.name or _placeholder_name(change.ref),
                description=change.description or "",
                attributes=attributes,
                version=change.version or 1,
                tags=tuple(change.tags or ()),
                columns=tuple(
                    (spec["name"], spec.get("data_type", "") or "")
                    for spec in (change.columns or [] if change.ref[0] in KINDS_WITH_COLUMNS else [])
                ),
            )
        )
    ids = catalog_services.assets_create_many(specs=specs, actor=actor, source=via)
    return {
        (spec.kind, spec.external_id): Asset(
            pk=ids[(spec.kind, spec.external_id)],
            kind=spec.kind,
            external_id=spec.external_id,
            name=spec.name,
            description=spec.description,
            attributes=spec.attributes,
            version=spec.version,
            status=AssetStatus.ACTIVE,
        )
        for spec in specs
    }


def plans_apply_bulk(
    *,
    plans: list[Plan],
    actor: AbstractBaseUser | None,
    via: str,
    at: datetime | None = None,
    assets: dict[Ref, Asset] | None = None,
) -> BulkResult:
    """Applies plans together; new edges begin at the plan's time (an event's), else `at`, else now. `assets` are
    those the caller has read already (by reference; the dict is updated). Raises DomainError (or a database error)
    when any part is refused; an import then applies its plans one by one to find the bad item."""
    from .services import _attribute_update, _columns_target, _fetch, _refs_of

    result = BulkResult()
    refs: set[Ref] = set()
    for plan in plans:
        refs |= _refs_of(plan)
    assets = assets if assets is not None else {}
    assets.update(_fetch(refs - set(assets)))
    creations = _creations(plans, assets)
    if creations:
        assets.update(_assets_create(creations, actor=actor, via=via))
        result.created |= set(creations)
    # existing assets whose described state differs: plain fields set-based, a new schema with the catalog's own
    # update; a second change to the same asset waits until the first is written
    column_rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    described = [c for plan in plans for c in plan.assets if c.ref not in creations]
    with_columns = [assets[c.ref].pk for c in described if c.columns is not None]
    for row in Column.objects.filter(asset_id__in=with_columns).values("asset_id", "name", "data_type"):
        column_rows[row["asset_id"]].append(row)
    pending: dict[Ref, tuple[Asset, dict[str, Any]]] = {}
    schemas: dict[Ref, tuple[int, list[tuple[str, str]]]] = {}  # first schemas of assets without columns

    def flush() -> None:
        if pending:
            written = catalog_services.assets_update_many(changes=list(pending.values()), actor=actor, source=via)
            assets.update(zip(pending, written, strict=True))
            pending.clear()
        if schemas:
            catalog_services.columns_create_many(columns=dict(schemas.values()), actor=actor, source=via)
            schemas.clear()

    for change in described:
        if change.ref in pending or change.ref in schemas:
            flush()
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
        if columns is not None and not column_rows.get(asset.pk):
            schemas[change.ref] = (asset.pk, [(c["name"], c.get("data_type", "") or "") for c in columns])
            column_rows[asset.pk] = [
                {"asset_id": asset.pk, "name": c["name"], "data_type": c.get("data_type", "")} for c in columns
            ]
            columns = None
            result.changed.add(change.ref)
        if fields and columns is None:
            pending[change.ref] = (asset, fields)
            result.changed.add(change.ref)
        elif fields or columns is not None:
            assets[change.ref] = catalog_services.asset_update(
                asset=asset, actor=actor, source=via, columns=columns, **fields
            )
            if columns is not None:
                column_rows[asset.pk] = [
                    {"asset_id": asset.pk, "name": c["name"], "data_type": c.get("data_type", "")} for c in columns
                ]
            result.changed.add(change.ref)
    flush()
    result.ids = {ref: asset.pk for ref, asset in assets.items()}
    _edges(plans, assets, actor=actor, via=via, result=result, at=at)
    _column_edges(plans, assets, actor=actor, via=via, result=result)
    _memberships(plans, assets, actor=actor, via=via, result=result)
    from .services import _joins_apply

    for plan in plans:
        _joins_apply(plan=plan, assets=assets, at=plan.at or at)
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
    # (target, kind) -> (sources, exact, when): a plan's own time (an event's) wins over `at`
    wanted: dict[tuple[Ref, str], tuple[list[Ref], bool, datetime | None]] = {}
    for plan in plans:
        when = plan.at or at
        for change in plan.assets:
            if change.delete:
                continue
            for kind, sources in change.incoming.items():
                wanted[(change.ref, kind)] = (sources, True, when)
            for kind, sources in change.incoming_add.items():
                previous = wanted.get((change.ref, kind), ([], False, when))
                wanted[(change.ref, kind)] = (previous[0] + sources, previous[1], when)
    if not wanted:
        return
    # Replacing a target's sources needs all its open edges (to end the others); adding sources only needs to know
    # which of those edges are open already (a job that has read hundreds of tables is not loaded for every run).
    exact_targets = {assets[ref].pk for (ref, _), (_, exact, _) in wanted.items() if exact}
    additions = {
        (assets[source].pk, assets[ref].pk, kind)
        for (ref, kind), (sources, exact, _) in wanted.items()
        if not exact
        for source in sources
    }
    open_edges: dict[tuple[int, str], dict[int, Edge]] = defaultdict(dict)
    for edge in Edge.objects.filter(target_id__in=exact_targets, valid_to__isnull=True):
        open_edges[(edge.target_id, edge.kind)][edge.source_id] = edge
    present: set[tuple[int, int, str]] = set()
    if additions:
        present = set(
            Edge.objects.filter(
                target_id__in={target for _, target, _ in additions},
                source_id__in={source for source, _, _ in additions},
                valid_to__isnull=True,
            ).values_list("source_id", "target_id", "kind")
        )
    now = timezone.now()
    new: list[lineage_services.EdgeSpec] = []
    ends: list[tuple[Edge, datetime]] = []
    seen: set[tuple[int, int, str]] = set()
    for (ref, kind), (sources, exact, when) in wanted.items():
        begins = min(when, now) if when is not None else now
        target = assets[ref]
        current = open_edges[(target.pk, kind)]
        source_ids = {assets[s].pk for s in sources}
        if exact:
            for source_id, edge in current.items():
                if source_id not in source_ids:
                    ends.append((edge, max(begins, edge.valid_from)))
                    result.changed.add(ref)
        for source_ref in sources:
            source = assets[source_ref]
            key = (source.pk, target.pk, kind)
            if source.pk in current or key in present or source.pk == target.pk or key in seen:
                continue
            seen.add(key)
            new.append(lineage_services.EdgeSpec(source=source, target=target, kind=kind, valid_from=begins))
            result.changed.add(ref)
    lineage_services.edges_end_many(ends=ends, actor=actor, via=via)
    lineage_services.edges_create_many(edges=new, actor=actor, via=via)


def _column_edges(
    plans: list[Plan], assets: dict[Ref, Asset], *, actor: AbstractBaseUser | None, via: str, result: BulkResult
) -> None:
    links = [link for plan in plans for link in plan.column_links]
    if not links:
        return
    asset_ids = {assets[ref].pk for link in links for ref in (link.source, link.target)}
    columns = {
        (asset_id, name): pk
        for pk, asset_id, name in Column.objects.filter(asset_id__in=asset_ids).values_list("pk", "asset_id", "name")
    }
    pairs = [
        (
            columns.get((assets[link.source].pk, link.source_column)),
            columns.get((assets[link.target].pk, link.target_column)),
        )
        for link in links
    ]
    # only the open edges between the columns named here (joining every column of these assets was most of an
    # event round's time once the catalog held many column edges)
    existing = set(
        ColumnEdge.objects.filter(
            source_id__in={source for source, _ in pairs if source is not None},
            target_id__in={target for _, target in pairs if target is not None},
            valid_to__isnull=True,
        ).values_list("source_id", "target_id")
    )
    new = []
    for link, (source, target) in zip(links, pairs, strict=True):
        if source is None or target is None or source == target or (source, target) in existing:
            continue
        existing.add((source, target))
        new.append(
            lineage_services.ColumnEdgeSpec(
                source_id=source, target_id=target, transformation=link.transformation, subtype=link.subtype[:40]
            )
        )
        result.changed.add(link.target)
    lineage_services.column_edges_create_many(edges=new, actor=actor, via=via)


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
