from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from dataclasses import asdict
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import CatalogCursorPagination, StrictQueryParamsMixin
from ingestion import selectors, services
from ingestion.authentication import EventSourceAuthentication, IsEventSource
from ingestion.choices import EventAnswer, EventStatus, SourceKind
from ingestion.models import EventSource, ImportJob

from . import serializers as s

MAX_BATCH = 1000
MAX_INFLATED = 20 * 1024 * 1024


def _body_json(request) -> Any:
    """The request body as JSON, inflated first when it is gzip (Content-Encoding or magic bytes)."""
    body = request.body
    encoding = request.headers.get("Content-Encoding", "").lower()
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, MAX_INFLATED)
            if inflater.unconsumed_tail:
                raise ValidationError({"body": [f"the inflated body is larger than {MAX_INFLATED // 1_048_576} MiB"]})
        except (zlib.error, gzip.BadGzipFile, EOFError):
            raise ValidationError({"body": ["the body says it is gzip but is not valid gzip data"]}) from None
    elif encoding not in ("", "identity"):
        raise ValidationError({"body": [f"Content-Encoding {encoding!r} is not supported; send gzip or plain JSON"]})
    if not body:
        raise ValidationError({"body": ["the body is empty; send a JSON event"]})
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError({"body": [f"not valid JSON ({error})"]}) from None


class CreatedPagination(CatalogCursorPagination):
    ordering = ("-created_at", "-id")


class EventsReceiveApi(APIView):
    """Receives QuickSight change events: one EventBridge event, a list of them, or `{"Records": [...]}` of
    CloudTrail records. Each is checked, stored and deduplicated by its id, and answered at once (202): accepted
    (applied shortly; follow it at `/api/v1/ingestion/events/{id}/`), duplicate, rejected with the reason, or
    unknown type. A single malformed event is a 400 naming the wrong field."""

    authentication_classes = [EventSourceAuthentication]
    permission_classes = [IsEventSource]
    event_source_kind = SourceKind.QUICKSIGHT

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={202: s.EventsReceivedSerializer},
        auth=[{"eventSourceToken": []}],
    )
    def post(self, request):
        data = _body_json(request)
        single = False
        if isinstance(data, dict) and isinstance(data.get("Records"), list):
            payloads = data["Records"]
        elif isinstance(data, list):
            payloads = data
        elif isinstance(data, dict):
            payloads, single = [data], True
        else:
            raise ValidationError({"body": ['send an event object, a list of events or {"Records": [...]}']})
        if not payloads:
            raise ValidationError({"body": ["the batch is empty"]})
        if len(payloads) > MAX_BATCH:
            raise ValidationError({"body": [f"at most {MAX_BATCH} events per request; split the batch"]})
        answers = services.events_receive(source=request.auth, payloads=payloads)
        if single and answers[0].status == EventAnswer.REJECTED:
            return Response({"detail": answers[0].reason, "id": answers[0].id}, status=status.HTTP_400_BAD_REQUEST)
        counts = Counter(answer.status for answer in answers)
        body = {
            "received": len(answers),
            "counts": {value: counts.get(value, 0) for value in EventAnswer.values},
            "events": [asdict(answer) for answer in answers],
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class OpenLineageApi(APIView):
    """The OpenLineage endpoint (RunEvent, DatasetEvent, JobEvent; plain or gzip): checks and stores the event and
    answers 201 like Marquez, also for a retried event (`duplicate`); the event is applied shortly after. An
    invalid event is a 400 naming the wrong field."""

    authentication_classes = [EventSourceAuthentication]
    permission_classes = [IsEventSource]
    event_source_kind = SourceKind.OPENLINEAGE

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: s.OpenLineageResultSerializer},
        auth=[{"eventSourceToken": []}],
    )
    def post(self, request):
        data = _body_json(request)
        answer = services.openlineage_receive(source=request.auth, event=data)
        return Response({"id": answer.id, "status": answer.status}, status=status.HTTP_201_CREATED)


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
