"""Writes to lineage: edges (valid-time, never deleted), releases, rollbacks and forks — each in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from catalog import services as catalog_services
from catalog.choices import AssetKind, AssetStatus, ChangeSource
from catalog.models import Asset, Column, Customer
from config.errors import DomainError

from .choices import ALLOWED_KINDS, EdgeKind, ReleaseStatus
from .models import ColumnEdge, Edge, Release
from .selectors import AnyOf, current_template


def _actor(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None


def edge_check(*, source: Asset, target: Asset, kind: str) -> None:
    """Refuses an edge between asset kinds that this edge kind cannot join, naming what is allowed."""
    if kind not in ALLOWED_KINDS:
        raise DomainError(f"{kind!r} is not an edge kind; use one of {', '.join(EdgeKind.values)}", field="kind")
    sources, targets = ALLOWED_KINDS[kind]
    if source.pk == target.pk:
        raise DomainError("an asset cannot be its own source", field="target")
    if source.kind not in sources or target.kind not in targets:
        raise DomainError(
            f"a {kind} edge goes from {' or '.join(sorted(sources))} to {' or '.join(sorted(targets))}, "
            f"not from {source.kind} to {target.kind}",
            field="kind",
        )


@transaction.atomic
def edge_upsert(
    *,
    source: Asset,
    target: Asset,
    kind: str,
    actor: AbstractBaseUser | None,
    via: str = ChangeSource.API,
    valid_from: datetime | None = None,
    release: Release | None = None,
) -> tuple[Edge, bool]:
    """The open edge source -kind-> target, created when missing; returns (edge, created)."""
    edge_check(source=source, target=target, kind=kind)
    existing = Edge.objects.filter(source=source, target=target, kind=kind, valid_to__isnull=True).first()
    if existing:
        return existing, False
    edge = Edge(
        source=source,
        target=target,
        kind=kind,
        valid_from=valid_from or timezone.now(),
        recorded_by=_actor(actor),
        recorded_via=via,
        release=release,
    )
    if edge.valid_from > timezone.now() + timezone.timedelta(minutes=5):
        raise DomainError("valid_from is in the future", field="valid_from")
    edge._history_user = _actor(actor)
    edge._history_source = via
    edge.save()
    return edge, True


@transaction.atomic
def edge_end(
    *, edge: Edge, actor: AbstractBaseUser | None, via: str = ChangeSource.API, at: datetime | None = None
) -> Edge:
    """Ends the relationship at `at` (now): the edge stays, with valid_to set, so history keeps it."""
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    if edge.valid_to is not None:
        raise DomainError(f"edge {edge.pk} already ended at {edge.valid_to.isoformat()}", field="edge")
    at = at or timezone.now()
    if at < edge.valid_from:
        raise DomainError("an edge cannot end before it began", field="valid_to")
    edge.valid_to = at
    edge._history_user = _actor(actor)
    edge._history_source = via
    edge.save(update_fields=["valid_to", "updated_at"])
    return edge


@transaction.atomic
def column_edge_upsert(
    *,
    source: Column,
    target: Column,
    transformation: str,
    actor: AbstractBaseUser | None,
    subtype: str = "",
    description: str = "",
    via: str = ChangeSource.API,
) -> tuple[ColumnEdge, bool]:
    if source.pk == target.pk:
        raise DomainError("a column cannot be its own source", field="target")
    existing = ColumnEdge.objects.filter(source=source, target=target, valid_to__isnull=True).first()
    if existing:
        return existing, False
    edge = ColumnEdge(
        source=source,
        target=target,
        transformation=transformation,
        subtype=subtype,
        description=description,
        recorded_by=_actor(actor),
        recorded_via=via,
    )
    edge.full_clean()
    edge.save()
    return edge, True


# ---------------------------------------------------------------------------------------------------------------
# Releases


@dataclass
class AssetChange:
    asset_id: int
    name: str
    kind: str
    customer: str | None
    edge_id: int
    problems: list[str] = field(default_factory=list)


@dataclass
class ReleasePlan:
    reference_analysis: Asset
    previous_template: Asset | None
    new_version: int
    changes: list[AssetChange]
    placeholders: list[dict[str, Any]]

    @property
    def problems(self) -> list[dict[str, Any]]:
        return [{"asset_id": c.asset_id, "name": c.name, "problems": c.problems} for c in self.changes if c.problems]

    @property
    def customers(self) -> list[str]:
        return sorted({c.customer for c in self.changes if c.customer})


def _normal_type(data_type: str) -> str:
    return data_type.strip().lower().split("(")[0]


def _schemas(dataset_ids: set[int]) -> dict[int, dict[str, str]]:
    schemas: dict[int, dict[str, str]] = {pk: {} for pk in dataset_ids}
    for asset_id, name, data_type in Column.objects.filter(AnyOf(F("asset_id"), dataset_ids)).values_list(
        "asset_id", "name", "data_type"
    ):
        schemas[asset_id][name.lower()] = _normal_type(data_type)
    return schemas


def _dataset_problems(placeholders: dict[int, str], own: list[int], schemas: dict[int, dict[str, str]]) -> list[str]:
    """What stops a customer asset's datasets from filling the template's dataset placeholders."""
    if not placeholders:
        return []
    if not own:
        return ["uses no dataset, but the template needs " + ", ".join(sorted(placeholders.values()))]
    problems = []
    for placeholder_id, placeholder_name in placeholders.items():
        wanted = schemas[placeholder_id]
        best = max(own, key=lambda d: len(wanted.keys() & schemas[d].keys()))
        have = schemas[best]
        missing = sorted(wanted.keys() - have.keys())
        mistyped = sorted(
            f"{name} ({have[name]}, template expects {wanted[name]})"
            for name in wanted.keys() & have.keys()
            if wanted[name] and have[name] and wanted[name] != have[name]
        )
        if missing:
            problems.append(f"dataset for {placeholder_name!r} lacks columns: {', '.join(missing)}")
        if mistyped:
            problems.append(f"dataset for {placeholder_name!r} has mistyped columns: {', '.join(mistyped)}")
    return problems


def _datasets_into(asset_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {pk: [] for pk in asset_ids}
    for target_id, source_id in Edge.objects.filter(
        AnyOf(F("target_id"), asset_ids), kind=EdgeKind.USES_DATASET, valid_to__isnull=True
    ).values_list("target_id", "source_id"):
        result[target_id].append(source_id)
    return result


def release_plan(*, reference_analysis: Asset) -> ReleasePlan:
    """What a release of this reference analysis would do: the customer assets to repoint and their dataset checks."""
    if reference_analysis.kind != AssetKind.ANALYSIS:
        raise DomainError(
            f"asset {reference_analysis.pk} is a {reference_analysis.kind}, not an analysis", field="reference_analysis"
        )
    if reference_analysis.status == AssetStatus.DELETED:
        raise DomainError("a deleted analysis cannot be released", field="reference_analysis")
    previous = current_template(analysis=reference_analysis)
    placeholder_ids = _datasets_into([reference_analysis.pk])[reference_analysis.pk]
    placeholders = dict(Asset.objects.filter(pk__in=placeholder_ids).values_list("pk", "name"))
    changes: list[AssetChange] = []
    if previous is not None:
        # only what a change shows: a release can repoint tens of thousands of assets
        pointed = (
            Edge.objects.filter(source=previous, kind=EdgeKind.CREATED_FROM, valid_to__isnull=True)
            .exclude(target__status=AssetStatus.DELETED)
            .order_by("target__customer__name", "target__name", "target_id")
            .values_list("pk", "target_id", "target__name", "target__kind", "target__customer__name")
        )
        edges = list(pointed)
        own = _datasets_into([target_id for _, target_id, *_ in edges])
        schemas = _schemas(set(placeholder_ids) | {d for ids in own.values() for d in ids})
        for edge_id, target_id, name, kind, customer in edges:
            changes.append(
                AssetChange(
                    asset_id=target_id,
                    name=name,
                    kind=kind,
                    customer=customer,
                    edge_id=edge_id,
                    problems=_dataset_problems(placeholders, own[target_id], schemas),
                )
            )
    return ReleasePlan(
        reference_analysis=reference_analysis,
        previous_template=previous,
        new_version=reference_analysis.version + 1,
        changes=changes,
        placeholders=[{"id": pk, "name": name} for pk, name in placeholders.items()],
    )


def _template_for(*, analysis: Asset, version: int, actor, name: str | None = None) -> Asset:
    external_id = f"{analysis.external_id}/template/v{version}"
    if Asset.objects.filter(kind=AssetKind.TEMPLATE, external_id=external_id).exists():
        external_id = f"{external_id}-{timezone.now():%Y%m%d%H%M%S%f}"
    return catalog_services.asset_create(
        actor=actor,
        source=ChangeSource.API,
        kind=AssetKind.TEMPLATE,
        name=name or f"{analysis.name} template v{version}",
        external_id=external_id,
        description=f"Template made from {analysis.name} version {version}.",
        owner=analysis.owner,
        owner_group=analysis.owner_group,
        domain=analysis.domain,
        business_unit=analysis.business_unit,
        customer=analysis.customer,
        product_line=analysis.product_line,
        environment=analysis.environment,
        version=version,
        attributes={"source_analysis": analysis.external_id},
    )


def _repoint(
    *, old_edge_ids: list[int], new_source: Asset, release: Release, actor, now: datetime, reason: str
) -> list[dict[str, int]]:
    """Ends the given created_from edges and opens one from `new_source` to each target, with history in bulk."""
    if connection.vendor == "postgresql":
        return _repoint_set_based(
            old_edge_ids=old_edge_ids, new_source=new_source, release=release, actor=actor, now=now, reason=reason
        )
    old = list(
        Edge.objects.select_for_update().filter(AnyOf(F("pk"), old_edge_ids), valid_to__isnull=True).order_by("id")
    )
    for edge in old:
        edge.valid_to = now
    user = _actor(actor)
    attrs = {"history_source": ChangeSource.API}
    # every edge ends at the same instant: one UPDATE, where bulk_update would build a CASE of thousands of arms
    Edge.objects.filter(AnyOf(F("pk"), [edge.pk for edge in old])).update(valid_to=now)
    Edge.history.bulk_history_create(
        old,
        batch_size=2000,
        update=True,
        default_user=user,
        default_change_reason=reason,
        default_date=now,
        custom_historical_attrs=attrs,
    )
    fresh = [
        Edge(
            source=new_source,
            target_id=edge.target_id,
            kind=EdgeKind.CREATED_FROM,
            valid_from=now,
            recorded_by=user,
            recorded_via=ChangeSource.API,
            release=release,
        )
        for edge in old
    ]
    created = bulk_create_with_history(
        fresh,
        Edge,
        batch_size=2000,
        default_user=user,
        default_change_reason=reason,
        default_date=now,
        custom_historical_attrs=attrs,
    )
    by_target = {edge.target_id: edge.pk for edge in created}
    return [{"asset_id": edge.target_id, "old_edge": edge.pk, "new_edge": by_target[edge.target_id]} for edge in old]


def _repoint_set_based(
    *, old_edge_ids: list[int], new_source: Asset, release: Release, actor, now: datetime, reason: str
) -> list[dict[str, int]]:
    """_repoint in a few statements whatever the number of edges (PostgreSQL): the same rows, edges and history,
    without a model instance per row, which for a release of ten thousand customer assets is most of its time."""
    old = list(
        Edge.objects.select_for_update()
        .filter(AnyOf(F("pk"), old_edge_ids), valid_to__isnull=True)
        .order_by("id")
        .values_list("pk", "target_id")
    )
    if not old:
        return []
    user = _actor(actor)
    Edge.objects.filter(AnyOf(F("pk"), [pk for pk, _ in old])).update(valid_to=now)
    _history_insert(edge_ids=[pk for pk, _ in old], history_type="~", user=user, reason=reason, date=now)
    stamp = timezone.now()  # what auto_now_add would give recorded_at, created_at and updated_at
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO lineage_edge (source_id, target_id, kind, valid_from, valid_to, recorded_at, recorded_by_id,
                                      recorded_via, release_id, created_at, updated_at)
            SELECT %s, t.target_id, %s, %s, NULL, %s, %s, %s, %s, %s, %s
            FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(target_id, position)
            ORDER BY t.position
            RETURNING id, target_id
            """,
            [
                new_source.pk,
                EdgeKind.CREATED_FROM,
                now,
                stamp,
                user.pk if user else None,
                ChangeSource.API,
                release.pk,
                stamp,
                stamp,
                [target for _, target in old],
            ],
        )
        by_target = {target: pk for pk, target in cursor.fetchall()}
    _history_insert(edge_ids=sorted(by_target.values()), history_type="+", user=user, reason=reason, date=now)
    return [{"asset_id": target, "old_edge": pk, "new_edge": by_target[target]} for pk, target in old]


