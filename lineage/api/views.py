from __future__ import annotations

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from access.choices import AuditAction, AuditSource
from access.services import audit_record
from catalog import selectors as catalog_selectors
from catalog.choices import ChangeSource
from catalog.models import Asset, Column
from config.api import StrictQueryParamsMixin, csv_response
from lineage import selectors, services
from lineage.models import ColumnEdge, Edge

from . import serializers as s


def _query(serializer_class, request):
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _may_edit(request, asset: Asset) -> None:
    if not catalog_selectors.asset_can_edit(user=request.user, asset=asset):
        raise PermissionDenied(f"You may not change the lineage of {asset.name!r}; ask its owners for an edit grant.")


class AssetLineageApi(StrictQueryParamsMixin, APIView):
    """Upstream, downstream or both, to a depth, optionally of some edge kinds and as of a date."""

    extra_query_params = frozenset({"direction", "depth", "kinds", "as_of", "node_cap"})

    @extend_schema(parameters=[s.LineageQuerySerializer], responses=s.LineageSerializer)
    def get(self, request, pk):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        params = _query(s.LineageQuerySerializer, request)
        data = selectors.lineage_for_user(user=request.user, root=asset.pk, **params)
        return Response(s.LineageSerializer(data).data)


class AssetLineageDiffApi(StrictQueryParamsMixin, APIView):
    """Edges of the asset's lineage that appeared or ended between two dates."""

    extra_query_params = frozenset({"from_date", "to_date", "depth"})

    @extend_schema(parameters=[s.DiffQuerySerializer], responses=s.DiffSerializer)
    def get(self, request, pk):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        params = _query(s.DiffQuerySerializer, request)
        return Response(s.DiffSerializer(selectors.diff_for_user(user=request.user, root=asset.pk, **params)).data)


class AssetImpactApi(StrictQueryParamsMixin, APIView):
    """Everything downstream at any depth, grouped, with the owners to notify; `?format=csv` streams every row."""

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])], responses=s.ImpactSerializer
    )
    def get(self, request, pk):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ValidationError({"format": [f"{fmt!r} is not a format; use json or csv"]})
        if fmt == "csv":
            rows = selectors.impact_rows(user=request.user, root=asset.pk)
            audit_record(
                user=request.user,
                action=AuditAction.DATA_EXPORT,
                source=AuditSource.API,
                asset_id=asset.pk,
                detail={"export": "impact"},
            )
            return csv_response(filename=f"impact-{asset.pk}.csv", columns=selectors.IMPACT_CSV_COLUMNS, rows=rows)
        return Response(s.ImpactSerializer(selectors.impact_summary(user=request.user, root=asset.pk)).data)


class AssetProvenanceApi(APIView):
    """For a reference analysis (or one of its templates): which customers' assets are on which template version."""

    @extend_schema(responses=s.ProvenanceSerializer)
    def get(self, request, pk):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        analysis = selectors.reference_analysis_of(asset=asset)
        if analysis is None:
            raise ValidationError(
                {"asset": [f"a {asset.kind} has no template provenance; use an analysis or template"]}
            )
        return Response(s.ProvenanceSerializer(selectors.provenance(user=request.user, analysis=analysis)).data)


class LineagePathApi(StrictQueryParamsMixin, APIView):
    """Shortest path(s) between two assets (downstream from → to, else upstream)."""

    extra_query_params = frozenset({"from", "to", "kinds"})

    @extend_schema(parameters=[s.PathQuerySerializer], responses=s.PathSerializer)
    def get(self, request):
        params = _query(s.PathQuerySerializer, request)
        start = catalog_selectors.asset_get(user=request.user, pk=params["from"])
        end = catalog_selectors.asset_get(user=request.user, pk=params["to"])
        data = selectors.path_for_user(user=request.user, start=start.pk, end=end.pk, kinds=params.get("kinds"))
        return Response(s.PathSerializer(data).data)


