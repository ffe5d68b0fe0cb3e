from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Asset, Customer
from lineage.choices import EdgeKind, Transformation
from lineage.models import Edge, Release
from lineage.selectors import DEFAULT_NODE_CAP, MAX_DEPTH, MAX_NODE_CAP


@extend_schema_field(OpenApiTypes.STR)
class MomentField(serializers.Field):
    """A date (meaning the end of that day) or an ISO date-time."""

    default_error_messages = {"invalid": "use a date (YYYY-MM-DD) or an ISO date-time"}

    def __init__(self, *, end_of_day: bool = True, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> datetime:
        text = str(data).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime.combine(day, time.max if self.end_of_day else time.min)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class KindsField(serializers.Field):
    """Edge kinds as a comma-separated list."""

    def to_internal_value(self, data) -> list[str]:
        kinds = [k.strip() for k in str(data).split(",") if k.strip()]
        bad = [k for k in kinds if k not in EdgeKind.values]
        if bad:
            raise serializers.ValidationError(f"unknown edge kind {bad[0]!r}; use any of {', '.join(EdgeKind.values)}")
        return kinds

    def to_representation(self, value):
        return ",".join(value)


class LineageQuerySerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["upstream", "downstream", "both"], default="both")
    depth = serializers.IntegerField(min_value=1, max_value=MAX_DEPTH, default=1)
    kinds = KindsField(required=False)
    as_of = MomentField(required=False)
    node_cap = serializers.IntegerField(min_value=1, max_value=MAX_NODE_CAP, default=DEFAULT_NODE_CAP)


class NodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    restricted = serializers.BooleanField()
    name = serializers.CharField()
    kind = serializers.CharField(allow_blank=True)
    depth = serializers.IntegerField()
    hidden_upstream = serializers.IntegerField()
    hidden_downstream = serializers.IntegerField()
    details = serializers.DictField(required=False)


class EdgeOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()
    target = serializers.CharField()
    kind = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField(allow_null=True)


class LineageSerializer(serializers.Serializer):
    root = serializers.IntegerField()
    direction = serializers.CharField()
    depth = serializers.IntegerField()
    as_of = serializers.DateTimeField(allow_null=True)
    node_cap = serializers.IntegerField()
    truncated = serializers.BooleanField()
    nodes = NodeSerializer(many=True)
    edges = EdgeOutSerializer(many=True)
    cycles = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class DiffQuerySerializer(serializers.Serializer):
    from_date = MomentField(end_of_day=False)
    to_date = MomentField()
    depth = serializers.IntegerField(min_value=1, max_value=MAX_DEPTH, default=MAX_DEPTH)

    def validate(self, data):
        if data["to_date"] <= data["from_date"]:
            raise serializers.ValidationError({"to_date": ["must be after from_date"]})
        return data


class DiffSerializer(serializers.Serializer):
    root = serializers.IntegerField()
    from_date = serializers.DateTimeField()
    to_date = serializers.DateTimeField()
    nodes = NodeSerializer(many=True)
    appeared = EdgeOutSerializer(many=True)
    ended = EdgeOutSerializer(many=True)


class PathQuerySerializer(serializers.Serializer):
    from_ = serializers.IntegerField(min_value=1)
    to = serializers.IntegerField(min_value=1)
    kinds = KindsField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class PathSerializer(serializers.Serializer):
    direction = serializers.CharField(allow_null=True)
    paths = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    nodes = NodeSerializer(many=True)
    edges = EdgeOutSerializer(many=True)