def _history_insert(
    *, edge_ids: list[int], history_type: str, user: AbstractBaseUser | None, reason: str, date: datetime
) -> None:
    """The history rows simple_history's bulk_history_create writes for these edges as they are now ("+" created,
    "~" changed), in one INSERT ... SELECT, in id order."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not edge_ids:
        return
    history = Edge.history.model
    if user is None:  # as bulk_history_create: the signed-in user of the request, if any
        user = history.get_default_history_user(Edge())
    columns = ", ".join(connection.ops.quote_name(f.column) for f in history.tracked_fields)
    extra = ", ".join(
        connection.ops.quote_name(history._meta.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_type", "history_user", "history_source")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(history._meta.db_table)} ({columns}, {extra}) "
            f"SELECT {columns}, %s, %s, %s, %s, %s FROM lineage_edge WHERE id = ANY(%s) ORDER BY id",
            [date, reason, history_type, user.pk if user else None, ChangeSource.API, edge_ids],
        )


@transaction.atomic
def release_apply(
    *, reference_analysis: Asset, description: str, actor: AbstractBaseUser | None, force: bool = False
) -> Release:
    """Releases a new version of a reference analysis: bumps its version, makes a new template from it, and
    repoints every customer analysis and dashboard created from the previous template — all or nothing."""
    reference_analysis = Asset.objects.select_for_update().get(pk=reference_analysis.pk)
    description = description.strip()
    if not description:
        raise DomainError("say what changed in this release", field="description")
    plan = release_plan(reference_analysis=reference_analysis)
    if plan.problems and not force:
        raise DomainError(
            f"{len(plan.problems)} customer asset(s) have datasets that do not fit the template "
            "(see the dry run); fix them or release with force",
            field="force",
        )
    now = timezone.now()
    catalog_services.asset_update(
        asset=reference_analysis, actor=actor, source=ChangeSource.API, version=plan.new_version
    )
    template = _template_for(analysis=reference_analysis, version=plan.new_version, actor=actor)
    release = Release.objects.create(
        reference_analysis=reference_analysis,
        previous_template=plan.previous_template,
        new_template=template,
        description=description,
        forced=force and bool(plan.problems),
        problems=plan.problems,
        created_by=_actor(actor),
    )
    reason = f"release {release.pk}"
    edge_upsert(
        source=reference_analysis,
        target=template,
        kind=EdgeKind.TEMPLATE_OF,
        actor=actor,
        release=release,
        valid_from=now,
    )
    for placeholder in plan.placeholders:
        dataset = Asset.objects.get(pk=placeholder["id"])
        edge_upsert(
            source=dataset, target=template, kind=EdgeKind.USES_DATASET, actor=actor, release=release, valid_from=now
        )
    if plan.previous_template is not None:
        for edge in Edge.objects.filter(
            source=reference_analysis,
            target=plan.previous_template,
            kind=EdgeKind.TEMPLATE_OF,
            valid_to__isnull=True,
        ):
            edge_end(edge=edge, actor=actor, at=now)
    release.changes = _repoint(
        old_edge_ids=[c.edge_id for c in plan.changes],
        new_source=template,
        release=release,
        actor=actor,
        now=now,
        reason=reason,
    )
    release.save(update_fields=["changes", "updated_at"])
    return release


@transaction.atomic
def release_rollback(*, release: Release, actor: AbstractBaseUser | None) -> Release:
    """Restores the pointers a release changed: its customer assets point at the previous template again."""
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.status != ReleaseStatus.APPLIED:
        raise DomainError(f"release {release.pk} was already rolled back", field="release", status_code=409)
    later = Release.objects.filter(
        reference_analysis=release.reference_analysis, status=ReleaseStatus.APPLIED, created_at__gt=release.created_at
    ).exclude(pk=release.pk)
    if later.exists():
        raise DomainError(
            f"release {later.first().pk} came after this one; roll that back first", field="release", status_code=409
        )
    if release.previous_template is None:
        raise DomainError("this release had no previous template to go back to", field="release", status_code=409)
    now = timezone.now()
    reason = f"rollback of release {release.pk}"
    moved = [c["new_edge"] for c in release.changes]
    _repoint(
        old_edge_ids=moved, new_source=release.previous_template, release=release, actor=actor, now=now, reason=reason
    )
    for edge in Edge.objects.filter(target=release.new_template, valid_to__isnull=True):
        edge_end(edge=edge, actor=actor, at=now)
    edge_upsert(
        source=release.reference_analysis,
        target=release.previous_template,
        kind=EdgeKind.TEMPLATE_OF,
        actor=actor,
        valid_from=now,
    )
    catalog_services.asset_update(asset=release.new_template, actor=actor, status=AssetStatus.ARCHIVED)
    release.status = ReleaseStatus.ROLLED_BACK
    release.rolled_back_at = now
    release.rolled_back_by = _actor(actor)
    release.save(update_fields=["status", "rolled_back_at", "rolled_back_by", "updated_at"])
    return release


# ---------------------------------------------------------------------------------------------------------------
# Forks


@dataclass
class ForkPlan:
    base: Asset
    customer: Customer
    name: str
    existing_fork: Asset | None
    repoint: list[AssetChange]


def _templates_of(analysis: Asset) -> list[int]:
    return list(
        Edge.objects.filter(source=analysis, kind=EdgeKind.TEMPLATE_OF).values_list("target_id", flat=True).distinct()
    )


def fork_plan(*, base: Asset, customer: Customer, name: str = "") -> ForkPlan:
    """What forking the base reference analysis for a customer would do."""
    if base.kind != AssetKind.ANALYSIS:
        raise DomainError(f"asset {base.pk} is a {base.kind}, not an analysis", field="base")
    existing = (
        Asset.objects.filter(
            incoming_edges__source=base,
            incoming_edges__kind=EdgeKind.FORKED_FROM,
            incoming_edges__valid_to__isnull=True,
            customer=customer,
        )
        .exclude(status=AssetStatus.DELETED)
        .first()
    )
    templates = _templates_of(base)
    edges = (
        Edge.objects.filter(
            source_id__in=templates, kind=EdgeKind.CREATED_FROM, valid_to__isnull=True, target__customer=customer
        )
        .select_related("target")
        .order_by("target__name", "target_id")
    )
    repoint = [
        AssetChange(asset_id=e.target_id, name=e.target.name, kind=e.target.kind, customer=customer.name, edge_id=e.pk)
        for e in edges
    ]
    return ForkPlan(
        base=base,
        customer=customer,
        name=name.strip() or f"{base.name} ({customer.name})",
        existing_fork=existing,
        repoint=repoint,
    )


@transaction.atomic
def fork_apply(
    *, base: Asset, customer: Customer, actor: AbstractBaseUser | None, name: str = ""
) -> tuple[Asset, Asset, list[dict[str, int]]]:
    """Forks a base reference analysis for a customer: a customer reference analysis and its template, with
    forked_from lineage; that customer's analyses and dashboards then derive from the fork. Returns
    (fork, template, repointed)."""
    plan = fork_plan(base=base, customer=customer, name=name)
    if plan.existing_fork is not None:
        raise DomainError(
            f"{customer.name} already has a fork of this analysis: {plan.existing_fork.name} "
            f"(asset {plan.existing_fork.pk})",
            field="customer",
        )
    now = timezone.now()
    fork = catalog_services.asset_create(
        actor=actor,
        kind=AssetKind.ANALYSIS,
        name=plan.name,
        external_id=f"{base.external_id}/fork/{customer.slug}",
        description=f"Fork of {base.name} for {customer.name}.",
        owner=base.owner,
        owner_group=base.owner_group,
        domain=base.domain,
        business_unit=customer.business_unit or base.business_unit,
        customer=customer,
        product_line=base.product_line,
        environment=base.environment,
        attributes={"is_reference": True},
    )
    edge_upsert(source=base, target=fork, kind=EdgeKind.FORKED_FROM, actor=actor, valid_from=now)
    for dataset_id in _datasets_into([base.pk])[base.pk]:
        edge_upsert(
            source=Asset.objects.get(pk=dataset_id),
            target=fork,
            kind=EdgeKind.USES_DATASET,
            actor=actor,
            valid_from=now,
        )
    template = _template_for(analysis=fork, version=1, actor=actor)
    edge_upsert(source=fork, target=template, kind=EdgeKind.TEMPLATE_OF, actor=actor, valid_from=now)
    for dataset_id in _datasets_into([fork.pk])[fork.pk]:
        edge_upsert(
            source=Asset.objects.get(pk=dataset_id),
            target=template,
            kind=EdgeKind.USES_DATASET,
            actor=actor,
            valid_from=now,
        )
    release = None
    repointed = []
    if plan.repoint:
        release = Release.objects.create(
            reference_analysis=fork,
            previous_template=None,
            new_template=template,
            description=f"Fork of {base.name} for {customer.name}",
            created_by=_actor(actor),
        )
        repointed = _repoint(
            old_edge_ids=[c.edge_id for c in plan.repoint],
            new_source=template,
            release=release,
            actor=actor,
            now=now,
            reason=f"fork for {customer.slug}",
        )
        release.changes = repointed
        release.save(update_fields=["changes", "updated_at"])
    return fork, template, repointed


# ---------------------------------------------------------------------------------------------------------------
# Creating many edges at once (bulk imports, batches of change events)


@dataclass
class EdgeSpec:
    """One new open edge for `edges_create_many`."""

    source: Asset
    target: Asset
    kind: str
    valid_from: datetime


@dataclass
class ColumnEdgeSpec:
    """One new open column edge for `column_edges_create_many` (columns by id)."""

    source_id: int
    target_id: int
    transformation: str = "DIRECT"
    subtype: str = ""


EDGES_CREATE_SQL = """
WITH created AS (
    INSERT INTO lineage_edge
        (source_id, target_id, kind, valid_from, valid_to, recorded_at, recorded_via, recorded_by_id, created_at,
         updated_at)
    SELECT u.source_id, u.target_id, u.kind, u.valid_from, NULL, %(now)s, %(via)s, %(user)s, %(now)s, %(now)s
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS u(source_id bigint, target_id bigint, kind text, valid_from timestamptz)
    RETURNING *
)
INSERT INTO lineage_historicaledge
    (id, history_source, kind, valid_from, valid_to, recorded_at, recorded_via, created_at, history_date,
     history_change_reason, history_type, history_user_id, recorded_by_id, source_id, target_id, release_id)
