"""The "Joins well with" panel of a product's page: recommended products with their evidence, accept / dismiss,
a refresh with its progress, the product's relationships in the knowledge graph, and its enriched view.

The panel is a fragment the asset page loads with HTMX, so matching results never hold up the page. Everything is
read through recommender.selectors, so a reader sees only products, values and relationships they may see.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from catalog import selectors as catalog_selectors
from catalog.models import Asset
from config.errors import DomainError
from recommender import selectors, services
from recommender.choices import RunStatus

GRAPH_HOPS = 2


def _product(request: HttpRequest, pk: int) -> Asset:
    asset = catalog_selectors.asset_get(user=request.user, pk=pk)
    if asset.kind not in services.PRODUCT_KINDS:
        raise Http404("Only data products and datasets have recommendations.")
    return asset


def _panel(request: HttpRequest, asset: Asset, *, message: str = "", error: str = "", status: int = 200):
    run = selectors.recommendation_run_latest(asset=asset)
    results = selectors.recommendation_list(user=request.user, asset=asset)
    for item in results:
        for pair in item.get("overlap", []):
            pair["percent"] = round(pair["right_in_left"] * 100)
        if not item["requestable"]:
            item["coverage_percent"] = round(item["coverage"] * 100)
            item["score_percent"] = round(item["score"] * 100)
    context = {
        "asset": asset,
        "results": results,
        "shown": [r for r in results if not r["requestable"]],
        "requestable": [r for r in results if r["requestable"]],
        "run": run,
        "run_active": bool(run and run.status in (RunStatus.QUEUED, RunStatus.RUNNING)),
        "graph": selectors.relationship_graph(user=request.user, asset=asset, hops=GRAPH_HOPS),
        # who may accept or dismiss: editors of this product (of the candidate too, checked when they do)
        "can_decide": catalog_selectors.asset_can_edit(user=request.user, asset=asset),
        "message": message,
        "error": error,
    }
    return render(request, "frontend/includes/recommendations_panel.html", context, status=status)


@login_required
@require_GET
def recommendations_panel(request: HttpRequest, pk: int) -> HttpResponse:
    return _panel(request, _product(request, pk))


@login_required
@require_POST
def recommendations_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _product(request, pk)
    try:
        services.recommendations_refresh_request(asset=asset, actor=request.user)
    except DomainError as error:
        return _panel(request, asset, error=error.message, status=error.status_code)
    return _panel(request, asset, message="Recommendations are being computed.")


@login_required
@require_POST
def recommendation_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.recommendation_get(user=request.user, pk=pk)
    if not selectors.recommendation_may_decide(user=request.user, recommendation=row):
        return _panel(
            request,
            row.asset,
            error="You may see both products but edit neither; their owners accept or dismiss recommendations.",
            status=403,
        )
    action = request.POST.get("action", "")
    try:
        row = services.recommendation_feedback(
            recommendation=row, actor=request.user, action=action, name=request.POST.get("name", "").strip()
        )
    except DomainError as error:
        return _panel(request, row.asset, error=error.message, status=400)
    done = "accepted: it is now a relationship of this product" if action == "accept" else "dismissed"
    return _panel(request, row.asset, message=f"{row.candidate.name} {done}.")


@login_required
@require_GET
def enriched_view(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _product(request, pk)
    raw = request.GET.get("hops", "1")
    context = {"asset": asset, "view": None, "error": "", "hops": raw}
    status = 200
    if not raw.isdigit():
        context["error"] = "Hops is a whole number from 0 to 3."
        status = 400
    else:
        try:
            context["view"] = selectors.enriched_view_preview(user=request.user, asset=asset, hops=int(raw))
        except DomainError as error:
            context["error"] = error.message
            status = error.status_code
    return render(request, "frontend/includes/enriched_view.html", context, status=status)
