from rest_framework import serializers

from ingestion.choices import SourceKind
from ingestion.models import ChangeEvent, EventSource, ImportJob


class ChangeEventSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name", read_only=True, default=None)

    class Meta:
        model = ChangeEvent
        fields = [
            "id",
            "source",
            "event_key",
            "format",
            "event_type",
            "event_time",
            "status",
            "reason",
            "asset_ids",
            "duplicate_of",
            "created_at",
        ]
        read_only_fields = fields


class ChangeEventDetailSerializer(ChangeEventSerializer):
    class Meta(ChangeEventSerializer.Meta):
        fields = [*ChangeEventSerializer.Meta.fields, "payload"]
        read_only_fields = fields


class EventSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventSource
        fields = ["id", "name", "kind", "token_hint", "is_active", "last_used_at", "created_at"]
        read_only_fields = ["id", "token_hint", "last_used_at", "created_at"]


class EventSourceCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=SourceKind.choices)


class EventSourceTokenSerializer(EventSourceSerializer):
    token = serializers.CharField(read_only=True, help_text="shown once; store it in the sender's configuration")

    class Meta(EventSourceSerializer.Meta):
        fields = [*EventSourceSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "total",
            "processed",
            "progress",
            "created",
            "updated",
            "unchanged",
            "rejected",
            "error",
            "created_by",
            "started_at",
            "finished_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_progress(self, job: ImportJob) -> float:
        return round(job.processed / job.total, 4) if job.total else 0.0


class ImportJobDetailSerializer(ImportJobSerializer):
    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "report"]
        read_only_fields = fields


class ImportCreateSerializer(serializers.Serializer):
    bundle = serializers.FileField(
        required=False, help_text="the bundle as a JSON file (multipart); or send the bundle as the JSON body"
    )
