"""Alerts in the web UI: the panel that sets an alert on a cell of a dashboard's visual (with a backtest before saving)
and the pane where readers manage their alerts (edit, history, test now, turn off, delete).

The fragments load into the dashboard's alerts drawer with HTMX; requested without HTMX, each is a page of its own.
Views validate input with Django forms and call alerts.services (writes) or alerts.selectors (reads). A refused write
(a DomainError) is a message on the form with the error's status (403 when creating alerts needs a permission the
user lacks), never a server error. An alert is its owner's (staff may manage anyone's): to anyone else it does not
exist (404). Every fragment carries `asset`, the dashboard whose pane it was opened from, so "back" returns there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import selectors, services
from alerts.choices import Condition, Period, Status
from alerts.models import Alert
from catalog import selectors as catalog_selectors
from catalog import visuals
from catalog.models import Visual
from config.errors import DomainError

from .alert_summaries import (
    alert_dimensions,
    cell_dimensions,
    default_threshold,
    default_tolerance,
    dollars,
    period_text,
    plain_decimal,
    spec_filters,
    spec_summary,
)
from .forms import AlertCreateForm, AlertForm, AlertPaneForm, AlertStatusForm
from .visual_tables import format_value, measure_decimals

FORBIDDEN = "You may not create alerts; ask an administrator to add you to a group that may."
NO_CELL = "Click a number in a table or pivot visual to set an alert on it."
NO_VISUAL = "The visual of this alert was deleted; the alert keeps the spec it captured."


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, title: str, status: int = 200
) -> HttpResponse:
    """The fragment alone for HTMX (the drawer), else a page around it."""
    htmx = _is_htmx(request)
    context = {**context, "htmx": htmx, "title": title}
    if htmx:
        response = render(request, template, context, status=status)
    else:
        response = render(
            request, "frontend/alerts/page.html", {**context, "fragment": template, "section": "alerts"}, status=status
        )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _pane_asset(request: HttpRequest) -> int | None:
    """The dashboard the pane belongs to (`asset` in the query or the form), if any and well-formed."""
    form = AlertPaneForm(request.POST if request.method == "POST" else request.GET)
    return form.cleaned_data["asset"] if form.is_valid() else None


def _pane_url(asset: int | None) -> str:
    url = reverse("alerts")
    return f"{url}?asset={asset}" if asset else url


# a timeout reading the data is worth a retry, not a server error
REFUSED = (DomainError, services.TransientEvaluationError)


def _refusal(error: Exception) -> DomainError:
    """What a refused or timed-out read says: a DomainError as it is, a timeout as a 504 to try again later."""
    if isinstance(error, DomainError):
        return error
    return DomainError(f"reading the data took too long ({error}); try again in a moment", status_code=504)


def _add_domain_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _condition_text(alert: Alert) -> str:
    text = f"{alert.measure} {Condition(alert.condition).label} {plain_decimal(alert.threshold)}"
    if alert.condition == Condition.EQUAL and alert.tolerance is not None:
        text += f" (± {plain_decimal(alert.tolerance)})"
    return text


def _alert_context(alert: Alert) -> dict[str, Any]:
    """How an alert is described in every fragment: its cell, condition, and the spec and filters it captured."""
    return {
        "alert": alert,
        "dimensions": alert_dimensions(alert.dimensions, alert.spec),
        "condition_text": _condition_text(alert),
        "spec_lines": spec_summary(alert.spec),
        "filters": spec_filters(alert.spec),
        "no_visual": NO_VISUAL if alert.visual_id is None else "",
    }


# ---------------------------------------------------------------------------------------------------------------
# The creation panel of a cell


@dataclass(frozen=True)
class ShownCell:
    key: str
    measure: str
    value: int | float
    value_text: str
    dimensions: list[tuple[str, str]]
    decimals: int
    as_of: datetime
    period: str  # the cell's date period as shown ("" if none): the alert may track the latest one instead


def _clicked_period(visual: Visual, key: str) -> str:
    """The date period of the clicked cell (`2024-01`), when the visual buckets a date: the alert may then follow the
    latest period instead. "" otherwise."""
    try:
        _, dimensions, _, _ = visuals.parse_cell_key(key)
    except DomainError:
        return ""
    return period_text(dimensions, visual.spec)


def _shown_cell(request: HttpRequest, visual: Visual, key: str) -> ShownCell:
    clicked = selectors.alert_cell(user=request.user, visual=visual, key=key)
    decimals = measure_decimals(clicked.measure_values)
    return ShownCell(
        key=clicked.key,
        measure=clicked.measure,
        value=clicked.value,
        value_text=format_value(clicked.value, decimals),
        dimensions=cell_dimensions(
            clicked.dimensions,
            totals=clicked.totals,
            fields=clicked.fields,
            date_field=clicked.date_field,
            granularity=clicked.granularity,
        ),
        decimals=decimals,
        as_of=clicked.as_of,
        period=period_text(clicked.dimensions, visual.spec),
    )


def _preview_context(preview: dict[str, Any]) -> dict[str, Any]:
    per_month = preview["evaluations_per_month"]
    return {
        "fired": preview["would_have_fired"],
        "checked": preview["refreshes_checked"],
        "per_month": per_month,
        "cost": dollars(selectors.evaluation_cost(per_month)),
    }


def _run_preview(request: HttpRequest, visual: Visual, form: AlertCreateForm) -> dict[str, Any]:
    data = form.cleaned_data
    preview = services.alert_preview(
        owner=request.user,
        visual=visual,
        cell_key=data["key"],
        condition=data["condition"],
        threshold=data["threshold"],
        tolerance=data["tolerance"],
        period=data.get("period") or Period.FIXED,
    )
    return _preview_context(preview)


def _new_context(request: HttpRequest, visual: Visual, asset: int | None) -> dict[str, Any]:
    return {
        "visual": visual,
        "asset": asset,
        "cell": None,
        "error": "",
        "form": None,
        "preview": None,
        "preview_error": "",
        "forbidden": "" if selectors.alert_may_create(user=request.user) else FORBIDDEN,
        "spec_lines": spec_summary(visual.spec),
        "filters": spec_filters(visual.spec),
    }


@login_required
@require_http_methods(["GET", "POST"])
def alert_new(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the panel for one cell (`key`): its measure, value and dimension values, what the alert captures, and the
    form. POST: saves the alert (or, with action=preview, shows the backtest without saving)."""
    visual = catalog_selectors.visual_get(user=request.user, pk=pk)
    asset = _pane_asset(request)
    context = _new_context(request, visual, asset)
    title = f"New alert on {visual.asset.name}"
    if request.method == "POST":
        period = _clicked_period(visual, request.POST.get("key", ""))
        form = AlertCreateForm(request.POST, periods=bool(period), clicked_period=period)
        status = 400
        if form.is_valid():
            try:
                if request.POST.get("action") == "preview":
                    context["preview"] = _run_preview(request, visual, form)
                    status = 200
                else:
                    alert = services.alert_create(
                        owner=request.user, visual=visual, cell_key=form.cleaned_data["key"], **form.settings()
                    )
                    return _saved(request, alert, asset)
            except REFUSED as caught:
                error = _refusal(caught)
                _add_domain_error(form, error)
                status = error.status_code
        context["form"] = form
        key = request.POST.get("key", "")
    else:
        key = request.GET.get("key", "")
        status = 200
    if not key:
        context["error"] = NO_CELL
        return _render(request, "frontend/alerts/new.html", context, title=title, status=400)
    try:
        cell = _shown_cell(request, visual, key)
    except REFUSED as caught:
        error = _refusal(caught)
        context["error"] = error.message
        return _render(request, "frontend/alerts/new.html", context, title=title, status=error.status_code)
    context["cell"] = cell
    if context["form"] is None:
        context["form"] = AlertCreateForm(
            periods=bool(cell.period),
            clicked_period=cell.period,
            initial={
                "key": cell.key,
                "name": visual.asset.name,
                "threshold": default_threshold(cell.value, cell.decimals),
                "tolerance": default_tolerance(cell.decimals),
                "notify_no_data": "no",
            },
        )
    return _render(request, "frontend/alerts/new.html", context, title=title, status=status)