SELECT id, %(via)s, kind, valid_from, valid_to, recorded_at, recorded_via, created_at, %(now)s, NULL, '+', %(user)s,
    recorded_by_id, source_id, target_id, release_id
FROM created
"""

COLUMN_EDGES_CREATE_SQL = """
INSERT INTO lineage_columnedge
    (source_id, target_id, transformation, subtype, description, valid_from, valid_to, recorded_at, recorded_via,
     recorded_by_id, created_at, updated_at)
SELECT u.source_id, u.target_id, u.transformation, u.subtype, '', %(now)s, NULL, %(now)s, %(via)s, %(user)s, %(now)s,
    %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS u(source_id bigint, target_id bigint, transformation text, subtype text)
"""


@transaction.atomic
def edges_create_many(*, edges: list[EdgeSpec], actor: AbstractBaseUser | None, via: str) -> int:
    """Creates many new open edges, each with its `+` history row, in one statement; returns how many.

    Each edge is checked as `edge_upsert` checks one (`edge_check`): a wrong kind pairing raises DomainError and
    nothing is created. The caller knows the edges are new (an open duplicate would be a second open edge)."""
    if not edges:
        return 0
    for edge in edges:
        edge_check(source=edge.source, target=edge.target, kind=edge.kind)
    now = timezone.now()
    rows = [
        {
            "source_id": edge.source.pk,
            "target_id": edge.target.pk,
            "kind": edge.kind,
            "valid_from": min(edge.valid_from, now).isoformat(),
        }
        for edge in edges
    ]
    user = actor.pk if actor is not None and actor.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(EDGES_CREATE_SQL, {"rows": json.dumps(rows), "now": now, "via": via, "user": user})
    return len(rows)


@transaction.atomic
def column_edges_create_many(*, edges: list[ColumnEdgeSpec], actor: AbstractBaseUser | None, via: str) -> int:
    """Creates many new open column edges in one statement; returns how many. A self-loop, an unknown
    transformation or a subtype longer than 40 characters raises DomainError and nothing is created; an open edge
    that exists already is refused by the database (IntegrityError)."""
    from .choices import Transformation

    if not edges:
        return 0
    for index, edge in enumerate(edges):
        if edge.source_id == edge.target_id:
            raise DomainError("a column cannot be its own source", field=f"edges[{index}].target")
        if edge.transformation not in Transformation.values:
            raise DomainError(f"use one of {', '.join(Transformation.values)}", field=f"edges[{index}].transformation")
        if len(edge.subtype) > 40:
            raise DomainError("must be at most 40 characters", field=f"edges[{index}].subtype")
    rows = [
        {
            "source_id": edge.source_id,
            "target_id": edge.target_id,
            "transformation": edge.transformation,
            "subtype": edge.subtype,
        }
        for edge in edges
    ]
    user = actor.pk if actor is not None and actor.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(
            COLUMN_EDGES_CREATE_SQL, {"rows": json.dumps(rows), "now": timezone.now(), "via": via, "user": user}
        )
    return len(rows)


EDGES_END_SQL = """
WITH ended AS (
    UPDATE lineage_edge AS e SET valid_to = u.valid_to, updated_at = %(now)s
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS u(id bigint, valid_to timestamptz)
    WHERE e.id = u.id AND e.valid_to IS NULL AND u.valid_to >= e.valid_from
    RETURNING e.*
)
INSERT INTO lineage_historicaledge
    (id, history_source, kind, valid_from, valid_to, recorded_at, recorded_via, created_at, history_date,
     history_change_reason, history_type, history_user_id, recorded_by_id, source_id, target_id, release_id)
