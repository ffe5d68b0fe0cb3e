"""The ingestion page: event sources and their tokens, recent events, bulk imports with live progress.

Administrators only: raw events and import reports may name assets of any domain.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.errors import DomainError
from ingestion import selectors, services
from ingestion.choices import EventStatus, SourceKind
from ingestion.models import EventSource, ImportJob

EVENTS_SHOWN = 50
IMPORTS_SHOWN = 10
BUNDLE_MAX_BYTES = 500 * 1024 * 1024


def staff_only(view):
    """Signed-in administrators only; anyone else signed in gets a 403 (not a redirect loop to the sign-in page)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("The ingestion page is for administrators.")
        return view(request, *args, **kwargs)

    return wrapped


def _page(request: HttpRequest, *, new_token: str = "", new_token_source: EventSource | None = None) -> HttpResponse:
    wanted = request.GET.get("status", "")
    status = wanted if wanted in EventStatus.values else None
    return render(
        request,
        "frontend/ingestion.html",
        {
            "section": "ingestion",
            "sources": selectors.event_source_list(),
            "source_kinds": SourceKind.choices,
            "events": selectors.event_list(status=status)[:EVENTS_SHOWN],
            "event_statuses": EventStatus.choices,
            "status_filter": status or "",
            "imports": selectors.import_list(limit=IMPORTS_SHOWN),
            "new_token": new_token,
            "new_token_source": new_token_source,
            "events_url": request.build_absolute_uri(reverse("events-receive")),
            "lineage_url": request.build_absolute_uri(reverse("openlineage")),
        },
    )


@staff_only
@require_GET
def ingestion_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_only
@require_POST
def event_source_new(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()
    kind = request.POST.get("kind", "")
    if not name or kind not in SourceKind.values:
        messages.error(request, "Give the source a name and choose what it sends.")
        return redirect("ingestion")
    try:
        source, token = services.event_source_create(name=name, kind=kind, actor=request.user)
    except (IntegrityError, ValidationError) as error:
        messages.error(request, "; ".join(getattr(error, "messages", [])) or f"{name!r} cannot be used as a name.")
        return redirect("ingestion")
    return _page(request, new_token=token, new_token_source=source)


@staff_only
@require_POST
def event_source_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(EventSource, pk=pk)
    token = services.event_source_rotate(source=source)
    return _page(request, new_token=token, new_token_source=source)


@staff_only
@require_POST
def import_new(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("bundle")
    if upload is None:
        messages.error(request, "Choose a bundle file (JSON) to import.")
        return redirect("ingestion")
    if upload.size > BUNDLE_MAX_BYTES:
        messages.error(request, f"The bundle is larger than {BUNDLE_MAX_BYTES // 1_048_576} MiB; split it.")
        return redirect("ingestion")
    try:
        bundle = json.load(upload)
        job = services.import_create(actor=request.user, bundle=bundle)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        messages.error(request, f"The file is not valid JSON ({error}).")
        return redirect("ingestion")
    except DomainError as error:
        messages.error(request, f"The bundle was not imported: {error.message}")
        return redirect("ingestion")
    messages.success(request, f"Import {job.pk} is queued: {job.total} items.")
    return redirect(reverse("ingestion") + "#imports")


@staff_only
@require_GET
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One import row; polled every 2 seconds while the import is queued or running."""
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    return render(request, "frontend/includes/import_row.html", {"job": job})
