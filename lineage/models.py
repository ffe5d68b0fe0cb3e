"""Lineage: how assets derive from each other, over time, at asset and column level."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from catalog.choices import ChangeSource
from catalog.models import Asset, ChangeSourceHistory, Column

from .choices import EdgeKind, ReleaseStatus, Transformation


class Release(models.Model):
    """One release of a reference analysis: a new version and template, and the customer assets repointed to it.

    `changes` lists, per repointed asset, the edge that was ended and the edge that replaced it, so a rollback can
    restore exactly the previous pointers.
    """

    reference_analysis = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="releases")
    previous_template = models.ForeignKey(Asset, null=True, on_delete=models.PROTECT, related_name="+")
    new_template = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(max_length=5000)
    status = models.CharField(max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.APPLIED)
    forced = models.BooleanField(default=False)
    changes = models.JSONField(default=list, blank=True)
    problems = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    rolled_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReleaseStatus.values), name="release_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Release {self.pk} of {self.reference_analysis_id}"


class Edge(models.Model):
    """ "Data or design flows from `source` to `target`" for the time [valid_from, valid_to).

    Ending a relationship sets `valid_to`; rows are never deleted, so lineage can be asked about any date. At most one
    open edge of a kind joins two assets. Cycles may be stored; every traversal is cycle-safe.
    """

    source = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="outgoing_edges")
    target = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="incoming_edges")
    kind = models.CharField(max_length=20, choices=EdgeKind.choices)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_via = models.CharField(max_length=16, choices=ChangeSource.choices, default=ChangeSource.API)
    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="edges")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"], bases=[ChangeSourceHistory])

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("target")), name="edge_not_a_self_loop"),
            models.CheckConstraint(condition=Q(kind__in=EdgeKind.values), name="edge_kind_valid"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="edge_valid_range"
            ),
            models.UniqueConstraint(
                fields=["source", "target", "kind"],
                condition=Q(valid_to__isnull=True),
                name="edge_one_open_per_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "kind"], condition=Q(valid_to__isnull=True), name="edge_open_out_idx"),
            # the source too, so reads of what flows into assets (upstream hops, the datasets a release checks)
            # are answered from the index alone
            models.Index(
                fields=["target", "kind", "source"], condition=Q(valid_to__isnull=True), name="edge_open_in_idx"
            ),
            models.Index(fields=["source", "valid_from"], name="edge_out_time_idx"),
            models.Index(fields=["target", "valid_from"], name="edge_in_time_idx"),
            models.Index(fields=["valid_to"], name="edge_valid_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -{self.kind}-> {self.target_id}"


class ColumnEdge(models.Model):
    """Column-level lineage: `target` column is computed from `source` column, directly or indirectly (OpenLineage)."""

    source = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="outgoing_edges")
    target = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="incoming_edges")
    transformation = models.CharField(max_length=10, choices=Transformation.choices, default=Transformation.DIRECT)
    subtype = models.CharField(max_length=40, blank=True, help_text="e.g. IDENTITY, AGGREGATION, FILTER, JOIN")
    description = models.TextField(blank=True, max_length=2000)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_via = models.CharField(max_length=16, choices=ChangeSource.choices, default=ChangeSource.API)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("target")), name="column_edge_not_a_self_loop"),
            models.CheckConstraint(
                condition=Q(transformation__in=Transformation.values), name="column_edge_transformation_valid"
            ),
            models.UniqueConstraint(
                fields=["source", "target"], condition=Q(valid_to__isnull=True), name="column_edge_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["target"], condition=Q(valid_to__isnull=True), name="column_edge_open_in_idx"),
            models.Index(fields=["source"], condition=Q(valid_to__isnull=True), name="column_edge_open_out_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -{self.transformation}-> {self.target_id}"
