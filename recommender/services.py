"""Writes of the recommender: samples and profiles, relationships of the knowledge graph, recommendations and their
feedback, and the runs that compute them.

The matching itself is pure (`profiling`, `matching`, `candidates`, `knowledge`, `evidence`); this module loads
the stored samples, calls it, and stores what it found with the data versions it came from, so a product whose
data did not change is not matched again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.choices import AssetKind, AssetStatus
from catalog.models import Asset, Column, Dataset
from config.errors import DomainError

from . import evidence, knowledge
from .choices import RecommendationStatus, RelationshipSource, RunStatus, View
from .models import DataSample, Recommendation, RecommendationRun, Relationship

if TYPE_CHECKING:
    from .candidates import CandidateIndex

logger = logging.getLogger(__name__)

PRODUCT_KINDS = (AssetKind.DATA_PRODUCT, AssetKind.DATASET)
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
SAMPLE_SEED = 20240601
SHORTLIST = 20
MAX_HOPS = 3


def sample_rows_setting() -> int:
    return int(getattr(settings, "CARTOGRAPH_RECOMMENDER_SAMPLE_ROWS", 100_000))


def hops_setting() -> int:
    return int(getattr(settings, "CARTOGRAPH_RECOMMENDER_HOPS", 1))


def scoring_config() -> evidence.ScoringConfig:
    return evidence.ScoringConfig(min_coverage=float(getattr(settings, "CARTOGRAPH_RECOMMENDER_MIN_COVERAGE", 0.65)))


# ---------------------------------------------------------------------------------------------------------------
# Samples and profiles


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def sample_read(sample: DataSample) -> pd.DataFrame:
    """The stored sample as a data frame."""
    with duckdb.connect() as con:
        return con.execute("SELECT * FROM read_parquet(?)", [str(Path(settings.MEDIA_ROOT) / sample.path)]).df()


def sample_refresh(*, asset: Asset, rows: int | None = None, force: bool = False) -> DataSample | None:
    """Draws a random sample of the asset's current data (its dataset's current Parquet snapshot) and profiles it.

    Idempotent: when the stored sample already comes from the current snapshot (and has the size asked for), it is
    returned as it is. Returns None when the asset has no data yet. DuckDB draws the sample (a reservoir sample with
    a fixed seed), so a snapshot of millions of rows is never loaded whole.
    """
    from .profiling import profile_table, profile_to_dict

    rows = sample_rows_setting() if rows is None else rows
    if rows < 1 or rows > 10_000_000:
        raise DomainError("a sample has from 1 to 10,000,000 rows", field="rows")
    dataset = Dataset.objects.filter(asset=asset).select_related("current_snapshot").first()
    snapshot = dataset.current_snapshot if dataset else None
    if snapshot is None:
        return None
    version = f"snapshot:{snapshot.pk}"
    existing = DataSample.objects.filter(asset=asset).first()
    wanted = min(rows, snapshot.rows)
    if existing and existing.data_version == version and existing.rows == wanted and not force:
        return existing
    relative = Path("samples") / str(asset.pk) / f"{snapshot.pk}-{wanted}.parquet"
    dest = Path(settings.MEDIA_ROOT) / relative
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = Path(settings.MEDIA_ROOT) / snapshot.path
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{_quoted(source)}') "
            f"USING SAMPLE reservoir({int(wanted)} ROWS) REPEATABLE ({SAMPLE_SEED})) "
            f"TO '{_quoted(dest)}' (FORMAT parquet)"
        )
        frame = con.execute("SELECT * FROM read_parquet(?)", [str(dest)]).df()
    profile = profile_to_dict(profile_table(frame))
    with transaction.atomic():
        sample = DataSample.objects.select_for_update().filter(asset=asset).first() or DataSample(asset=asset)
        old = sample.path if sample.pk and sample.path != str(relative) else ""
        sample.snapshot = snapshot
        sample.data_version = version
        sample.path = str(relative)
        sample.rows = len(frame)
        sample.source_rows = max(snapshot.rows, len(frame))
        sample.profile = profile
        sample.full_clean()
        sample.save()
        if old:
            transaction.on_commit(lambda: (Path(settings.MEDIA_ROOT) / old).unlink(missing_ok=True))
    return sample


# ---------------------------------------------------------------------------------------------------------------
# Relationships (the knowledge graph)


def _asset_columns(asset: Asset) -> set[str]:
    names = set(Column.objects.filter(asset=asset).values_list("name", flat=True))
    sample = DataSample.objects.filter(asset=asset).only("profile").first()
    if sample:
        names |= {c["name"] for c in sample.profile.get("columns", [])}
    return names


def _mapping(
    value: Any, *, field: str, from_asset: Asset, to_asset: Asset, required: bool, unknown_schema_ok: bool = False
) -> list[dict[str, str]]:
    """Validates a list of {"from": <column of from_asset>, "to": <column of to_asset>}. With `unknown_schema_ok`,
    columns of a product whose schema is not known at all (a source table seen only in a join) are taken as given."""
    if not isinstance(value, list):
        raise DomainError('give a list of {"from": column, "to": column} objects', field=field)
    if required and not value:
        raise DomainError("give at least one pair of columns that join the two products", field=field)
    if len(value) > 50:
        raise DomainError("give at most 50 column pairs", field=field)
    left, right = _asset_columns(from_asset), _asset_columns(to_asset)
    out: list[dict[str, str]] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"from", "to"}:
            raise DomainError(f'item {i} must be an object with exactly the keys "from" and "to"', field=field)
        a, b = item["from"], item["to"]
        if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
            raise DomainError(f'item {i}: "from" and "to" must be column names (non-empty text)', field=field)
        if a not in left and (left or not unknown_schema_ok):
            raise DomainError(f"item {i}: {from_asset.name} has no column {a!r}", field=field)
        if b not in right and (right or not unknown_schema_ok):
            raise DomainError(f"item {i}: {to_asset.name} has no column {b!r}", field=field)
        pair = {"from": a, "to": b}
        if pair in out:
            raise DomainError(f"item {i}: the pair {a} → {b} is given twice", field=field)
        out.append(pair)
    return out


def _check_ends(from_asset: Asset, to_asset: Asset) -> None:
    if from_asset.pk == to_asset.pk:
        raise DomainError("a relationship joins two different products", field="to_asset")
    for asset, name in ((from_asset, "from_asset"), (to_asset, "to_asset")):
        if asset.kind not in PRODUCT_KINDS:
            raise DomainError(
                f"asset {asset.pk} is a {asset.kind}; relationships join data products and datasets", field=name
            )
        if asset.status == AssetStatus.DELETED:
            raise DomainError(f"asset {asset.pk} was deleted", field=name)


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise DomainError(
            "a relationship name is a word of letters, digits and underscores starting with a letter "
            "(e.g. hasSalesOpportunity), at most 100 characters",
            field="name",
        )
    return name


@transaction.atomic
def relationship_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    from_asset: Asset,
    to_asset: Asset,
    key_columns: Any,
    attribute_mappings: Any = (),
    source: str = RelationshipSource.USER,
    description: str = "",
) -> Relationship:
    """Records a relationship between two products; the enriched views of both now follow it."""
    name = _check_name(name)
    _check_ends(from_asset, to_asset)
    keys = _mapping(key_columns, field="key_columns", from_asset=from_asset, to_asset=to_asset, required=True)
    attributes = _mapping(
        list(attribute_mappings), field="attribute_mappings", from_asset=from_asset, to_asset=to_asset, required=False
    )
    if Relationship.objects.filter(from_asset=from_asset, to_asset=to_asset, name=name).exists():
        raise DomainError(f"{from_asset.name} already has a relationship {name} to {to_asset.name}", field="name")
    relationship = Relationship(
        name=name,
        from_asset=from_asset,
        to_asset=to_asset,
        key_columns=keys,
        attribute_mappings=attributes,
        source=source,
        description=description,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    relationship.full_clean()
    relationship.save()
    return relationship


@transaction.atomic
def relationship_update(*, relationship: Relationship, actor: AbstractBaseUser | None, **fields: Any) -> Relationship:
    """Changes the name, description or column mappings of a relationship (its two products are fixed)."""
    allowed = {"name", "key_columns", "attribute_mappings", "description"}
    unknown = set(fields) - allowed
    if unknown:
        first = sorted(unknown)[0]
        raise DomainError(f"cannot change {first} of a relationship; delete it and make another", field=first)
    relationship = (
        Relationship.objects.select_for_update().select_related("from_asset", "to_asset").get(pk=relationship.pk)
    )
    ends = {"from_asset": relationship.from_asset, "to_asset": relationship.to_asset}
    if "name" in fields:
        relationship.name = _check_name(fields["name"])
        clash = Relationship.objects.filter(
            from_asset=relationship.from_asset, to_asset=relationship.to_asset, name=relationship.name
        ).exclude(pk=relationship.pk)
        if clash.exists():
            raise DomainError(f"there is already a relationship {relationship.name} between them", field="name")
    if "key_columns" in fields:
        relationship.key_columns = _mapping(fields["key_columns"], field="key_columns", required=True, **ends)
    if "attribute_mappings" in fields:
        relationship.attribute_mappings = _mapping(
            fields["attribute_mappings"], field="attribute_mappings", required=False, **ends
        )
    if "description" in fields:
        relationship.description = fields["description"]
    relationship.full_clean()
    relationship.save()
    return relationship


@transaction.atomic
def relationship_delete(*, relationship: Relationship, actor: AbstractBaseUser | None) -> None:
    """Removes a relationship; recommendations accepted into it stay accepted."""
    Relationship.objects.filter(pk=relationship.pk).delete()


@transaction.atomic
def relationship_observe(
    *,
    from_asset: Asset,
    to_asset: Asset,
    key_columns: Any,
    name: str = "joinsWith",
    at: datetime | None = None,
) -> Relationship:
    """Records that a join between the two products was seen (in a query, a dataset's SQL, a lineage event):
    the relationship is created the first time, and each observation counts. Safe to call for every event."""
    name = _check_name(name)
    _check_ends(from_asset, to_asset)
    keys = _mapping(
        key_columns,
        field="key_columns",
        from_asset=from_asset,
        to_asset=to_asset,
        required=True,
        unknown_schema_ok=True,
    )
    at = at or timezone.now()
    relationship, created = Relationship.objects.select_for_update().get_or_create(
        from_asset=from_asset,
        to_asset=to_asset,
        name=name,
        defaults={
            "key_columns": keys,
            "source": RelationshipSource.OBSERVED,
            "observations": 1,
            "last_observed_at": at,
        },
    )
    if not created:
        Relationship.objects.filter(pk=relationship.pk).update(
            observations=F("observations") + 1, last_observed_at=at, updated_at=timezone.now()
        )
        relationship.refresh_from_db()
    return relationship


@transaction.atomic
def relationships_from_lineage() -> int:
    """Makes a `derivedFrom` relationship for every open `derived_from` edge between products that column lineage
    says how to join (a direct identity column edge between them). Returns how many were created."""
    from lineage.choices import EdgeKind
    from lineage.models import ColumnEdge, Edge

    created = 0
    edges = Edge.objects.filter(kind=EdgeKind.DERIVED_FROM, valid_to__isnull=True).select_related("source", "target")
    for edge in edges:
        if edge.source.kind not in PRODUCT_KINDS or edge.target.kind not in PRODUCT_KINDS:
            continue
        if Relationship.objects.filter(from_asset=edge.target, to_asset=edge.source, name="derivedFrom").exists():
            continue
        columns = list(
            ColumnEdge.objects.filter(
                source__asset=edge.source,
                target__asset=edge.target,
                valid_to__isnull=True,
                transformation="DIRECT",
                subtype__iexact="IDENTITY",
            )
            .order_by("source__nullable", "source__position", "id")
            .values_list("target__name", "source__name")[:1]
        )
        if not columns:
            continue
        Relationship.objects.create(
            name="derivedFrom",
            from_asset=edge.target,
            to_asset=edge.source,
            key_columns=[{"from": a, "to": b} for a, b in columns],
            source=RelationshipSource.LINEAGE,
            description="From lineage: derived from, joined as column lineage says.",
        )
        created += 1
    return created


def links(*, asset_ids: Iterable[int] | None = None) -> list[knowledge.Link]:
    """Every relationship (or those between `asset_ids`) as a link of the knowledge graph, keyed by asset id."""
    rows = Relationship.objects.all()
    if asset_ids is not None:
        ids = list(asset_ids)
        rows = rows.filter(from_asset_id__in=ids, to_asset_id__in=ids)
    return [
        knowledge.Link(
            id=r.pk,
            name=r.name,
            left=str(r.from_asset_id),
            right=str(r.to_asset_id),
            keys=tuple((k["from"], k["to"]) for k in r.key_columns),
            attributes=tuple((a["from"], a["to"]) for a in r.attribute_mappings),
        )
        for r in rows.order_by("id")
    ]


# ---------------------------------------------------------------------------------------------------------------
# Recommendations


@dataclass
class _Samples:
    """Stored samples, their frames read once per computation."""

    by_key: dict[str, DataSample]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)

    def frame(self, key: str) -> pd.DataFrame | None:
        sample = self.by_key.get(key)
        if sample is None:
            return None
        if key not in self.frames:
            self.frames[key] = sample_read(sample)
        return self.frames[key]

    def profile(self, key: str):
        from .profiling import profile_from_dict

        if key not in self.profiles:
            self.profiles[key] = profile_from_dict(self.by_key[key].profile)
        return self.profiles[key]


def _names(samples: _Samples) -> dict[str, str]:
    """Table names by sample key: they let the engine read a bare "id" column as "<table>_id"."""
    names = dict(Asset.objects.filter(pk__in=[int(k) for k in samples.by_key]).values_list("pk", "name"))
    return {k: names.get(int(k), "") for k in samples.by_key}


def _candidate_index(samples: _Samples, name_of: dict[str, str] | None = None) -> CandidateIndex:
    """One pruning index over every product's profile (a query never returns the product it asks for)."""
    from .candidates import CandidateIndex  # the engine (pandas, datasketch) loads when matching, not at startup

    name_of = name_of if name_of is not None else _names(samples)
    index = CandidateIndex()
    for key in samples.by_key:
        index.add(key, samples.profile(key), name=name_of[key])
    return index


def _samples() -> _Samples:
    rows = DataSample.objects.filter(asset__kind__in=PRODUCT_KINDS).exclude(asset__status=AssetStatus.DELETED)
    return _Samples(by_key={str(s.asset_id): s for s in rows})


def _enriched_version(samples: _Samples, view: knowledge.EnrichedView, graph_links: Sequence[knowledge.Link]) -> str:
    """The data an enriched view came from: P's data, the data of every product it went through, the relationships."""
    used = sorted({a.relationship_id for a in view.additions})
    rels = [link for link in graph_links if link.id in used]
    digest = hashlib.sha1(repr(rels).encode()).hexdigest()[:12]
    parts = [samples.by_key[view.key].data_version, *(f"{k}={samples.by_key[k].data_version}" for k in view.via)]
    return f"{'+'.join(parts)}+rel:{digest}"[:200]


def _progress(run: RecommendationRun | None, *, done: int | None = None, total: int | None = None) -> None:
    if run is None:
        return
    values: dict[str, Any] = {"updated_at": timezone.now()}
    if done is not None:
        values["done"] = done
    if total is not None:
        values["total"] = total
    RecommendationRun.objects.filter(pk=run.pk).update(**values)


def _store(
    *,
    asset: Asset,
    candidate_id: int,
    result: evidence.Outcome,
    asset_version: str,
    candidate_version: str,
) -> Recommendation:
    """Writes one (P, Q, view) row; feedback given earlier (accepted, dismissed) is kept."""
    row, _ = Recommendation.objects.update_or_create(
        asset=asset,
        candidate_id=candidate_id,
        view=result.view,
        defaults={
            "score": result.score,
            "coverage": result.coverage,
            "recommended": result.recommended,
            "pairs": result.pairs,
            "components": result.components,
            "evidence": result.evidence,
            "asset_version": asset_version,
            "candidate_version": candidate_version,
            "computed_at": timezone.now(),
        },
    )
    return row


def recommendations_compute(
    *,
    asset: Asset,
    run: RecommendationRun | None = None,
    only: Iterable[int] | None = None,
    force: bool = False,
    samples: _Samples | None = None,
    graph_links: list[knowledge.Link] | None = None,
    index: CandidateIndex | None = None,
) -> int:
    """Matches the asset (P) against its shortlist of candidates, on its plain view and on its enriched view, and
    stores one row per (P, Q, view). Pairs whose data (P's, Q's, and for the enriched view the related products'
    and the relationships followed) did not change since they were stored are skipped unless `force`. With `only`,
    just those candidates are considered (the pairs of a product whose data changed). `samples` and `graph_links`
    let a caller that computes many products read the samples and relationships once, and `index` (built over those
    samples by `_candidate_index`) lets it prune with one index. Returns the pairs matched.
    """
    from .matching import MatcherConfig, match_tables
    from .profiling import profile_table

    sample = sample_refresh(asset=asset)
    if sample is None:
        raise DomainError(f"{asset.name} has no data yet: attach data to it and refresh it first", status_code=409)
    cached = samples.by_key.get(str(asset.pk)) if samples is not None else None
    if samples is None or cached is None or cached.data_version != sample.data_version:
        samples = _samples()
    key = str(asset.pk)
    frame = samples.frame(key)
    profile = samples.profile(key)
    assert frame is not None
    graph_links = links() if graph_links is None else graph_links
    graph = knowledge.graph_build(graph_links)
    view = knowledge.enriched_view(key=key, frame=frame, graph=graph, load=samples.frame, hops=hops_setting())
    enriched_profile = profile_table(view.frame) if view.added_rows else None
    enriched_version = _enriched_version(samples, view, graph_links) if view.added_rows else ""

    name_of = _names(samples)
    index = index if index is not None else _candidate_index(samples, name_of)
    shortlist = dict(index.query(key, profile, k=SHORTLIST, name=name_of[key]))
    if enriched_profile is not None:
        for other, score in index.query(key, enriched_profile, k=SHORTLIST, name=name_of[key]):
            shortlist[other] = max(score, shortlist.get(other, 0.0))
    candidates = sorted(shortlist, key=lambda k: (-shortlist[k], int(k)))
    if only is not None:
        wanted = {str(i) for i in only}
        candidates = [c for c in candidates if c in wanted]
    else:
        # candidates no longer on the shortlist lose their rows, unless someone gave feedback on them
        Recommendation.objects.filter(asset=asset, status=RecommendationStatus.OPEN).exclude(
            candidate_id__in=[int(c) for c in candidates]
        ).delete()
    if only is not None:
        gone = {str(i) for i in only} - set(candidates)
        Recommendation.objects.filter(
            asset=asset, candidate_id__in=[int(c) for c in gone], status=RecommendationStatus.OPEN
        ).delete()
    stored = {
        (r.candidate_id, r.view): (r.asset_version, r.candidate_version)
        for r in Recommendation.objects.filter(asset=asset, candidate_id__in=[int(c) for c in candidates])
    }
    _progress(run, done=0, total=len(candidates))
    config = MatcherConfig()
    scoring = scoring_config()
    matched = 0
    for done, other in enumerate(candidates, start=1):
        other_version = samples.by_key[other].data_version
        plain_current = stored.get((int(other), View.PLAIN)) == (sample.data_version, other_version)
        enriched_current = (
            stored.get((int(other), View.ENRICHED)) == (enriched_version, other_version)
            if view.added_rows and other not in view.via
            else (int(other), View.ENRICHED) not in stored
        )
        if force or not (plain_current and enriched_current):
            right = samples.frame(other)
            assert right is not None
            right_profile = samples.profile(other)
            plain_match = match_tables(
                frame,
                right,
                config=config,
                left_profile=profile,
                right_profile=right_profile,
                left_name=name_of[key],
                right_name=name_of[other],
            )
            plain, _, plain_keys = evidence.outcome(
                view=View.PLAIN,
                match=plain_match,
                left=frame,
                right=right,
                left_profile=profile,
                right_profile=right_profile,
                config=scoring,
            )
            with transaction.atomic():
                _store(
                    asset=asset,
                    candidate_id=int(other),
                    result=plain,
                    asset_version=sample.data_version,
                    candidate_version=other_version,
                )
                if view.added_rows and other not in view.via:
                    enriched_match = match_tables(
                        view.frame,
                        right,
                        config=config,
                        left_profile=enriched_profile,
                        right_profile=right_profile,
                        left_name=name_of[key],
                        right_name=name_of[other],
                    )
                    enriched, _, keys = evidence.outcome(
                        view=View.ENRICHED,
                        match=enriched_match,
                        left=view.frame,
                        right=right,
                        left_profile=profile,
                        right_profile=right_profile,
                        config=scoring,
                        extra_keys=plain_keys,
                        strength_floor=plain_match.score,
                        allow_asset_side=False,
                    )
                    enriched.evidence["enrichment"] = {
                        **evidence.enrichment_gain(plain_left=frame, enriched_left=view.frame, right=right, pairs=keys),
                        "via": [int(v) for v in view.via],
                        "relationships": sorted({a.relationship_id for a in view.additions}),
                        "rows_added": view.added_rows,
                        "plain_rows": view.plain_rows,
                        "plain_score": plain.score,
                        "plain_coverage": plain.coverage,
                    }
                    _store(
                        asset=asset,
                        candidate_id=int(other),
                        result=enriched,
                        asset_version=enriched_version,
                        candidate_version=other_version,
                    )
                else:
                    Recommendation.objects.filter(asset=asset, candidate_id=int(other), view=View.ENRICHED).delete()
            matched += 1
        _progress(run, done=done)
    return matched


FANOUT_CHUNK = 25  # products one fanned-out task re-matches (each task builds one pruning index)


def recommendations_after_data_change(*, asset: Asset) -> int:
    """After new data of `asset`: a new sample and profile, and its own candidates matched again here; then the
    other products whose pairs involve it are matched again by Celery tasks fanned out in chunks of FANOUT_CHUNK
    (`recommendations_others_task`): the products related to it in the knowledge graph in full (their enriched views
    carry its values), and, against it only, those that could join with it (either way, as one pruning index says)
    or that already list it. The rest would not list it anyway. Idempotent: a second call for the same data matches
    nothing. Returns the pairs matched here; the tasks report theirs."""
    from .tasks import recommendations_others_task

    before = DataSample.objects.filter(asset=asset).values_list("data_version", flat=True).first()
    sample = sample_refresh(asset=asset)
    if sample is None:
        return 0
    samples = _samples()
    graph_links = links()
    name_of = _names(samples)
    index = _candidate_index(samples, name_of)
    matched = recommendations_compute(asset=asset, samples=samples, graph_links=graph_links, index=index)
    key = str(asset.pk)
    graph = knowledge.graph_build(graph_links)
    related = {int(k) for k in knowledge.neighbourhood(graph, key, hops=hops_setting())} - {asset.pk}
    near = {int(k) for k, _ in index.query(key, samples.profile(key), k=4 * SHORTLIST, name=name_of[key])}
    listed = set(Recommendation.objects.filter(candidate=asset).values_list("asset_id", flat=True))
    others = set(
        DataSample.objects.filter(asset__kind__in=PRODUCT_KINDS, asset_id__in=related | near | listed)
        .exclude(asset=asset)
        .exclude(asset__status=AssetStatus.DELETED)
        .values_list("asset_id", flat=True)
    )
    work = [(pk, pk in related) for pk in sorted(others)]
    for start in range(0, len(work), FANOUT_CHUNK):
        chunk = work[start : start + FANOUT_CHUNK]
        recommendations_others_task.delay(
            changed_id=asset.pk,
            full_ids=[pk for pk, full in chunk if full],
            partial_ids=[pk for pk, full in chunk if not full],
        )
    if before == sample.data_version and matched:
        logger.info("recommendations of %s matched again for unchanged data: %s pairs", asset.pk, matched)
    return matched


def recommendations_others(*, changed_id: int, full_ids: list[int], partial_ids: list[int]) -> int:
    """One fanned-out chunk of `recommendations_after_data_change`: re-matches `full_ids` in full and `partial_ids`
    against the changed product only, with one pruning index for the chunk. Returns the pairs matched."""
    samples = _samples()
    if str(changed_id) not in samples.by_key:
        return 0  # the changed product lost its data (or was deleted) since
    shared = {"samples": samples, "graph_links": links(), "index": _candidate_index(samples)}
    products = Asset.objects.in_bulk([*full_ids, *partial_ids])
    matched = 0
    for pk in full_ids:
        if pk in products and str(pk) in samples.by_key:
            matched += recommendations_compute(asset=products[pk], **shared)
    for pk in partial_ids:
        if pk in products and str(pk) in samples.by_key:
            matched += recommendations_compute(asset=products[pk], only=[changed_id], **shared)
    return matched


def recommendations_refresh_request(*, asset: Asset, actor: AbstractBaseUser | None) -> RecommendationRun:
    """Queues a computation of the asset's recommendations (idempotent: a run already queued or running is
    returned instead)."""
    from .tasks import recommendation_run_task

    if asset.kind not in PRODUCT_KINDS:
        raise DomainError(f"asset {asset.pk} is a {asset.kind}; only data products and datasets are matched")
    if not Dataset.objects.filter(asset=asset, current_snapshot__isnull=False).exists():
        raise DomainError(f"{asset.name} has no data yet: attach data to it and refresh it first", status_code=409)
    with transaction.atomic():
        Asset.objects.select_for_update().filter(pk=asset.pk).first()
        active = RecommendationRun.objects.filter(asset=asset, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()
        if active:
            return active
        run = RecommendationRun.objects.create(
            asset=asset, requested_by=actor if actor is not None and actor.is_authenticated else None
        )
        transaction.on_commit(lambda: recommendation_run_task.delay(run_id=run.pk))
    return run


def recommendation_run_execute(*, run_id: int) -> RecommendationRun | None:
    """Runs one queued computation (claimed with SKIP LOCKED, so a duplicate delivery does nothing)."""
    with transaction.atomic():
        run = (
            RecommendationRun.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=run_id, status=RunStatus.QUEUED)
            .select_related("asset")
            .first()
        )
        if run is None:
            return None
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at", "updated_at"])
    try:
        recommendations_compute(asset=run.asset, run=run)
    except DomainError as error:
        return _run_finished(run, RunStatus.FAILED, error.message)
    except Exception as error:
        logger.exception("recommendation run %s failed", run.pk)
        return _run_finished(run, RunStatus.FAILED, f"{type(error).__name__}: {str(error)[:500]}")
    return _run_finished(run, RunStatus.SUCCEEDED, "")


def _run_finished(run: RecommendationRun, status: str, error: str) -> RecommendationRun:
    run.refresh_from_db(fields=["done", "total"])
    run.status, run.error, run.finished_at = status, error[:2000], timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "updated_at"])
    return run


