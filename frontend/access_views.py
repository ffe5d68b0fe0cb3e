"""Governance pages of the web UI: sharing requests (form, my requests, the owners' inbox), notifications, the access
audit, entitlements ("what can group G see", "who can see asset A") and the row/column rules of a dataset with their
effect. Each view validates its input and calls access or catalog services and selectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from access import selectors as access_selectors
from access import services as access_services
from access.choices import AuditSource, RequestStatus
from access.models import Grant
from access.permissions import sees_everything
from access.rule_effects import RuleView, group_effect
from catalog import connectors, datasets, selectors
from catalog.models import Dataset
from config.errors import DomainError

from .access_forms import AccessRequestForm, AuditFilterForm, ColumnRuleForm, DecisionForm, RowRuleForm

AUDIT_PAGE_SIZE = 50
REQUESTS_PAGE_SIZE = 50


def _domain_error(form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


# --- sharing requests ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def access_request_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks access to a data product, dataset or dashboard for one of the user's groups. Someone who cannot see the
    asset learns only its name and kind here, so they know what they ask for."""
    asset = access_selectors.requestable_asset_get(pk=pk)
    groups = list(access_selectors.requestable_groups(user=request.user))
    form = AccessRequestForm(request.POST or None, groups=groups)
    if request.method == "POST" and form.is_valid():
        try:
            created = access_services.access_request_create(
                requester=request.user,
                group=Group.objects.get(name=form.cleaned_data["group"]),
                asset=asset,
                justification=form.cleaned_data["justification"],
                duration_days=form.cleaned_data["duration_days"],
                source=AuditSource.UI,
            )
        except DomainError as error:
            _domain_error(form, error)
        else:
            messages.success(request, "Your request was sent to the data owners.")
            return redirect("access-request-detail-page", created.pk)
    return render(
        request,
        "frontend/access/request_form.html",
        {"section": "access", "asset": asset, "form": form, "groups": groups},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def access_requests_page(request: HttpRequest) -> HttpResponse:
    """My requests, and the inbox of requests I decide on."""
    box = request.GET.get("box", "mine")
    if box not in ("mine", "inbox"):
        box = "mine"
    status = request.GET.get("status", "")
    requests = access_selectors.access_request_list(user=request.user, box=box)
    if status in RequestStatus.values:
        requests = requests.filter(status=status)
    page = Paginator(requests, REQUESTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "frontend/access/requests.html",
        {
            "section": "access",
            "box": box,
            "status": status,
            "statuses": RequestStatus.choices,
            "page": page,
            "pending_inbox": access_selectors.inbox_pending_count(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def access_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One request with its history; the requester may withdraw it, the data owners decide, extend or revoke."""
    access_request = access_selectors.access_request_get(user=request.user, pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action, comment, days = (form.cleaned_data[k] for k in ("action", "comment", "days"))
        try:
            if action == "approve":
                access_services.access_request_approve(
                    access_request=access_request, actor=request.user, comment=comment, source=AuditSource.UI
                )
            elif action == "reject":
                access_services.access_request_reject(
                    access_request=access_request, actor=request.user, comment=comment, source=AuditSource.UI
                )
            elif action == "withdraw":
                access_services.access_request_withdraw(
                    access_request=access_request, actor=request.user, source=AuditSource.UI
                )
            elif action == "extend":
                if not days:
                    raise DomainError("say by how many days", field="days")
                access_services.access_request_extend(
                    access_request=access_request, actor=request.user, days=days, comment=comment, source=AuditSource.UI
                )
            else:
                access_services.access_request_revoke(
                    access_request=access_request, actor=request.user, comment=comment, source=AuditSource.UI
                )
        except DomainError as error:
            _domain_error(form, error)
        else:
            messages.success(request, f"Done: {action}.")
            return redirect("access-request-detail-page", access_request.pk)
    access_request = access_selectors.access_request_get(user=request.user, pk=pk)
    is_decider = access_selectors.may_decide_request(user=request.user, access_request=access_request)
    return render(
        request,
        "frontend/access/request_detail.html",
        {
            "section": "access",
            "req": access_request,
            "history": access_request.events.select_related("actor").order_by("created_at", "id"),
            "form": form,
            "is_decider": is_decider,
            "is_requester": access_request.requester_id == request.user.pk,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notifications_page(request: HttpRequest) -> HttpResponse:
    """The user's notifications; POST marks them all read."""
    if request.method == "POST":
        access_services.notifications_mark_read(user=request.user)
        return redirect("notifications-page")
    notes = access_selectors.notification_list(user=request.user)[:200]
    return render(request, "frontend/access/notifications.html", {"section": "access", "notifications": notes})


# --- audit -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def audit_page(request: HttpRequest) -> HttpResponse:
    """The access audit, filtered by user, asset, action and dates; the CSV link exports the same rows."""
    if not access_selectors.audit_may_read(user=request.user):
        raise PermissionDenied("Only staff and the owners of a domain read the access audit.")
    form = AuditFilterForm(request.GET or None)
    events = access_selectors.audit_list(user=request.user)
    params: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        if data["user"]:
            events = events.filter(actor_name=data["user"])
        if data["asset"]:
            events = events.filter(asset_id=data["asset"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["source"]:
            events = events.filter(source=data["source"])
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
        params = {k: v for k, v in data.items() if v not in (None, "")}
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    csv_query = urlencode({**{k: str(v) for k, v in params.items()}, "format": "csv"})
    return render(
        request,
        "frontend/access/audit.html",
        {"section": "access", "form": form, "page": page, "csv_url": f"/api/v1/audit/?{csv_query}"},
        status=400 if form.errors else 200,
    )


# --- entitlements ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def group_entitlements_page(request: HttpRequest) -> HttpResponse:
    """What group G sees, and through which route (staff: any group; others: their own groups)."""
    if sees_everything(request.user):
        groups = Group.objects.order_by("name")
    else:
        groups = access_selectors.requestable_groups(user=request.user)
    name = request.GET.get("group", "")
    group = access_selectors.entitlement_group_get(user=request.user, name=name) if name else None
    entitlements = access_selectors.group_entitlements(group=group) if group else []
    return render(
        request,
        "frontend/access/group_entitlements.html",
        {"section": "access", "groups": groups, "group": group, "entitlements": entitlements},
    )


def _editable_asset(request: HttpRequest, pk: int):
    asset = selectors.asset_get(user=request.user, pk=pk)
    if not selectors.asset_can_edit(user=request.user, asset=asset):
        raise PermissionDenied("Only the asset's owners and staff manage its access.")
    return asset


@login_required
@require_GET
def asset_access_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Who can see the asset and through which grant (its owners and staff)."""
    asset = _editable_asset(request, pk)
    return render(
        request,
        "frontend/access/asset_access.html",
        {
            "section": "search",
            "asset": asset,
            "routes": access_selectors.asset_access_routes(asset=asset),
            "requests": access_selectors.access_request_list(user=request.user, box="inbox").filter(asset=asset)[:50],
        },
    )


# --- dataset rules -----------------------------------------------------------------------------------------------


def _rule_groups(dataset: Dataset) -> list[Group]:
    """Groups worth showing the effect for: those named by rules, holding grants on the dataset or its domain, or
    owning it or its domain."""
    asset = dataset.asset
    ids = set(dataset.row_rules.exclude(group=None).values_list("group_id", flat=True))
    ids |= set(dataset.column_rules.values_list("group_id", flat=True))
    grants = Grant.objects.filter(Q(asset=asset) | Q(domain_id=asset.domain_id) if asset.domain_id else Q(asset=asset))
    ids |= set(grants.values_list("group_id", flat=True))
    if asset.owner_group_id:
        ids.add(asset.owner_group_id)
    if asset.domain_id and asset.domain.owner_group_id:
        ids.add(asset.domain.owner_group_id)
    return list(Group.objects.filter(pk__in=ids).order_by("name"))


def rule_effects(dataset: Dataset) -> tuple[list[dict[str, Any]], int | None, str]:
    """Per group: rows it sees of the snapshot's total, and hidden columns. Counted on the current snapshot (direct
    datasets are not queried here: counting would run a query on the source for every group)."""
    rules = [RuleView(r.column, r.group_id, tuple(r.allowed_values), r.user_attribute) for r in dataset.row_rules.all()]
    hidden = [(r.column, r.group_id) for r in dataset.column_rules.all()]
    snapshot = dataset.current_snapshot if dataset.import_mode == Dataset.ImportMode.SPICE else None
    note = ""
    if snapshot is None:
        note = (
            "Row counts are shown for snapshot (SPICE) datasets once their first refresh has succeeded."
            if dataset.import_mode == Dataset.ImportMode.SPICE
            else "Row counts are not computed for direct-query datasets (that would query the source per group)."
        )
    path = Path(settings.MEDIA_ROOT) / snapshot.path if snapshot else None
    total = snapshot.rows if snapshot else None
    effects = []
    for group in _rule_groups(dataset):
        effect = group_effect(group_id=group.pk, row_rules=rules, hidden=hidden)
        if path is None:
            seen = None
        elif effect.all_rows:
            seen = total
        else:
            seen = connectors.parquet_count(path, row_filters=effect.row_filters)
        effects.append({"group": group.name, "rows": seen, "effect": effect})
    return effects, total, note


@login_required
@require_http_methods(["GET", "POST"])
def dataset_rules_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The dataset's row and column rules, managed by its owners, with what each group sees under them."""
    asset = _editable_asset(request, pk)
    dataset = selectors.asset_dataset(asset=asset)
    if dataset is None:
        raise Http404("This asset has no data settings.")
    columns = list(asset.columns.order_by("position", "id").values_list("name", flat=True))
    groups = list(Group.objects.order_by("name"))
    row_form = RowRuleForm(columns=columns, groups=groups, prefix="row")
    column_form = ColumnRuleForm(columns=columns, groups=groups, prefix="col")
    if request.method == "POST":
        kind = request.POST.get("kind")
        try:
            if kind == "row":
                row_form = RowRuleForm(request.POST, columns=columns, groups=groups, prefix="row")
                if row_form.is_valid():
                    data = row_form.cleaned_data
                    datasets.row_rule_create(
                        dataset=dataset,
                        column=data["column"],
                        group=Group.objects.get(name=data["group"]) if data["group"] else None,
                        user_attribute=data["user_attribute"].strip(),
                        allowed_values=row_form.values(),
                        actor=request.user,
                        source="ui",
                    )
                    messages.success(request, "Row rule added.")
                    return redirect("dataset-rules-page", asset.pk)
            elif kind == "column":
                column_form = ColumnRuleForm(request.POST, columns=columns, groups=groups, prefix="col")
                if column_form.is_valid():
                    datasets.column_rule_create(
                        dataset=dataset,
                        column=column_form.cleaned_data["column"],
                        group=Group.objects.get(name=column_form.cleaned_data["group"]),
                        actor=request.user,
                        source="ui",
                    )
                    messages.success(request, "Column rule added.")
                    return redirect("dataset-rules-page", asset.pk)
            elif kind in ("delete-row", "delete-column"):
                rule_id = request.POST.get("rule", "")
                deleted = rule_id.isdigit() and datasets.rule_delete(
                    dataset=dataset,
                    kind="row" if kind == "delete-row" else "column",
                    rule_id=int(rule_id),
                    actor=request.user,
                    source="ui",
                )
                if deleted:
                    messages.success(request, "Rule removed.")
                else:
                    messages.error(request, "That rule is already gone.")
                return redirect("dataset-rules-page", asset.pk)
            else:
                messages.error(request, "Choose a rule to add or remove.")
                return redirect("dataset-rules-page", asset.pk)
        except DomainError as error:
            _domain_error(row_form if kind == "row" else column_form, error)
    dataset = Dataset.objects.select_related("asset__domain", "current_snapshot").get(pk=dataset.pk)
    effects, total, note = rule_effects(dataset)
    has_errors = bool(row_form.errors or column_form.errors)
    return render(
        request,
        "frontend/access/dataset_rules.html",
        {
            "section": "search",
            "asset": asset,
            "row_rules": dataset.row_rules.select_related("group").order_by("id"),
            "column_rules": dataset.column_rules.select_related("group").order_by("id"),
            "row_form": row_form,
            "column_form": column_form,
            "effects": effects,
            "total": total,
            "note": note,
        },
        status=400 if has_errors else 200,
    )
