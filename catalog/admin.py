from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Asset, BusinessUnit, Column, Customer, Domain, FolderMembership, ProductLine, Tag


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
