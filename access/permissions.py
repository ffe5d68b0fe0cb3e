"""The one visibility rule of Cartograph: what a user may see and change.

Every list, search, facet count, report and detail goes through `asset_visibility_q` (via
`Asset.objects.visible_to(user)`), so there is exactly one place where "who may see what" is decided.
Staff see everything. Anyone else sees an asset when they own it, when one of their groups owns it or its domain,
or when one of their groups holds a grant on it or on its domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from .choices import Permission
from .models import Grant

User = AbstractBaseUser | AnonymousUser


def sees_everything(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def user_group_ids(user: User) -> list[int]:
    """The ids of the user's groups, memoised on the user object for the length of a request."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_cartograph_group_ids", None)
    if cached is None:
        # all() answers from groups prefetched with the user (batch work over many readers' alerts) without a query
        cached = [group.pk for group in user.groups.all()]
        user._cartograph_group_ids = cached
    return cached


def visible_domain_ids(user: User, *, permission: str = Permission.VIEW) -> list[int]:
    from django.apps import apps

    group_ids = user_group_ids(user)
    if not group_ids:
        return []
    domain_model = apps.get_model("catalog", "Domain")
    granted = Q(grants__group_id__in=group_ids)
    if permission == Permission.EDIT:
        granted &= Q(grants__permission=Permission.EDIT)
    rows = domain_model.objects.filter(Q(owner_group_id__in=group_ids) | granted).values_list("id", flat=True)
    return sorted(set(rows))


def asset_visibility_q(user: User, *, permission: str = Permission.VIEW) -> Q | None:
    """A filter on Asset for what the user may see (or edit); None means no restriction (staff)."""
    if sees_everything(user):
        return None
    if not user.is_authenticated:
        return Q(pk__in=[])
    group_ids = user_group_ids(user)
    grants = Grant.objects.filter(group_id__in=group_ids, asset__isnull=False)
    if permission == Permission.EDIT:
        grants = grants.filter(permission=Permission.EDIT)
    q = Q(owner_id=user.pk)
    if group_ids:
        q |= Q(owner_group_id__in=group_ids)
        q |= Q(pk__in=grants.values("asset_id"))
        domain_ids = visible_domain_ids(user, permission=permission)
        if domain_ids:
            q |= Q(domain_id__in=domain_ids)
    return q


@dataclass(frozen=True)
class Viewers:
    """Who sees one asset, by the same routes as `asset_visibility_q` turned around: its personal owner and the
    groups that own it or its domain or hold a view grant on either. For checking many users against a few assets
    (alert owners at evaluation time) without a query per user."""

    owner_id: int | None
    group_ids: frozenset[int]

    def include(self, user: User) -> bool:
        if sees_everything(user):
            return True
        if not user.is_authenticated:
            return False
        return user.pk == self.owner_id or not self.group_ids.isdisjoint(user_group_ids(user))


def asset_viewers(asset_ids: list[int]) -> dict[int, Viewers]:
    """The `Viewers` of each asset, in two queries whatever the number of assets."""
    from django.apps import apps

    asset_model = apps.get_model("catalog", "Asset")
    rows = list(
        asset_model.objects.filter(pk__in=asset_ids).values_list(
            "pk", "owner_id", "owner_group_id", "domain_id", "domain__owner_group_id"
        )
    )
    groups: dict[int, set[int]] = {pk: set() for pk, *_ in rows}
    by_domain: dict[int, list[int]] = {}
    for pk, _owner, owner_group, domain, domain_owner_group in rows:
        groups[pk].update(g for g in (owner_group, domain_owner_group) if g is not None)
        if domain is not None:
            by_domain.setdefault(domain, []).append(pk)
    for group_id, asset_id, domain_id in Grant.objects.filter(
        Q(asset_id__in=list(groups)) | Q(domain_id__in=list(by_domain))
    ).values_list("group_id", "asset_id", "domain_id"):
        for pk in [asset_id] if asset_id is not None else by_domain.get(domain_id, []):
            if pk in groups:
                groups[pk].add(group_id)
    return {pk: Viewers(owner_id=owner, group_ids=frozenset(groups[pk])) for pk, owner, *_ in rows}


def group_visibility_q(group_id: int) -> Q:
    """A filter on Asset for what the members of one group see through that group alone (the same routes as
    `asset_visibility_q`, less personal ownership): for "what can group G see"."""
    from django.apps import apps

    domain_model = apps.get_model("catalog", "Domain")
    domain_ids = domain_model.objects.filter(Q(owner_group_id=group_id) | Q(grants__group_id=group_id)).values("id")
    granted = Grant.objects.filter(group_id=group_id, asset__isnull=False).values("asset_id")
    return Q(owner_group_id=group_id) | Q(pk__in=granted) | Q(domain_id__in=domain_ids)


def decider_group_id(asset) -> int | None:
    """The group whose members decide on access to the asset: its domain's owners, else its owning group."""
    if asset.domain_id and asset.domain.owner_group_id:
        return asset.domain.owner_group_id
    return asset.owner_group_id


def may_decide(user: User, asset) -> bool:
    """Whether the user approves, rejects, extends and revokes access to the asset (its data owners, and staff)."""
    if sees_everything(user):
        return True
    if not user.is_authenticated:
        return False
    group_id = decider_group_id(asset)
    if group_id is not None:
        return group_id in user_group_ids(user)
    return asset.owner_id == user.pk


def owned_domain_ids(user: User) -> list[int]:
    """Domains whose owning group the user belongs to (domain owners read the audit of their domain's assets)."""
    from django.apps import apps

    group_ids = user_group_ids(user)
    if not group_ids:
        return []
    domain_model = apps.get_model("catalog", "Domain")
    return list(domain_model.objects.filter(owner_group_id__in=group_ids).values_list("id", flat=True))
