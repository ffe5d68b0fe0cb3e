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
            models.Index(fields=["name", "id"], name="asset_name_idx"),  # lists ordered by name
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


# ---------------------------------------------------------------------------------------------------------------
# Where each asset's data lives: sources, datasets, snapshots, refreshes, row/column rules and visuals.


class DataSource(models.Model):
    """Where datasets read from: a PostgreSQL connection (the password encrypted at rest) or uploaded files."""

    class Type(models.TextChoices):
        POSTGRESQL = "postgresql", "PostgreSQL"
        FILE = "file", "File uploads"

    class SslMode(models.TextChoices):
        DISABLE = "disable", "disable"
        ALLOW = "allow", "allow"
        PREFER = "prefer", "prefer"
        REQUIRE = "require", "require"
        VERIFY_CA = "verify-ca", "verify-ca"
        VERIFY_FULL = "verify-full", "verify-full"

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="data_source")
    type = models.CharField(max_length=20, choices=Type.choices)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(default=5432)
    database = models.CharField(max_length=255, blank=True)
    username = models.CharField(max_length=255, blank=True)
    password_encrypted = models.TextField(blank=True)
    ssl_mode = models.CharField(max_length=12, choices=SslMode.choices, default=SslMode.PREFER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(type__in=["postgresql", "file"]), name="data_source_type_valid"),
            models.CheckConstraint(
                condition=Q(type="file") | (~Q(host="") & ~Q(database="") & ~Q(username="")),
                name="data_source_postgresql_complete",
            ),
            models.CheckConstraint(condition=Q(port__gte=1) & Q(port__lte=65535), name="data_source_port_range"),
        ]

    def __str__(self) -> str:
        return f"{self.asset.name} ({self.type})"


class Dataset(models.Model):
    """How to read a dataset asset: a table or query on a source, or an uploaded file; snapshot (SPICE) or direct.

    SPICE datasets are copied into Parquet snapshots on a schedule or on demand; direct datasets are queried when
    used, with a statement timeout and a row limit.
    """

    class ImportMode(models.TextChoices):
        SPICE = "spice", "SPICE (snapshot)"
        DIRECT = "direct", "Direct query"

    class Interval(models.TextChoices):
        NONE = "none", "On demand only"
        HOURLY = "hourly", "Hourly"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="dataset")
    source = models.ForeignKey(DataSource, null=True, blank=True, on_delete=models.PROTECT, related_name="datasets")
    table_name = models.CharField(max_length=255, blank=True)
    sql_query = models.TextField(blank=True, max_length=100_000)
    upload = models.FileField(upload_to="uploads/%Y/%m/", blank=True)
    file_format = models.CharField(max_length=10, blank=True, choices=[("csv", "CSV"), ("parquet", "Parquet")])
    csv_delimiter = models.CharField(max_length=1, blank=True)
    csv_encoding = models.CharField(max_length=40, blank=True)
    import_mode = models.CharField(max_length=10, choices=ImportMode.choices, default=ImportMode.SPICE)
    refresh_interval = models.CharField(max_length=10, choices=Interval.choices, default=Interval.NONE)
    refresh_time_zone = models.CharField(max_length=64, default="UTC")
    next_refresh_at = models.DateTimeField(null=True, blank=True)
    statement_timeout_ms = models.PositiveIntegerField(default=30_000)
    row_limit = models.PositiveIntegerField(default=100_000)
    current_snapshot = models.ForeignKey("Snapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(import_mode__in=["spice", "direct"]), name="dataset_import_mode_valid"),
            models.CheckConstraint(
                condition=Q(refresh_interval__in=["none", "hourly", "daily", "weekly"]),
                name="dataset_refresh_interval_valid",
            ),
            models.CheckConstraint(
                condition=(Q(source__isnull=False) & (~Q(table_name="") | ~Q(sql_query="")))
                | (Q(source__isnull=True) & ~Q(upload="") & Q(import_mode="spice")),
                name="dataset_reads_something",
            ),
            models.CheckConstraint(
                condition=Q(statement_timeout_ms__gte=100) & Q(statement_timeout_ms__lte=3_600_000),
                name="dataset_statement_timeout_range",
            ),
            models.CheckConstraint(
                condition=Q(row_limit__gte=1) & Q(row_limit__lte=10_000_000), name="dataset_row_limit_range"
            ),
        ]
        indexes = [
            models.Index(fields=["next_refresh_at"], condition=Q(next_refresh_at__isnull=False), name="dataset_due_idx")
        ]

    def __str__(self) -> str:
        return f"dataset {self.asset_id}"


class Snapshot(models.Model):
    """One Parquet copy of a SPICE dataset's data, made by a successful refresh (kept: older ones for history)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="snapshots")
    path = models.CharField(max_length=500, help_text="relative to MEDIA_ROOT")
    rows = models.PositiveBigIntegerField()
    bytes = models.PositiveBigIntegerField()
    columns = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"snapshot {self.pk} of dataset {self.dataset_id} ({self.rows} rows)"


class RefreshRun(models.Model):
    """One refresh of a dataset: queued, running, then succeeded (with a new snapshot) or failed (with why).

    At most one refresh of a dataset is queued or running at a time; asking again returns that one.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual"
        SCHEDULE = "schedule", "Schedule"
        CREATED = "created", "Dataset created"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="refreshes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveBigIntegerField(null=True, blank=True)
    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    snapshot = models.ForeignKey(Snapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset"], condition=Q(status__in=["queued", "running"]), name="refresh_one_active_per_dataset"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]), name="refresh_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"refresh {self.pk} of dataset {self.dataset_id}: {self.status}"


class RowRule(models.Model):
    """Row-level security: rows of `dataset` a reader may see, by a column's allowed values.

    A rule applies to the members of `group` (rows whose `column` is in `allowed_values`) or, with
    `user_attribute`, to every reader (rows whose `column` equals the reader's attribute, e.g. department).
    Once a dataset has row rules, a reader no rule applies to sees no rows. Staff see every row.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="row_rules")
    column = models.CharField(max_length=300)
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user_attribute = models.CharField(max_length=100, blank=True)
    allowed_values = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(group__isnull=False) & Q(user_attribute=""))
                | (Q(group__isnull=True) & ~Q(user_attribute="")),
                name="row_rule_group_or_attribute",
            ),
        ]

    def __str__(self) -> str:
        who = f"group {self.group_id}" if self.group_id else f"attribute {self.user_attribute}"
        return f"{self.column} for {who}"


class ColumnRule(models.Model):
    """Column-level security: `column` of `dataset` is hidden from the members of `group`."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="column_rules")
    column = models.CharField(max_length=300)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "column", "group"], name="column_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.column} hidden from group {self.group_id}"


class Visual(models.Model):
    """The spec of a table or pivot visual asset over one dataset (validated against the dataset's columns)."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="visual")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="visuals")
    spec = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"visual {self.asset_id} on dataset {self.dataset_id}"
