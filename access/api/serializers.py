from django.contrib.auth.models import Group
from rest_framework import serializers

from access.choices import Permission, RequestStatus
from access.models import AccessRequest, AccessRequestEvent, AuditEvent, Grant, Notification
from access.services import MAX_DURATION_DAYS
from catalog.models import Asset, Domain


class GrantSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="name", queryset=Group.objects.all())
    permission = serializers.ChoiceField(choices=Permission.choices, default=Permission.VIEW)
    domain = serializers.SlugRelatedField(
        slug_field="slug", queryset=Domain.objects.all(), required=False, allow_null=True
    )
    asset = serializers.PrimaryKeyRelatedField(queryset=Asset.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Grant
        fields = ["id", "group", "permission", "domain", "asset", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []  # the service upserts one grant per (group, target)

    def validate(self, data):
        if (data.get("domain") is None) == (data.get("asset") is None):
            raise serializers.ValidationError({"domain": ["give exactly one of domain or asset"]})
        return data


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    groups = serializers.ListField(child=serializers.CharField())


class AuditEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="actor_name")
    asset = serializers.IntegerField(source="asset_id", allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "user", "source", "action", "asset", "detail"]


class AccessRequestEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AccessRequestEvent
        fields = ["action", "from_status", "to_status", "actor", "comment", "created_at"]


class AccessRequestSerializer(serializers.ModelSerializer):
    requester = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    group = serializers.SlugRelatedField(slug_field="name", read_only=True)
    asset = serializers.IntegerField(source="asset_id", read_only=True)
    asset_name = serializers.CharField(source="asset.name", read_only=True)
    asset_kind = serializers.CharField(source="asset.kind", read_only=True)
    status = serializers.ChoiceField(choices=RequestStatus.choices, read_only=True)

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "requester",
            "group",
            "asset",
            "asset_name",
            "asset_kind",
            "justification",
            "duration_days",
            "status",
            "decided_by",
            "decided_at",
            "decision_comment",
            "expires_at",
            "created_at",
            "updated_at",
        ]


class AccessRequestDetailSerializer(AccessRequestSerializer):
    history = AccessRequestEventSerializer(source="events", many=True, read_only=True)

    class Meta(AccessRequestSerializer.Meta):
        fields = [*AccessRequestSerializer.Meta.fields, "history"]


class AccessRequestCreateSerializer(serializers.Serializer):
    asset = serializers.IntegerField(min_value=1, help_text="id of a data product, dataset or dashboard")
    group = serializers.CharField(max_length=150, help_text="name of one of your groups")
    justification = serializers.CharField(max_length=5000)
    duration_days = serializers.IntegerField(
        min_value=1, max_value=MAX_DURATION_DAYS, required=False, allow_null=True, help_text="empty: until revoked"
    )


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, help_text="tell the requester why")


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_DURATION_DAYS)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "text", "link", "request", "read", "created_at"]

    def get_read(self, obj) -> bool:
        return obj.read_at is not None


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=1000, help_text="empty: all"
    )


class GroupEntitlementSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    routes = serializers.ListField(child=serializers.CharField())


class GroupEntitlementsSerializer(serializers.Serializer):
    group = serializers.CharField()
    assets = GroupEntitlementSerializer(many=True)


class AssetAccessRouteSerializer(serializers.Serializer):
    route = serializers.CharField()
    group = serializers.CharField(allow_null=True)
    permission = serializers.CharField()
    grant_id = serializers.IntegerField(allow_null=True)
    users = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)


class AssetEntitlementsSerializer(serializers.Serializer):
    asset = serializers.IntegerField()
    name = serializers.CharField()
    routes = AssetAccessRouteSerializer(many=True)
