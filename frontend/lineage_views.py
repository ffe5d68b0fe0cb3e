"""Lineage pages of the web UI: the explorer, impact and provenance, and the release and fork screens.

Reads go through lineage and catalog selectors; releases, rollbacks and forks call lineage services directly (never the
JSON API), each shown as a dry run before it is confirmed. A refused write (a DomainError) becomes a message on the
form, never a server error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import selectors as catalog_selectors
from catalog.choices import AssetKind
from catalog.models import Asset
from config.errors import DomainError
from lineage import selectors, services
from lineage.choices import EdgeKind, ReleaseStatus
from lineage.models import Release

from .forms import ForkForm, ReleaseForm

# Siblings of one kind beyond this many are drawn as one group node ("312 dashboards") that lists them on click.
GROUP_THRESHOLD = 25
RELEASES_SHOWN = 20
RESTRICTED = "Restricted asset"
_PLURALS = {AssetKind.ANALYSIS: "analyses"}


def _url_pattern(name: str) -> str:
    """A URL of one asset with `{id}` where its id goes, for the explorer script to fill in."""
    return reverse(name, args=[0]).replace("/0/", "/{id}/")


def explorer_config(asset: Asset) -> dict[str, Any]:
    """What the lineage explorer script needs, embedded in the page with json_script."""
    return {
        "root": str(asset.pk),
        "rootName": asset.name,
        "lineageUrl": _url_pattern("asset-lineage"),
        "pathUrl": reverse("lineage-path"),
        "assetUrl": _url_pattern("asset-detail"),
        "lineagePageUrl": _url_pattern("lineage-page"),
        "edgeKinds": [{"value": value, "label": label} for value, label in EdgeKind.choices],
        "assetKinds": {
            value: {"label": label, "plural": _PLURALS.get(value, f"{label.lower()}s")}
            for value, label in AssetKind.choices
        },
        "groupThreshold": GROUP_THRESHOLD,
    }


def _add_domain_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _editable_analysis(request: HttpRequest, pk: int) -> Asset:
    """The analysis to release or fork: 404 when the user may not see it, 403 when they may not change it."""
    asset = catalog_selectors.asset_get(user=request.user, pk=pk)
    if asset.kind != AssetKind.ANALYSIS:
        raise Http404("Only an analysis is released or forked.")
    if not catalog_selectors.asset_can_edit(user=request.user, asset=asset):
        raise PermissionDenied(f"You may not release or fork {asset.name!r}; ask its owners for an edit grant.")
    return asset


@dataclass
class ShownAsset:
    """One asset of a dry run or a release, anonymous when the user may not see it."""

    asset_id: int | None
    name: str
    kind: str
    customer: str
    problems: list[str]
    template: dict[str, Any] | None = None


def _shown(*, user, changes: list[services.AssetChange]) -> list[ShownAsset]:
    visible = selectors.visible_nodes(user=user, ids=[change.asset_id for change in changes])
    return [
        ShownAsset(
            asset_id=change.asset_id,
            name=change.name,
            kind=change.kind,
            customer=change.customer or "",
            problems=change.problems,
        )
        if change.asset_id in visible
        else ShownAsset(asset_id=None, name=RESTRICTED, kind="", customer="", problems=change.problems)
        for change in changes
    ]


def _customers(rows: list[ShownAsset]) -> list[str]:
    return sorted({row.customer for row in rows if row.customer})


@login_required
@require_GET
def lineage_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The lineage explorer of one asset, everything downstream of it (impact), and for an analysis or template
    which customers are on which template version (provenance) and its releases."""
    asset = catalog_selectors.asset_get(user=request.user, pk=pk)
    analysis = selectors.reference_analysis_of(asset=asset)
    analysis_visible = analysis is not None and (
        analysis.pk == asset.pk or analysis.pk in selectors.visible_nodes(user=request.user, ids=[analysis.pk])
    )
    releases = []
    if asset.kind == AssetKind.ANALYSIS:
        releases = list(selectors.release_list(user=request.user).filter(reference_analysis=asset)[:RELEASES_SHOWN])
    return render(
        request,
        "frontend/lineage.html",
        {
            "section": "search",
            "asset": asset,
            "explorer": explorer_config(asset),
            "impact": selectors.impact_summary(user=request.user, root=asset.pk),
            "analysis": analysis if analysis_visible else None,
            "provenance": selectors.provenance(user=request.user, analysis=analysis) if analysis_visible else None,
            "releases": releases,
            "can_edit": catalog_selectors.asset_can_edit(user=request.user, asset=asset),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def release_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Release a new version of a reference analysis: a dry run of what would change, then a confirmed release."""
    analysis = _editable_analysis(request, pk)
    form = ReleaseForm(request.POST or None)
    plan = None
    if form.is_bound and form.is_valid():
        try:
            plan = services.release_plan(reference_analysis=analysis)
            if form.confirmed:
                release = services.release_apply(
                    reference_analysis=analysis,
                    description=form.cleaned_data["description"],
                    actor=request.user,
                    force=form.cleaned_data["force"],
                )
                messages.success(
                    request,
                    f"Released version {release.new_template.version} of {analysis.name}: "
                    f"{len(release.changes)} asset(s) now made from {release.new_template.name}.",
                )
                return redirect("release-page", pk=release.pk)
        except DomainError as error:
            _add_domain_error(form, error)
    changes = _shown(user=request.user, changes=plan.changes) if plan else []
    return render(
        request,
        "frontend/release_form.html",
        {
            "section": "search",
            "asset": analysis,
            "form": form,
            "plan": plan,
            "changes": changes,
            "customers": _customers(changes),
            "restricted": sum(1 for row in changes if row.asset_id is None),
            "problems": [row for row in changes if row.problems],
        },
        status=400 if form.errors else 200,
    )


def _release_context(request: HttpRequest, release: Release) -> dict[str, Any]:
    asset_ids = [change["asset_id"] for change in release.changes]
    visible = selectors.visible_nodes(user=request.user, ids=asset_ids)
    templates = selectors.created_from_of(asset_ids=asset_ids)
    rows = []
    for asset_id in asset_ids:
        details = visible.get(asset_id)
        rows.append(
            ShownAsset(
                asset_id=asset_id if details else None,
                name=details["name"] if details else RESTRICTED,
                kind=details["kind"] if details else "",
                customer=(details["customer__name"] or "") if details else "",
                problems=[],
                template=templates.get(asset_id),
            )
        )
    can_edit = catalog_selectors.asset_can_edit(user=request.user, asset=release.reference_analysis)
    return {
        "section": "search",
        "release": release,
        "asset": release.reference_analysis,
        "rows": rows,
        "can_roll_back": can_edit
        and release.status == ReleaseStatus.APPLIED
        and release.previous_template_id is not None,
    }


@login_required
@require_GET
def release_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A release: what it repointed, where each asset points now, and a way back."""
    release = get_object_or_404(selectors.release_list(user=request.user), pk=pk)
    return render(request, "frontend/release_detail.html", _release_context(request, release))


@login_required
@require_POST
def release_page_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    release = get_object_or_404(selectors.release_list(user=request.user), pk=pk)
    if not catalog_selectors.asset_can_edit(user=request.user, asset=release.reference_analysis):
        raise PermissionDenied("You may not roll back this release; ask the analysis' owners for an edit grant.")
    try:
        services.release_rollback(release=release, actor=request.user)
    except DomainError as error:
        context = {**_release_context(request, release), "error": error.message}
        return render(request, "frontend/release_detail.html", context, status=error.status_code)
    messages.success(
        request, f"Rolled back release {release.pk}: its assets are made from the previous template again."
    )
    return redirect("release-page", pk=release.pk)


@login_required
@require_http_methods(["GET", "POST"])
def fork_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Fork a reference analysis for one customer: a dry run of which of their assets would move, then the fork."""
    base = _editable_analysis(request, pk)
    form = ForkForm(request.POST or None)
    plan = None
    if form.is_bound and form.is_valid():
        customer = form.cleaned_data["customer"]
        try:
            plan = services.fork_plan(base=base, customer=customer, name=form.cleaned_data["name"])
            if form.confirmed:
                fork, template, repointed = services.fork_apply(
                    base=base, customer=customer, actor=request.user, name=form.cleaned_data["name"]
                )
                messages.success(
                    request,
                    f"Forked {base.name} for {customer.name}: {len(repointed)} asset(s) now made from {template.name}.",
                )
                return redirect("lineage-page", pk=fork.pk)
        except DomainError as error:
            _add_domain_error(form, error)
    repoint = _shown(user=request.user, changes=plan.repoint) if plan else []
    existing = plan.existing_fork if plan else None
    return render(
        request,
        "frontend/fork_form.html",
        {
            "section": "search",
            "asset": base,
            "form": form,
            "plan": plan,
            "repoint": repoint,
            "existing_fork": existing,
            "existing_fork_visible": existing is not None
            and existing.pk in selectors.visible_nodes(user=request.user, ids=[existing.pk]),
        },
        status=400 if form.errors else 200,
    )
