"""Pages of the web UI. Each view validates its input, calls catalog selectors (and the view-recording service),
and shapes the result for a template; the rules of what a user may see live in the selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from catalog import reports, selectors, services
from catalog.choices import AssetKind
from catalog.filters import AssetFilter
from catalog.history import asset_history
from catalog.models import Asset
from config.errors import DomainError

from .dashboard_views import REFRESHES_SHOWN
from .facets import active_filters, facet_groups
from .forms import SearchForm, SignInForm, StaleReportForm
from .lineage_views import explorer_config

HOME_LIST_LIMIT = 10
SEARCH_PAGE_SIZE = 25
FOLDER_PAGE_SIZE = 100
CHART_REPORTS = ("by-business-unit", "by-owner", "by-kind")
KIND_LABELS = dict(AssetKind.choices)
# Asset pages with a Visuals section (the visuals a dashboard or analysis contains, or the visual itself) and with a
# Data section (the data settings of a dataset or data product).
VISUAL_KINDS = (AssetKind.DASHBOARD, AssetKind.ANALYSIS, AssetKind.VISUAL)
DATA_KINDS = (AssetKind.DATASET, AssetKind.DATA_PRODUCT)


class SignInView(auth_views.LoginView):
    template_name = "frontend/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True
    extra_context = {"section": "sign-in"}


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/home.html",
        {
            "section": "home",
            "search_form": SearchForm(),
            "recently_updated": selectors.asset_recently_updated(user=request.user, limit=HOME_LIST_LIMIT),
            "most_viewed": selectors.asset_most_viewed(user=request.user, limit=HOME_LIST_LIMIT),
        },
    )


def _has_null_character(request: HttpRequest) -> bool:
    # PostgreSQL cannot store or compare NUL; such a value can only be a broken or hostile link.
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Ranked search with facet filters. An HTMX request (a facet or page link) gets only the results fragment."""
    form = SearchForm(request.GET)
    context: dict[str, Any] = {
        "section": "search",
        "search_form": form,
        "query": "",
        "searched": False,
        "errors": [],
        "page": None,
        "facets": [],
        "active_filters": [],
        "page_query": "",
    }
    status = 200
    if _has_null_character(request):
        context["errors"] = ["The address contains a character that cannot be searched for; start a new search."]
        status = 400
    elif not form.is_valid():
        context["errors"] = [error for errors in form.errors.values() for error in errors]
        status = 400
    else:
        query = form.cleaned_data["q"]
        context["query"] = query
        if selectors.search_tokens(query):
            filterset = AssetFilter(request.GET, queryset=selectors.asset_list(user=request.user))
            if filterset.is_valid():
                found = selectors.asset_search_capped(queryset=filterset.qs, query=query)
                matches = found.queryset
                facets = selectors.asset_facets(queryset=matches)
                page_params = request.GET.copy()
                page_params.pop("page", None)
                context.update(
                    searched=True,
                    capped=found.capped,
                    page=Paginator(matches, SEARCH_PAGE_SIZE).get_page(request.GET.get("page")),
                    facets=facet_groups(request.GET, facets),
                    active_filters=active_filters(request.GET, facets),
                    page_query=page_params.urlencode(),
                )
            else:
                context["errors"] = [
                    f"{filterset.form[name].label or name}: {error}"
                    for name, errors in filterset.errors.items()
                    for error in errors
                ]
                context["active_filters"] = active_filters(request.GET, {})
                status = 400
    fragment = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    template = "frontend/includes/search_results.html" if fragment else "frontend/search.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The asset's overview, its visuals or its data, lineage, columns, folders and history; opening it counts as one
    view of the asset."""
    asset = selectors.asset_get(user=request.user, pk=pk)
    services.asset_view_enqueue(asset=asset, user=request.user)
    dataset = selectors.asset_dataset(asset=asset) if asset.kind in DATA_KINDS else None
    return render(
        request,
        "frontend/asset_detail.html",
        {
            "section": "folders" if asset.kind == AssetKind.FOLDER else "search",
            "asset": asset,
            "columns": selectors.asset_columns(asset=asset),
            "folders": selectors.asset_folders(user=request.user, asset=asset).not_deleted(),
            "history": asset_history(asset=asset),
            "explorer": explorer_config(asset),
            "can_edit": selectors.asset_can_edit(user=request.user, asset=asset),
            # the visuals are loaded one by one by the page (dashboard_views.visual_fragment)
            "visuals": selectors.asset_visuals(user=request.user, asset=asset) if asset.kind in VISUAL_KINDS else None,
            "dataset": dataset,
            "refreshes": selectors.dataset_refreshes(dataset=dataset, limit=REFRESHES_SHOWN) if dataset else [],
            "active_refresh": selectors.dataset_active_refresh(dataset=dataset) if dataset else None,
        },
    )


@login_required
@require_GET
def folder_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontend/folder_list.html",
        {"section": "folders", "folders": selectors.folder_roots(user=request.user)},
    )


@login_required
@require_GET
def folder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    folder = selectors.asset_get(user=request.user, pk=pk)
    if folder.kind != AssetKind.FOLDER:
        return redirect("asset-detail", pk=folder.pk)
    children = selectors.folder_children(user=request.user, folder=folder)
    return render(
        request,
        "frontend/folder_detail.html",
        {
            "section": "folders",
            "folder": folder,
            "path": selectors.folder_path(user=request.user, folder=folder),
            "page": Paginator(children, FOLDER_PAGE_SIZE).get_page(request.GET.get("page")),
        },
    )


@dataclass
class ReportRow:
    pk: int
    name: str
    kind: str
    owner: str
    business_unit: str
    updated_at: datetime | None
    last_viewed_at: datetime | None


def _report_rows(report: reports.Report) -> list[ReportRow]:
    """The asset rows of a list report (id, name, kind, owner, unit, updated, last viewed) for a table."""
    return [
        ReportRow(
            pk=row[0],
            name=row[1],
            kind=KIND_LABELS.get(row[2], row[2]),
            owner=row[3],
            business_unit=row[4],
            updated_at=parse_datetime(row[5]) if row[5] else None,
            last_viewed_at=parse_datetime(row[6]) if row[6] else None,
        )
        for row in report.rows
    ]


@login_required
@require_GET
def reports_page(request: HttpRequest) -> HttpResponse:
    """Charts of what the user may see (by business unit, owner, kind) and tables of stale and never-viewed assets."""
    queryset = Asset.objects.visible_to(request.user)
    charts = []
    for name in CHART_REPORTS:
        report = reports.report_run(name=name, queryset=queryset, params={})
        charts.append(
            {
                "report": report,
                "script_id": f"chart-data-{report.name}",
                "data": {
                    "title": report.title,
                    "label": report.columns[1],
                    "labels": [row[0] for row in report.rows],
                    "counts": [row[1] for row in report.rows],
                },
            }
        )

    stale_form = StaleReportForm({"days": request.GET.get("days", settings.CARTOGRAPH_STALE_DAYS_DEFAULT)})
    stale = None
    if stale_form.is_valid():
        params = {"days": str(stale_form.cleaned_data["days"])}
        try:
            stale = reports.report_run(name="stale", queryset=queryset, params=params)
        except DomainError as error:
            stale_form.add_error("days", error.message)
    never_viewed = reports.report_run(name="never-viewed", queryset=queryset, params={})

    return render(
        request,
        "frontend/reports.html",
        {
            "section": "reports",
            "charts": charts,
            "stale_form": stale_form,
            "stale": stale,
            "stale_rows": _report_rows(stale) if stale else [],
            "never_viewed": never_viewed,
            "never_viewed_rows": _report_rows(never_viewed),
        },
        status=400 if stale_form.errors else 200,
    )
