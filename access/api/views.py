from __future__ import annotations

from django.contrib.auth.models import Group
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from access import selectors, services
from access.api import serializers as s
from access.choices import AuditSource
from access.filters import AccessRequestFilter, AuditEventFilter
from access.models import AccessRequest, Notification
from catalog import selectors as catalog_selectors
from config.api import CatalogCursorPagination, StrictLimitOffsetPagination, StrictQueryParamsMixin, csv_response


class IsStaffToChange(permissions.BasePermission):
    message = "Only staff may change grants for now; ask an administrator."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


class GrantViewSet(
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Grants of view or edit to groups, on a domain or an asset."""

    serializer_class = s.GrantSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffToChange]
    filterset_class = None

    def get_queryset(self):
        return selectors.grant_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.grant_set(
            actor=self.request.user, source=AuditSource.API, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.grant_revoke(grant=instance, actor=self.request.user, source=AuditSource.API)


class MeApi(APIView):
    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        """Who you are signed in as, and your groups."""
        user = request.user
        return Response(
            s.MeSerializer(
                {
                    "id": user.pk,
                    "username": user.get_username(),
                    "is_staff": user.is_staff,
                    "groups": sorted(user.groups.values_list("name", flat=True)),
                }
            ).data
        )


# --- audit -------------------------------------------------------------------------------------------------------


class AuditPagination(CatalogCursorPagination):
    ordering = ("-at", "-id")


AUDIT_CSV_COLUMNS = ["id", "at", "user", "source", "action", "asset", "detail"]


def audit_csv_rows(events):
    import json

    for event in events.iterator(chunk_size=2000):
        yield [
            event.pk,
            event.at.isoformat(),
            event.actor_name,
            event.source,
            event.action,
            event.asset_id or "",
            json.dumps(event.detail, sort_keys=True),
        ]


class AuditEventViewSet(StrictQueryParamsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The access audit: every read of an asset's data and every change of access, newest first. Staff read all of
    it, domain owners the events on their domains' assets. Read-only: audit rows cannot be changed or deleted.
    `?format=csv` streams every matching row."""

    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = AuditPagination

    def get_queryset(self):
        return selectors.audit_list(user=self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not selectors.audit_may_read(user=request.user):
            raise PermissionDenied("Only staff and the owners of a domain read the access audit.")

    @extend_schema(parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])])
    def list(self, request, *args, **kwargs):
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ValidationError({"format": [f"{fmt!r} is not a format; use json or csv"]})
        if fmt == "csv":
            events = self.filter_queryset(self.get_queryset())
            return csv_response(filename="audit.csv", columns=AUDIT_CSV_COLUMNS, rows=audit_csv_rows(events))
        return super().list(request, *args, **kwargs)


# --- sharing requests ----------------------------------------------------------------------------------------------