def _saved(request: HttpRequest, alert: Alert, asset: int | None) -> HttpResponse:
    if not _is_htmx(request):
        messages.success(request, f"Alert “{alert.name}” saved.")
        edit = reverse("alert-edit", args=[alert.pk])
        return redirect(f"{edit}?asset={asset}" if asset else edit)
    context = {**_alert_context(alert), "asset": asset, "pane_url": _pane_url(asset)}
    return _render(request, "frontend/alerts/saved.html", context, title="Alert saved")


@login_required
@require_POST
def alert_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What the alert in the form would have done on the dataset's recent refreshes, and its evaluations a month."""
    visual = catalog_selectors.visual_get(user=request.user, pk=pk)
    period = _clicked_period(visual, request.POST.get("key", ""))
    form = AlertCreateForm(request.POST, periods=bool(period), clicked_period=period)
    context: dict[str, Any] = {"preview": None, "preview_error": ""}
    if not form.is_valid():
        errors = [error for field in form for error in field.errors] + list(form.non_field_errors())
        context["preview_error"] = errors[0] if errors else "Check the settings."
    else:
        try:
            context["preview"] = _run_preview(request, visual, form)
        except REFUSED as caught:
            context["preview_error"] = _refusal(caught).message
    return render(request, "frontend/alerts/includes/preview.html", context)


