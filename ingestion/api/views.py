from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from config.api import CatalogCursorPagination, StrictQueryParamsMixin
from ingestion import selectors, services
from ingestion.choices import EventStatus
from ingestion.models import EventSource, ImportJob

from . import serializers as s


class CreatedPagination(CatalogCursorPagination):
    ordering = ("-created_at", "-id")


class ChangeEventViewSet(
    StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Received events, newest first (administrators only: raw events may name assets of any domain)."""

    permission_classes = [permissions.IsAdminUser]
    pagination_class = CreatedPagination
    extra_query_params = frozenset({"status"})

    def get_serializer_class(self):
        return s.ChangeEventDetailSerializer if self.action == "retrieve" else s.ChangeEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.event_list(status=None)
        wanted = self.request.query_params.get("status")
        if wanted is not None and wanted not in EventStatus.values:
            raise ValidationError(
                {"status": [f"{wanted!r} is not a status; use one of {', '.join(EventStatus.values)}"]}
            )
        return selectors.event_list(status=wanted)

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=EventStatus.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class EventSourceViewSet(
    StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Event sources and their tokens (administrators only); a token is shown once, when issued."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = s.EventSourceSerializer
    queryset = EventSource.objects.order_by("name", "id")

    @extend_schema(request=s.EventSourceCreateSerializer, responses={201: s.EventSourceTokenSerializer})
    def create(self, request):
        payload = s.EventSourceCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if EventSource.objects.filter(name=payload.validated_data["name"].strip()).exists():
            raise ValidationError({"name": ["an event source with this name exists; choose another name"]})
        source, token = services.event_source_create(actor=request.user, **payload.validated_data)
        source.token = token
        return Response(s.EventSourceTokenSerializer(source).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.EventSourceTokenSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        source = self.get_object()
        source.token = services.event_source_rotate(source=source)
        return Response(s.EventSourceTokenSerializer(source).data)


class ImportJobViewSet(
    StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Bulk imports of QuickSight Describe* bundles (administrators only), with progress and the report."""

    permission_classes = [permissions.IsAdminUser]
    pagination_class = CreatedPagination
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        return ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")

    def get_serializer_class(self):
        return s.ImportJobDetailSerializer if self.action == "retrieve" else s.ImportJobSerializer

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT, "multipart/form-data": s.ImportCreateSerializer},
        responses={202: s.ImportJobSerializer},
    )
    def create(self, request):
        upload = request.FILES.get("bundle") if request.content_type.startswith("multipart/") else None
        if request.content_type.startswith("multipart/"):
            if upload is None:
                raise ValidationError({"bundle": ["attach the bundle as a JSON file in the field 'bundle'"]})
            try:
                bundle = json.load(upload)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ValidationError({"bundle": [f"the file is not valid JSON ({error})"]}) from None
        else:
            bundle = request.data
        job = services.import_create(actor=request.user, bundle=bundle)
        job.refresh_from_db()
        return Response(s.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
