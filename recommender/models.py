"""Recommending joinable data products: stored samples and profiles, known relationships between products, and
recommendations with their evidence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalog.models import Asset, Snapshot

from .choices import RecommendationStatus, RelationshipSource, RunStatus, View


class DataSample(models.Model):
    """The stored random sample of one product's (or dataset's) data and the per-column profile made from it.

    `data_version` names the data it was drawn from (`snapshot:<id>`); a refresh of the data makes a new sample and
    profile, and asking again for the same version changes nothing. The sample itself is a Parquet file under
    MEDIA_ROOT (`path`); `profile` is `recommender.profiling.profile_to_dict` of it.
    """

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="data_sample")
    snapshot = models.ForeignKey(Snapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data_version = models.CharField(max_length=64)
    path = models.CharField(max_length=500, help_text="relative to MEDIA_ROOT")
    rows = models.PositiveBigIntegerField(help_text="rows in the sample")
    source_rows = models.PositiveBigIntegerField(help_text="rows in the data it was drawn from")
    profile = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(data_version=""), name="data_sample_version_not_empty"),
            models.CheckConstraint(condition=Q(rows__lte=F("source_rows")), name="data_sample_rows_le_source"),
        ]

    def __str__(self) -> str:
        return f"sample of {self.asset_id} ({self.rows} of {self.source_rows} rows, {self.data_version})"


class Relationship(models.Model):
    """A known relationship between two products in the knowledge graph, e.g. Customer `hasSalesOpportunity`
    SalesOpportunity.

    `key_columns` joins them: a list of `{"from": <column of from_asset>, "to": <column of to_asset>}`.
    `attribute_mappings` says which attributes mean the same thing on both sides, in the same shape (e.g.
    `{"from": "Email", "to": "Contact_Email"}`): the enriched view of either product gains the other's values of
    them as alternates. Relationships come from users, accepted recommendations, lineage and observed joins.
    """

    name = models.CharField(max_length=100)
    from_asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="relationships_out")
    to_asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="relationships_in")
    key_columns = models.JSONField(default=list)
    attribute_mappings = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=20, choices=RelationshipSource.choices, default=RelationshipSource.USER)
    description = models.TextField(blank=True, max_length=2000)
    observations = models.PositiveIntegerField(default=0, help_text="joins observed between the two products")
    last_observed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["from_asset", "to_asset", "name"], name="relationship_unique_name"),
            models.CheckConstraint(condition=~Q(from_asset=F("to_asset")), name="relationship_not_to_itself"),
            models.CheckConstraint(condition=~Q(name=""), name="relationship_name_not_empty"),
            models.CheckConstraint(condition=Q(source__in=RelationshipSource.values), name="relationship_source_valid"),
        ]
        indexes = [models.Index(fields=["to_asset"], name="relationship_to_idx")]

    def __str__(self) -> str:
        return f"{self.from_asset_id} {self.name} {self.to_asset_id}"


class Recommendation(models.Model):
    """How well `candidate` (Q) joins the query product `asset` (P), matched on one view of P (plain or enriched).

    `pairs` holds the best join column pairs with their scores and COMA sub-scores, `evidence` the value overlap
    ("97% of Claim.Cust_Nbr values appear in Customer.Customer_ID" with examples) and, for the enriched view, what
    enrichment added (the rows of Q that only it matched) and through which products. `recommended` says whether
    it passed the product-level threshold. The data versions of both sides say what it was computed from, so only
    pairs whose data changed are computed again. Feedback (accept / dismiss) is kept across recomputations.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="recommendations")
    candidate = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="recommended_for")
    view = models.CharField(max_length=10, choices=View.choices)
    score = models.FloatField()
    coverage = models.FloatField(default=0.0, help_text="share of the candidate's rows that join")
    recommended = models.BooleanField(default=False)
    pairs = models.JSONField(default=list)
    components = models.JSONField(default=dict)
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=RecommendationStatus.choices, default=RecommendationStatus.OPEN)
    asset_version = models.CharField(max_length=200)
    candidate_version = models.CharField(max_length=64)
    computed_at = models.DateTimeField()
    relationship = models.ForeignKey(
        Relationship, null=True, blank=True, on_delete=models.SET_NULL, related_name="recommendations"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "candidate", "view"], name="recommendation_unique_pair_view"),
            models.CheckConstraint(condition=~Q(asset=F("candidate")), name="recommendation_not_itself"),
            models.CheckConstraint(condition=Q(view__in=View.values), name="recommendation_view_valid"),
            models.CheckConstraint(
                condition=Q(status__in=RecommendationStatus.values), name="recommendation_status_valid"
            ),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="recommendation_score_range"),
        ]
        indexes = [
            models.Index(fields=["asset", "-score"], name="recommendation_ranked_idx"),
            models.Index(fields=["candidate"], name="recommendation_candidate_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate_id} for {self.asset_id} ({self.view}, {self.score:.2f})"


class RecommendationRun(models.Model):
    """One computation of a product's recommendations, queued by a user or by a data refresh; `done` of `total`
    candidates shows its progress. At most one run of a product is queued or running at a time."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="recommendation_runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"], condition=Q(status__in=["queued", "running"]), name="recommendation_run_one_active"
            ),
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="recommendation_run_status_valid"),
        ]

    def __str__(self) -> str:
        return f"recommendation run {self.pk} of {self.asset_id}: {self.status}"
