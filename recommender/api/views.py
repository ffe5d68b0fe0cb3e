from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from catalog.models import Asset
from config.api import StrictLimitOffsetPagination, StrictQueryParamsMixin
from recommender import selectors, services
from recommender.models import Relationship

from . import serializers as s


def _query(serializer_class, request):
    payload = serializer_class(data=request.query_params)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class RecommendationListApi(StrictQueryParamsMixin, APIView):
    """Products that join well with this one, best first, with their evidence."""

    extra_query_params = frozenset({"status", "include_below"})

    @extend_schema(
        parameters=[s.RecommendationQuerySerializer],
        responses=s.RecommendationListSerializer,
        description="Ranked candidates with the column pairs that join, value overlap, and whether the plain or the "
        "enriched view of the product found them. `run` is the latest computation (its progress while it runs). "
        "Products you may not see but could request are listed last with `requestable: true` and their name only.",
    )
    def get(self, request, pk: int):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        params = _query(s.RecommendationQuerySerializer, request)
        results = selectors.recommendation_list(
            user=request.user, asset=asset, status=params["status"], include_below=params["include_below"]
        )
        run = selectors.recommendation_run_latest(asset=asset)
        return Response(
            {
                "asset": {"id": asset.pk, "name": asset.name, "kind": asset.kind},
                "run": s.RunSerializer(run).data if run else None,
                # a requestable product is shown as it is: its name and nothing else, not even empty fields
                "results": [r if r["requestable"] else s.RecommendationSerializer(r).data for r in results],
            }
        )


class RecommendationRefreshApi(APIView):
    """Queues a computation of this product's recommendations (a run already queued or running is returned)."""

    @extend_schema(request=None, responses={202: s.RunSerializer})
    def post(self, request, pk: int):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        run = services.recommendations_refresh_request(asset=asset, actor=request.user)
        return Response(s.RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RecommendationRunApi(APIView):
    """One computation of a product's recommendations: its status and progress (done of total candidates)."""

    @extend_schema(responses=s.RunSerializer)
    def get(self, request, pk: int):
        return Response(s.RunSerializer(selectors.recommendation_run_get(user=request.user, pk=pk)).data)


class RecommendationFeedbackApi(APIView):
    """Accepts (recording a relationship between the two products) or dismisses a recommendation."""

    @extend_schema(request=s.FeedbackSerializer, responses=s.FeedbackOutSerializer)
    def post(self, request, pk: int):
        row = selectors.recommendation_get(user=request.user, pk=pk)
        if not selectors.recommendation_may_decide(user=request.user, recommendation=row):
            raise PermissionDenied(
                "You may see both products but edit neither; their owners accept or dismiss recommendations."
            )
        payload = s.FeedbackSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        row = services.recommendation_feedback(
            recommendation=row,
            actor=request.user,
            action=payload.validated_data["action"],
            name=payload.validated_data.get("name", ""),
        )
        return Response({"id": row.pk, "status": row.status, "relationship": row.relationship_id})


class EnrichedViewApi(StrictQueryParamsMixin, APIView):
    """The product's data with what its relationships add: row counts, what each added, and some added rows."""

    extra_query_params = frozenset({"hops"})

    @extend_schema(parameters=[s.EnrichedViewQuerySerializer], responses=s.EnrichedViewSerializer)
    def get(self, request, pk: int):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        params = _query(s.EnrichedViewQuerySerializer, request)
        return Response(selectors.enriched_view_preview(user=request.user, asset=asset, hops=params["hops"]))


def _check_may_change(user, *assets: Asset) -> None:
    if not Asset.objects.editable_by(user).filter(pk__in=[a.pk for a in assets]).exists():
        raise PermissionDenied(
            "You may see these products but change neither; relationships are stated by people who may edit one "
            "of the two products."
        )


@extend_schema(
    parameters=[OpenApiParameter("asset", int, description="only relationships of this product (either end)")]
)
class RelationshipViewSet(StrictQueryParamsMixin, viewsets.ModelViewSet):
    """Known relationships between products (the knowledge graph): both ends visible to you."""

    serializer_class = s.RelationshipSerializer
    pagination_class = StrictLimitOffsetPagination
    extra_query_params = frozenset({"asset"})
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = Relationship.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Relationship.objects.none()
        rows = selectors.relationship_list(user=self.request.user)
        raw = self.request.query_params.get("asset")
        if raw is not None:
            if not raw.isdigit():
                raise ValidationError({"asset": ["must be an asset id (a whole number)"]})
            rows = rows.filter(Q(from_asset_id=int(raw)) | Q(to_asset_id=int(raw)))
        return rows

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if isinstance(serializer, s.RelationshipSerializer):
            # an asset the user may not see reads as one that does not exist
            visible = Asset.objects.visible_to(self.request.user)
            serializer.fields["from_asset"].queryset = visible
            serializer.fields["to_asset"].queryset = visible
        return serializer

    def create(self, request, *args, **kwargs):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        _check_may_change(request.user, data["from_asset"], data["to_asset"])
        relationship = services.relationship_create(
            actor=request.user,
            name=data["name"],
            from_asset=data["from_asset"],
            to_asset=data["to_asset"],
            key_columns=[dict(pair) for pair in data["key_columns"]],
            attribute_mappings=[dict(pair) for pair in data.get("attribute_mappings", [])],
            description=data.get("description", ""),
        )
        return Response(s.RelationshipSerializer(relationship).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RelationshipUpdateSerializer, responses=s.RelationshipSerializer)
    def partial_update(self, request, *args, **kwargs):
        relationship = self.get_object()
        _check_may_change(request.user, relationship.from_asset, relationship.to_asset)
        payload = s.RelationshipUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        unknown = sorted(set(request.data) - set(s.RelationshipUpdateSerializer().fields))
        if unknown:
            raise ValidationError({unknown[0]: ["cannot be changed; delete the relationship and state another"]})
        fields = dict(payload.validated_data)
        for name in ("key_columns", "attribute_mappings"):
            if name in fields:
                fields[name] = [dict(pair) for pair in fields[name]]
        relationship = services.relationship_update(relationship=relationship, actor=request.user, **fields)
        return Response(s.RelationshipSerializer(relationship).data)

    def perform_destroy(self, instance):
        _check_may_change(self.request.user, instance.from_asset, instance.to_asset)
        services.relationship_delete(relationship=instance, actor=self.request.user)
