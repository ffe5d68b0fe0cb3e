from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from catalog.choices import Environment
from catalog.models import Asset
from config.api import CatalogCursorPagination, ReadOnlyOrStaff, StrictQueryParamsMixin
from config.errors import DomainError
from promotions import artefacts, selectors, services
from promotions.choices import PromotionStatus
from promotions.models import EnvironmentPolicy, Promotion

from . import serializers as s


def _asset(user, pk: int, *, field: str) -> Asset:
    """The asset for a body field: an unknown or hidden one is a 400 naming the field (both read the same)."""
    try:
        return catalog_selectors.asset_get(user=user, pk=pk)
    except Http404:
        raise DomainError(f"no asset has id {pk}, or you may not see it", field=field) from None


def _detail(request, promotion: Promotion, code: int = status.HTTP_200_OK) -> Response:
    data = selectors.promotion_detail(user=request.user, promotion=promotion)
    return Response(s.PromotionDetailSerializer(data).data, status=code)


class PromotionPagination(CatalogCursorPagination):
    ordering = ("-created_at", "-id")


class PromotionViewSet(StrictQueryParamsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Promotion plans and their history; `?asset=`, `?environment=` and `?status=` narrow the list."""

    serializer_class = s.PromotionSerializer
    pagination_class = PromotionPagination
    extra_query_params = frozenset({"asset", "environment", "status"})

    def get_queryset(self):
        promotions = selectors.promotion_list(user=self.request.user)
        params = self.request.query_params
        if "asset" in params:
            if not params["asset"].isdigit():
                raise ValidationError({"asset": ["must be an asset id"]})
            promotions = promotions.filter(source_id=int(params["asset"]))
        if "environment" in params:
            if params["environment"] not in Environment.values:
                raise ValidationError({"environment": [f"use one of {', '.join(Environment.values)}"]})
            promotions = promotions.filter(environment=params["environment"])
        if "status" in params:
            if params["status"] not in PromotionStatus.values:
                raise ValidationError({"status": [f"use one of {', '.join(PromotionStatus.values)}"]})
            promotions = promotions.filter(status=params["status"])
        return promotions

    @extend_schema(
        parameters=[
            OpenApiParameter("asset", OpenApiTypes.INT),
            OpenApiParameter("environment", OpenApiTypes.STR, enum=Environment.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=PromotionStatus.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.PromotionPlanInputSerializer,
        responses={200: s.PromotionDetailSerializer, 201: s.PromotionDetailSerializer},
    )
    def create(self, request):
        """Plans a promotion from lineage (dry_run only computes it). Nothing happens until it is approved."""
        payload = s.PromotionPlanInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        asset = _asset(request.user, data["asset"], field="asset")
        target = _asset(request.user, data["target"], field="target")
        if not data["dry_run"] and not catalog_selectors.asset_can_edit(user=request.user, asset=asset):
            raise DomainError(
                f"you may not promote {asset.name!r}: it needs an edit grant; ask its owners or request a customer "
                "copy instead",
                field="asset",
                status_code=403,
            )
        result = services.promotion_plan(
            actor=request.user,
            asset=asset,
            target_folder=target,
            include_dependencies=data["include_dependencies"],
            data_source_mappings=data["data_source_mappings"],
            renames=data["renames"],
            overwrite=data["overwrite"],
            note=data["note"],
            dry_run=data["dry_run"],
            viewer=request.user,
        )
        if not result.saved:
            detail = selectors.promotion_detail(user=request.user, promotion=result.promotion, steps=result.steps)
            return Response(s.PromotionDetailSerializer(detail).data)
        return _detail(request, result.promotion, status.HTTP_201_CREATED)

    @extend_schema(responses=s.PromotionDetailSerializer)
    def retrieve(self, request, pk=None):
        return _detail(request, selectors.promotion_get(user=request.user, pk=pk))


class PromotionApproveApi(APIView):
    """Approves a planned promotion (a second person where the target environment's policy says so)."""

    @extend_schema(request=None, responses=s.PromotionDetailSerializer)
    def post(self, request, pk):
        promotion = selectors.promotion_get(user=request.user, pk=pk)
        return _detail(request, services.promotion_approve(promotion=promotion, actor=request.user))


class PromotionExecuteApi(APIView):
    """Queues an approved promotion; a worker applies it through QuickSight, step by step (poll the detail)."""

    @extend_schema(request=None, responses={202: s.PromotionDetailSerializer})
    def post(self, request, pk):
        promotion = selectors.promotion_get(user=request.user, pk=pk)
        promotion = services.promotion_execute_start(promotion=promotion, actor=request.user)
        promotion.refresh_from_db()
        return _detail(request, promotion, status.HTTP_202_ACCEPTED)


class PromotionRollbackApi(APIView):
    """Undoes a succeeded promotion in QuickSight and in the catalog."""

    @extend_schema(request=None, responses=s.PromotionDetailSerializer)
    def post(self, request, pk):
        promotion = selectors.promotion_get(user=request.user, pk=pk)
        return _detail(request, services.promotion_rollback(promotion=promotion, actor=request.user))


def _download(payload: dict, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(payload, indent=2, sort_keys=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PromotionBundleApi(APIView):
    """The plan as a QuickSight asset-bundle-style JSON document (a download)."""

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request, pk):
        promotion = selectors.promotion_get(user=request.user, pk=pk)
        _artefact_access(request, promotion)
        payload = artefacts.bundle_render(
            promotion={
                "Id": promotion.pk,
                "Source": promotion.source.external_id,
                "TargetFolder": promotion.target_folder.external_id,
                "Environment": promotion.environment,
                "Status": promotion.status,
            },
            steps=selectors.promotion_artefact_steps(promotion=promotion),
            conflicts=promotion.conflicts,
        )
        return _download(payload, f"promotion-{promotion.pk}-bundle.json")


class PromotionCloudFormationApi(APIView):
    """The plan as an AWS CloudFormation template (JSON; a download)."""

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request, pk):
        promotion = selectors.promotion_get(user=request.user, pk=pk)
        _artefact_access(request, promotion)
        payload = artefacts.cloudformation_render(
            description=f"Cartograph promotion {promotion.pk}: {promotion.source.name} into "
            f"{promotion.target_folder.name}",
            folder_arn=promotion.target_folder.external_id,
            steps=selectors.promotion_artefact_steps(promotion=promotion),
        )
        return _download(payload, f"promotion-{promotion.pk}-cloudformation.json")


def _artefact_access(request, promotion: Promotion) -> None:
    """The artefacts name every asset of the plan: only for someone who may see them all."""
    ids = list(promotion.steps.values_list("asset_id", flat=True))
    if len(selectors.visible_asset_ids(user=request.user, ids=ids)) < len(set(ids)):
        raise DomainError(
            "the plan includes assets you may not see, so its artefacts are not yours to download; ask a BI developer",
            status_code=403,
        )


class PromotionRequestApi(APIView):
    """A customer-facing user asks for a customer-specific copy of a product dashboard; a BI developer approves it."""

    @extend_schema(request=s.PromotionRequestInputSerializer, responses={201: s.PromotionDetailSerializer})
    def post(self, request):
        payload = s.PromotionRequestInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        asset = _asset(request.user, data["asset"], field="asset")
        result = services.promotion_request(
            actor=request.user, asset=asset, customer=data["customer"], note=data["note"]
        )
        return _detail(request, result.promotion, status.HTTP_201_CREATED)


class AssetEnvironmentsApi(APIView):
    """Where each environment's copy of the asset stands: same version, behind or diverged."""

    @extend_schema(responses=s.EnvironmentCopySerializer(many=True))
    def get(self, request, pk):
        asset = catalog_selectors.asset_get(user=request.user, pk=pk)
        copies = selectors.environment_copies(user=request.user, asset=asset)
        return Response(s.EnvironmentCopySerializer(copies, many=True).data)


class EnvironmentPolicyViewSet(
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Per environment, whether promotions into it need a second person to approve them (staff change these)."""

    queryset = EnvironmentPolicy.objects.order_by("environment")
    serializer_class = s.EnvironmentPolicySerializer
    permission_classes = [ReadOnlyOrStaff]
    lookup_field = "environment"
    pagination_class = None
