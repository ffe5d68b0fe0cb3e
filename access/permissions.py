"""The one visibility rule of Cartograph: what a user may see and change.

Every list, search, facet count, report and detail goes through `asset_visibility_q` (via
`Asset.objects.visible_to(user)`), so there is exactly one place where "who may see what" is decided.
Staff see everything. Anyone else sees an asset when they own it, when one of their groups owns it or its domain,
or when one of their groups holds a grant on it or on its domain.
"""

from __future__ import annotations

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
