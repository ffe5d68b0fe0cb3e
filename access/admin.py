from django.contrib import admin

from .models import Grant


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["group", "permission", "domain", "asset", "created_at"]
    list_filter = ["permission", "group"]
    raw_id_fields = ["asset"]
