"""Data pages of the web UI: a dashboard's visuals as tables, a dataset's preview, and refreshes with their progress.

Visuals and previews are fragments that the asset page loads with HTMX, each on its own, so a slow one does not hold
up the page. Data is read through catalog.datasets, so the row and column rules of the requesting user apply; a read
the domain refuses (no snapshot yet, a hidden column) becomes a message in the fragment, never a server error.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from access.choices import AuditAction, AuditSource
from access.services import audit_record
from catalog import datasets, selectors
from catalog.models import Asset, Dataset, RefreshRun
from config.errors import DomainError

from .visual_tables import visual_table

PREVIEW_ROWS = 50
REFRESHES_SHOWN = 20


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


@login_required
@require_GET
def visual_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """One visual as a table or pivot table, evaluated for the requesting user."""
    visual = selectors.visual_get(user=request.user, pk=pk)
    context = {"visual": visual, "table": None, "error": "", "restricted": False, "refreshed_at": None}
    try:
        data = datasets.visual_data(user=request.user, visual=visual)
    except DomainError as error:
        context["error"] = error.message
    else:
        audit_record(
            user=request.user,
            action=AuditAction.DATA_VISUAL,
            source=AuditSource.UI,
            asset_id=visual.asset_id,
            detail={"dataset": visual.dataset.asset_id, "restricted": data.get("restricted", False)},
        )
        context.update(
            table=visual_table(data),
            restricted=data["restricted"],
            refreshed_at=parse_datetime(data["refreshed_at"]) if data.get("snapshot_id") else None,
        )
    return render(request, "frontend/includes/visual.html", context)


def _dataset_of(request: HttpRequest, pk: int) -> tuple[Asset, Dataset]:
    asset = selectors.asset_get(user=request.user, pk=pk)
    dataset = selectors.asset_dataset(asset=asset)
    if dataset is None:
        raise Http404("This asset has no data settings.")
    return asset, dataset


@login_required
@require_GET
def dataset_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The first rows of a dataset that the requesting user may see."""
    _, dataset = _dataset_of(request, pk)
    context = {"preview": None, "error": "", "limit": PREVIEW_ROWS}
    try:
        context["preview"] = preview = datasets.dataset_preview(user=request.user, dataset=dataset, limit=PREVIEW_ROWS)
    except DomainError as error:
        context["error"] = error.message
    else:
        audit_record(
            user=request.user,
            action=AuditAction.DATA_PREVIEW,
            source=AuditSource.UI,
            asset_id=dataset.asset_id,
            detail={"rows": len(preview.rows), "restricted": preview.restricted},
        )
    return render(request, "frontend/includes/dataset_preview.html", context)


def _status_context(run: RefreshRun) -> dict:
    """What the refresh status fragment shows; once the refresh is over it also redraws the snapshot and history."""
    context: dict = {"run": run, "active": run.status in (RefreshRun.Status.QUEUED, RefreshRun.Status.RUNNING)}
    if not context["active"]:
        dataset = selectors.asset_dataset(asset=run.dataset.asset)
        context.update(
            oob=True, dataset=dataset, refreshes=selectors.dataset_refreshes(dataset=dataset, limit=REFRESHES_SHOWN)
        )
    return context


@login_required
@require_POST
def dataset_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    """Queues a refresh (or finds the one already queued or running) and shows its progress."""
    asset, dataset = _dataset_of(request, pk)
    if not selectors.asset_can_edit(user=request.user, asset=asset):
        raise PermissionDenied(f"You may not refresh {asset.name!r}; ask its owners for an edit grant.")
    try:
        run = datasets.dataset_refresh_request(dataset=dataset, actor=request.user)
    except DomainError as error:
        if _is_htmx(request):
            return render(request, "frontend/includes/refresh_status.html", {"error": error.message})
        messages.error(request, error.message)
        return redirect(reverse("asset-detail", args=[asset.pk]) + "#data")
    if _is_htmx(request):
        run = selectors.refresh_get(user=request.user, pk=run.pk)  # it may have run already
        return render(request, "frontend/includes/refresh_status.html", _status_context(run))
    messages.success(request, f"Refresh {run.pk} of {asset.name} is {run.get_status_display().lower()}.")
    return redirect(reverse("asset-detail", args=[asset.pk]) + "#data")


@login_required
@require_GET
def refresh_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Where a refresh is: queued, running, succeeded or failed (polled by the dataset page while it runs)."""
    run = selectors.refresh_get(user=request.user, pk=pk)
    return render(request, "frontend/includes/refresh_status.html", _status_context(run))
