"""Reads of the catalog, always scoped to what the requesting user may see."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, DateTimeField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from .choices import AssetKind
from .models import Asset, Dataset, RefreshRun, Tag, Visual

FACET_LIMIT = 20
SEARCH_EXACT_LIMIT = 500  # more matches than this are counted, ranked and faceted over the most recent ones
SEARCH_SCAN_LIMIT = 30_000  # up to this many matches, reading them all beats walking the assets newest first
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


def _tsquery(tokens: list[str]) -> SearchQuery:
    return SearchQuery(" & ".join(f"{token}:*" for token in tokens), search_type="raw", config="simple")


def asset_search(*, queryset: QuerySet[Asset], query: str) -> QuerySet[Asset]:
    """Ranks `queryset` by how well each asset matches `query` (every word, as a prefix, must match).

    PostgreSQL: the weighted tsvector (name > tags > columns > description) with a GIN index.
    SQLite: substring matching on the same fields, names first.
    """
    tokens = search_tokens(query)
    if not tokens:
        return queryset.none()
    if connection.vendor == "postgresql":
        tsquery = _tsquery(tokens)
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


@dataclass(frozen=True)
class SearchMatches:
    """A ranked search whose cost is bounded: exact up to `SEARCH_EXACT_LIMIT` matches.

    When more assets match (`capped`), `queryset` holds the `count` most recently updated of them, ranked among
    themselves, and facets computed over it describe those. Ranking, counting and faceting every match of a word
    found in a third of a million assets takes seconds; the newest 500 take tens of milliseconds.
    """

    queryset: QuerySet[Asset]
    count: int
    capped: bool


def asset_search_capped(*, queryset: QuerySet[Asset], query: str) -> SearchMatches:
    """`asset_search` over at most SEARCH_EXACT_LIMIT matches, the most recently updated; says whether more matched."""
    limit = SEARCH_EXACT_LIMIT
    if not search_tokens(query):
        return SearchMatches(queryset=queryset.none(), count=0, capped=False)
    matches = asset_search(queryset=queryset, query=query)
    ids = matches.prefetch_related(None).values_list("pk", flat=True)
    if connection.vendor == "postgresql" and _text_matches_estimate(query) <= SEARCH_SCAN_LIMIT:
        # Few matches: read them all through the GIN index and keep the newest. Ordering by an expression that
        # asset_updated_idx cannot provide stops PostgreSQL from walking that index newest first instead, which
        # its estimates (rough for the visibility rule) often prefer and which reads most of the catalog for a
        # word found in one asset in a hundred.
        recency = ExpressionWrapper(F("updated_at") + Value(timedelta(0)), output_field=DateTimeField())
        ids = ids.order_by(recency.desc(), "-id")
    else:
        # Common words: newest first through asset_updated_idx, stopping after `limit` matches.
        ids = ids.order_by("-updated_at", "-id")
    window = list(ids[: limit + 1])
    capped = len(window) > limit
    window = window[:limit]
    return SearchMatches(queryset=matches.filter(pk__in=window), count=len(window), capped=capped)


def _text_matches_estimate(query: str) -> int:
    """PostgreSQL's estimate of how many assets contain the words (from the statistics of search_vector)."""
    plan = json.loads(Asset.objects.filter(search_vector=_tsquery(search_tokens(query))).explain(format="json"))
    return int((plan[0] if isinstance(plan, list) else plan)["Plan"]["Plan Rows"])


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


# ---------------------------------------------------------------------------------------------------------------
# The data behind the assets: visuals a dashboard contains, a dataset's settings and refreshes

# lineage's EdgeKind.CONTAINS, spelled out here because lineage builds on the catalog, not the other way round
_CONTAINS = "contains"


def asset_visuals(*, user, asset: Asset) -> list[Visual]:
    """The visuals shown on the asset's page: for a dashboard or an analysis, the visuals it contains now (with a
    spec, not deleted, and that the user may see) by name; for a visual, its own spec."""
    if asset.kind == AssetKind.VISUAL:
        return list(Visual.objects.filter(asset=asset).select_related("asset", "dataset__asset"))
    visible = Asset.objects.visible_to(user).not_deleted().values("pk")
    return list(
        Visual.objects.filter(
            asset__in=visible,
            asset__incoming_edges__source=asset,
            asset__incoming_edges__kind=_CONTAINS,
            asset__incoming_edges__valid_to__isnull=True,
        )
        .select_related("asset", "dataset__asset")
        .order_by("asset__name", "asset_id")
    )


def visual_get(*, user, pk: Any) -> Visual:
    """The visual spec of asset `pk`; 404 when the user may not see the asset or it has no spec."""
    asset = asset_get(user=user, pk=pk)
    visual = Visual.objects.filter(asset=asset).select_related("asset", "dataset__asset").first()
    if visual is None:
        raise Http404("This asset has no visual spec.")
    return visual


def asset_dataset(*, asset: Asset) -> Dataset | None:
    """The data settings of a dataset or data product asset (None when it has none)."""
    return Dataset.objects.filter(asset=asset).select_related("asset", "source__asset", "current_snapshot").first()


def dataset_refreshes(*, dataset: Dataset, limit: int = 20) -> list[RefreshRun]:
    """The dataset's latest refreshes, newest first."""
    return list(dataset.refreshes.select_related("requested_by").order_by("-created_at", "-id")[:limit])


def dataset_active_refresh(*, dataset: Dataset) -> RefreshRun | None:
    """The refresh of the dataset that is queued or running, if any (there is at most one)."""
    return dataset.refreshes.filter(status__in=[RefreshRun.Status.QUEUED, RefreshRun.Status.RUNNING]).first()


def refresh_get(*, user, pk: Any) -> RefreshRun:
    """A refresh run of a dataset the user may see; otherwise 404."""
    visible = Asset.objects.visible_to(user).values("pk")
    run = (
        RefreshRun.objects.filter(pk=pk, dataset__asset__in=visible)
        .select_related("dataset__asset", "requested_by")
        .first()
    )
    if run is None:
        raise Http404("No refresh has this id, or you may not see its dataset.")
    return run
