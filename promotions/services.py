"""Writes of promotions: plan, approve, execute (through QuickSight), roll back, and customer copy requests.

A plan is computed from lineage (`planning.plan_compute`) and stored with its steps; nothing changes in QuickSight
or the catalog until it is approved and executed. Execution records each step as it goes (progress) and, when a
step fails, undoes what the earlier steps did; the catalog copies are written only once every step succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import update_change_reason

from catalog import services as catalog_services
from catalog.choices import AssetKind, AssetStatus, ChangeSource
from catalog.models import Asset, Column, Customer
from config.errors import DomainError
from lineage import services as lineage_services
from lineage.selectors import edges_at

from . import aws, planning
from .choices import (
    DEPENDENCY_EDGE_KINDS,
    PROMOTABLE_KINDS,
    PROMOTED_FROM,
    ROOT_KINDS,
    PromotionKind,
    PromotionStatus,
    StepAction,
    StepStatus,
)
from .models import EnvironmentPolicy, PromotedCopy, Promotion, PromotionStep

MAX_PLAN_ASSETS = 500
APPLIED = (StepAction.CREATE, StepAction.UPDATE, StepAction.MEMBERSHIP)


def _actor(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None


@dataclass
class PlanResult:
    """A computed plan: saved as `promotion` unless it was a dry run."""

    promotion: Promotion
    steps: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    saved: bool


def asset_fingerprint(asset: Asset) -> str:
    return planning.fingerprint(
        name=asset.name, description=asset.description, version=asset.version, attributes=asset.attributes
    )


def dependency_graph(*, root: Asset) -> tuple[dict[int, Asset], list[tuple[int, int, str]]]:
    """The root and every QuickSight asset it depends on (upstream over dependency edges), with those edges."""
    assets = {root.pk: root}
    edges: list[tuple[int, int, str]] = []
    frontier = [root.pk]
    open_edges = edges_at(kinds=DEPENDENCY_EDGE_KINDS)
    while frontier:
        rows = list(
            open_edges.filter(target_id__in=frontier, source__kind__in=PROMOTABLE_KINDS)
            .exclude(source__status=AssetStatus.DELETED)
            .select_related("source")
            .order_by("id")
        )
        frontier = []
        for edge in rows:
            edges.append((edge.source_id, edge.target_id, edge.kind))
            if edge.source_id not in assets:
                assets[edge.source_id] = edge.source
                frontier.append(edge.source_id)
        if len(assets) > MAX_PLAN_ASSETS:
            raise DomainError(
                f"{root.name!r} depends on more than {MAX_PLAN_ASSETS} assets; promote its parts separately",
                field="asset",
            )
    return assets, edges


def _nodes(assets: dict[int, Asset]) -> dict[int, planning.Node]:
    columns: dict[int, list[tuple[str, str]]] = {}
    for asset_id, name, data_type in Column.objects.filter(asset_id__in=list(assets)).values_list(
        "asset_id", "name", "data_type"
    ):
        columns.setdefault(asset_id, []).append((name, data_type))
    analyses = [pk for pk, a in assets.items() if a.kind == AssetKind.ANALYSIS]
    own_templates: dict[int, str] = {}
    for edge in (
        edges_at(kinds=["template_of"])
        .filter(source_id__in=analyses)
        .select_related("target")
        .order_by("valid_from", "id")
    ):
        own_templates[edge.source_id] = edge.target.external_id  # the latest wins
    return {
        pk: planning.Node(
            id=pk,
            kind=a.kind,
            name=a.name,
            external_id=a.external_id,
            version=a.version,
            description=a.description,
            attributes=a.attributes,
            columns=tuple(columns.get(pk, ())),
            own_template_arn=own_templates.get(pk, ""),
        )
        for pk, a in assets.items()
    }


def _copies(*, assets: dict[int, Asset], folder: Asset) -> dict[int, planning.Copy]:
    """What the target already holds for each asset: the copy an earlier promotion made, or an asset at the ARN the
    promotion would use (made outside Cartograph's promotions: treated as changed in the target)."""
    copies: dict[int, planning.Copy] = {}
    for row in PromotedCopy.objects.filter(source_id__in=list(assets), target_folder=folder).select_related("copy"):
        copy = row.copy
        if copy.status == AssetStatus.DELETED:
            continue
        copies[row.source_id] = planning.Copy(
            asset_id=copy.pk,
            external_id=copy.external_id,
            name=copy.name,
            description=copy.description,
            version=copy.version,
            attributes=copy.attributes,
            source_changed=asset_fingerprint(assets[row.source_id]) != row.source_fingerprint,
            copy_changed=asset_fingerprint(copy) != row.copy_fingerprint,
        )
    wanted: dict[tuple[str, str], int] = {}
    for pk, asset in assets.items():
        if pk in copies or planning.parse_arn(asset.external_id) is None:
            continue
        resource_id = planning.target_resource_id(source_arn=asset.external_id, folder_arn=folder.external_id)
        prefix = planning.parse_arn(folder.external_id)["prefix"]
        wanted[(asset.kind, f"{prefix}:{planning.ARN_TYPES[asset.kind]}/{resource_id}")] = pk
    if wanted:
        condition = Q()
        for kind, external_id in wanted:
            condition |= Q(kind=kind, external_id=external_id)
        for copy in Asset.objects.filter(condition).exclude(status=AssetStatus.DELETED):
            copies[wanted[(copy.kind, copy.external_id)]] = planning.Copy(
                asset_id=copy.pk,
                external_id=copy.external_id,
                name=copy.name,
                description=copy.description,
                version=copy.version,
                attributes=copy.attributes,
                source_changed=True,
                copy_changed=True,
            )
    return copies


def _ids(raw: dict[Any, Any] | None, *, field: str) -> dict[int, Any]:
    result: dict[int, Any] = {}
    for key, value in (raw or {}).items():
        try:
            result[int(key)] = value
        except (TypeError, ValueError):
            raise DomainError(f"{key!r} is not an asset id; key this by the ids of the plan's assets", field=field)
    return result


def _target_checks(*, asset: Asset, folder: Asset, kind: str) -> None:
    if folder.kind != AssetKind.FOLDER:
        raise DomainError(f"asset {folder.pk} is a {folder.kind}, not a folder", field="target")
    if planning.parse_arn(folder.external_id) is None:
        raise DomainError(f"folder {folder.name!r} has no QuickSight ARN to promote into", field="target")
    if asset.folder_memberships.filter(folder=folder).exists():
        raise DomainError(
            f"the target equals the source: {asset.name!r} is already in folder {folder.name!r}; choose the folder "
            "of another environment",
            field="target",
        )
    if kind == PromotionKind.ENVIRONMENT and asset.environment and asset.environment == folder.environment:
        raise DomainError(
            f"the target equals the source: {asset.name!r} and folder {folder.name!r} are both in "
            f"{asset.get_environment_display()}; choose the folder of another environment",
            field="target",
        )


@transaction.atomic
def promotion_plan(
    *,
    actor: AbstractBaseUser | None,
    asset: Asset,
    target_folder: Asset,
    include_dependencies: bool = True,
    data_source_mappings: dict[Any, Any] | None = None,
    renames: dict[Any, str] | None = None,
    overwrite: bool = False,
    note: str = "",
    dry_run: bool = False,
    kind: str = PromotionKind.ENVIRONMENT,
    customer: Customer | None = None,
    viewer: AbstractBaseUser | None = None,
) -> PlanResult:
    """Plans copying `asset` (and its dependencies) into `target_folder`.

    Unplannable input is a DomainError naming what is wrong: an asset that cannot be promoted, a target that is
    not a folder or is the source's own environment, a dependency cycle, a mapping or rename of an asset outside
    the plan, and (unless `dry_run`, which reports it as a conflict) a data source without a mapping.
    With `viewer`, a plan touching assets the viewer may not see is refused (it would reveal them).
    """
    if asset.kind not in ROOT_KINDS:
        raise DomainError(
            f"a {asset.kind} cannot be promoted; promote a {', '.join(ROOT_KINDS[:-1])} or {ROOT_KINDS[-1]}",
            field="asset",
        )
    if asset.status == AssetStatus.DELETED:
        raise DomainError(f"{asset.name!r} is deleted", field="asset")
    _target_checks(asset=asset, folder=target_folder, kind=kind)
    assets, edges = dependency_graph(root=asset)
    if viewer is not None:
        hidden = set(assets) - set(
            Asset.objects.visible_to(viewer).filter(pk__in=list(assets)).values_list("pk", flat=True)
        )
        if hidden:
            raise DomainError(
                f"{asset.name!r} depends on {len(hidden)} asset(s) you may not see; ask their owners for access "
                "or a BI developer to promote it",
                field="asset",
                status_code=403,
            )
    mappings = _ids(data_source_mappings, field="data_source_mappings")
    for pk, value in mappings.items():
        if pk not in assets or assets[pk].kind != AssetKind.DATA_SOURCE:
            raise DomainError(f"asset {pk} is not a data source of this plan", field="data_source_mappings")
        if isinstance(value, str):
            if planning.parse_arn(value) is None:
                raise DomainError(
                    f"mapping of {assets[pk].name!r}: {value!r} is not a QuickSight data source ARN",
                    field="data_source_mappings",
                )
        elif not isinstance(value, dict) or not isinstance(value.get("parameters"), dict):
            raise DomainError(
                f"mapping of {assets[pk].name!r}: give a data source ARN or an object with `parameters` "
                "(QuickSight DataSourceParameters) and optionally `type`",
                field="data_source_mappings",
            )
    names = _ids(renames, field="renames")
    for pk, value in names.items():
        if pk not in assets:
            raise DomainError(f"asset {pk} is not in this plan", field="renames")
        if not isinstance(value, str) or not value.strip() or len(value) > 300:
            raise DomainError(f"the new name of asset {pk} must be 1 to 300 characters", field="renames")
    if kind == PromotionKind.CUSTOMER_COPY:
        # a customer copy lives beside the product: it reuses the product's data sources and templates
        for pk, a in assets.items():
            if a.kind in (AssetKind.DATA_SOURCE, AssetKind.TEMPLATE):
                mappings.setdefault(pk, a.external_id)
    try:
        plan = planning.plan_compute(
            root=asset.pk,
            nodes=_nodes(assets),
            edges=edges,
            target=planning.Target(
                folder_arn=target_folder.external_id,
                environment=target_folder.get_environment_display() if target_folder.environment else "",
                customer=customer.name if customer else "",
            ),
            copies=_copies(assets=assets, folder=target_folder),
            include_dependencies=include_dependencies,
            mappings=mappings,
            renames={pk: v.strip() for pk, v in names.items()},
            overwrite=overwrite,
        )
    except planning.PlanError as error:
        raise DomainError(error.message, field=error.field) from error
    missing = [c for c in plan.conflicts if c["kind"] == "missing_mapping"]
    if missing and not dry_run:
        raise DomainError(
            "missing data source mapping: "
            + "; ".join(f"{c['name']!r} (asset {c['asset_id']})" for c in missing)
            + " — map each to a data source ARN of the target or give connection parameters",
            field="data_source_mappings",
        )
    promotion = Promotion(
        kind=kind,
        source=asset,
        target_folder=target_folder,
        environment=target_folder.environment,
        customer=customer,
        options={
            "include_dependencies": include_dependencies,
            "data_source_mappings": {str(k): v for k, v in mappings.items()},
            "renames": {str(k): v for k, v in names.items()},
            "overwrite": overwrite,
        },
        conflicts=plan.conflicts,
        note=note.strip(),
        created_by=_actor(actor),
    )
    steps = [step.as_dict() for step in plan.steps]
    if dry_run:
        return PlanResult(promotion=promotion, steps=steps, conflicts=plan.conflicts, saved=False)
    promotion.full_clean()
    promotion.save()
    PromotionStep.objects.bulk_create(PromotionStep(promotion=promotion, **step) for step in steps)
    return PlanResult(promotion=promotion, steps=steps, conflicts=plan.conflicts, saved=True)


def second_person_required(*, environment: str) -> bool:
    return EnvironmentPolicy.objects.filter(environment=environment, second_person_required=True).exists()


def _may_change(actor: AbstractBaseUser | None, promotion: Promotion, what: str) -> None:
    if actor is None or not actor.is_authenticated:
        raise DomainError(f"sign in to {what} a promotion", status_code=403)
    editable = Asset.objects.editable_by(actor).filter(pk__in=[promotion.source_id, promotion.target_folder_id])
    if editable.count() < 2:
        raise DomainError(
            f"you may not {what} this promotion: it needs edit rights on {promotion.source.name!r} and on folder "
            f"{promotion.target_folder.name!r}; ask a BI developer",
            status_code=403,
        )


@transaction.atomic
def promotion_approve(*, promotion: Promotion, actor: AbstractBaseUser | None) -> Promotion:
    """Approves a planned promotion. A plan with blocking conflicts cannot be approved; where the environment's
    policy wants a second person, whoever planned or requested the promotion cannot approve it."""
    promotion = Promotion.objects.select_for_update().select_related("source", "target_folder").get(pk=promotion.pk)
    _may_change(actor, promotion, "approve")
    if promotion.status != PromotionStatus.PLANNED:
        raise DomainError(
            f"promotion {promotion.pk} is {promotion.get_status_display().lower()}, not awaiting approval",
            field="status",
            status_code=409,
        )
    if promotion.blocking_conflicts:
        raise DomainError(
            f"the plan has {len(promotion.blocking_conflicts)} blocking conflict(s): "
            + "; ".join(c["message"] for c in promotion.blocking_conflicts)
            + " — plan again once they are resolved",
            field="conflicts",
            status_code=409,
        )
    if second_person_required(environment=promotion.environment) and promotion.created_by_id == actor.pk:
        raise DomainError(
            f"promotions into {promotion.get_environment_display()} need a second person: someone other than "
            f"{actor.get_username()}, who planned it, must approve",
            field="approved_by",
            status_code=403,
        )
    promotion.status = PromotionStatus.APPROVED
    promotion.approved_by = actor
    promotion.approved_at = timezone.now()
    promotion.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    return promotion


@transaction.atomic
def promotion_execute_start(*, promotion: Promotion, actor: AbstractBaseUser | None) -> Promotion:
    """Queues an approved promotion for execution (a Celery task applies it step by step)."""
    from .tasks import promotion_execute_task

    promotion = Promotion.objects.select_for_update().select_related("source", "target_folder").get(pk=promotion.pk)
    _may_change(actor, promotion, "execute")
    if promotion.status != PromotionStatus.APPROVED:
        raise DomainError(
            f"promotion {promotion.pk} is {promotion.get_status_display().lower()}; only an approved plan runs",
            field="status",
            status_code=409,
        )
    promotion.status = PromotionStatus.QUEUED
    promotion.executed_by = actor
    promotion.save(update_fields=["status", "executed_by", "updated_at"])
    transaction.on_commit(lambda: promotion_execute_task.delay(promotion_id=promotion.pk))
    return promotion


def _step_save(step: PromotionStep, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(step, name, value)
    step.save(update_fields=[*fields, "updated_at"])


def _region(promotion: Promotion) -> str:
    return planning.parse_arn(promotion.target_folder.external_id)["region"]


def promotion_execute(*, promotion_id: int, client: Any = None) -> Promotion | None:
    """Applies a queued promotion through QuickSight, one step at a time, each step's state saved as it goes so
    progress can be watched. On a failure the steps already applied are undone in reverse order and the promotion
    ends `failed`; on success the copies are catalogued in the target folder. Safe to deliver twice: only a
    queued promotion is claimed."""
    with transaction.atomic():
        promotion = (
            Promotion.objects.select_for_update(skip_locked=True)
            .filter(pk=promotion_id, status=PromotionStatus.QUEUED)
            .select_related("source", "target_folder")
            .first()
        )
        if promotion is None:
            return None
        promotion.status = PromotionStatus.RUNNING
        promotion.started_at = timezone.now()
        promotion.save(update_fields=["status", "started_at", "updated_at"])
    client = client or aws.client_for(region=_region(promotion))
    steps = list(promotion.steps.order_by("position"))
    done: list[PromotionStep] = []
    for step in steps:
        if step.action not in APPLIED:
            _step_save(step, status=StepStatus.SKIPPED)
            continue
        _step_save(step, status=StepStatus.RUNNING, started_at=timezone.now())
        try:
            previous = aws.step_apply(client, kind=step.kind, action=step.action, request=step.request)
        except aws.StepFailed as error:
            _step_save(step, status=StepStatus.FAILED, error=str(error)[:5000], finished_at=timezone.now())
            if error.applied:  # the call went through before the failure: undo this step too, then keep its status
                _step_save(step, previous=error.previous)
                done.append(step)
            problems = _undo(client, done)
            if error.applied:
                _step_save(step, status=StepStatus.FAILED)
            promotion.status = PromotionStatus.FAILED
            promotion.error = f"step {step.position} ({step.action} {step.kind} {step.target_id}) failed: {error}"
            if problems:
                promotion.error += "; rollback left: " + "; ".join(problems)
            promotion.finished_at = timezone.now()
            promotion.save(update_fields=["status", "error", "finished_at", "updated_at"])
            return promotion
        _step_save(step, status=StepStatus.DONE, previous=previous, finished_at=timezone.now())
        done.append(step)
    _catalog_copies(promotion=promotion, steps=steps)
    promotion.status = PromotionStatus.SUCCEEDED
    promotion.finished_at = timezone.now()
    promotion.save(update_fields=["status", "finished_at", "updated_at"])
    return promotion


def _undo(client: Any, done: list[PromotionStep]) -> list[str]:
    """Undoes applied steps, last first; returns what could not be undone (each step is tried)."""
    problems = []
    for step in reversed(done):
        try:
            aws.step_undo(client, kind=step.kind, action=step.action, request=step.request, previous=step.previous)
        except aws.StepFailed as error:
            problems.append(f"step {step.position}: {error}")
            _step_save(step, error=f"rollback failed: {error}"[:5000])
            continue
        _step_save(step, status=StepStatus.ROLLED_BACK)
    return problems


@transaction.atomic
def _catalog_copies(*, promotion: Promotion, steps: list[PromotionStep]) -> None:
    """Catalogues what the promotion made: a copy per created or updated asset in the target folder, the source's
    lineage repeated between the copies, a promoted_from edge to each source, and the promotion in history."""
    folder = promotion.target_folder
    reason = f"promotion {promotion.pk}"
    now = timezone.now()
    sources = {a.pk: a for a in Asset.objects.filter(pk__in=[s.asset_id for s in steps])}
    copy_of: dict[int, Asset] = {}
    existing = {
        c.source_id: c.copy for c in PromotedCopy.objects.filter(source_id__in=list(sources), target_folder=folder)
    }
    for step in steps:
        source = sources[step.asset_id]
        if step.action in (StepAction.CREATE, StepAction.UPDATE):
            attributes = dict(source.attributes)
            attributes["arn"] = step.target_arn
            copy, _ = catalog_services.asset_upsert(
                actor=promotion.executed_by,
                source=ChangeSource.API,
                kind=source.kind,
                external_id=step.target_arn,
                name=step.name,
                description=source.description,
                owner=source.owner,
                owner_group=source.owner_group,
                domain=source.domain,
                business_unit=promotion.customer.business_unit if promotion.customer else source.business_unit,
                customer=promotion.customer or source.customer,
                product_line=source.product_line,
                environment=folder.environment,
                version=source.version,
                status=AssetStatus.ACTIVE,
                attributes=attributes,
            )
            update_change_reason(copy, reason)
            catalog_services.folder_membership_add(
                folder=folder, asset=copy, actor=promotion.executed_by, source=ChangeSource.API
            )
            copy_of[source.pk] = copy
            PromotedCopy.objects.update_or_create(
                source=source,
                target_folder=folder,
                defaults={
                    "copy": copy,
                    "promotion": promotion,
                    "source_fingerprint": asset_fingerprint(source),
                    "copy_fingerprint": asset_fingerprint(copy),
                    "source_version": source.version,
                    "promoted_at": now,
                },
            )
            lineage_services.edge_upsert(source=source, target=copy, kind=PROMOTED_FROM, actor=promotion.executed_by)
        elif step.action in (StepAction.UNCHANGED, StepAction.MAP):
            found = (
                existing.get(source.pk) or Asset.objects.filter(kind=source.kind, external_id=step.target_arn).first()
            )
            if found is not None:
                copy_of[source.pk] = found
    for edge in edges_at(kinds=DEPENDENCY_EDGE_KINDS).filter(source_id__in=list(copy_of), target_id__in=list(copy_of)):
        source, target = copy_of[edge.source_id], copy_of[edge.target_id]
        if source.pk != target.pk:
            lineage_services.edge_upsert(source=source, target=target, kind=edge.kind, actor=promotion.executed_by)


@transaction.atomic
def promotion_rollback(*, promotion: Promotion, actor: AbstractBaseUser | None, client: Any = None) -> Promotion:
    """Undoes a succeeded promotion: in QuickSight (deletes what it created, restores what it updated) and in the
    catalog (its new copies are deleted, updated copies get their previous name, description and version back).
    Only the latest succeeded promotion of an asset into a folder can be rolled back."""
    promotion = Promotion.objects.select_for_update().select_related("source", "target_folder").get(pk=promotion.pk)
    _may_change(actor, promotion, "roll back")
    if promotion.status != PromotionStatus.SUCCEEDED:
        raise DomainError(
            f"promotion {promotion.pk} is {promotion.get_status_display().lower()}; only a succeeded one rolls back",
            field="status",
            status_code=409,
        )
    later = Promotion.objects.filter(
        target_folder=promotion.target_folder,
        status=PromotionStatus.SUCCEEDED,
        steps__asset_id__in=promotion.steps.values("asset_id"),
        created_at__gt=promotion.created_at,
    ).exclude(pk=promotion.pk)
    if later.exists():
        raise DomainError(
            f"promotion {later.first().pk} changed the same assets later; roll that back first",
            field="status",
            status_code=409,
        )
    client = client or aws.client_for(region=_region(promotion))
    done = list(promotion.steps.filter(status=StepStatus.DONE).order_by("position"))
    problems = _undo(client, done)
    if problems:
        promotion.error = "rollback left: " + "; ".join(problems)
    copies = {c.source_id: c for c in PromotedCopy.objects.filter(promotion=promotion).select_related("copy")}
    for step in reversed(done):
        row = copies.get(step.asset_id)
        if row is None or step.action == StepAction.MEMBERSHIP:
            continue
        if step.action == StepAction.CREATE:
            catalog_services.asset_delete(asset=row.copy, actor=actor)
            update_change_reason(row.copy, f"rollback of promotion {promotion.pk}")
            row.delete()
        else:
            before = {c["field"]: c["from"] for c in step.changes if c["field"] in ("name", "description", "version")}
            if before:
                catalog_services.asset_update(asset=row.copy, actor=actor, **before)
    promotion.status = PromotionStatus.ROLLED_BACK
    promotion.save(update_fields=["status", "error", "updated_at"])
    return promotion


def customer_folder(*, customer: Customer) -> Asset | None:
    """The folder a customer's copies go to: the customer's production folder, else any folder of theirs."""
    folders = Asset.objects.filter(kind=AssetKind.FOLDER, customer=customer).exclude(status=AssetStatus.DELETED)
    return folders.filter(environment="prod").order_by("id").first() or folders.order_by("id").first()


@transaction.atomic
def promotion_request(
    *, actor: AbstractBaseUser | None, asset: Asset, customer: Customer, note: str = ""
) -> PlanResult:
    """A customer-facing user asks for a customer-specific copy of a product dashboard: it becomes a planned
    customer copy (a fork into the customer's folder) that a BI developer approves and executes."""
    if asset.kind != AssetKind.DASHBOARD:
        raise DomainError(f"asset {asset.pk} is a {asset.kind}; customer copies are made of dashboards", field="asset")
    if asset.customer_id == customer.pk:
        raise DomainError(f"{asset.name!r} already is {customer.name}'s own dashboard", field="customer")
    folder = customer_folder(customer=customer)
    if folder is None:
        raise DomainError(
            f"{customer.name} has no folder to copy into; ask a BI developer to create one", field="customer"
        )
    if not note.strip():
        raise DomainError("say what the customer needs this copy for", field="note")
    return promotion_plan(
        actor=actor,
        asset=asset,
        target_folder=folder,
        note=note,
        kind=PromotionKind.CUSTOMER_COPY,
        customer=customer,
    )
