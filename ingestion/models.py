"""Ingestion: where change events, bulk imports and connector runs are received, stored and reported."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models import Asset

from .choices import EventFormat, EventStatus, ImportStatus, SourceKind


class EventSource(models.Model):
    """A sender of change events (an EventBridge rule, a pipeline's OpenLineage client) with its own token.

    Only a SHA-256 hash of the token is stored; the token itself is shown once, when it is issued. A token is
    accepted only by the endpoint for the source's kind.
    """

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=12, help_text="first characters of the token, to tell tokens apart")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=SourceKind.values), name="event_source_kind_valid")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ChangeEvent(models.Model):
    """One received event, stored raw, with what applying it did.

    The receiving endpoint only checks and stores an event (`pending`); the apply task claims pending events in
    batches, oldest event time first, and marks each applied, stale, rejected (with the reason) or unknown.

    `event_key` identifies the event across deliveries (the EventBridge or CloudTrail event id, or a digest of an
    OpenLineage event); a second delivery is stored as a `duplicate` row pointing at the first and changes nothing.
    """

    source = models.ForeignKey(EventSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    event_key = models.CharField(max_length=300)
    format = models.CharField(max_length=12, choices=EventFormat.choices)
    event_type = models.CharField(max_length=200, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=EventStatus.choices)
    reason = models.TextField(blank=True, max_length=5000)
    payload = models.JSONField()
    asset_ids = models.JSONField(default=list, blank=True, help_text="assets the event created, changed or deleted")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key"], condition=~Q(status=EventStatus.DUPLICATE), name="change_event_unique_key"
            ),
            models.CheckConstraint(condition=Q(status__in=EventStatus.values), name="change_event_status_valid"),
            models.CheckConstraint(condition=Q(format__in=EventFormat.values), name="change_event_format_valid"),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="change_event_recent_idx"),
            models.Index(fields=["status", "-created_at"], name="change_event_status_idx"),
            # the apply task claims pending events oldest event first
            models.Index(
                fields=["event_time", "id"], condition=Q(status=EventStatus.PENDING), name="change_event_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type or self.format} {self.event_key} ({self.status})"


class AssetEventState(models.Model):
    """The time of the newest event applied to an asset, so that an older event delivered late cannot regress it."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="ingestion_state")
    last_event_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.asset_id} at {self.last_event_at.isoformat()}"


class MembershipEventState(models.Model):
    """The time of the newest event applied to one folder membership (added or taken out), so that a late delivery
    of an older one cannot add back a member that was taken out, or take out one added since."""

    folder = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    last_event_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["folder", "member"], name="membership_event_state_unique")]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.folder_id} at {self.last_event_at.isoformat()}"


class ImportJob(models.Model):
    """One bulk import of a bundle of QuickSight Describe* outputs, run by Celery, with progress and a report.

    `report` holds the rejected items (path and reason) and the paths of created and updated items.
    """

    bundle = models.FileField(upload_to="imports/%Y/%m/")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_job_status_valid"),
            models.CheckConstraint(condition=Q(processed__lte=models.F("total")), name="import_job_progress_bounded"),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status}, {self.processed}/{self.total})"


class ImportedItem(models.Model):
    """The fingerprint of the Describe* output an asset was last imported from, so re-importing it is a no-op."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="import_state")
    fingerprint = models.CharField(max_length=64)
    imported_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.fingerprint[:12]}"


class JoinEvidence(models.Model):
    """A join between two datasets seen in a QuickSight LogicalTableMap (JoinInstruction.OnClause).

    `column_pairs` lists [left column, right column] equalities parsed from the clause; the recommender reads these
    as observed evidence that the two datasets relate.
    """

    dataset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+", help_text="where the join is")
    left = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    join_type = models.CharField(max_length=10, blank=True)
    on_clause = models.CharField(max_length=1000)
    column_pairs = models.JSONField(default=list)
    last_seen_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "left", "right", "on_clause"], name="join_evidence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} ⋈ {self.right_id} on {self.on_clause}"


class QuickSightConnector(models.Model):
    """A QuickSight account and region to sync from; native events for it trigger a describe of the asset."""

    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=30)
    is_active = models.BooleanField(default=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account_id", "region"], name="quicksight_connector_unique")]

    def __str__(self) -> str:
        return f"QuickSight {self.account_id} {self.region}"
