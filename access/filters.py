from __future__ import annotations

import django_filters as filters

from .choices import AuditAction, AuditSource, RequestStatus
from .models import AccessRequest, AuditEvent


class AuditEventFilter(filters.FilterSet):
    """Filters of the audit: by person (username), asset id, action, source and date range (inclusive dates)."""

    user = filters.CharFilter(field_name="actor_name", max_length=150)
    asset = filters.NumberFilter(field_name="asset_id", min_value=1)
    action = filters.MultipleChoiceFilter(choices=AuditAction.choices, distinct=False)
    source = filters.ChoiceFilter(choices=AuditSource.choices)
    since = filters.DateFilter(field_name="at", lookup_expr="date__gte", label="from this date (YYYY-MM-DD)")
    until = filters.DateFilter(field_name="at", lookup_expr="date__lte", label="up to this date (YYYY-MM-DD)")

    class Meta:
        model = AuditEvent
        fields = ["user", "asset", "action", "source", "since", "until"]


class AccessRequestFilter(filters.FilterSet):
    box = filters.ChoiceFilter(
        choices=[("mine", "My requests"), ("inbox", "Requests I decide"), ("all", "Both")],
        method="filter_box",
        label="whose requests (the default is all you may see)",
    )
    status = filters.MultipleChoiceFilter(choices=RequestStatus.choices, distinct=False)
    asset = filters.NumberFilter(field_name="asset_id", min_value=1)

    class Meta:
        model = AccessRequest
        fields = ["box", "status", "asset"]

    def filter_box(self, queryset, name, value):
        return queryset  # the view picks the box before filtering
