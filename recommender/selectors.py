"""Reads of the recommender, scoped to what the reader may see.

The rules, in one place:
- A recommendation is listed only on a product the reader may see (`asset_get` answers 404 otherwise).
- A candidate the reader may see is shown with its evidence. Column pairs that touch a column hidden from the
  reader are left out, and example values (of the pairs and of the rows enrichment matched) are shown only when no
  row or column rule restricts the reader on either product (or on a product the enrichment went through).
- A recommendation from the enriched view is shown only when the reader may see every product the enrichment went
  through; otherwise the reader gets the plain view of that candidate.
- A candidate the reader may not see is listed only when it is a kind that can be requested (a data product or
  dataset, not deleted), the setting allows it, and it was recommended: as `requestable: true` with its id, name,
  kind and domain, and nothing from its data (no score, column, value or count).
- Relationships and the knowledge graph show only relationships whose two products the reader may see; the
  enriched view follows only those, over the data the reader's row and column rules let them see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import QuerySet

from catalog.choices import AssetKind, AssetStatus
from catalog.models import Asset, Dataset
from catalog.security import DataAccess, data_access
from config.errors import DomainError

from . import knowledge
from .choices import RecommendationStatus, View
from .models import DataSample, Recommendation, RecommendationRun, Relationship
from .services import MAX_HOPS, PRODUCT_KINDS, sample_read

REQUESTABLE_KINDS = (AssetKind.DATA_PRODUCT, AssetKind.DATASET)
PREVIEW_ROWS = 10


def _visible_ids(user, ids: Iterable[int]) -> set[int]:
    ids = list(set(ids))
    if not ids:
        return set()
    return set(Asset.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def _accesses(user, ids: Iterable[int]) -> dict[int, DataAccess]:
    """The reader's row and column rules on the data of each asset (assets without data have none)."""
    datasets = Dataset.objects.filter(asset_id__in=list(set(ids))).prefetch_related("column_rules", "row_rules")
    return {d.asset_id: data_access(user=user, dataset=d) for d in datasets}


def _restricted(access: DataAccess | None) -> bool:
    return bool(access and (access.restricted or access.hidden_columns or access.row_filters))


def _hidden(access: DataAccess | None) -> frozenset[str]:
    return access.hidden_columns if access else frozenset()


def _brief(asset: Asset) -> dict[str, Any]:
    return {"id": asset.pk, "name": asset.name, "kind": asset.kind}


def _pct(share: float) -> str:
    value = share * 100
    return f"{value:.0f}%" if value >= 1 or value == 0 else f"{value:.1f}%"


def _view_summary(row: Recommendation) -> dict[str, Any]:
    return {
        "score": row.score,
        "coverage": row.coverage,
        "recommended": row.recommended,
        "computed_at": row.computed_at,
    }


def _shaped(
    *,
    row: Recommendation,
    rows: list[Recommendation],
    asset: Asset,
    names: dict[int, str],
    accesses: dict[int, DataAccess],
) -> dict[str, Any]:
    candidate = row.candidate
    enrichment = row.evidence.get("enrichment") if row.view == View.ENRICHED else None
    via = [int(v) for v in (enrichment or {}).get("via", [])]
    hidden_p, hidden_q = _hidden(accesses.get(asset.pk)), _hidden(accesses.get(candidate.pk))
    examples_ok = not any(_restricted(accesses.get(i)) for i in [asset.pk, candidate.pk, *via])
    pairs = []
    overlap = []
    for pair in row.pairs:
        if pair["left"] in hidden_p or pair["right"] in hidden_q:
            continue
        shown = {**pair, "examples": pair.get("examples", []) if examples_ok else []}
        pairs.append(shown)
        if pair.get("join"):
            overlap.append(
                {
                    "left": pair["left"],
                    "right": pair["right"],
                    "right_in_left": pair["right_in_left"],
                    "left_in_right": pair["left_in_right"],
                    "right_rows_matched": pair["right_rows_matched"],
                    "statement": f"{_pct(pair['right_in_left'])} of {candidate.name}.{pair['right']} values appear "
                    f"in {asset.name}.{pair['left']}",
                    "examples": shown["examples"],
                }
            )
    item: dict[str, Any] = {
        "id": row.pk,
        "candidate": {**_brief(candidate), "domain": candidate.domain.name if candidate.domain_id else None},
        "requestable": False,
        "view": row.view,
        "score": row.score,
        "coverage": row.coverage,
        "recommended": row.recommended,
        "status": row.status,
        "pairs": pairs,
        "components": row.components,
        "overlap": overlap,
        "rows": row.evidence.get("rows"),
        "rows_matched": row.evidence.get("rows_matched"),
        "coverage_of": row.evidence.get("coverage_of", "candidate"),
        "views": {r.view: _view_summary(r) for r in rows},
        "computed_at": row.computed_at,
        "asset_version": row.asset_version,
        "candidate_version": row.candidate_version,
        "relationship": row.relationship_id,
        "enrichment": None,
    }
    if enrichment:
        columns = enrichment.get("example_columns", [])
        keep = [i for i, c in enumerate(columns) if c not in hidden_q]
        item["enrichment"] = {
            "rows_gained": enrichment.get("rows_gained", 0),
            "rows_matched_plain": enrichment.get("rows_matched_plain", 0),
            "rows_matched_enriched": enrichment.get("rows_matched_enriched", 0),
            "rows_added": enrichment.get("rows_added", 0),
            "plain_rows": enrichment.get("plain_rows", 0),
            "via": [{"id": v, "name": names.get(v, "")} for v in via],
            "relationships": enrichment.get("relationships", []),
            "example_columns": [columns[i] for i in keep],
            "examples": [[r[i] for i in keep] for r in enrichment.get("examples", [])] if examples_ok else [],
        }
    return item


