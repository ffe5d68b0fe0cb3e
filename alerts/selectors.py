"""Reads of alerts: a reader's alerts with this month's metering, one alert for its owner (or staff), its history,
and the cell a reader clicked in a visual as they see it now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from catalog import visuals
from catalog.models import Visual

from . import services
from .choices import Status
from .models import Alert, Episode, Evaluation

COST_PER_EVALUATION_USD = Decimal("0.0005")  # metering: $0.50 per 1,000 evaluations
HISTORY_LIMIT = 200


def month_start(now: datetime | None = None) -> datetime:
    """Midnight on the first day of the current month, in the site's time zone (the metering period)."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def evaluation_cost(count: int) -> Decimal:
    return COST_PER_EVALUATION_USD * count


def alert_list(*, user, visual_ids: Iterable[int] | None = None) -> QuerySet[Alert]:
    """The user's own alerts by name (on the given visuals only, when given), each annotated with
    `evaluations_this_month`."""
    alerts = (
        Alert.objects.filter(owner=user)
        .select_related("visual", "dataset__asset")
        .annotate(evaluations_this_month=Count("evaluations", filter=Q(evaluations__evaluated_at__gte=month_start())))
        .order_by("name", "id")
    )
    if visual_ids is not None:
        alerts = alerts.filter(visual_id__in=list(visual_ids))
    return alerts


def alert_get(*, user, pk: Any) -> Alert:
    """One alert for its owner (staff may manage anyone's); 404 for everyone else, so ids reveal nothing."""
    alerts = Alert.objects.select_related("owner", "visual", "dataset__asset")
    if not user.is_staff:
        alerts = alerts.filter(owner=user)
    alert = alerts.filter(pk=pk).first()
    if alert is None:
        raise Http404("No alert of yours has this id.")
    return alert


def alert_may_create(*, user) -> bool:
    """Whether the user may create alerts (the same rule alert_create applies)."""
    return not settings.CARTOGRAPH_ALERTS_REQUIRE_PERMISSION or user.has_perm("alerts.create_alerts")


@dataclass(frozen=True)
class ClickedCell:
    """A numeric cell of a visual as the reader sees it now, with what is needed to show it like the visual does."""

    key: str
    measure: str
    value: int | float
    dimensions: dict[str, Any]  # field -> value of the cell (the date field as its period's first day)
    totals: tuple[str, ...]  # the fields added up in this cell
    fields: tuple[str, ...]  # the visual's dimensions in display order: rows, then columns
    date_field: str | None
    granularity: str | None
    measure_values: list[Any]  # every value of the measure in the visual (for the displayed precision)
    as_of: datetime


def alert_cell(*, user, visual: Visual, key: str) -> ClickedCell:
    """The clicked cell; DomainError when it is not a numeric cell of the visual as the reader sees it now."""
    cell, result, version = services.cell_of(visual=visual, owner=user, key=key)
    _, dimensions, totals, _ = visuals.parse_cell_key(cell.key)
    return ClickedCell(
        key=cell.key,
        measure=cell.measure,
        value=cell.value,
        dimensions=dimensions,
        totals=totals,
        fields=result.row_fields + result.column_fields,
        date_field=result.date_field,
        granularity=result.granularity,
        measure_values=[other.value for other in result.cells if other.measure == cell.measure],
        as_of=version.as_of,
    )


@dataclass(frozen=True)
class Usage:
    """Metering of some alerts: evaluations so far this month, and a projection for a whole month."""

    evaluations_this_month: int
    projected_per_month: int

    @property
    def cost_this_month(self) -> Decimal:
        return evaluation_cost(self.evaluations_this_month)

    @property
    def projected_cost(self) -> Decimal:
        return evaluation_cost(self.projected_per_month)


def alerts_usage(*, alerts: Iterable[Alert]) -> Usage:
    """This month's evaluations of the alerts (annotated by alert_list) and their projected evaluations a month (one
    per evaluation of each active alert's dataset)."""
    per_dataset: dict[int, int] = {}
    spent = projected = 0
    for alert in alerts:
        spent += getattr(alert, "evaluations_this_month", 0)
        if alert.status != Status.ACTIVE:
            continue
        if alert.dataset_id not in per_dataset:
            per_dataset[alert.dataset_id] = services.projected_evaluations(alert.dataset)
        projected += per_dataset[alert.dataset_id]
    return Usage(evaluations_this_month=spent, projected_per_month=projected)


@dataclass(frozen=True)
class AlertHistory:
    evaluations: list[Evaluation]  # newest first
    episodes: list[Episode]  # newest first
    usage: Usage


def alert_history(*, alert: Alert, limit: int = HISTORY_LIMIT) -> AlertHistory:
    """The alert's latest evaluations and breach episodes, and its metering this month."""
    evaluations = list(alert.evaluations.order_by("-evaluated_at", "-id")[:limit])
    episodes = list(alert.episodes.order_by("-opened_at", "-id")[:limit])
    this_month = alert.evaluations.filter(evaluated_at__gte=month_start()).count()
    projected = services.projected_evaluations(alert.dataset) if alert.status == Status.ACTIVE else 0
    return AlertHistory(
        evaluations=evaluations,
        episodes=episodes,
        usage=Usage(evaluations_this_month=this_month, projected_per_month=projected),
    )