# ---------------------------------------------------------------------------------------------------------------
# Managing alerts


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    dimensions: list[tuple[str, str]]
    condition_text: str
    filters: list[str]


@login_required
@require_GET
def alert_pane(request: HttpRequest) -> HttpResponse:
    """The reader's alerts (on the visuals of `asset`, when given) with state, last value and evaluation, and this
    month's metering."""
    return _pane(request, _pane_asset(request))


def _pane(request: HttpRequest, asset_id: int | None, *, message: str = "") -> HttpResponse:
    asset = None
    visual_ids = None
    if asset_id:
        asset = catalog_selectors.asset_get(user=request.user, pk=asset_id)
        visual_ids = [visual.asset_id for visual in catalog_selectors.asset_visuals(user=request.user, asset=asset)]
    alerts = list(selectors.alert_list(user=request.user, visual_ids=visual_ids))
    usage = selectors.alerts_usage(alerts=alerts)
    context = {
        "asset": asset_id,
        "pane_asset": asset,
        "rows": [
            AlertRow(
                alert=alert,
                dimensions=alert_dimensions(alert.dimensions, alert.spec),
                condition_text=_condition_text(alert),
                filters=spec_filters(alert.spec),
            )
            for alert in alerts
        ],
        "usage": usage,
        "cost_this_month": dollars(usage.cost_this_month),
        "projected_cost": dollars(usage.projected_cost),
        "message": message,
    }
    title = f"Your alerts on {asset.name}" if asset else "Your alerts"
    return _render(request, "frontend/alerts/pane.html", context, title=title)


def _edit_form(alert: Alert, data=None) -> AlertForm:
    period = period_text(alert.dimensions, alert.spec)
    initial = {
        "name": alert.name,
        "condition": alert.condition,
        "threshold": plain_decimal(alert.threshold),
        "tolerance": plain_decimal(alert.tolerance),
        "frequency": alert.frequency,
        "notify_no_data": "yes" if alert.notify_no_data else "no",
        "period": alert.period,
    }
    return AlertForm(data, periods=bool(period), clicked_period=period, initial=initial)