def recommendation_run_latest(*, asset: Asset) -> RecommendationRun | None:
    return RecommendationRun.objects.filter(asset=asset).order_by("-created_at", "-id").first()


def recommendation_list(
    *, user, asset: Asset, status: str = RecommendationStatus.OPEN, include_below: bool = False
) -> list[dict[str, Any]]:
    """The candidates of a product the reader may see, best first, with their evidence (see the module's rules).

    `status` keeps candidates in that state ("all" for every state); `include_below` also lists candidates below
    the threshold (to compare views). Products the reader could request come last, by name."""
    rows = list(
        Recommendation.objects.filter(asset=asset)
        .exclude(candidate__status=AssetStatus.DELETED)
        .select_related("candidate", "candidate__domain")
        .order_by("candidate_id", "view")
    )
    by_candidate: dict[int, list[Recommendation]] = defaultdict(list)
    for row in rows:
        by_candidate[row.candidate_id].append(row)
    via_ids = {int(v) for r in rows for v in (r.evidence.get("enrichment") or {}).get("via", [])}
    visible = _visible_ids(user, [*by_candidate, *via_ids])
    accesses = _accesses(user, [asset.pk, *visible])
    names = dict(Asset.objects.filter(pk__in=list(via_ids & visible)).values_list("pk", "name"))
    show_requestable = bool(getattr(settings, "CARTOGRAPH_RECOMMENDER_SHOW_REQUESTABLE", True))
    shown: list[dict[str, Any]] = []
    requestable: list[dict[str, Any]] = []
    for candidate_id, views in by_candidate.items():
        allowed = [
            r
            for r in views
            if r.view == View.PLAIN or {int(v) for v in (r.evidence.get("enrichment") or {}).get("via", [])} <= visible
        ]
        if not allowed:
            continue
        order = {View.PLAIN: 0, View.ENRICHED: 1}
        best = sorted(allowed, key=lambda r: (not r.recommended, -r.score, order.get(r.view, 2)))[0]
        if status != "all" and best.status != status:
            continue
        candidate = best.candidate
        if candidate_id in visible:
            if best.recommended or include_below:
                shown.append(_shaped(row=best, rows=allowed, asset=asset, names=names, accesses=accesses))
        elif (
            show_requestable
            and best.recommended
            and candidate.kind in REQUESTABLE_KINDS
            and candidate.status != AssetStatus.DELETED
        ):
            requestable.append(
                {
                    "id": None,
                    "candidate": {
                        **_brief(candidate),
                        "domain": candidate.domain.name if candidate.domain_id else None,
                    },
                    "requestable": True,
                }
            )
    shown.sort(key=lambda item: (-item["score"], item["candidate"]["name"], item["candidate"]["id"]))
    requestable.sort(key=lambda item: (item["candidate"]["name"], item["candidate"]["id"]))
    return [*shown, *requestable]


def recommendation_get(*, user, pk: Any) -> Recommendation:
    """A recommendation on a product the reader may see, of a candidate they may see; otherwise 404."""
    from django.http import Http404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No recommendation has this id.") from None
    visible = Asset.objects.visible_to(user)
    row = (
        Recommendation.objects.filter(pk=pk, asset__in=visible, candidate__in=visible)
        .select_related("asset", "candidate")
        .first()
    )
    if row is None:
        raise Http404("No recommendation has this id, or you may not see it.")
    return row


def recommendation_may_decide(*, user, recommendation: Recommendation) -> bool:
    """Accepting or dismissing is for people who may edit one of the two products (as stating a relationship is)."""
    ids = [recommendation.asset_id, recommendation.candidate_id]
    return Asset.objects.editable_by(user).filter(pk__in=ids).exists()


def recommendation_run_get(*, user, pk: Any) -> RecommendationRun:
    from django.http import Http404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No run has this id.") from None
    run = (
        RecommendationRun.objects.filter(pk=pk, asset__in=Asset.objects.visible_to(user))
        .select_related("asset")
        .first()
    )
    if run is None:
        raise Http404("No run has this id, or you may not see its product.")
    return run


# ---------------------------------------------------------------------------------------------------------------
# Relationships and the knowledge graph


