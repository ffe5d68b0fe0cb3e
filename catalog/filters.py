from __future__ import annotations

from datetime import timedelta

import django_filters as filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from .choices import AssetKind, AssetStatus, Environment
from .models import Asset, BusinessUnit, Customer, Domain, ProductLine, Tag


class AssetFilter(filters.FilterSet):
    """Filters of the asset list; unknown values are 400s naming the filter. Deleted assets only on request."""

    # Columns of the asset itself, so no row can repeat: without distinct=False (django-filter's default is True),
    # the list became SELECT DISTINCT over every column, which sorts all matches before taking a page.
    kind = filters.MultipleChoiceFilter(choices=AssetKind.choices, distinct=False)
    status = filters.MultipleChoiceFilter(choices=AssetStatus.choices, distinct=False)
    environment = filters.MultipleChoiceFilter(choices=Environment.choices, distinct=False)
    owner = filters.ModelChoiceFilter(
        field_name="owner", to_field_name="username", queryset=get_user_model().objects.all()
    )
    owner_group = filters.ModelChoiceFilter(
        field_name="owner_group", to_field_name="name", queryset=Group.objects.all()
    )
    domain = filters.ModelChoiceFilter(to_field_name="slug", queryset=Domain.objects.all())
    business_unit = filters.ModelChoiceFilter(to_field_name="slug", queryset=BusinessUnit.objects.all())
    customer = filters.ModelChoiceFilter(to_field_name="slug", queryset=Customer.objects.all())
    product_line = filters.ModelChoiceFilter(to_field_name="slug", queryset=ProductLine.objects.all())
    tag = filters.ModelChoiceFilter(field_name="tags", to_field_name="slug", queryset=Tag.objects.all())
    folder = filters.ModelChoiceFilter(
        field_name="folder_memberships__folder",
        queryset=Asset.objects.filter(kind=AssetKind.FOLDER),
        label="Folder id",
    )
    external_id = filters.CharFilter(max_length=512)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_before = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    stale_days = filters.NumberFilter(
        method="filter_stale_days", min_value=0, max_value=36500, label="Not updated for this many days"
    )
    never_viewed = filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_never_viewed", label="Never viewed"
    )

    class Meta:
        model = Asset
        fields: list[str] = []

    def filter_stale_days(self, queryset, name, value):
        return queryset.filter(updated_at__lt=timezone.now() - timedelta(days=int(value)))

    def filter_never_viewed(self, queryset, name, value):
        return queryset.filter(last_viewed_at__isnull=value == "true")

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.not_deleted()
        return super().filter_queryset(queryset)
