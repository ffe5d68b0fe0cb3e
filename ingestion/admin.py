from django.contrib import admin

from .models import ChangeEvent, EventSource, ImportJob, JoinEvidence, QuickSightConnector


@admin.register(EventSource)
class EventSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "token_hint", "is_active", "last_used_at"]
    list_filter = ["kind", "is_active"]
    readonly_fields = ["token_hash", "token_hint", "last_used_at"]


@admin.register(ChangeEvent)
class ChangeEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "format", "event_type", "event_time", "status"]
    list_filter = ["status", "format"]
    search_fields = ["event_key", "event_type"]
    raw_id_fields = ["source", "duplicate_of"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "status", "processed", "total", "created", "updated", "unchanged", "rejected", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["created_by"]


@admin.register(JoinEvidence)
class JoinEvidenceAdmin(admin.ModelAdmin):
    list_display = ["dataset", "left", "right", "join_type", "on_clause", "last_seen_at"]
    raw_id_fields = ["dataset", "left", "right"]


@admin.register(QuickSightConnector)
class QuickSightConnectorAdmin(admin.ModelAdmin):
    list_display = ["account_id", "region", "is_active", "last_synced_at"]
