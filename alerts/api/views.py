from __future__ import annotations

from django.db.models import Count, F
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alerts import services
from alerts.models import Alert, Evaluation
from catalog import selectors as catalog_selectors
from catalog.models import Visual
from config.api import StrictQueryParamsMixin

from . import serializers as s

COST_PER_EVALUATION_USD = 0.0005  # QuickSight's price: $0.50 per 1,000 evaluations


def _visual(request, pk: int) -> Visual:
    asset = catalog_selectors.asset_get(user=request.user, pk=pk)
    visual = Visual.objects.filter(asset=asset).select_related("asset", "dataset__asset").first()
    if visual is None:
        raise ValidationError({"visual": [f"asset {pk} is a {asset.kind} without a table or pivot spec"]})
    return visual


class AlertViewSet(
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your threshold alerts on visual cells (staff see everyone's)."""

    serializer_class = s.AlertSerializer
    queryset = Alert.objects.none()

    def get_queryset(self):
        alerts = Alert.objects.select_related("owner", "dataset__asset").order_by("name", "id")
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        if self.request.user.is_staff:
            return alerts
        return alerts.filter(owner=self.request.user)

    @extend_schema(request=s.AlertCreateSerializer, responses={201: s.AlertSerializer})
    def create(self, request):
        payload = s.AlertCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        visual = _visual(request, data.pop("visual"))
        alert = services.alert_create(owner=request.user, visual=visual, **data)
        return Response(s.AlertSerializer(alert).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.alert_delete(alert=instance)

    @extend_schema(request=s.AlertUpdateSerializer, responses=s.AlertSerializer)
    def partial_update(self, request, pk=None):
        alert = self.get_object()
        payload = s.AlertUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alert = services.alert_update(alert=alert, **payload.validated_data)
        return Response(s.AlertSerializer(alert).data)

    @extend_schema(request=s.AlertPreviewSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Before saving: the cell's value now, what the alert would have done on recent refreshes, and the
        projected evaluations per month."""
        payload = s.AlertPreviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        visual = _visual(request, data["visual"])
        return Response(
            services.alert_preview(
                owner=request.user,
                visual=visual,
                cell_key=data["cell_key"],
                condition=data["condition"],
                threshold=data["threshold"],
                tolerance=data["tolerance"],
                period=data["period"],
            )
        )

    @extend_schema(responses=s.AlertHistorySerializer)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Evaluations (newest first), breach episodes, and this month's evaluation count and cost."""
        alert = self.get_object()
        start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        count = alert.evaluations.filter(evaluated_at__gte=start).count()
        return Response(
            {
                "evaluations": s.EvaluationSerializer(alert.evaluations.all()[:500], many=True).data,
                "episodes": list(alert.episodes.values("opened_at", "closed_at")[:100]),
                "evaluations_this_month": count,
                "projected_cost_usd": round(count * COST_PER_EVALUATION_USD, 4),
            }
        )

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def metering(self, request):
        """This month's evaluations and their cost per owner and per dataset (yours; staff see everyone's)."""
        start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        evaluations = Evaluation.objects.filter(evaluated_at__gte=start, alert__in=self.get_queryset())

        def grouped(field: str, label: str) -> list[dict]:
            rows = (
                evaluations.values(key=F(field), name=F(label))
                .annotate(evaluations=Count("id"))
                .order_by("-evaluations", "name")
            )
            return [
                {
                    "name": row["name"],
                    "evaluations": row["evaluations"],
                    "cost_usd": round(row["evaluations"] * COST_PER_EVALUATION_USD, 4),
                }
                for row in rows
            ]

        total = evaluations.count()
        return Response(
            {
                "since": start,
                "evaluations": total,
                "cost_usd": round(total * COST_PER_EVALUATION_USD, 4),
                "by_owner": grouped("alert__owner_id", "alert__owner__username"),
                "by_dataset": grouped("alert__dataset_id", "alert__dataset__asset__name"),
            }
        )

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Evaluates now and shows the email that would be sent; records nothing."""
        return Response(services.alert_test(alert=self.get_object()))
