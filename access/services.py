"""Writes to access: grants of view or edit to groups."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from config.errors import DomainError

from .choices import Permission
from .models import Grant


@transaction.atomic
def grant_set(*, group: Group, permission: str, actor: AbstractBaseUser | None, domain=None, asset=None) -> Grant:
    """Gives `group` view or edit on one domain or one asset; an existing grant on the same target is changed."""
    if (domain is None) == (asset is None):
        raise DomainError("a grant is on exactly one domain or one asset", field="domain")
    if permission not in Permission.values:
        raise DomainError(f"{permission!r} is not a permission; use view or edit", field="permission")
    grant, _ = Grant.objects.select_for_update().get_or_create(
        group=group, domain=domain, asset=asset, defaults={"permission": permission, "created_by": actor}
    )
    if grant.permission != permission:
        grant.permission = permission
        grant.full_clean()
        grant.save(update_fields=["permission", "updated_at"])
    return grant


@transaction.atomic
def grant_revoke(*, grant: Grant, actor: AbstractBaseUser | None) -> None:
    grant.delete()
