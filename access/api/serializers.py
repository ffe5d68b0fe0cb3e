from django.contrib.auth.models import Group
from rest_framework import serializers

from access.choices import Permission
from access.models import Grant
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