SELECT id, %(via)s, kind, valid_from, valid_to, recorded_at, recorded_via, created_at, %(now)s, NULL, '~', %(user)s,
    recorded_by_id, source_id, target_id, release_id
FROM ended
RETURNING id
"""


@transaction.atomic
def edges_end_many(*, ends: list[tuple[Edge, datetime]], actor: AbstractBaseUser | None, via: str) -> int:
    """Ends many open edges, each at its time, with one `~` history entry each (as `edge_end` records), in one
    statement; returns how many. An edge that has ended already, or a time before an edge began, raises
    DomainError (as `edge_end` does) and nothing is ended."""
    if not ends:
        return 0
    for edge, at in ends:
        if edge.valid_to is not None:
            raise DomainError(f"edge {edge.pk} already ended at {edge.valid_to.isoformat()}", field="edge")
        if at < edge.valid_from:
            raise DomainError("an edge cannot end before it began", field="valid_to")
    rows = [{"id": edge.pk, "valid_to": at.isoformat()} for edge, at in ends]
    user = actor.pk if actor is not None and actor.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(EDGES_END_SQL, {"rows": json.dumps(rows), "now": timezone.now(), "via": via, "user": user})
        ended = len(cursor.fetchall())
    if ended != len({edge.pk for edge, _ in ends}):
        # another writer ended one of them meanwhile
        raise DomainError("an edge was ended meanwhile; apply the change again", field="edge")
    return ended
