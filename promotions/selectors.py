"""Reads of promotions, scoped to what the user may see: a promotion is visible with its source asset (or to whoever
requested it); steps about assets the user may not see are shown without their names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from catalog.models import Asset

from .choices import CopyState
from .models import PromotedCopy, Promotion, PromotionStep
from .services import asset_fingerprint


def promotion_list(*, user) -> QuerySet[Promotion]:
    visible = Asset.objects.visible_to(user).values("pk")
    mine = Q(created_by_id=user.pk) if user.is_authenticated else Q(pk__in=[])
    return (
        Promotion.objects.filter(Q(source_id__in=visible) | mine)
        .select_related("source", "target_folder", "customer", "created_by", "approved_by", "executed_by")
        .order_by("-created_at", "-id")
    )


def promotion_get(*, user, pk: Any) -> Promotion:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No promotion has this id.") from None
    promotion = promotion_list(user=user).filter(pk=pk).first()
    if promotion is None:
        raise Http404("No promotion has this id, or you may not see it.")
    return promotion


def visible_asset_ids(*, user, ids: list[int]) -> set[int]:
    return set(Asset.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def promotion_steps(*, user, promotion: Promotion) -> list[dict[str, Any]]:
    """The plan's steps as dicts, those about assets the user may not see with their names and details withheld."""
    steps = list(PromotionStep.objects.filter(promotion=promotion).order_by("position"))
    visible = visible_asset_ids(user=user, ids=[s.asset_id for s in steps])
    rows = []
    for step in steps:
        shown = step.asset_id in visible
        rows.append(
            {
                "position": step.position,
                "asset_id": step.asset_id if shown else None,
                "restricted": not shown,
                "kind": step.kind,
                "action": step.action,
                "name": step.name if shown else "restricted asset",
                "target_id": step.target_id if shown else "",
                "target_arn": step.target_arn if shown else "",
                "depends_on": step.depends_on,
                "changes": step.changes if shown else [],
                "request": step.request if shown else {},
                "status": step.status,
                "error": step.error if shown else ("failed" if step.error else ""),
                "started_at": step.started_at,
                "finished_at": step.finished_at,
            }
        )
    return rows


def promotion_progress(*, promotion: Promotion) -> dict[str, int]:
    applied = PromotionStep.objects.filter(promotion=promotion).exclude(action__in=["unchanged", "map"])
    total = applied.count()
    finished = applied.exclude(status__in=["pending", "running"]).count()
    return {"done": finished, "total": total}


@dataclass(frozen=True)
class EnvironmentCopy:
    folder: Asset
    copy: Asset
    state: str
    promotion_id: int
    promoted_at: Any
    source_version: int

    @property
    def state_label(self) -> str:
        return CopyState(self.state).label


def copy_state(*, source: Asset, row: PromotedCopy) -> str:
    """Diverged when the copy changed in the target since the promotion, behind when only the source changed."""
    if asset_fingerprint(row.copy) != row.copy_fingerprint:
        return CopyState.DIVERGED
    if asset_fingerprint(source) != row.source_fingerprint:
        return CopyState.BEHIND
    return CopyState.SAME


def environment_copies(*, user, asset: Asset) -> list[EnvironmentCopy]:
    """Where each environment's copy of the asset stands, for the copies (and folders) the user may see."""
    visible = Asset.objects.visible_to(user).values("pk")
    rows = (
        PromotedCopy.objects.filter(source=asset, copy_id__in=visible, target_folder_id__in=visible)
        .exclude(copy__status="deleted")
        .select_related("copy", "target_folder")
        .order_by("target_folder__environment", "target_folder__name", "id")
    )
    return [
        EnvironmentCopy(
            folder=row.target_folder,
            copy=row.copy,
            state=copy_state(source=asset, row=row),
            promotion_id=row.promotion_id,
            promoted_at=row.promoted_at,
            source_version=row.source_version,
        )
        for row in rows
    ]


def copy_origins(*, user, asset: Asset) -> list[PromotedCopy]:
    """The promotions that made this asset (as a copy of a source the user may see), with the source's state."""
    visible = Asset.objects.visible_to(user).values("pk")
    return list(PromotedCopy.objects.filter(copy=asset, source_id__in=visible).select_related("source").order_by("id"))


def asset_promotions(*, user, asset: Asset, environment: str | None = None) -> QuerySet[Promotion]:
    """The promotions of an asset (newest first), optionally into one environment."""
    promotions = promotion_list(user=user).filter(source=asset)
    if environment:
        promotions = promotions.filter(environment=environment)
    return promotions


def promotion_detail(*, user, promotion: Promotion, steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Everything a plan page or the API shows of a promotion; `steps` given for a dry run (not stored)."""
    from .services import second_person_required

    dry_run = steps is not None
    if steps is None:
        steps = promotion_steps(user=user, promotion=promotion)
        progress = promotion_progress(promotion=promotion)
    else:
        steps = [
            {**step, "restricted": False, "status": "pending", "error": "", "started_at": None, "finished_at": None}
            for step in steps
        ]
        progress = {"done": 0, "total": sum(1 for s in steps if s["action"] not in ("unchanged", "map"))}
    return {
        "id": promotion.pk,
        "dry_run": dry_run,
        "kind": promotion.kind,
        "status": promotion.status,
        "source": promotion.source_id,
        "target_folder": promotion.target_folder_id,
        "environment": promotion.environment,
        "customer": promotion.customer.slug if promotion.customer_id else None,
        "second_person_required": second_person_required(environment=promotion.environment),
        "approvable": promotion.status == "planned" and not promotion.blocking_conflicts,
        "created_by": promotion.created_by.get_username() if promotion.created_by_id else None,
        "approved_by": promotion.approved_by.get_username() if promotion.approved_by_id else None,
        "error": promotion.error,
        "progress": progress,
        "steps": steps,
        "conflicts": promotion.conflicts,
    }


def promotion_artefact_steps(*, promotion: Promotion) -> list[dict[str, Any]]:
    """The stored steps as the artefact renderers take them."""
    return list(
        PromotionStep.objects.filter(promotion=promotion)
        .order_by("position")
        .values("position", "asset_id", "kind", "action", "name", "target_id", "target_arn", "depends_on", "request")
    )
