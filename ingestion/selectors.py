"""Reads of ingestion. Events and imports are shown to administrators only (they may name any asset)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ChangeEvent, EventSource, ImportJob


def event_list(*, status: str | None) -> QuerySet[ChangeEvent]:
    events = ChangeEvent.objects.select_related("source").defer("payload").order_by("-created_at", "-id")
    return events.filter(status=status) if status else events


def event_source_list() -> QuerySet[EventSource]:
    return EventSource.objects.order_by("name", "id")


def import_list(*, limit: int = 20) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")[:limit])