class EdgeViewSet(
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Asset-level lineage edges. Ending one keeps it (valid_to); nothing is deleted."""

    serializer_class = s.EdgeSerializer
    extra_query_params = frozenset({"asset", "open"})

    def get_queryset(self):
        visible = Asset.objects.visible_to(self.request.user).values("pk")
        edges = Edge.objects.filter(source__in=visible, target__in=visible).select_related("recorded_by").order_by("id")
        asset = self.request.query_params.get("asset")
        if asset is not None:
            if not asset.isdigit():
                raise ValidationError({"asset": ["must be an asset id"]})
            edges = edges.filter(Q(source_id=asset) | Q(target_id=asset))
        open_only = self.request.query_params.get("open")
        if open_only is not None:
            if open_only not in ("true", "false"):
                raise ValidationError({"open": ["use true or false"]})
            edges = edges.filter(valid_to__isnull=open_only == "true")
        return edges

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        source = catalog_selectors.asset_get(user=request.user, pk=data["source"].pk)
        target = catalog_selectors.asset_get(user=request.user, pk=data["target"].pk)
        _may_edit(request, target)
        edge, created = services.edge_upsert(
            source=source,
            target=target,
            kind=data["kind"],
            actor=request.user,
            via=ChangeSource.API,
            valid_from=data.get("valid_from"),
        )
        return Response(s.EdgeSerializer(edge).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=s.EdgeEndSerializer, responses=s.EdgeSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """Ends the relationship (sets valid_to); the edge stays in history."""
        edge = self.get_object()
        _may_edit(request, edge.target)
        payload = s.EdgeEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        edge = services.edge_end(edge=edge, actor=request.user, at=payload.validated_data.get("valid_to"))
        return Response(s.EdgeSerializer(edge).data)


class ColumnEdgesApi(APIView):
    """Column-level lineage of an asset's columns (both directions), and adding a column edge."""

    @extend_schema(responses=s.ColumnEdgeOutSerializer(many=True))
    def get(self, request, pk):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        visible = Asset.objects.visible_to(request.user).values("pk")
        edges = (
            ColumnEdge.objects.filter(valid_to__isnull=True)
            .filter(Q(source__asset=asset) | Q(target__asset=asset))
            .filter(source__asset__in=visible, target__asset__in=visible)
            .select_related("source__asset", "target__asset")
            .order_by("id")
        )

        def column(c: Column) -> dict:
            return {"id": c.pk, "name": c.name, "asset": c.asset_id, "asset_name": c.asset.name}

        return Response(
            [
                {
                    "id": e.pk,
                    "source": column(e.source),
                    "target": column(e.target),
                    "transformation": e.transformation,
                    "subtype": e.subtype,
                    "description": e.description,
                }
                for e in edges
            ]
        )

    @extend_schema(request=s.ColumnEdgeInputSerializer, responses={201: s.ColumnEdgeOutSerializer})
    def post(self, request, pk):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        payload = s.ColumnEdgeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        target = Column.objects.filter(pk=data["target"], asset=asset).select_related("asset").first()
        if target is None:
            raise ValidationError({"target": [f"column {data['target']} is not a column of asset {asset.pk}"]})
        source = Column.objects.filter(pk=data["source"]).select_related("asset").first()
        if source is None or not Asset.objects.visible_to(request.user).filter(pk=source.asset_id).exists():
            raise ValidationError({"source": [f"no column {data['source']} that you may see"]})
        _may_edit(request, asset)
        edge, created = services.column_edge_upsert(
            source=source,
            target=target,
            transformation=data["transformation"],
            subtype=data["subtype"],
            description=data["description"],
            actor=request.user,
        )
        body = {
            "id": edge.pk,
            "source": {"id": source.pk, "name": source.name, "asset": source.asset_id},
            "target": {"id": target.pk, "name": target.name, "asset": target.asset_id},
            "transformation": edge.transformation,
            "subtype": edge.subtype,
            "description": edge.description,
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ReleaseViewSet(StrictQueryParamsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Releases of reference analyses: dry run, apply (one transaction), roll back."""

    serializer_class = s.ReleaseSerializer

    def get_queryset(self):
        return selectors.release_list(user=self.request.user)

    @extend_schema(request=s.ReleaseInputSerializer, responses={200: s.ReleasePlanSerializer, 201: s.ReleaseSerializer})
    def create(self, request):
        payload = s.ReleaseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        analysis = catalog_selectors.asset_get(user=request.user, pk=data["reference_analysis"])
        if data["dry_run"]:
            plan = services.release_plan(reference_analysis=analysis)
            return Response(s.ReleasePlanSerializer(plan).data)
        _may_edit(request, analysis)
        release = services.release_apply(
            reference_analysis=analysis, description=data["description"], actor=request.user, force=data["force"]
        )
        return Response(s.ReleaseSerializer(release).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ReleaseSerializer)
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        """Restores the previous template pointers of every asset the release repointed."""
        release = self.get_object()
        _may_edit(request, release.reference_analysis)
        release = services.release_rollback(release=release, actor=request.user)
        return Response(s.ReleaseSerializer(release).data)


class ForkApi(APIView):
    """Forks a base reference analysis for a customer (dry_run shows what would change)."""

    @extend_schema(request=s.ForkInputSerializer, responses={200: s.ForkResultSerializer, 201: s.ForkResultSerializer})
    def post(self, request):
        payload = s.ForkInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        base = catalog_selectors.asset_get(user=request.user, pk=data["base"])
        plan = services.fork_plan(base=base, customer=data["customer"], name=data["name"])
        result = {
            "dry_run": data["dry_run"],
            "base": base.pk,
            "customer": data["customer"].slug,
            "name": plan.name,
            "fork": plan.existing_fork.pk if plan.existing_fork else None,
            "template": None,
            "repoint": plan.repoint,
        }
        if data["dry_run"]:
            return Response(s.ForkResultSerializer(result).data)
        _may_edit(request, base)
        fork, template, _ = services.fork_apply(
            base=base, customer=data["customer"], actor=request.user, name=data["name"]
        )
        result.update(fork=fork.pk, template=template.pk)
        return Response(s.ForkResultSerializer(result).data, status=status.HTTP_201_CREATED)
