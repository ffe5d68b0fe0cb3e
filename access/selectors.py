"""Reads of access, each scoped by who asks: grants, the audit, sharing requests, notifications, entitlements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from django.http import Http404

from .choices import REQUESTABLE_KINDS, RequestStatus
from .models import AccessRequest, AuditEvent, Grant, Notification
from .permissions import (
    decider_group_id,
    group_visibility_q,
    owned_domain_ids,
    sees_everything,
    user_group_ids,
)


def grant_list(*, user) -> QuerySet[Grant]:
    """Staff see every grant; others see the grants held by their own groups."""
    grants = Grant.objects.select_related("group", "domain", "asset").order_by("group__name", "id")
    if sees_everything(user):
        return grants
    return grants.filter(group_id__in=user_group_ids(user))


# --- audit -------------------------------------------------------------------------------------------------------


def audit_may_read(*, user) -> bool:
    """Staff read the whole audit; the owners of a domain read the audit of its assets."""
    return sees_everything(user) or bool(owned_domain_ids(user))


def audit_list(*, user) -> QuerySet[AuditEvent]:
    """Audit rows the user may read, newest first: all for staff; for domain owners, the events on their domains'
    assets (including grant changes on those assets)."""
    events = AuditEvent.objects.order_by("-at", "-id")
    if sees_everything(user):
        return events
    domain_ids = owned_domain_ids(user)
    if not domain_ids:
        return events.none()
    from catalog.models import Asset

    return events.filter(asset_id__in=Asset.objects.filter(domain_id__in=domain_ids).values("pk"))


# --- sharing requests ----------------------------------------------------------------------------------------------


def _decidable_q(user) -> Q:
    """Requests on assets whose deciders include the user."""
    group_ids = user_group_ids(user)
    q = Q(asset__domain__owner_group_id__in=group_ids)
    q |= (Q(asset__domain__isnull=True) | Q(asset__domain__owner_group__isnull=True)) & Q(
        asset__owner_group_id__in=group_ids
    )
    q |= (
        (Q(asset__domain__isnull=True) | Q(asset__domain__owner_group__isnull=True))
        & Q(asset__owner_group__isnull=True)
        & Q(asset__owner_id=user.pk)
    )
    return q


def access_request_list(*, user, box: str = "mine") -> QuerySet[AccessRequest]:
    """`mine`: the user's own requests; `inbox`: requests the user decides on; `all`: both (staff: every request)."""
    requests = AccessRequest.objects.select_related("requester", "group", "asset", "decided_by").order_by(
        "-created_at", "-id"
    )
    if not user.is_authenticated:
        return requests.none()
    if box == "mine":
        return requests.filter(requester=user)
    if box == "inbox":
        return requests if sees_everything(user) else requests.filter(_decidable_q(user))
    if sees_everything(user):
        return requests
    return requests.filter(Q(requester=user) | _decidable_q(user))


