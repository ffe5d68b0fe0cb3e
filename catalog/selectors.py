"""Reads of the catalog, always scoped to what the requesting user may see."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from .choices import AssetKind
from .models import Asset, Tag

FACET_LIMIT = 20
_TOKEN = re.compile(r"\w+", re.UNICODE)


def asset_list(*, user) -> QuerySet[Asset]:
    """Every asset the user may see, with what list views show loaded in the same query."""
    return (
        Asset.objects.visible_to(user)
        .select_related("owner", "owner_group", "domain", "business_unit", "customer", "product_line")
        .prefetch_related("tags")
    )


def asset_get(*, user, pk: Any) -> Asset:
    """The asset, if the user may see it; otherwise 404 (so a restricted asset's existence does not leak)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No asset has this id.") from None
    asset = asset_list(user=user).filter(pk=pk).first()
    if asset is None:
        raise Http404("No asset has this id, or you may not see it.")
    return asset


def asset_can_edit(*, user, asset: Asset) -> bool:
    return Asset.objects.editable_by(user).filter(pk=asset.pk).exists()


def folder_children(*, user, folder: Asset) -> QuerySet[Asset]:
    """What is in the folder: sub-folders first, then the other assets, each by name."""
    folders_first = Case(When(kind=AssetKind.FOLDER, then=Value(0)), default=Value(1))
    return (
        asset_list(user=user)
        .not_deleted()
        .filter(folder_memberships__folder=folder)
        .order_by(folders_first, "name", "id")
    )


def folder_roots(*, user) -> QuerySet[Asset]:
    """Folders that are in no folder the user can see."""
    visible_folders = Asset.objects.visible_to(user).filter(kind=AssetKind.FOLDER)
    return (
        asset_list(user=user)
        .not_deleted()
        .filter(kind=AssetKind.FOLDER)
        .exclude(folder_memberships__folder__in=visible_folders)
        .order_by("name")
    )


def asset_folders(*, user, asset: Asset) -> QuerySet[Asset]:
    return Asset.objects.visible_to(user).filter(memberships__asset=asset).order_by("name")


def search_tokens(query: str) -> list[str]:
    return [token.lower() for token in _TOKEN.findall(query)][:12]


def asset_search(*, queryset: QuerySet[Asset], query: str) -> QuerySet[Asset]:
    """Ranks `queryset` by how well each asset matches `query` (every word, as a prefix, must match).

    PostgreSQL: the weighted tsvector (name > tags > columns > description) with a GIN index.
    SQLite: substring matching on the same fields, names first.
    """
    tokens = search_tokens(query)
    if not tokens:
        return queryset.none()
    if connection.vendor == "postgresql":
        tsquery = SearchQuery(" & ".join(f"{token}:*" for token in tokens), search_type="raw", config="simple")
        return (
            queryset.filter(search_vector=tsquery)
            .annotate(rank=SearchRank(F("search_vector"), tsquery))
            .order_by("-rank", "-updated_at", "-id")
        )
    condition = Q()
    for token in tokens:
        condition &= (
            Q(name__icontains=token)
            | Q(description__icontains=token)
            | Q(pk__in=Asset.objects.filter(columns__name__icontains=token).values("pk"))
            | Q(pk__in=Asset.objects.filter(tags__name__icontains=token).values("pk"))
        )
    name_hits = Q()
    for token in tokens:
        name_hits &= Q(name__icontains=token)
    return (
        queryset.filter(condition)
        .annotate(rank=Case(When(name_hits, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-rank", "-updated_at", "-id")
    )


def asset_facets(*, queryset: QuerySet[Asset]) -> dict[str, list[dict[str, Any]]]:
    """Counts per kind, owner, business unit and tag over `queryset` (the top values of each)."""
    base = queryset.order_by()
    ids = base.values("pk")

    def counts(field: str, label: str) -> list[dict[str, Any]]:
        rows = (
            Asset.objects.filter(pk__in=ids)
            .exclude(**{f"{field}__isnull": True})
            .values(value=F(field), label=F(label))
            .annotate(count=Count("pk"))
            .order_by("-count", "label")[:FACET_LIMIT]
        )
        return list(rows)

    tags = (
        Tag.objects.filter(assets__in=ids)
        .values(value=F("slug"), label=F("name"))
        .annotate(count=Count("assets"))
        .order_by("-count", "label")[:FACET_LIMIT]
    )
    kinds = dict(AssetKind.choices)
    return {
        "kind": [
            {"value": row["kind"], "label": kinds.get(row["kind"], row["kind"]), "count": row["count"]}
            for row in base.values("kind").annotate(count=Count("pk")).order_by("-count", "kind")
        ],
        "owner": counts("owner__username", "owner__username"),
        "business_unit": counts("business_unit__slug", "business_unit__name"),
        "tag": list(tags),
    }


def asset_recently_updated(*, user, limit: int = 10) -> QuerySet[Asset]:
    """The assets the user may see that changed last (deleted ones left out), newest first."""
    return asset_list(user=user).not_deleted().order_by("-updated_at", "-id")[:limit]


def asset_most_viewed(*, user, limit: int = 10) -> QuerySet[Asset]:
    """The assets the user may see that were opened most often; assets nobody opened are left out."""
    return asset_list(user=user).not_deleted().filter(view_count__gt=0).order_by("-view_count", "-id")[:limit]


def asset_columns(*, asset: Asset) -> QuerySet[Any]:
    """The asset's schema in column order, with each column's tags loaded."""
    return asset.columns.prefetch_related("tags").order_by("position", "id")


def folder_path(*, user, folder: Asset, max_depth: int = 20) -> list[Asset]:
    """The folders above `folder` that the user may see, outermost first (for breadcrumbs).

    A folder can sit in several folders; the path follows the first by name. It stops at a cycle or after
    `max_depth` levels, so a badly nested tree cannot make the page loop.
    """
    path: list[Asset] = []
    seen = {folder.pk}
    current = folder
    for _ in range(max_depth):
        parent = asset_folders(user=user, asset=current).not_deleted().exclude(pk__in=seen).first()
        if parent is None:
            break
        path.append(parent)
        seen.add(parent.pk)
        current = parent
    path.reverse()
    return path
