"""Promotion pages of the web UI: plan a promotion (preview as a dependency graph and a table, with what changes),
approve it, execute it with live progress, and each asset's environment copies and promotion history.

Writes call promotions services directly; a refused write (a DomainError) becomes a message, never a server error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import selectors as catalog_selectors
from catalog.choices import AssetKind, AssetStatus
from catalog.models import Asset, Customer
from config.errors import DomainError
from promotions import selectors, services
from promotions.choices import ROOT_KINDS, PromotionStatus

HISTORY_SHOWN = 20
RUNNING = (PromotionStatus.QUEUED, PromotionStatus.RUNNING)


class PromotionForm(forms.Form):
    """Where to promote to and how; one mapping field per data source the asset depends on."""

    target = forms.ModelChoiceField(
        label="Target folder",
        queryset=Asset.objects.none(),
        empty_label="Choose the folder of an environment",
        error_messages={"required": "Choose the folder to promote into.", "invalid_choice": "Choose a listed folder."},
    )
    include_dependencies = forms.BooleanField(label="Include what it depends on", required=False, initial=True)
    overwrite = forms.BooleanField(label="Overwrite copies changed in the target", required=False)
    note = forms.CharField(label="Note", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, folders, data_sources: list[Asset], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = folders
        self.fields["target"].label_from_instance = lambda folder: folder.name
        self.data_sources = data_sources
        for source in data_sources:
            self.fields[f"mapping_{source.pk}"] = forms.CharField(
                label=f"Data source ARN for {source.name}",
                required=False,
                max_length=512,
                help_text="The data source of the target environment that replaces it (left empty: reuse the copy "
                "an earlier promotion made).",
            )

    @property
    def mapping_fields(self) -> list[forms.BoundField]:
        return [self[f"mapping_{source.pk}"] for source in self.data_sources]

    def mappings(self) -> dict[str, str]:
        return {
            str(source.pk): self.cleaned_data[f"mapping_{source.pk}"].strip()
            for source in self.data_sources
            if self.cleaned_data.get(f"mapping_{source.pk}", "").strip()
        }


class CustomerCopyForm(forms.Form):
    customer = forms.ModelChoiceField(
        label="Customer",
        queryset=Customer.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Choose a customer",
        error_messages={"required": "Choose the customer the copy is for."},
    )
    note = forms.CharField(label="What the customer needs", max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


def _promotable(request: HttpRequest, pk: int) -> Asset:
    asset = catalog_selectors.asset_get(user=request.user, pk=pk)
    if asset.kind not in ROOT_KINDS:
        raise Http404("Only dashboards, analyses, templates and datasets are promoted.")
    return asset


def _target_folders(request: HttpRequest, asset: Asset):
    return (
        catalog_selectors.asset_list(user=request.user)
        .filter(kind=AssetKind.FOLDER, external_id__startswith="arn:")
        .exclude(status=AssetStatus.DELETED)
        .exclude(memberships__asset=asset)
        .order_by("environment", "name")
    )


@login_required
@require_http_methods(["GET", "POST"])
def promotion_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Plan a promotion of the asset; the plan is stored for approval (nothing happens until it is executed)."""
    asset = _promotable(request, pk)
    if not catalog_selectors.asset_can_edit(user=request.user, asset=asset):
        raise PermissionDenied(f"You may not promote {asset.name!r}; ask its owners, or request a customer copy.")
    assets, _ = services.dependency_graph(root=asset)
    data_sources = sorted((a for a in assets.values() if a.kind == AssetKind.DATA_SOURCE), key=lambda a: (a.name, a.pk))
    form = PromotionForm(request.POST or None, folders=_target_folders(request, asset), data_sources=data_sources)
    if form.is_bound and form.is_valid():
        try:
            result = services.promotion_plan(
                actor=request.user,
                asset=asset,
                target_folder=form.cleaned_data["target"],
                include_dependencies=form.cleaned_data["include_dependencies"],
                data_source_mappings=form.mappings(),
                overwrite=form.cleaned_data["overwrite"],
                note=form.cleaned_data["note"],
                viewer=request.user,
            )
        except DomainError as error:
            name = error.field if error.field in form.fields else None
            if error.field == "data_source_mappings" and data_sources:
                name = f"mapping_{data_sources[0].pk}"
            form.add_error(name, error.message)
        else:
            messages.success(request, f"Planned promotion {result.promotion.pk}: review it, then approve it.")
            return redirect("promotion-page", pk=result.promotion.pk)
    return render(
        request,
        "frontend/promotions/promotion_form.html",
        {"section": "search", "asset": asset, "form": form},
        status=400 if form.errors else 200,
    )


