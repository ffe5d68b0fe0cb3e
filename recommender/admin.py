from django.contrib import admin

from .models import DataSample, Recommendation, RecommendationRun, Relationship


@admin.register(DataSample)
class DataSampleAdmin(admin.ModelAdmin):
    list_display = ["asset", "data_version", "rows", "source_rows", "updated_at"]
    search_fields = ["asset__name"]
    raw_id_fields = ["asset", "snapshot"]
    readonly_fields = ["profile"]


@admin.register(Relationship)
class RelationshipAdmin(admin.ModelAdmin):
    list_display = ["name", "from_asset", "to_asset", "source", "observations", "updated_at"]
    list_filter = ["source"]
    search_fields = ["name", "from_asset__name", "to_asset__name"]
    raw_id_fields = ["from_asset", "to_asset", "created_by"]


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ["asset", "candidate", "view", "score", "coverage", "recommended", "status", "computed_at"]
    list_filter = ["view", "recommended", "status"]
    search_fields = ["asset__name", "candidate__name"]
    raw_id_fields = ["asset", "candidate", "relationship", "decided_by"]


@admin.register(RecommendationRun)
class RecommendationRunAdmin(admin.ModelAdmin):
    list_display = ["asset", "status", "done", "total", "created_at", "finished_at"]
    list_filter = ["status"]
    raw_id_fields = ["asset", "requested_by"]
