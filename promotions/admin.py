from django.contrib import admin

from .models import EnvironmentPolicy, PromotedCopy, Promotion


@admin.register(EnvironmentPolicy)
class EnvironmentPolicyAdmin(admin.ModelAdmin):
    list_display = ("environment", "second_person_required", "updated_at")


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "source", "target_folder", "created_by", "created_at")
    list_filter = ("status", "kind", "environment")
    raw_id_fields = ("source", "target_folder", "customer", "created_by", "approved_by", "executed_by")


@admin.register(PromotedCopy)
class PromotedCopyAdmin(admin.ModelAdmin):
    list_display = ("source", "copy", "target_folder", "promotion", "promoted_at")
    raw_id_fields = ("source", "copy", "target_folder", "promotion")