@login_required
@require_http_methods(["GET", "POST"])
def alert_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The alert's settings (GET) and changing them (POST), with what it captured and its status."""
    alert = selectors.alert_get(user=request.user, pk=pk)
    asset = _pane_asset(request)
    status, saved = 200, False
    if request.method == "POST":
        form = _edit_form(alert, request.POST)
        status = 400
        if form.is_valid():
            try:
                alert = services.alert_update(alert=alert, **form.settings())
            except DomainError as error:
                _add_domain_error(form, error)
                status = error.status_code
                alert.refresh_from_db()
            else:
                if not _is_htmx(request):
                    messages.success(request, f"Alert “{alert.name}” saved.")
                    return redirect(request.get_full_path())
                form, status, saved = _edit_form(alert), 200, True
    else:
        form = _edit_form(alert)
    context = {
        **_alert_context(alert),
        "form": form,
        "asset": asset,
        "pane_url": _pane_url(asset),
        "saved": saved,
    }
    return _render(request, "frontend/alerts/edit.html", context, title=f"Alert “{alert.name}”", status=status)


def _chart_data(alert: Alert, evaluations: list) -> dict[str, Any]:
    """Values over time, oldest first, for the history chart (the same numbers are in the table below it)."""
    points = list(reversed(evaluations))
    return {
        "labels": [timezone.localtime(e.evaluated_at).strftime("%Y-%m-%d %H:%M") for e in points],
        "values": [e.value for e in points],
        "breached": [e.state == "breached" for e in points],
        "threshold": float(alert.threshold),
        "measure": alert.measure,
    }


@login_required
@require_GET
def alert_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Breach episodes and evaluations (a table and a chart), and this month's evaluations and cost."""
    alert = selectors.alert_get(user=request.user, pk=pk)
    asset = _pane_asset(request)
    history = selectors.alert_history(alert=alert)
    context = {
        **_alert_context(alert),
        "asset": asset,
        "pane_url": _pane_url(asset),
        "history": history,
        "chart": _chart_data(alert, history.evaluations),
        "chart_id": f"alert-chart-{alert.pk}",
        "cost_this_month": dollars(history.usage.cost_this_month),
        "projected_cost": dollars(history.usage.projected_cost),
    }
    return _render(request, "frontend/alerts/history.html", context, title=f"History of “{alert.name}”")


@login_required
@require_POST
def alert_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Evaluates the alert now and shows the email it would send; records nothing."""
    alert = selectors.alert_get(user=request.user, pk=pk)
    asset = _pane_asset(request)
    try:
        result = services.alert_test(alert=alert)
    except DomainError as error:
        result = {"state": "error", "value": None, "error": error.message, "email": None}
    context = {**_alert_context(alert), "asset": asset, "pane_url": _pane_url(asset), "result": result}
    return _render(request, "frontend/alerts/test.html", context, title=f"Test of “{alert.name}”")


@login_required
@require_POST
def alert_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Turns the alert off, or on again (a paused alert too, once its cause is fixed)."""
    alert = selectors.alert_get(user=request.user, pk=pk)
    asset = _pane_asset(request)
    form = AlertStatusForm(request.POST)
    if not form.is_valid():
        message = "Choose whether to turn the alert on or off."
    else:
        try:
            alert = services.alert_update(alert=alert, status=form.cleaned_data["status"])
        except DomainError as error:
            message = error.message
        else:
            message = f"“{alert.name}” is {'on' if alert.status == Status.ACTIVE else 'off'}."
    if not _is_htmx(request):
        messages.info(request, message)
        return redirect(_pane_url(asset))
    return _pane(request, asset, message=message)


@login_required
@require_POST
def alert_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Deletes the alert with its history."""
    alert = selectors.alert_get(user=request.user, pk=pk)
    asset = _pane_asset(request)
    name = alert.name
    services.alert_delete(alert=alert)
    message = f"“{name}” was deleted."
    if not _is_htmx(request):
        messages.success(request, message)
        return redirect(_pane_url(asset))
    return _pane(request, asset, message=message)
