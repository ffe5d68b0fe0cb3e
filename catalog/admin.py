from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Asset,
    BusinessUnit,
    Column,
    ColumnRule,
    Customer,
    Dataset,
    DataSource,
    Domain,
    FolderMembership,
    ProductLine,
    RefreshRun,
    RowRule,
    Tag,
    Visual,
)


class ColumnInline(admin.TabularInline):
    model = Column
    extra = 0
    fields = ["position", "name", "data_type", "nullable", "description"]


@admin.register(Asset)
class AssetAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "status", "domain", "business_unit", "owner", "environment", "updated_at"]
    list_filter = ["kind", "status", "environment", "domain", "business_unit"]
    search_fields = ["name", "external_id"]
    raw_id_fields = ["owner", "customer", "product_line"]
    readonly_fields = ["created_at", "updated_at", "last_viewed_at", "view_count"]
    inlines = [ColumnInline]
    show_full_result_count = False  # counting a million rows on every page is slow


@admin.register(FolderMembership)
class FolderMembershipAdmin(SimpleHistoryAdmin):
    list_display = ["folder", "asset", "created_at"]
    raw_id_fields = ["folder", "asset"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner_group"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(BusinessUnit, Tag)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Customer, ProductLine)
class BusinessReferenceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "business_unit"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class RowRuleInline(admin.TabularInline):
    model = RowRule
    extra = 0


class ColumnRuleInline(admin.TabularInline):
    model = ColumnRule
    extra = 0


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["asset", "import_mode", "refresh_interval", "next_refresh_at", "current_snapshot"]
    list_filter = ["import_mode", "refresh_interval"]
    raw_id_fields = ["asset", "source", "current_snapshot"]
    inlines = [RowRuleInline, ColumnRuleInline]


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = ["asset", "type", "host", "database", "username"]
    raw_id_fields = ["asset"]
    exclude = ["password_encrypted"]  # set passwords through the API: they are encrypted there


@admin.register(RefreshRun)
class RefreshRunAdmin(admin.ModelAdmin):
    list_display = ["dataset", "status", "trigger", "started_at", "finished_at", "rows", "bytes"]
    list_filter = ["status", "trigger"]
    raw_id_fields = ["dataset", "snapshot", "requested_by"]


@admin.register(Visual)
class VisualAdmin(admin.ModelAdmin):
    list_display = ["asset", "dataset", "updated_at"]
    raw_id_fields = ["asset", "dataset"]
