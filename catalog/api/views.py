from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from access.choices import AuditAction, AuditSource, Permission
from access.permissions import sees_everything, user_group_ids, visible_domain_ids
from access.services import audit_record
from catalog import reports, selectors, services
from catalog.choices import AssetKind, ChangeSource
from catalog.filters import AssetFilter
from catalog.history import asset_history
from catalog.models import Asset, BusinessUnit, Customer, Domain, ProductLine, Tag
from config.api import (
    CatalogCursorPagination,
    ReadOnlyOrStaff,
    StrictLimitOffsetPagination,
    StrictOrderingFilter,
    StrictQueryParamsMixin,
    csv_response,
)

from . import serializers as s

ASSET_ORDERING = ["name", "created_at", "updated_at", "view_count", "last_viewed_at", "kind", "id"]


def check_may_place(user, data: dict) -> None:
    """A non-staff user may only create or move assets into domains they may edit, for groups they are in."""
    if sees_everything(user):
        return
    domain = data.get("domain")
    if domain is not None and domain.pk not in visible_domain_ids(user, permission=Permission.EDIT):
        raise PermissionDenied(f"You may not add assets to domain {domain.slug!r}; ask its owners for an edit grant.")
    group = data.get("owner_group")
    if group is not None and group.pk not in user_group_ids(user):
        raise PermissionDenied(f"You are not in group {group.name!r}, so you cannot make it the owner.")


class AssetViewSet(StrictQueryParamsMixin, viewsets.ModelViewSet):
    """Assets: every data product and BI asset in the catalog."""

    serializer_class = s.AssetSerializer
    filterset_class = AssetFilter
    filter_backends = [*viewsets.ModelViewSet.filter_backends, StrictOrderingFilter]
    ordering_fields = ASSET_ORDERING
    ordering = ["-updated_at", "-id"]
    pagination_class = CatalogCursorPagination

    def get_queryset(self):
        return selectors.asset_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("retrieve", "create", "update", "partial_update"):
            return s.AssetDetailSerializer
        return s.AssetSerializer

    def get_object(self):
        return selectors.asset_get(user=self.request.user, pk=self.kwargs["pk"])

    def retrieve(self, request, *args, **kwargs):
        asset = self.get_object()
        services.asset_view_enqueue(asset=asset, user=request.user)
        context = {
            **self.get_serializer_context(),
            "can_edit": selectors.asset_can_edit(user=request.user, asset=asset),
        }
        return Response(s.AssetDetailSerializer(asset, context=context).data)

    def _editable(self) -> Asset:
        asset = self.get_object()
        if not selectors.asset_can_edit(user=self.request.user, asset=asset):
            raise PermissionDenied("You may see this asset but not change it; ask its owners for an edit grant.")
        return asset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        check_may_place(self.request.user, data)
        if not data.get("owner") and not data.get("owner_group"):
            data["owner"] = self.request.user
        serializer.instance = services.asset_create(actor=self.request.user, source=ChangeSource.API, **data)

    def update(self, request, *args, **kwargs):
        asset = self._editable()
        partial = kwargs.pop("partial", False)
        serializer = s.AssetDetailSerializer(asset, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("kind", None)
        check_may_place(request.user, {k: v for k, v in data.items() if k in ("domain", "owner_group")})
        asset = services.asset_update(asset=asset, actor=request.user, source=ChangeSource.API, **data)
        asset = selectors.asset_get(user=request.user, pk=asset.pk)
        return Response(s.AssetDetailSerializer(asset, context={"can_edit": True}).data)

    def destroy(self, request, *args, **kwargs):
        services.asset_delete(asset=self._editable(), actor=request.user, source=ChangeSource.API)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=s.ChangeSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        """Every create, update and delete of the asset, its columns and folder memberships, newest first."""
        asset = self.get_object()
        return Response(s.ChangeSerializer(asset_history(asset=asset), many=True).data)

    @extend_schema(responses=s.AssetSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def folders(self, request, pk=None):
        """The folders this asset is in (that the user may see)."""
        asset = self.get_object()
        return Response(s.AssetSerializer(selectors.asset_folders(user=request.user, asset=asset), many=True).data)


class FolderMembersApi(StrictQueryParamsMixin, APIView):
    """The assets in a folder: list, add one, remove one."""

    def _folder(self, request, pk) -> Asset:
        folder = selectors.asset_get(user=request.user, pk=pk)
        if folder.kind != AssetKind.FOLDER:
            raise ValidationError({"folder": [f"asset {folder.pk} is a {folder.kind}, not a folder"]})
        return folder

    @extend_schema(responses=s.AssetSerializer(many=True))
    def get(self, request, pk):
        folder = self._folder(request, pk)
        return Response(s.AssetSerializer(selectors.folder_children(user=request.user, folder=folder), many=True).data)

    @extend_schema(request=s.FolderMemberInputSerializer, responses={201: s.AssetSerializer})
    def post(self, request, pk):
        folder = self._folder(request, pk)
        if not selectors.asset_can_edit(user=request.user, asset=folder):
            raise PermissionDenied("You may not change this folder; ask its owners for an edit grant.")
        payload = s.FolderMemberInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        asset = selectors.asset_get(user=request.user, pk=payload.validated_data["asset"])
        services.folder_membership_add(folder=folder, asset=asset, actor=request.user, source=ChangeSource.API)
        return Response(s.AssetSerializer(asset).data, status=status.HTTP_201_CREATED)


class FolderMemberApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk, asset_pk):
        folder = selectors.asset_get(user=request.user, pk=pk)
        if not selectors.asset_can_edit(user=request.user, asset=folder):
            raise PermissionDenied("You may not change this folder; ask its owners for an edit grant.")
        asset = selectors.asset_get(user=request.user, pk=asset_pk)
        removed = services.folder_membership_remove(
            folder=folder, asset=asset, actor=request.user, source=ChangeSource.API
        )
        if not removed:
            raise ValidationError({"asset": [f"asset {asset.pk} is not in folder {folder.pk}"]})
        return Response(status=status.HTTP_204_NO_CONTENT)


class KnownCountPagination(StrictLimitOffsetPagination):
    """Pages a result whose size is already known, without counting it again."""

    def __init__(self, *, count: int) -> None:
        self.known_count = count

    def get_count(self, queryset) -> int:
        return self.known_count


class AssetSearchApi(StrictQueryParamsMixin, APIView):
    """Ranked search over names, descriptions, column names and tags, with facet counts.

    Exact up to 500 matches (selectors.SEARCH_EXACT_LIMIT); beyond that `count_capped` is true and results and facets
    cover the 500 most recently updated matches.
    """

    filterset_class = AssetFilter

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description="Words to find (prefixes match)"),
            OpenApiParameter("limit", OpenApiTypes.INT),
            OpenApiParameter("offset", OpenApiTypes.INT),
        ],
        responses=s.SearchResultSerializer,
    )
    def get(self, request):
        query = request.query_params.get("q", "")
        if len(query) > 500:
            raise ValidationError({"q": ["the query is longer than 500 characters"]})
        if not selectors.search_tokens(query):
            raise ValidationError({"q": ["give at least one word to search for, e.g. ?q=customer"]})
        filterset = AssetFilter(request.query_params, queryset=selectors.asset_list(user=request.user))
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        matches = selectors.asset_search_capped(queryset=filterset.qs, query=query)
        paginator = KnownCountPagination(count=matches.count)
        page = paginator.paginate_queryset(matches.queryset, request, view=self)
        return Response(
            {
                "query": query,
                "count": paginator.count,
                "count_capped": matches.capped,
                "results": s.AssetSerializer(page, many=True).data,
                "facets": selectors.asset_facets(queryset=matches.queryset),
            }
        )