def _graph(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Nodes and edges of the plan for the page's Cytoscape drawing (folder memberships are not drawn)."""
    shown = [s for s in steps if s["action"] != "membership"]
    positions = {s["position"] for s in shown}
    return {
        "nodes": [
            {"id": str(s["position"]), "label": f"{s['name']}\n{s['kind']} · {s['action']}", "action": s["action"]}
            for s in shown
        ],
        "edges": [
            {"id": f"{p}-{s['position']}", "source": str(p), "target": str(s["position"])}
            for s in shown
            for p in s["depends_on"]
            if p in positions
        ],
    }


def _page_context(request: HttpRequest, promotion) -> dict[str, Any]:
    detail = selectors.promotion_detail(user=request.user, promotion=promotion)
    return {
        "section": "search",
        "promotion": promotion,
        "detail": detail,
        "steps": detail["steps"],
        "graph": _graph(detail["steps"]),
        "running": promotion.status in RUNNING,
        "source_visible": catalog_selectors.asset_list(user=request.user).filter(pk=promotion.source_id).exists(),
    }


@login_required
@require_GET
def promotion_page(request: HttpRequest, pk: int) -> HttpResponse:
    promotion = selectors.promotion_get(user=request.user, pk=pk)
    return render(request, "frontend/promotions/promotion_detail.html", _page_context(request, promotion))


@login_required
@require_GET
def promotion_progress_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The status and steps, polled by the page while the promotion runs."""
    promotion = selectors.promotion_get(user=request.user, pk=pk)
    return render(request, "frontend/promotions/includes/progress.html", _page_context(request, promotion))


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    promotion = selectors.promotion_get(user=request.user, pk=pk)
    try:
        if action == "approve":
            services.promotion_approve(promotion=promotion, actor=request.user)
            messages.success(request, f"Approved promotion {promotion.pk}.")
        elif action == "execute":
            services.promotion_execute_start(promotion=promotion, actor=request.user)
            messages.success(request, f"Promotion {promotion.pk} is running.")
        else:
            services.promotion_rollback(promotion=promotion, actor=request.user)
            messages.success(request, f"Rolled back promotion {promotion.pk}.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("promotion-page", pk=promotion.pk)


@login_required
@require_POST
def promotion_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "approve")


@login_required
@require_POST
def promotion_execute_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "execute")


@login_required
@require_POST
def promotion_rollback_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "rollback")


@login_required
@require_GET
def promotion_asset_section(request: HttpRequest, pk: int) -> HttpResponse:
    """The asset page's Environments section: each environment's copy and its state, and the promotion history."""
    asset = _promotable(request, pk)
    environment = request.GET.get("environment", "")
    return render(
        request,
        "frontend/promotions/includes/asset_section.html",
        {
            "asset": asset,
            "copies": selectors.environment_copies(user=request.user, asset=asset),
            "origins": selectors.copy_origins(user=request.user, asset=asset),
            "promotions": selectors.asset_promotions(user=request.user, asset=asset, environment=environment or None)[
                :HISTORY_SHOWN
            ],
            "can_edit": catalog_selectors.asset_can_edit(user=request.user, asset=asset),
            "copy_form": CustomerCopyForm() if asset.kind == AssetKind.DASHBOARD else None,
        },
    )


@login_required
@require_POST
def customer_copy_request(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer-facing user asks for a customer-specific copy of a product dashboard."""
    asset = _promotable(request, pk)
    form = CustomerCopyForm(request.POST)
    if form.is_valid():
        try:
            result = services.promotion_request(
                actor=request.user, asset=asset, customer=form.cleaned_data["customer"], note=form.cleaned_data["note"]
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Requested a copy for {form.cleaned_data['customer'].name}; a BI developer will review it."
            )
            return redirect("promotion-page", pk=result.promotion.pk)
    else:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect("asset-detail", pk=asset.pk)
