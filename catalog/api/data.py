"""API of where data lives: data sources, datasets (refresh, preview, rules) and visuals (spec, data)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from access.choices import AuditAction, AuditSource
from access.services import audit_record
from catalog import connectors, datasets, selectors
from catalog.models import (
    Asset,
    BusinessUnit,
    ColumnRule,
    Customer,
    Dataset,
    DataSource,
    Domain,
    RefreshRun,
    RowRule,
    Visual,
)
from config.api import StrictQueryParamsMixin

from .views import check_may_place


class _AssetPlacement(serializers.Serializer):
    """Catalog fields a new data asset may be given."""

    name = serializers.CharField(max_length=300)
    external_id = serializers.CharField(max_length=512, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    domain = serializers.SlugRelatedField(
        slug_field="slug", queryset=Domain.objects.all(), required=False, allow_null=True
    )
    owner_group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )
    business_unit = serializers.SlugRelatedField(
        slug_field="slug", queryset=BusinessUnit.objects.all(), required=False, allow_null=True
    )
    customer = serializers.SlugRelatedField(
        slug_field="slug", queryset=Customer.objects.all(), required=False, allow_null=True
    )


def _placement(request, data: dict) -> dict:
    placement = {
        k: data.pop(k) for k in ("domain", "owner_group", "business_unit", "customer") if data.get(k) is not None
    }
    check_may_place(request.user, placement)
    if not placement.get("owner_group"):
        placement["owner"] = request.user
    for key in ("description",):
        if key in data:
            placement[key] = data.pop(key)
    return placement


def _editable(request, asset: Asset) -> None:
    if not selectors.asset_can_edit(user=request.user, asset=asset):
        raise PermissionDenied(f"You may not change {asset.name!r}; ask its owners for an edit grant.")


class DataSourceSerializer(_AssetPlacement):
    id = serializers.IntegerField(source="asset_id", read_only=True)
    type = serializers.ChoiceField(choices=DataSource.Type.choices)
    host = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    port = serializers.IntegerField(min_value=1, max_value=65535, default=5432)
    database = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    username = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, write_only=True, default="", style={"input_type": "password"}
    )
    has_password = serializers.SerializerMethodField()
    ssl_mode = serializers.ChoiceField(choices=DataSource.SslMode.choices, default="prefer")

    def get_has_password(self, obj) -> bool:
        return bool(obj.password_encrypted)

    def to_representation(self, instance):
        data = {
            "id": instance.asset_id,
            "name": instance.asset.name,
            "type": instance.type,
            "host": instance.host,
            "port": instance.port,
            "database": instance.database,
            "username": instance.username,
            "has_password": bool(instance.password_encrypted),
            "ssl_mode": instance.ssl_mode,
        }
        return data

    def validate(self, data):
        if data["type"] == DataSource.Type.POSTGRESQL:
            missing = [f for f in ("host", "database", "username") if not data.get(f)]
            if missing:
                raise ValidationError({missing[0]: ["required for a PostgreSQL source"]})
        return data


class DataSourceViewSet(
    StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Data sources. Passwords are write-only: stored encrypted, never returned."""

    serializer_class = DataSourceSerializer

    def get_queryset(self):
        visible = Asset.objects.visible_to(self.request.user).not_deleted().values("pk")
        return DataSource.objects.filter(asset__in=visible).select_related("asset").order_by("asset__name")

    def get_object(self):
        asset = selectors.asset_get(user=self.request.user, pk=self.kwargs["pk"])
        source = self.get_queryset().filter(asset_id=asset.pk).first()
        if source is None:
            raise NotFound(f"asset {asset.pk} is a {asset.kind}, not a data source: use /api/v1/assets/{asset.pk}/")
        return source

    def create(self, request):
        payload = DataSourceSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        placement = _placement(request, data)
        source = datasets.data_source_create(actor=request.user, **data, **placement)
        return Response(DataSourceSerializer(source).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        source = self.get_object()
        _editable(request, source.asset)
        payload = DataSourceSerializer(
            source, data={"type": source.type, "name": source.asset.name, **request.data}, partial=True
        )
        payload.is_valid(raise_exception=True)
        fields = {
            k: v
            for k, v in payload.validated_data.items()
            if k in ("host", "port", "database", "username", "ssl_mode", "password") and k in request.data
        }
        source = datasets.data_source_update(source=source, actor=request.user, **fields)
        return Response(DataSourceSerializer(source).data)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Connects to the source and answers its version, or why it cannot connect."""
        source = self.get_object()
        if source.type != DataSource.Type.POSTGRESQL:
            raise ValidationError({"type": ["only PostgreSQL sources can be tested"]})
        version = connectors.postgres_test(datasets.source_settings(source))
        return Response({"ok": True, "server_version": version})


class RefreshSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_ms = serializers.SerializerMethodField()

    class Meta:
        model = RefreshRun
        fields = [
            "id",
            "status",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "rows",
            "bytes",
            "error",
            "snapshot",
        ]

    def get_duration_ms(self, obj) -> int | None:
        if obj.started_at and obj.finished_at:
            return int((obj.finished_at - obj.started_at).total_seconds() * 1000)
        return None


class DatasetSerializer(_AssetPlacement):
    id = serializers.IntegerField(source="asset_id", read_only=True)
    source = serializers.IntegerField(required=False, allow_null=True, help_text="data source asset id")
    table_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    sql_query = serializers.CharField(max_length=100_000, required=False, allow_blank=True, default="")
    upload = serializers.FileField(required=False, allow_null=True, write_only=True)
    file_format = serializers.ChoiceField(choices=["csv", "parquet"], required=False, allow_blank=True, default="")
    csv_delimiter = serializers.CharField(
        max_length=1, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    csv_encoding = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    import_mode = serializers.ChoiceField(choices=Dataset.ImportMode.choices, default="spice")
    refresh_interval = serializers.ChoiceField(choices=Dataset.Interval.choices, default="none")
    refresh_time_zone = serializers.CharField(max_length=64, default="UTC")
    statement_timeout_ms = serializers.IntegerField(min_value=100, max_value=3_600_000, default=30_000)
    row_limit = serializers.IntegerField(min_value=1, max_value=10_000_000, default=100_000)

    def to_representation(self, instance):
        snapshot = instance.current_snapshot
        last = instance.refreshes.order_by("-created_at", "-id").first()
        return {
            "id": instance.asset_id,
            "name": instance.asset.name,
            "source": instance.source.asset_id if instance.source_id else None,
            "table_name": instance.table_name,
            "sql_query": instance.sql_query,
            "file_format": instance.file_format,
            "import_mode": instance.import_mode,
            "refresh_interval": instance.refresh_interval,
            "refresh_time_zone": instance.refresh_time_zone,
            "next_refresh_at": instance.next_refresh_at,
            "statement_timeout_ms": instance.statement_timeout_ms,
            "row_limit": instance.row_limit,
            "columns": list(instance.asset.columns.order_by("position", "id").values("name", "data_type")),
            "snapshot": {
                "id": snapshot.pk,
                "rows": snapshot.rows,
                "bytes": snapshot.bytes,
                "created_at": snapshot.created_at,
            }
            if snapshot
            else None,
            "last_refresh": RefreshSerializer(last).data if last else None,
        }


class DatasetUpdateSerializer(serializers.Serializer):
    refresh_interval = serializers.ChoiceField(choices=Dataset.Interval.choices, required=False)
    refresh_time_zone = serializers.CharField(max_length=64, required=False)
    statement_timeout_ms = serializers.IntegerField(min_value=100, max_value=3_600_000, required=False)
    row_limit = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False)


class PreviewSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField())
    hidden_columns = serializers.ListField(child=serializers.CharField())
    restricted = serializers.BooleanField()
    snapshot_id = serializers.IntegerField(allow_null=True)


class RowRuleSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )
    allowed_values = serializers.ListField(child=serializers.JSONField(), required=False, max_length=10_000)
    user_attribute = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    class Meta:
        model = RowRule
        fields = ["id", "column", "group", "user_attribute", "allowed_values", "created_at"]
        read_only_fields = ["created_at"]


class ColumnRuleSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="name", queryset=Group.objects.all())

    class Meta:
        model = ColumnRule
        fields = ["id", "column", "group", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []


class DatasetViewSet(StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Datasets: a table or query on a source, or an uploaded CSV/Parquet file; SPICE snapshots or direct queries."""

    serializer_class = DatasetSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    extra_query_params = frozenset({"limit"})

    def get_queryset(self):
        visible = Asset.objects.visible_to(self.request.user).not_deleted().values("pk")
        return (
            Dataset.objects.filter(asset__in=visible)
            .select_related("asset", "source", "current_snapshot")
            .order_by("asset__name")
        )

    def get_object(self) -> Dataset:
        asset = selectors.asset_get(user=self.request.user, pk=self.kwargs["pk"])
        dataset = self.get_queryset().filter(asset=asset).first()
        if dataset is None:
            raise ValidationError({"id": [f"asset {asset.pk} is a {asset.kind} without data settings"]})
        return dataset

    def create(self, request):
        payload = DatasetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        placement = _placement(request, data)
        source_id = data.pop("source", None)
        source = None
        if source_id is not None:
            asset = selectors.asset_get(user=request.user, pk=source_id)
            source = DataSource.objects.filter(asset=asset).first()
            if source is None:
                raise ValidationError({"source": [f"asset {source_id} is not a data source"]})
        dataset = datasets.dataset_create(actor=request.user, source=source, **data, **placement)
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DatasetUpdateSerializer, responses=DatasetSerializer)
    def partial_update(self, request, pk=None):
        dataset = self.get_object()
        _editable(request, dataset.asset)
        payload = DatasetUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        dataset = datasets.dataset_update(dataset=dataset, actor=request.user, **payload.validated_data)
        return Response(DatasetSerializer(dataset).data)

    @extend_schema(request=None, responses={202: RefreshSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Queues a refresh (or returns the one already queued or running)."""
        dataset = self.get_object()
        _editable(request, dataset.asset)
        run = datasets.dataset_refresh_request(dataset=dataset, actor=request.user)
        run.refresh_from_db()
        return Response(RefreshSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=RefreshSerializer(many=True))
    @action(detail=True, methods=["get"])
    def refreshes(self, request, pk=None):
        """Refresh history, newest first: started, finished, rows, bytes, status, error."""
        dataset = self.get_object()
        return Response(RefreshSerializer(dataset.refreshes.select_related("requested_by")[:200], many=True).data)

    @extend_schema(parameters=[OpenApiParameter("limit", OpenApiTypes.INT)], responses=PreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """The first rows you may see, with row and column rules applied."""
        dataset = self.get_object()
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise ValidationError({"limit": ["must be a whole number from 1 to 1000"]})
        preview = datasets.dataset_preview(user=request.user, dataset=dataset, limit=int(raw))
        audit_record(
            user=request.user,
            action=AuditAction.DATA_PREVIEW,
            source=AuditSource.API,
            asset_id=dataset.asset_id,
            detail={"rows": len(preview.rows), "restricted": preview.restricted},
        )
        return Response(PreviewSerializer(preview).data)

    @extend_schema(request=RowRuleSerializer, responses=RowRuleSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="row-rules")
    def row_rules(self, request, pk=None):
        """Row-level security rules of the dataset (owners manage them)."""
        dataset = self.get_object()
        _editable(request, dataset.asset)
        if request.method == "POST":
            payload = RowRuleSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            rule = datasets.row_rule_create(dataset=dataset, actor=request.user, source="api", **payload.validated_data)
            return Response(RowRuleSerializer(rule).data, status=status.HTTP_201_CREATED)
        return Response(RowRuleSerializer(dataset.row_rules.select_related("group").order_by("id"), many=True).data)

    @extend_schema(request=ColumnRuleSerializer, responses=ColumnRuleSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="column-rules")
    def column_rules(self, request, pk=None):
        """Column-level security rules: columns hidden from groups."""
        dataset = self.get_object()
        _editable(request, dataset.asset)
        if request.method == "POST":
            payload = ColumnRuleSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            rule = datasets.column_rule_create(
                dataset=dataset, actor=request.user, source="api", **payload.validated_data
            )
            return Response(ColumnRuleSerializer(rule).data, status=status.HTTP_201_CREATED)
        return Response(
            ColumnRuleSerializer(dataset.column_rules.select_related("group").order_by("id"), many=True).data
        )

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"row-rules/(?P<rule_id>\d+)")
    def delete_row_rule(self, request, pk=None, rule_id=None):
        dataset = self.get_object()
        _editable(request, dataset.asset)
        deleted = datasets.rule_delete(
            dataset=dataset, kind="row", rule_id=int(rule_id), actor=request.user, source="api"
        )
        if not deleted:
            raise ValidationError({"rule": [f"the dataset has no row rule {rule_id}"]})
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"column-rules/(?P<rule_id>\d+)")
    def delete_column_rule(self, request, pk=None, rule_id=None):
        dataset = self.get_object()
        _editable(request, dataset.asset)
        deleted = datasets.rule_delete(
            dataset=dataset, kind="column", rule_id=int(rule_id), actor=request.user, source="api"
        )
        if not deleted:
            raise ValidationError({"rule": [f"the dataset has no column rule {rule_id}"]})
        return Response(status=status.HTTP_204_NO_CONTENT)


class VisualSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="asset_id", read_only=True)
    name = serializers.CharField(source="asset.name", max_length=300, required=False)
    dataset = serializers.IntegerField(help_text="dataset asset id")
    spec = serializers.JSONField()

    def to_representation(self, instance):
        return {
            "id": instance.asset_id,
            "name": instance.asset.name,
            "dataset": instance.dataset.asset_id,
            "spec": instance.spec,
        }


class VisualViewSet(StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Table and pivot visuals: a validated spec over a dataset, evaluated with your row and column rules."""

    serializer_class = VisualSerializer

    def get_queryset(self):
        visible = Asset.objects.visible_to(self.request.user).not_deleted().values("pk")
        return (
            Visual.objects.filter(asset__in=visible).select_related("asset", "dataset__asset").order_by("asset__name")
        )

    def get_object(self) -> Visual:
        asset = selectors.asset_get(user=self.request.user, pk=self.kwargs["pk"])
        visual = Visual.objects.filter(asset=asset).select_related("asset", "dataset__asset").first()
        if visual is None:
            raise ValidationError({"id": [f"asset {asset.pk} is a {asset.kind} without a visual spec"]})
        return visual

    def _dataset(self, request, pk) -> Dataset:
        asset = selectors.asset_get(user=request.user, pk=pk)
        dataset = Dataset.objects.filter(asset=asset).first()
        if dataset is None:
            raise ValidationError({"dataset": [f"asset {pk} is not a dataset"]})
        return dataset

    def create(self, request):
        payload = VisualSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        dataset = self._dataset(request, data["dataset"])
        _editable(request, dataset.asset)
        visual = datasets.visual_save(
            actor=request.user,
            dataset=dataset,
            spec=data["spec"],
            name=data.get("asset", {}).get("name", ""),
            owner=request.user,
            domain=dataset.asset.domain,
            customer=dataset.asset.customer,
            business_unit=dataset.asset.business_unit,
        )
        return Response(VisualSerializer(visual).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        visual = self.get_object()
        _editable(request, visual.asset)
        payload = VisualSerializer(data={"dataset": visual.dataset.asset_id, **request.data})
        payload.is_valid(raise_exception=True)
        dataset = self._dataset(request, payload.validated_data["dataset"])
        visual = datasets.visual_save(
            actor=request.user, dataset=dataset, spec=payload.validated_data["spec"], asset=visual.asset
        )
        return Response(VisualSerializer(visual).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def data(self, request, pk=None):
        """The visual's cells (with stable keys), evaluated for you: your row and column rules apply."""
        visual = self.get_object()
        data = datasets.visual_data(user=request.user, visual=visual)
        audit_record(
            user=request.user,
            action=AuditAction.DATA_VISUAL,
            source=AuditSource.API,
            asset_id=visual.asset_id,
            detail={"dataset": visual.dataset.asset_id, "restricted": data.get("restricted", False)},
        )
        return Response(data)
