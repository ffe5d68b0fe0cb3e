from __future__ import annotations

from rest_framework import serializers

from catalog.models import Customer
from promotions.choices import PromotionKind, PromotionStatus
from promotions.models import EnvironmentPolicy, Promotion


class PromotionPlanInputSerializer(serializers.Serializer):
    asset = serializers.IntegerField(min_value=1, help_text="The dashboard, analysis, template or dataset to promote.")
    target = serializers.IntegerField(min_value=1, help_text="The folder (of the target environment) to promote into.")
    include_dependencies = serializers.BooleanField(default=True)
    data_source_mappings = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        default=dict,
        help_text="Per data source asset id: a data source ARN of the target, or {type, parameters} to create one.",
    )
    renames = serializers.DictField(
        child=serializers.CharField(max_length=300), required=False, default=dict, help_text="Per asset id: new name."
    )
    overwrite = serializers.BooleanField(default=False, help_text="Replace copies changed in the target.")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(default=False, help_text="Only compute the plan; store nothing.")


class PromotionRequestInputSerializer(serializers.Serializer):
    asset = serializers.IntegerField(min_value=1, help_text="The product dashboard to copy.")
    customer = serializers.SlugRelatedField(slug_field="slug", queryset=Customer.objects.all())
    note = serializers.CharField(max_length=5000)


class StepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    asset_id = serializers.IntegerField(allow_null=True)
    restricted = serializers.BooleanField()
    kind = serializers.CharField()
    action = serializers.CharField()
    name = serializers.CharField()
    target_id = serializers.CharField(allow_blank=True)
    target_arn = serializers.CharField(allow_blank=True)
    depends_on = serializers.ListField(child=serializers.IntegerField())
    changes = serializers.ListField(child=serializers.DictField())
    request = serializers.DictField()
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ConflictSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    message = serializers.CharField()
    blocking = serializers.BooleanField()


class PromotionSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name", read_only=True)
    target_folder_name = serializers.CharField(source="target_folder.name", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    executed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Promotion
        fields = [
            "id",
            "kind",
            "status",
            "source",
            "source_name",
            "target_folder",
            "target_folder_name",
            "environment",
            "customer",
            "options",
            "note",
            "error",
            "created_by",
            "approved_by",
            "approved_at",
            "executed_by",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class PromotionDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    dry_run = serializers.BooleanField()
    kind = serializers.ChoiceField(choices=PromotionKind.choices)
    status = serializers.ChoiceField(choices=PromotionStatus.choices)
    source = serializers.IntegerField()
    target_folder = serializers.IntegerField()
    environment = serializers.CharField(allow_blank=True)
    customer = serializers.CharField(allow_null=True)
    second_person_required = serializers.BooleanField()
    approvable = serializers.BooleanField()
    created_by = serializers.CharField(allow_null=True)
    approved_by = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    progress = ProgressSerializer()
    steps = StepSerializer(many=True)
    conflicts = ConflictSerializer(many=True)


class EnvironmentCopySerializer(serializers.Serializer):
    folder = serializers.IntegerField(source="folder.pk")
    folder_name = serializers.CharField(source="folder.name")
    environment = serializers.CharField(source="folder.environment")
    copy = serializers.IntegerField(source="copy.pk")
    copy_name = serializers.CharField(source="copy.name")
    copy_arn = serializers.CharField(source="copy.external_id")
    state = serializers.CharField()
    promotion = serializers.IntegerField(source="promotion_id")
    promoted_at = serializers.DateTimeField()
    source_version = serializers.IntegerField()


class EnvironmentPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = EnvironmentPolicy
        fields = ["environment", "second_person_required", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
