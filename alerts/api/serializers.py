from rest_framework import serializers

from alerts.choices import Condition, Frequency, Period
from alerts.models import Alert, Evaluation


class AlertSerializer(serializers.ModelSerializer):
    visual = serializers.IntegerField(source="visual_id", read_only=True)
    dataset = serializers.IntegerField(source="dataset.asset_id", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "name",
            "owner",
            "visual",
            "dataset",
            "spec",
            "cell_key",
            "measure",
            "dimensions",
            "condition",
            "threshold",
            "tolerance",
            "frequency",
            "notify_no_data",
            "period",
            "status",
            "state",
            "status_reason",
            "consecutive_failures",
            "last_value",
            "last_evaluated_at",
            "last_notified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AlertCreateSerializer(serializers.Serializer):
    visual = serializers.IntegerField(min_value=1, help_text="visual asset id")
    cell_key = serializers.CharField(max_length=5000)
    name = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    condition = serializers.ChoiceField(choices=Condition.choices)
    threshold = serializers.DecimalField(max_digits=24, decimal_places=6)
    tolerance = serializers.DecimalField(max_digits=24, decimal_places=6, required=False, allow_null=True, default=None)
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.DAILY)
    notify_no_data = serializers.BooleanField(default=False)
    period = serializers.ChoiceField(choices=Period.choices, default=Period.FIXED)


class AlertPreviewSerializer(AlertCreateSerializer):
    pass


class AlertUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=300, required=False)
    condition = serializers.ChoiceField(choices=Condition.choices, required=False)
    threshold = serializers.DecimalField(max_digits=24, decimal_places=6, required=False)
    tolerance = serializers.DecimalField(max_digits=24, decimal_places=6, required=False, allow_null=True)
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    notify_no_data = serializers.BooleanField(required=False)
    period = serializers.ChoiceField(choices=Period.choices, required=False)
    status = serializers.ChoiceField(choices=[("active", "active"), ("disabled", "disabled")], required=False)


class EvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evaluation
        fields = ["id", "evaluated_at", "dataset_version", "data_as_of", "value", "state", "period", "error"]


class AlertHistorySerializer(serializers.Serializer):
    evaluations = EvaluationSerializer(many=True)
    episodes = serializers.ListField(child=serializers.DictField())
    evaluations_this_month = serializers.IntegerField()
    projected_cost_usd = serializers.FloatField()
