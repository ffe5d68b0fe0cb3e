from django.contrib import admin

from .models import Grant, UserAttribute


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["group", "permission", "domain", "asset", "created_at"]
    list_filter = ["permission", "group"]
    raw_id_fields = ["asset"]


@admin.register(UserAttribute)
class UserAttributeAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "value"]
    search_fields = ["user__username", "name", "value"]