class GroupCountSerializer(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()


class NotifySerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    assets = serializers.IntegerField()


class ImpactSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    visible = serializers.IntegerField()
    restricted = serializers.IntegerField()
    by_kind = GroupCountSerializer(many=True)
    by_customer = GroupCountSerializer(many=True)
    by_business_unit = GroupCountSerializer(many=True)
    by_owner = GroupCountSerializer(many=True)
    notify = NotifySerializer(many=True)


class EdgeSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(queryset=Asset.objects.all())
    target = serializers.PrimaryKeyRelatedField(queryset=Asset.objects.all())
    kind = serializers.ChoiceField(choices=EdgeKind.choices)
    valid_from = serializers.DateTimeField(required=False)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Edge
        fields = [
            "id",
            "source",
            "target",
            "kind",
            "valid_from",
            "valid_to",
            "recorded_at",
            "recorded_by",
            "recorded_via",
            "release",
        ]
        read_only_fields = ["valid_to", "recorded_at", "recorded_by", "recorded_via", "release"]
        validators: list = []  # one open edge per (source, target, kind) is an upsert in the service


class EdgeEndSerializer(serializers.Serializer):
    valid_to = serializers.DateTimeField(required=False)


class ColumnEdgeInputSerializer(serializers.Serializer):
    source = serializers.IntegerField(min_value=1, help_text="source column id")
    target = serializers.IntegerField(min_value=1, help_text="target column id")
    transformation = serializers.ChoiceField(choices=Transformation.choices, default=Transformation.DIRECT)
    subtype = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ColumnEdgeOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.DictField()
    target = serializers.DictField()
    transformation = serializers.CharField()
    subtype = serializers.CharField()
    description = serializers.CharField()


class ReleaseInputSerializer(serializers.Serializer):
    reference_analysis = serializers.IntegerField(min_value=1)
    description = serializers.CharField(max_length=5000, allow_blank=True)
    dry_run = serializers.BooleanField(default=False)
    force = serializers.BooleanField(default=False)


class AssetChangeSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    customer = serializers.CharField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())


class ReleasePlanSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=True)
    reference_analysis = serializers.IntegerField(source="reference_analysis.pk")
    previous_template = serializers.IntegerField(source="previous_template.pk", allow_null=True)
    new_version = serializers.IntegerField()
    customers = serializers.ListField(child=serializers.CharField())
    placeholders = serializers.ListField(child=serializers.DictField())
    changes = AssetChangeSerializer(many=True)
    problems = serializers.ListField(child=serializers.DictField())


class ReleaseSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    rolled_back_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reference_analysis_name = serializers.CharField(source="reference_analysis.name", read_only=True)
    new_template_name = serializers.CharField(source="new_template.name", read_only=True)

    class Meta:
        model = Release
        fields = [
            "id",
            "reference_analysis",
            "reference_analysis_name",
            "previous_template",
            "new_template",
            "new_template_name",
            "description",
            "status",
            "forced",
            "changes",
            "problems",
            "created_by",
            "created_at",
            "rolled_back_by",
            "rolled_back_at",
        ]
        read_only_fields = fields


class ForkInputSerializer(serializers.Serializer):
    base = serializers.IntegerField(min_value=1)
    customer = serializers.SlugRelatedField(slug_field="slug", queryset=Customer.objects.all())
    name = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(default=False)


class ForkResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    base = serializers.IntegerField()
    customer = serializers.CharField()
    name = serializers.CharField()
    fork = serializers.IntegerField(allow_null=True)
    template = serializers.IntegerField(allow_null=True)
    repoint = AssetChangeSerializer(many=True)


class ProvenanceRowSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    kind = serializers.CharField(allow_blank=True)
    customer = serializers.CharField(allow_blank=True)
    template_id = serializers.IntegerField()
    template = serializers.CharField()
    template_version = serializers.IntegerField()
    line = serializers.CharField()
    is_fork = serializers.BooleanField()
    behind = serializers.BooleanField()


class ProvenanceSerializer(serializers.Serializer):
    reference_analysis = serializers.DictField()
    templates = serializers.ListField(child=serializers.DictField())
    forks = serializers.ListField(child=serializers.DictField())
    rows = ProvenanceRowSerializer(many=True)
    behind = serializers.IntegerField()