@transaction.atomic
def recommendation_feedback(
    *, recommendation: Recommendation, actor: AbstractBaseUser | None, action: str, name: str = ""
) -> Recommendation:
    """Accepts or dismisses a recommended candidate (every view of the pair). Accepting records a relationship
    between the two products (named `name`, or joinsWith) keyed on the join pairs the match found."""
    if action not in ("accept", "dismiss"):
        raise DomainError("action is accept or dismiss", field="action")
    row = Recommendation.objects.select_for_update().select_related("asset", "candidate").get(pk=recommendation.pk)
    now = timezone.now()
    relationship = row.relationship
    if action == "accept":
        name = _check_name(name or "joinsWith")
        relationship = Relationship.objects.filter(from_asset=row.asset, to_asset=row.candidate, name=name).first()
        if relationship is None:
            keys = [{"from": p["left"], "to": p["right"]} for p in row.pairs if p.get("join")][:1] or [
                {"from": p["left"], "to": p["right"]} for p in row.pairs[:1]
            ]
            if not keys:
                raise DomainError("this recommendation has no column pair to join on; state the relationship instead")
            relationship = relationship_create(
                actor=actor,
                name=name,
                from_asset=row.asset,
                to_asset=row.candidate,
                key_columns=keys,
                source=RelationshipSource.RECOMMENDATION,
                description=f"Accepted from a recommendation ({row.view} view, score {row.score:.2f}).",
            )
    status = RecommendationStatus.ACCEPTED if action == "accept" else RecommendationStatus.DISMISSED
    Recommendation.objects.filter(asset=row.asset, candidate=row.candidate).update(
        status=status,
        decided_by=actor if actor is not None and actor.is_authenticated else None,
        decided_at=now,
        relationship=relationship if action == "accept" else F("relationship"),
        updated_at=now,
    )
    row.refresh_from_db()
    return row


def products_with_data(*, ids: Iterable[int] | None = None) -> list[Asset]:
    """Data products and datasets with a current snapshot (what the recommender can sample)."""
    assets = Asset.objects.filter(kind__in=PRODUCT_KINDS, dataset__current_snapshot__isnull=False).exclude(
        status=AssetStatus.DELETED
    )
    if ids is not None:
        assets = assets.filter(pk__in=list(ids))
    return list(assets.order_by("pk"))


def recommendations_compute_all(*, ids: Iterable[int] | None = None) -> int:
    """Samples every product with data, then matches each against its candidates (skipping pairs already current).
    Used by the demo seed and after bulk loads."""
    assets = products_with_data(ids=ids)
    for asset in assets:
        sample_refresh(asset=asset)
    samples, graph_links = _samples(), links()
    return sum(recommendations_compute(asset=a, samples=samples, graph_links=graph_links) for a in assets)
