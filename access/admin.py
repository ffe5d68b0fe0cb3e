from django.contrib import admin

from . import services
from .choices import AuditSource
from .models import AccessRequest, AccessRequestEvent, AuditEvent, Grant, Notification, UserAttribute


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["group", "permission", "domain", "asset", "created_at"]
    list_filter = ["permission", "group"]
    raw_id_fields = ["asset"]

    # through the services, so that grant changes made in the admin are in the audit too
    def save_model(self, request, obj, form, change):
        if change and {"group", "domain", "asset"} & set(form.changed_data):
            services.grant_revoke(grant=Grant.objects.get(pk=obj.pk), actor=request.user, source=AuditSource.UI)
            obj.pk = None
        saved = services.grant_set(
            group=obj.group,
            permission=obj.permission,
            domain=obj.domain,
            asset=obj.asset,
            actor=request.user,
            source=AuditSource.UI,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.grant_revoke(grant=obj, actor=request.user, source=AuditSource.UI)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            services.grant_revoke(grant=grant, actor=request.user, source=AuditSource.UI)


@admin.register(UserAttribute)
class UserAttributeAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "value"]
    search_fields = ["user__username", "name", "value"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit rows are never added, changed or deleted by hand."""

    list_display = ["at", "actor_name", "source", "action", "asset_id"]
    list_filter = ["action", "source"]
    search_fields = ["actor_name"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessRequestEventInline(admin.TabularInline):
    model = AccessRequestEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "from_status", "to_status", "actor", "comment", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """Decisions go through the app (so they are checked, notified and audited); the admin only shows requests."""

    list_display = ["id", "requester", "group", "asset", "status", "expires_at", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["asset", "requester", "decided_by", "grant"]
    inlines = [AccessRequestEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "text", "created_at", "read_at"]
    raw_id_fields = ["user", "request"]