class ReportListApi(APIView):
    @extend_schema(operation_id="reports_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """The reports there are, with their parameters."""
        return Response([{"name": name, "title": title} for name, (title, _) in reports.REPORTS.items()])


class ReportApi(StrictQueryParamsMixin, APIView):
    """One report over the assets you may see; `?format=csv` streams every row."""

    extra_query_params = frozenset({"from", "to", "days"})

    @extend_schema(
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("days", OpenApiTypes.INT),
        ],
        responses=s.ReportSerializer,
    )
    def get(self, request, name):
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ValidationError({"format": [f"{fmt!r} is not a format; use json or csv"]})
        report = reports.report_run(
            name=name, queryset=Asset.objects.visible_to(request.user), params=request.query_params.dict()
        )
        if fmt == "csv":
            audit_record(
                user=request.user,
                action=AuditAction.DATA_EXPORT,
                source=AuditSource.API,
                detail={"report": report.name, "params": request.query_params.dict()},
            )
            return csv_response(filename=f"{report.name}.csv", columns=report.columns, rows=report.stream())
        return Response(s.ReportSerializer(report).data)


class ReferenceViewSet(StrictQueryParamsMixin, viewsets.ModelViewSet):
    permission_classes = [ReadOnlyOrStaff]
    lookup_field = "slug"
    filterset_class = None
    pagination_class = None


class DomainViewSet(ReferenceViewSet):
    queryset = Domain.objects.select_related("owner_group")
    serializer_class = s.DomainSerializer


class BusinessUnitViewSet(ReferenceViewSet):
    queryset = BusinessUnit.objects.all()
    serializer_class = s.BusinessUnitSerializer


class CustomerViewSet(ReferenceViewSet):
    queryset = Customer.objects.select_related("business_unit")
    serializer_class = s.CustomerSerializer


class ProductLineViewSet(ReferenceViewSet):
    queryset = ProductLine.objects.select_related("business_unit")
    serializer_class = s.ProductLineSerializer


class TagViewSet(ReferenceViewSet):
    queryset = Tag.objects.all()
    serializer_class = s.TagSerializer
