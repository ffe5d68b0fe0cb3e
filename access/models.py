"""Who may see and change what: grants of view or edit to groups, on a domain or on one asset; sharing requests
that lead to grants; the append-only audit of data reads and access changes; in-app notifications."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import AuditAction, AuditSource, Permission, RequestStatus


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


class AuditEventQuerySet(models.QuerySet):
    """Audit rows are append-only: bulk updates and deletes through the ORM are refused like single ones."""

    def update(self, **kwargs):
        raise PermissionDenied("audit events cannot be changed")

    def delete(self):
        raise PermissionDenied("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One access to an asset's data (preview, visual data, export, alert evaluation) or one change of who may
    access what (grants, sharing requests), with the person behind it and where it came from.

    Append-only: the model refuses saves of an existing row and deletes, the admin is read-only, and on PostgreSQL a
    trigger refuses UPDATE and DELETE. The user and asset are kept as plain ids (no foreign key constraint) with the
    username copied, so deleting a user or an asset neither touches nor loses the record.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=10, choices=AuditSource.choices)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    asset = models.ForeignKey(
        "catalog.Asset", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    # the one timestamp: an audit row is written once and never updated, so it has no updated_at
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=AuditSource.values), name="audit_source_valid"),
            models.CheckConstraint(condition=Q(action__in=AuditAction.values), name="audit_action_valid"),
        ]
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_recent_idx"),
            models.Index(fields=["asset", "-at"], name="audit_asset_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
            models.Index(fields=["action", "-at"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action} {self.asset_id or ''}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionDenied("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("audit events cannot be deleted")


class AccessRequest(models.Model):
    """A user's request that one of their groups be given view access to a data product, dataset or dashboard.

    The owners of the asset's domain (or, without a domain, its owning group) approve or reject it with a comment.
    Approval creates a view grant for the group on the asset, which ends when the request expires or is revoked.
    Status moves only along `choices.REQUEST_TRANSITIONS`; every move is an `AccessRequestEvent`.
    """

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="access_requests")
    asset = models.ForeignKey("catalog.Asset", on_delete=models.CASCADE, related_name="access_requests")
    justification = models.TextField(max_length=5000)
    duration_days = models.PositiveIntegerField(null=True, blank=True, help_text="empty: until revoked")
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True, max_length=5000)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    grant = models.ForeignKey(Grant, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="access_request_status_valid"),
            models.CheckConstraint(condition=~Q(justification=""), name="access_request_justified"),
            models.CheckConstraint(
                condition=Q(duration_days__isnull=True) | (Q(duration_days__gte=1) & Q(duration_days__lte=3650)),
                name="access_request_duration_range",
            ),
            models.UniqueConstraint(
                fields=["group", "asset"],
                condition=Q(status__in=["pending", "approved"]),
                name="access_request_one_open_per_group_asset",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="access_request_due_idx"),
            models.Index(fields=["asset", "status"], name="access_request_asset_idx"),
        ]

    def __str__(self) -> str:
        return f"request {self.pk}: {self.group_id} on asset {self.asset_id} ({self.status})"


class AccessRequestEvent(models.Model):
    """One step in the life of a sharing request: who moved it from which status to which, when, and why."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    comment = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"request {self.request_id}: {self.from_status or '-'} -> {self.to_status}"


class Notification(models.Model):
    """An in-app message to one user (a request to decide, a decision, an expiry reminder); unread until opened."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=500)
    link = models.CharField(max_length=500, blank=True)
    request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"to {self.user_id}: {self.text}"
