"""The catalog: every data product and BI asset, its schema, folders and the reference tables around it."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .choices import AssetKind, AssetStatus, ChangeSource, Environment
from .querysets import AssetQuerySet


class ChangeSourceHistory(models.Model):
    """Adds to every history row where the change came from (api, ui, import, event)."""

    history_source = models.CharField(max_length=16, choices=ChangeSource.choices, default=ChangeSource.SYSTEM)

    class Meta:
        abstract = True


class ReferenceModel(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Domain(ReferenceModel):
    """A business domain of the data mesh (e.g. Claims); its owning group decides over its products."""

    owner_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class BusinessUnit(ReferenceModel):
    """A business unit of the organisation (e.g. healthcare, education, commercial)."""


class Customer(ReferenceModel):
    """A customer for whom BI assets are built."""

    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )


class ProductLine(ReferenceModel):
    """A product line (e.g. a reference analysis family sold to many customers)."""

    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="product_lines"
    )


class Tag(ReferenceModel):
    """A free label put on assets and columns."""


ASSET_HISTORY = HistoricalRecords(
    excluded_fields=["last_viewed_at", "view_count", "search_vector", "updated_at"],
    m2m_fields=["tags"],
    bases=[ChangeSourceHistory],
)
COLUMN_HISTORY = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=["tags"], bases=[ChangeSourceHistory])


class Asset(models.Model):
    """One catalogued thing: a data product, data source, dataset, template, analysis, dashboard, visual or folder.

    `external_id` is the identifier in the system the asset lives in (a QuickSight ARN, say) and is unique per kind.
    Deletes are soft: the status becomes `deleted` and the row stays, with its history.
    """

    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    external_id = models.CharField(max_length=512)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True, max_length=20000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_assets"
    )
    owner_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.PROTECT, related_name="assets")
    business_unit = models.ForeignKey(
        BusinessUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="assets"
    )
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="assets")
    product_line = models.ForeignKey(
        ProductLine, null=True, blank=True, on_delete=models.PROTECT, related_name="assets"
    )
    environment = models.CharField(max_length=10, choices=Environment.choices, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="assets")
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=AssetStatus.choices, default=AssetStatus.ACTIVE)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveBigIntegerField(default=0)
    # Ranked full-text document (name A, tags B, columns C, description D); maintained by services, PostgreSQL only.
    search_vector = SearchVectorField(null=True, editable=False)

    history = ASSET_HISTORY

    objects = AssetQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "external_id"], name="asset_unique_external_id_per_kind"),
            models.CheckConstraint(condition=~Q(name=""), name="asset_name_not_empty"),
            models.CheckConstraint(condition=Q(kind__in=AssetKind.values), name="asset_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=AssetStatus.values), name="asset_status_valid"),
            models.CheckConstraint(
                condition=Q(environment__in=[*Environment.values, ""]), name="asset_environment_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="asset_updated_idx"),
            models.Index(fields=["created_at"], name="asset_created_idx"),
            models.Index(fields=["-view_count", "-id"], name="asset_views_idx"),
            models.Index(fields=["last_viewed_at"], name="asset_last_viewed_idx"),
            models.Index(fields=["kind", "-updated_at"], name="asset_kind_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .attributes import attribute_errors

        errors = attribute_errors(kind=self.kind, attributes=self.attributes)
        if errors:
            raise ValidationError({"attributes": errors})


class Column(models.Model):
    """One column of the schema of an asset that has data (data product, dataset, data source table)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=300)
    data_type = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True, max_length=5000)
    position = models.PositiveIntegerField(default=0)
    nullable = models.BooleanField(default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="columns")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = COLUMN_HISTORY

    class Meta:
        ordering = ["asset_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "name"], name="column_unique_name_per_asset"),
            models.CheckConstraint(condition=~Q(name=""), name="column_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id}.{self.name}"


class FolderMembership(models.Model):
    """An asset placed in a folder. An asset can be in several folders; a folder in a folder nests it."""

    folder = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="memberships")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="folder_memberships")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"], bases=[ChangeSourceHistory])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["folder", "asset"], name="folder_membership_unique"),
            models.CheckConstraint(condition=~Q(folder=models.F("asset")), name="folder_not_member_of_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} in {self.folder_id}"


class AssetView(models.Model):
    """One opening of an asset (page or API detail) by a user; feeds view_count and last_viewed_at."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    viewed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["asset", "-viewed_at"], name="asset_view_recent_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} viewed {self.asset_id} at {self.viewed_at:%Y-%m-%d %H:%M}"


# The HistoricalRecords objects behind `.history`, so services can write one entry after m2m changes made with
# history paused (an entry that holds both the fields and the tags).
HISTORY_RECORDS: dict[type[models.Model], HistoricalRecords] = {Asset: ASSET_HISTORY, Column: COLUMN_HISTORY}
