"""Pieces every API of Cartograph shares: strict query parameters, strict ordering, permissions, pagination."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework import permissions
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination, LimitOffsetPagination

COMMON_PARAMS = frozenset({"cursor", "page_size", "ordering", "format", "q", "limit", "offset"})


class StrictQueryParamsMixin:
    """Answers an unknown query parameter with a 400 instead of silently ignoring it (a typo is not a filter)."""

    extra_query_params: frozenset[str] = frozenset()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "GET":
            return
        known = set(COMMON_PARAMS) | set(self.extra_query_params)
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationError(
                {unknown[0]: [f"unknown query parameter; known parameters are: {', '.join(sorted(known))}"]}
            )


class StrictOrderingFilter(OrderingFilter):
    """Ordering that rejects unknown fields with a 400 naming them, and always ends with a unique tie-breaker."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            allowed = set(getattr(view, "ordering_fields", []))
            bad = [f for f in fields if f.lstrip("-") not in allowed]
            if bad:
                raise ValidationError(
                    {"ordering": [f"cannot order by {bad[0]!r}; choose from {', '.join(sorted(allowed))}"]}
                )
            last = fields[-1]
            tie = "-id" if last.startswith("-") else "id"
            return [*fields, tie] if "id" not in {f.lstrip("-") for f in fields} else fields
        return self.get_default_ordering(view)


class CatalogCursorPagination(CursorPagination):
    """Cursor pagination for large lists; a bad page_size or cursor is a 400 that says so."""

    ordering = ("-updated_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"page_size": [f"must be a whole number from 1 to {self.max_page_size}"]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ValidationError(
                {"cursor": ["this cursor is not valid; use the next/previous links of a previous page"]}
            )


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """limit/offset paging where a bad limit or offset is a 400, not silently the default."""

    default_limit = 25
    max_limit = 200

    def _number(self, request, name: str, default: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) > high:
            raise ValidationError({name: [f"must be a whole number from 0 to {high}"]})
        return int(raw)

    def get_limit(self, request):
        limit = self._number(request, self.limit_query_param, self.default_limit, self.max_limit)
        if limit == 0:
            raise ValidationError({"limit": [f"must be a whole number from 1 to {self.max_limit}"]})
        return limit

    def get_offset(self, request):
        return self._number(request, self.offset_query_param, 0, 10_000_000)


class ReadOnlyOrStaff(permissions.BasePermission):
    message = "Only staff may change reference data; ask an administrator."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return bool(request.user and request.user.is_staff)


def _csv_lines(columns: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    class Line:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Line())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow(row)


def csv_response(*, filename: str, columns: list[str], rows: Iterable[list[Any]]) -> StreamingHttpResponse:
    """Streams rows as CSV (no row cap, constant memory) as a download named `filename`."""
    response = StreamingHttpResponse(_csv_lines(columns, rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
