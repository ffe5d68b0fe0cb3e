from __future__ import annotations

from django.db import models

from access.choices import Permission
from access.permissions import asset_visibility_q

from .choices import AssetStatus


class AssetQuerySet(models.QuerySet):
    def visible_to(self, user) -> AssetQuerySet:
        """Only the assets the user may see (the one rule, in access.permissions)."""
        q = asset_visibility_q(user)
        return self if q is None else self.filter(q)

    def editable_by(self, user) -> AssetQuerySet:
        q = asset_visibility_q(user, permission=Permission.EDIT)
        return self if q is None else self.filter(q)

    def not_deleted(self) -> AssetQuerySet:
        return self.exclude(status=AssetStatus.DELETED)