class AccessRequestViewSet(
    StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sharing requests: ask access for one of your groups to a data product, dataset or dashboard; its domain's data
    owners approve or reject with a comment; approved access can expire, be extended or revoked. `box=mine` lists
    your requests, `box=inbox` the ones you decide on."""

    filterset_class = AccessRequestFilter
    pagination_class = StrictLimitOffsetPagination

    def get_serializer_class(self):
        return s.AccessRequestDetailSerializer if self.action != "list" else s.AccessRequestSerializer

    def get_queryset(self):
        box = self.request.query_params.get("box", "all")
        requests = selectors.access_request_list(user=self.request.user, box=box if box in ("mine", "inbox") else "all")
        if self.action != "list":
            requests = requests.prefetch_related("events__actor")
        return requests

    def get_object(self) -> AccessRequest:
        return selectors.access_request_get(user=self.request.user, pk=self.kwargs["pk"])

    def _detail(self, access_request: AccessRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.access_request_list(user=self.request.user, box="all").prefetch_related("events__actor")
        return Response(s.AccessRequestDetailSerializer(fresh.get(pk=access_request.pk)).data, status=code)

    @extend_schema(request=s.AccessRequestCreateSerializer, responses={201: s.AccessRequestDetailSerializer})
    def create(self, request):
        """Asks access; you may name any data product, dataset or dashboard with owners, even one you cannot see."""
        payload = s.AccessRequestCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        asset = selectors.requestable_asset_get(pk=data["asset"])
        group = Group.objects.filter(name=data["group"]).first()
        if group is None:
            raise ValidationError({"group": [f"no group is named {data['group']!r}; use one of your groups"]})
        access_request = services.access_request_create(
            requester=request.user,
            group=group,
            asset=asset,
            justification=data["justification"],
            duration_days=data.get("duration_days"),
            source=AuditSource.API,
        )
        return self._detail(access_request, status.HTTP_201_CREATED)

    @extend_schema(request=s.DecisionSerializer, responses=s.AccessRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approves a pending request (data owners): the group gets a view grant, until the duration ends."""
        payload = s.DecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access_request = services.access_request_approve(
            access_request=self.get_object(), actor=request.user, comment=payload.validated_data["comment"]
        )
        return self._detail(access_request)

    @extend_schema(request=s.RejectSerializer, responses=s.AccessRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Rejects a pending request with a comment saying why (data owners)."""
        payload = s.RejectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access_request = services.access_request_reject(
            access_request=self.get_object(), actor=request.user, comment=payload.validated_data["comment"]
        )
        return self._detail(access_request)

    @extend_schema(request=None, responses=s.AccessRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Takes back your own pending request."""
        access_request = services.access_request_withdraw(access_request=self.get_object(), actor=request.user)
        return self._detail(access_request)

    @extend_schema(request=s.ExtendSerializer, responses=s.AccessRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """Extends approved, expiring access by a number of days (data owners)."""
        payload = s.ExtendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access_request = services.access_request_extend(
            access_request=self.get_object(), actor=request.user, **payload.validated_data
        )
        return self._detail(access_request)

    @extend_schema(request=s.DecisionSerializer, responses=s.AccessRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Ends approved access now (data owners)."""
        payload = s.DecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        access_request = services.access_request_revoke(
            access_request=self.get_object(), actor=request.user, comment=payload.validated_data["comment"]
        )
        return self._detail(access_request)


# --- notifications -----------------------------------------------------------------------------------------------


class NotificationViewSet(StrictQueryParamsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your in-app notifications, newest first."""

    serializer_class = s.NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; get_queryset scopes to the user
    pagination_class = StrictLimitOffsetPagination
    filterset_class = None

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)


class NotificationReadApi(APIView):
    @extend_schema(request=s.NotificationReadSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """Marks your notifications read (the given ids, or all)."""
        payload = s.NotificationReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        changed = services.notifications_mark_read(user=request.user, ids=payload.validated_data.get("ids"))
        return Response({"marked_read": changed})


# --- entitlements ------------------------------------------------------------------------------------------------


class GroupEntitlementsApi(APIView):
    @extend_schema(responses=s.GroupEntitlementsSerializer)
    def get(self, request, name):
        """What group G sees and through which route (staff: any group; others: their own groups)."""
        group = selectors.entitlement_group_get(user=request.user, name=name)
        return Response(
            s.GroupEntitlementsSerializer(
                {"group": group.name, "assets": selectors.group_entitlements(group=group)}
            ).data
        )


class AssetEntitlementsApi(APIView):
    @extend_schema(responses=s.AssetEntitlementsSerializer)
    def get(self, request, pk):
        """Who can see asset A and through which grant (staff and those who may edit the asset)."""
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        if not catalog_selectors.asset_can_edit(user=request.user, asset=asset):
            raise PermissionDenied("Only the asset's owners and staff see who has access to it.")
        asset = get_object_or_404(
            type(asset).objects.select_related("owner", "owner_group", "domain__owner_group"), pk=asset.pk
        )
        return Response(
            s.AssetEntitlementsSerializer(
                {"asset": asset.pk, "name": asset.name, "routes": selectors.asset_access_routes(asset=asset)}
            ).data
        )