def relationship_list(*, user) -> QuerySet[Relationship]:
    """Relationships whose two products the reader may see."""
    visible = Asset.objects.visible_to(user)
    return (
        Relationship.objects.filter(from_asset__in=visible, to_asset__in=visible)
        .select_related("from_asset", "to_asset", "created_by")
        .order_by("name", "id")
    )


def visible_links(*, user) -> list[knowledge.Link]:
    return [
        knowledge.Link(
            id=r.pk,
            name=r.name,
            left=str(r.from_asset_id),
            right=str(r.to_asset_id),
            keys=tuple((k["from"], k["to"]) for k in r.key_columns),
            attributes=tuple((a["from"], a["to"]) for a in r.attribute_mappings),
        )
        for r in relationship_list(user=user)
    ]


def relationship_graph(*, user, asset: Asset, hops: int = 2) -> dict[str, Any]:
    """The product's neighbourhood in the knowledge graph (what the reader may see), as nodes and edges."""
    links = visible_links(user=user)
    graph = knowledge.graph_build(links)
    key = str(asset.pk)
    near = knowledge.neighbourhood(graph, key, hops=hops)
    ids = [asset.pk, *(int(k) for k in near)]
    assets = {a.pk: a for a in Asset.objects.filter(pk__in=ids)}
    nodes = [
        {**_brief(assets[i]), "hop": 0 if i == asset.pk else near[str(i)], "url": f"/assets/{i}/"}
        for i in ids
        if i in assets
    ]
    keys = {str(i) for i in ids}
    edges = [
        {
            "id": link.id,
            "name": link.name,
            "source": int(link.left),
            "target": int(link.right),
            "key_columns": [{"from": a, "to": b} for a, b in link.keys],
            "attribute_mappings": [{"from": a, "to": b} for a, b in link.attributes],
        }
        for link in links
        if link.left in keys and link.right in keys
    ]
    return {"nodes": nodes, "edges": edges}


def _readable(frame: pd.DataFrame, access: DataAccess | None) -> pd.DataFrame:
    """The part of a sample the reader's rules let them see: hidden columns dropped, rows filtered."""
    if access is None:
        return frame
    frame = frame.drop(columns=[c for c in frame.columns if c in access.hidden_columns])
    for column, allowed in access.row_filters:
        if column not in frame.columns:
            return frame.iloc[0:0]
        frame = frame[frame[column].astype("string").isin([str(v) for v in allowed]).fillna(False)]
    return frame.reset_index(drop=True)


def enriched_view_preview(*, user, asset: Asset, hops: int) -> dict[str, Any]:
    """The enriched view of a product as the reader may see it: row counts, what each relationship added, and
    some added rows. Only relationships to products the reader may see are followed."""
    if not 0 <= hops <= MAX_HOPS:
        raise DomainError(f"hops is a whole number from 0 to {MAX_HOPS}", field="hops")
    if asset.kind not in PRODUCT_KINDS:
        raise DomainError(f"asset {asset.pk} is a {asset.kind}; only data products and datasets have data views")
    sample = DataSample.objects.filter(asset=asset).first()
    if sample is None:
        raise DomainError(
            f"{asset.name} has no profiled sample yet: it is made when its data is refreshed", status_code=409
        )
    links = visible_links(user=user)
    graph = knowledge.graph_build(links)
    near = {int(k) for k in knowledge.neighbourhood(graph, str(asset.pk), hops=hops)}
    samples = {s.asset_id: s for s in DataSample.objects.filter(asset_id__in=[asset.pk, *near])}
    accesses = _accesses(user, samples)
    frames: dict[str, pd.DataFrame] = {}

    def load(key: str) -> pd.DataFrame | None:
        pk = int(key)
        if pk not in samples:
            return None
        if key not in frames:
            frames[key] = _readable(sample_read(samples[pk]), accesses.get(pk))
        return frames[key]

    frame = load(str(asset.pk))
    assert frame is not None
    view = knowledge.enriched_view(key=str(asset.pk), frame=frame, graph=graph, load=load, hops=hops)
    names = dict(Asset.objects.filter(pk__in=[int(v) for v in view.via]).values_list("pk", "name"))
    link_names = {link.id: link.name for link in links}
    added = view.added().head(PREVIEW_ROWS)
    return {
        "asset": _brief(asset),
        "hops": hops,
        "data_version": sample.data_version,
        "sample_rows": sample.rows,
        "source_rows": sample.source_rows,
        "plain_rows": view.plain_rows,
        "enriched_rows": len(view.frame),
        "added_rows": view.added_rows,
        "via": [{"id": int(v), "name": names.get(int(v), "")} for v in view.via],
        "additions": [
            {
                "relationship": {"id": a.relationship_id, "name": link_names.get(a.relationship_id, a.relationship)},
                "via": {"id": int(a.via), "name": names.get(int(a.via), "")},
                "attribute": a.attribute,
                "from_column": a.from_column,
                "hop": a.hop,
                "rows_added": a.rows_added,
            }
            for a in view.additions
        ],
        "columns": [str(c) for c in view.frame.columns],
        "examples": [[None if pd.isna(v) else str(v) for v in row] for row in added.itertuples(index=False)],
    }