def access_request_get(*, user, pk: Any) -> AccessRequest:
    """A request the user made or decides on; otherwise 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No access request has this id.") from None
    access_request = access_request_list(user=user, box="all").filter(pk=pk).first()
    if access_request is None:
        raise Http404("No access request has this id, or it is not yours to see.")
    return access_request


def inbox_pending_count(*, user) -> int:
    return access_request_list(user=user, box="inbox").filter(status=RequestStatus.PENDING).count()


def requestable_asset_get(*, pk: Any):
    """An asset anyone signed in may ask access to: an active data product, dataset or dashboard with data owners.
    Only its name and kind are shown to someone who cannot see it (so they can tell what they ask for)."""
    from catalog.models import Asset

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No asset has this id.") from None
    asset = (
        Asset.objects.filter(pk=pk, kind__in=REQUESTABLE_KINDS, status="active")
        .filter(Q(domain__owner_group__isnull=False) | Q(owner_group__isnull=False) | Q(owner__isnull=False))
        .select_related("domain")
        .only("pk", "name", "kind", "domain__owner_group_id", "domain_id", "owner_group_id", "owner_id", "status")
        .first()
    )
    if asset is None:
        raise Http404("No asset has this id, or access to it cannot be requested.")
    return asset


def requestable_asset_ids(*, user, asset_ids: list[int]) -> set[int]:
    """Of the given assets, those the user does not see but could ask access to (for "requestable" flags, e.g. on
    recommendations): active data products, datasets and dashboards with data owners. Two queries, any number of ids."""
    from catalog.models import Asset

    candidates = Asset.objects.filter(pk__in=asset_ids, kind__in=REQUESTABLE_KINDS, status="active").filter(
        Q(domain__owner_group__isnull=False) | Q(owner_group__isnull=False) | Q(owner__isnull=False)
    )
    visible = set(Asset.objects.visible_to(user).filter(pk__in=asset_ids).values_list("pk", flat=True))
    return set(candidates.values_list("pk", flat=True)) - visible


def requestable_groups(*, user) -> QuerySet[Group]:
    return Group.objects.filter(pk__in=user_group_ids(user)).order_by("name")


# --- notifications -----------------------------------------------------------------------------------------------


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- entitlements ------------------------------------------------------------------------------------------------


def entitlement_group_get(*, user, name: str) -> Group:
    """A group whose entitlements the user may read: staff any group, others their own groups; otherwise 404."""
    group = Group.objects.filter(name=name).first()
    if group is None or not (sees_everything(user) or group.pk in user_group_ids(user)):
        raise Http404("No group has this name, or you are not a member of it.")
    return group


@dataclass(frozen=True)
class GroupEntitlement:
    asset_id: int
    name: str
    kind: str
    routes: list[str]


def group_entitlements(*, group: Group, limit: int = 1000) -> list[GroupEntitlement]:
    """What the members of `group` see through it, and by which route (owning group, domain owner, domain grant,
    asset grant), by asset name."""
    from catalog.models import Asset, Domain

    owned_domains = set(Domain.objects.filter(owner_group=group).values_list("id", flat=True))
    domain_grants = dict(Grant.objects.filter(group=group, domain__isnull=False).values_list("domain_id", "permission"))
    asset_grants = dict(Grant.objects.filter(group=group, asset__isnull=False).values_list("asset_id", "permission"))
    assets = (
        Asset.objects.filter(group_visibility_q(group.pk))
        .not_deleted()
        .order_by("name", "id")
        .values("id", "name", "kind", "owner_group_id", "domain_id")[:limit]
    )
    result = []
    for row in assets:
        routes = []
        if row["owner_group_id"] == group.pk:
            routes.append("owning group")
        if row["domain_id"] in owned_domains:
            routes.append("owns the domain")
        if row["domain_id"] in domain_grants:
            routes.append(f"{domain_grants[row['domain_id']]} grant on the domain")
        if row["id"] in asset_grants:
            routes.append(f"{asset_grants[row['id']]} grant on the asset")
        result.append(GroupEntitlement(row["id"], row["name"], row["kind"], routes))
    return result


@dataclass(frozen=True)
class AssetAccessRoute:
    route: str
    group: str | None
    permission: str
    grant_id: int | None
    users: list[str]
    expires_at: Any = None


def asset_access_routes(*, asset) -> list[AssetAccessRoute]:
    """Who can see the asset and through which grant: staff, its owner, its owning group, its domain's owners, and
    each grant on its domain or on it (with the approved request that gave it, if any, and when that ends)."""
    user_model = get_user_model()
    routes: list[AssetAccessRoute] = []

    def members(group_id: int) -> list[str]:
        return list(
            user_model.objects.filter(groups__id=group_id, is_active=True)
            .order_by("username")
            .values_list("username", flat=True)
        )

    staff = list(
        user_model.objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True)
        .order_by("username")
        .values_list("username", flat=True)
    )
    routes.append(AssetAccessRoute("staff", None, "edit", None, staff))
    if asset.owner_id:
        routes.append(AssetAccessRoute("owner", None, "edit", None, [asset.owner.get_username()]))
    if asset.owner_group_id:
        routes.append(
            AssetAccessRoute("owning group", asset.owner_group.name, "edit", None, members(asset.owner_group_id))
        )
    if asset.domain_id and asset.domain.owner_group_id:
        owner_group = asset.domain.owner_group
        routes.append(AssetAccessRoute("owns the domain", owner_group.name, "edit", None, members(owner_group.pk)))
    grants = Grant.objects.filter(Q(asset=asset) | Q(domain_id=asset.domain_id) if asset.domain_id else Q(asset=asset))
    expiring = dict(
        AccessRequest.objects.filter(grant__in=grants, status=RequestStatus.APPROVED).values_list(
            "grant_id", "expires_at"
        )
    )
    for grant in grants.select_related("group").order_by("group__name", "id"):
        where = "domain grant" if grant.domain_id else "asset grant"
        routes.append(
            AssetAccessRoute(
                where, grant.group.name, grant.permission, grant.pk, members(grant.group_id), expiring.get(grant.pk)
            )
        )
    return routes


def decider_group(asset) -> Group | None:
    group_id = decider_group_id(asset)
    return Group.objects.filter(pk=group_id).first() if group_id else None


def may_decide_request(*, user, access_request: AccessRequest) -> bool:
    from .permissions import may_decide

    return may_decide(user, access_request.asset)
