"""Who may see and change what: grants of view or edit to groups, on a domain or on one asset."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

from .choices import Permission


class Grant(models.Model):
    """A group's right (view or edit) on one domain (and so every asset in it) or on one asset.

    Access is granted to groups, never to single users. Edit implies view.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="grants")
    permission = models.CharField(max_length=10, choices=Permission.choices, default=Permission.VIEW)
    domain = models.ForeignKey("catalog.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    asset = models.ForeignKey("catalog.Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(domain__isnull=False) & Q(asset__isnull=True))
                | (Q(domain__isnull=True) & Q(asset__isnull=False)),
                name="grant_on_exactly_one_target",
            ),
            models.UniqueConstraint(fields=["group", "domain"], name="grant_unique_group_domain"),
            models.UniqueConstraint(fields=["group", "asset"], name="grant_unique_group_asset"),
            models.CheckConstraint(condition=Q(permission__in=Permission.values), name="grant_permission_valid"),
        ]

    def __str__(self) -> str:
        target = f"domain {self.domain_id}" if self.domain_id else f"asset {self.asset_id}"
        return f"{self.group} may {self.permission} {target}"


class UserAttribute(models.Model):
    """A named attribute of a user (e.g. department = Claims), used by attribute-based row-level security."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(max_length=100)
    value = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="user_attribute_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}.{self.name}={self.value}"
