from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.attributes import attribute_errors
from catalog.choices import AssetKind
from catalog.models import Asset, BusinessUnit, Column, Customer, Domain, ProductLine, Tag


class TagNamesField(serializers.ListField):
    child = serializers.CharField(max_length=100)

    def to_representation(self, value):
        return sorted(tag.name for tag in value.all())


class ColumnSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=300)
    tags = TagNamesField(required=False, max_length=100)

    class Meta:
        model = Column
        fields = ["name", "data_type", "description", "position", "nullable", "tags"]
        extra_kwargs = {"position": {"required": False}}


class AssetSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AssetKind.choices)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    owner_group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )
    domain = serializers.SlugRelatedField(
        slug_field="slug", queryset=Domain.objects.all(), required=False, allow_null=True
    )
    business_unit = serializers.SlugRelatedField(
        slug_field="slug", queryset=BusinessUnit.objects.all(), required=False, allow_null=True
    )
    customer = serializers.SlugRelatedField(
        slug_field="slug", queryset=Customer.objects.all(), required=False, allow_null=True
    )
    product_line = serializers.SlugRelatedField(
        slug_field="slug", queryset=ProductLine.objects.all(), required=False, allow_null=True
    )
    tags = TagNamesField(required=False, max_length=100)
    attributes = serializers.JSONField(required=False)
    external_id = serializers.CharField(max_length=512, required=False, allow_blank=True)

    class Meta:
        model = Asset
        fields = [
            "id",
            "kind",
            "external_id",
            "name",
            "description",
            "owner",
            "owner_group",
            "domain",
            "business_unit",
            "customer",
            "product_line",
            "environment",
            "tags",
            "version",
            "status",
            "attributes",
            "created_at",
            "updated_at",
            "last_viewed_at",
            "view_count",
        ]
        read_only_fields = ["created_at", "updated_at", "last_viewed_at", "view_count"]
        # (kind, external_id) uniqueness is checked by the service (full_clean) so external_id stays optional.
        validators: list = []

    def validate(self, data):
        kind = data.get("kind") or (self.instance.kind if self.instance else None)
        if self.instance is not None and "kind" in data and data["kind"] != self.instance.kind:
            raise serializers.ValidationError({"kind": ["the kind of an asset cannot change; create a new asset"]})
        if "attributes" in data:
            errors = attribute_errors(kind=kind, attributes=data["attributes"])
            if errors:
                raise serializers.ValidationError({"attributes": errors})
        return data


class AssetDetailSerializer(AssetSerializer):
    columns = ColumnSerializer(many=True, required=False, max_length=2000)
    can_edit = serializers.SerializerMethodField()

    class Meta(AssetSerializer.Meta):
        fields = [*AssetSerializer.Meta.fields, "columns", "can_edit"]

    @extend_schema_field(serializers.BooleanField())
    def get_can_edit(self, obj) -> bool:
        return bool(self.context.get("can_edit", False))


class ChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    entity = serializers.CharField()
    label = serializers.CharField()
    actor = serializers.CharField(allow_null=True)
    source = serializers.CharField()
    changes = serializers.DictField(child=serializers.DictField())
    reason = serializers.CharField(help_text="why, when the writer said (e.g. 'promotion 12'); may be empty")


class FolderMemberInputSerializer(serializers.Serializer):
    asset = serializers.IntegerField(min_value=1)


class ReferenceSerializer(serializers.ModelSerializer):
    class Meta:
        fields = ["id", "name", "slug", "description", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class DomainSerializer(ReferenceSerializer):
    owner_group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )

    class Meta(ReferenceSerializer.Meta):
        model = Domain
        fields = [*ReferenceSerializer.Meta.fields, "owner_group"]


class BusinessUnitSerializer(ReferenceSerializer):
    class Meta(ReferenceSerializer.Meta):
        model = BusinessUnit


class CustomerSerializer(ReferenceSerializer):
    business_unit = serializers.SlugRelatedField(
        slug_field="slug", queryset=BusinessUnit.objects.all(), required=False, allow_null=True
    )

    class Meta(ReferenceSerializer.Meta):
        model = Customer
        fields = [*ReferenceSerializer.Meta.fields, "business_unit"]


class ProductLineSerializer(CustomerSerializer):
    class Meta(CustomerSerializer.Meta):
        model = ProductLine


class TagSerializer(ReferenceSerializer):
    class Meta(ReferenceSerializer.Meta):
        model = Tag


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    count = serializers.IntegerField(help_text="How many assets match; a lower bound when count_capped is true.")
    count_capped = serializers.BooleanField(
        help_text="True when more than `count` assets match. Results and facets then cover the `count` most "
        "recently updated matches, ranked among themselves; narrow the search or add filters to see the others."
    )
    results = AssetSerializer(many=True)
    facets = serializers.DictField(child=FacetValueSerializer(many=True))


class ReportSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField())
    total = serializers.IntegerField()
    chart = serializers.CharField(allow_null=True)
    parameters = serializers.DictField()
