#!/usr/bin/env python
"""Lineage at scale: load N assets and M edges into a scratch PostgreSQL database and time the lineage reads and
writes as the service layer runs them, beside networkx doing the same traversal on an in-memory copy of the graph.

    python benchmarks/lineage_scale.py [--assets 1000000] [--edges 3000000] [--database cartograph_lineage_bench]
                                       [--keep] [--runs 100]

What it does, in order:

1. Creates the database (or, with --keep, reuses one this script loaded completely before with the same sizes and
   seed) and runs `manage.py migrate` on it, so new migrations are measured too.
2. Loads, with COPY, the reference data and the assets of the catalog benchmark (`catalog_scale.reference_load` and
   its `AssetGenerator`, with lineage-shaped kind weights: data sources and products, datasets, analyses,
   templates, dashboards, visuals, folders), then the edges:
   - clusters of about 4,000 assets (a team's corner of the catalog): data products derived from one another,
     datasets reading from a few popular sources and derived from other datasets, analyses and dashboards using
     datasets, templates made from analyses, dashboards created from templates, visuals contained in dashboards
     and analyses and using datasets; a few cycles among data products;
   - a warehouse data source that about 1.2% of the datasets read from (12,000 at 1,000,000 assets) and a date
     dimension dataset used by 1% of the BI assets;
   - a reference analysis whose current template (v2) 1% of the assets, customer dashboards, are created from
     (10,000 at 1,000,000 assets); the release test repoints them. Their created_from edges from template v1
     ended when v2 was released;
   - an enterprise data product whose downstream closure is 4% of the assets (40,000): every asset of its own
     cluster descends from it, nothing leaves the cluster;
   - about 3% ended edges (for as-of questions), and further edges inside clusters up to --edges in all.
   Every edge began in the past; edges are written in random order, as years of edits would have left them.
   Secondary indexes are dropped for the load and rebuilt; then VACUUM ANALYZE.
3. Loads every open edge into a networkx DiGraph (load time and memory reported), sets Django up against the
   benchmark database and measures, in this process, with the application's own selectors and services:
   - one-hop expansion (`lineage_for_user`, both directions, depth 1, staff) from random ordinary assets and
     from hubs;
   - depth-5 downstream capped at 2,000 nodes from hub-ish roots (and that `truncated` is reported);
   - the full impact closure of the enterprise data product (`impact_closure(...).count()` and `impact_summary`);
   - a release of the reference analysis (`release_apply`), inside a transaction rolled back afterwards.
   Beside each figure: networkx on the in-memory graph doing the same traversal (a breadth-first walk with the
   same depth, cap and order, then the edges among the nodes and their degrees; `descendants` for the closure;
   rewriting the same created_from edges for the release) and the ratio ours / networkx. The node sets are
   checked to be the same.
4. Starts the web server (granian) with the production settings and times one-hop, depth-5 and impact over HTTP
   with a staff token, to show the API's overhead.
5. Prints JSON on stdout (progress on stderr), stops the web server and, unless --keep, drops the database.

Before measuring it waits (up to --load-wait seconds) until the 1-minute load average is below --max-load, and
records the load average. Targets (PostgreSQL, this machine): one-hop p95 <= 20 ms, depth-5 capped p95 <= 150 ms,
impact closure <= 1 s, the release <= 3 s.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.catalog_scale import (  # noqa: E402
    ASSET_COLUMNS,
    COLUMN_COLUMNS,
    SEQUENCED_TABLES,
    TAG_LINK_COLUMNS,
    AssetGenerator,
    Catalog,
    Client,
    Database,
    Server,
    _copy_text,
    _lines,
    _ts,
    _zipf,
    git_state,
    log,
    machine,
    migrate,
    percentile,
    reference_load,
    tokens_read,
    wait_until_ready,
)

MARKER = "lineage_scale benchmark database"
TARGETS_MS = {"one_hop": 20.0, "depth5": 150.0, "impact": 1000.0, "release": 3000.0}
ASSET_CHUNK = 10_000
EDGE_CHUNK = 100_000
CLUSTER_SIZE = 4_000
DEPTH5_CAP = 2_000
ONE_HOP_CAP = 500  # the API's default node cap

KIND_WEIGHTS = {
    "data_source": 1.0,
    "data_product": 1.5,
    "dataset": 15.0,
    "template": 1.0,
    "analysis": 8.0,
    "dashboard": 14.0,
    "visual": 55.0,
    "folder": 4.5,
}
KINDS = tuple(KIND_WEIGHTS)
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
EDGE_KINDS = ("reads_from", "uses_dataset", "template_of", "created_from", "forked_from", "contains", "derived_from")
EDGE_CODE = {kind: code for code, kind in enumerate(EDGE_KINDS)}
EDGE_COLUMNS = (
    "id",
    "source_id",
    "target_id",
    "kind",
    "valid_from",
    "valid_to",
    "recorded_at",
    "recorded_via",
    "created_at",
    "updated_at",
    "recorded_by_id",
    "release_id",
)
LOADED_TABLES = ("catalog_asset", "catalog_asset_tags", "catalog_column", "lineage_edge")
RELEASE_COLUMNS = (
    ("region", "varchar"),
    ("amount", "numeric(18,2)"),
    ("order_date", "date"),
    ("customer_id", "bigint"),
)
DAY = 86_400


# ---------------------------------------------------------------------------------------------------------------
# The database


class LineageDatabase(Database):
    """The catalog benchmark's scratch database, marked as this benchmark's."""

    def create(self) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.set_comment({"marker": MARKER, "complete": False})


def database_prepare(db: LineageDatabase, *, key: dict[str, int], keep: bool) -> dict[str, Any] | None:
    """Makes the database exist; returns the earlier load's record when a complete one of the same sizes can be
    reused (with --keep), else None."""
    comment = db.comment()
    if comment is not None:
        if comment.get("marker") != MARKER:
            raise SystemExit(
                f"database {db.name!r} exists and was not created by this benchmark; choose another --database"
            )
        if keep and comment.get("complete") and all(comment.get(name) == value for name, value in key.items()):
            log(f"Reusing database {db.name} (loaded {comment.get('loaded_at')}).")
            return comment
        log(f"Dropping the earlier benchmark database {db.name}.")
        db.drop()
    log(f"Creating database {db.name}.")
    db.create()
    return None


def secondary_indexes(conn: psycopg.Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `tables` that back no constraint (safe to drop and rebuild)."""
    rows = conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        [list(tables)],
    ).fetchall()
    return [(name, definition) for name, definition in rows]


# ---------------------------------------------------------------------------------------------------------------
# The synthetic lineage


@dataclass
class Assets:
    """What the edge generator needs to know of each generated asset (index = asset id)."""

    kind: bytearray
    customer: array
    active: bytearray


@dataclass
class Layout:
    """The special assets of the graph and the sizes they were given."""

    closure_root: int = 0
    closure_size: int = 0
    warehouse: int = 0
    warehouse_fanout: int = 0
    date_dimension: int = 0
    date_fanout: int = 0
    reference_analysis: int = 0
    template_v1: int = 0
    template_v2: int = 0
    placeholder_dataset: int = 0
    customer_datasets: list[int] = field(default_factory=list)
    misfit_datasets: list[int] = field(default_factory=list)
    release_size: int = 0
    clusters: int = 0
    cycles: int = 0


class EdgeGenerator:
    """Builds the edge list in memory: (source, target, kind, valid_from, valid_to), at most one edge per pair."""

    def __init__(self, assets: Assets, *, seed: int, now: float) -> None:
        self.a = assets
        self.rng = random.Random(seed + 1)
        self.now = int(now)
        self.stride = len(assets.kind) + 1
        self.source = array("q")
        self.target = array("q")
        self.kind = bytearray()
        self.valid_from = array("q")
        self.valid_to = array("q")  # 0: open
        self.ended = 0
        self.pairs: set[int] = set()
        self.layout = Layout()

    def __len__(self) -> int:
        return len(self.source)

    def add(self, source: int, target: int, kind: str, *, valid_from: int = 0, valid_to: int = 0) -> bool:
        """Adds an open (or, with valid_to, ended) edge; refuses self-loops and a second open edge per pair."""
        if source == target:
            return False
        if not valid_to:
            key = source * self.stride + target
            if key in self.pairs:
                return False
            self.pairs.add(key)
        if not valid_from:
            valid_from = self.now - self.rng.randrange(2 * DAY, 3 * 365 * DAY)
        self.source.append(source)
        self.target.append(target)
        self.kind.append(EDGE_CODE[kind])
        self.valid_from.append(valid_from)
        self.valid_to.append(valid_to)
        self.ended += bool(valid_to)
        return True

    def generate(self, *, edges: int) -> Layout:
        rng, a = self.rng, self.a
        n = len(a.kind) - 1
        scale = n / 1_000_000
        by_kind: dict[str, list[int]] = {kind: [] for kind in KINDS}
        for asset_id in range(1, n + 1):
            by_kind[KINDS[a.kind[asset_id]]].append(asset_id)
        for ids in by_kind.values():
            rng.shuffle(ids)
        lay = self.layout
        lay.closure_size = max(400, round(40_000 * scale))
        lay.warehouse_fanout = max(100, round(12_000 * scale))
        lay.date_fanout = max(100, round(10_000 * scale))
        lay.release_size = max(100, round(10_000 * scale))
        ended_target = round(edges * 0.03)

        def take(kind: str, count: int, *, where: Callable[[int], bool] | None = None) -> list[int]:
            pool = by_kind[kind]
            if where is None:
                taken = pool[-count:] if count else []
                del pool[len(pool) - len(taken) :]
                return taken
            taken, kept = [], []
            for asset_id in reversed(pool):
                (taken if len(taken) < count and where(asset_id) else kept).append(asset_id)
            by_kind[kind] = kept[::-1]
            if len(taken) < count:
                raise SystemExit(f"not enough {kind} assets for the layout; load more --assets")
            return taken

        def active(asset_id: int) -> bool:
            return bool(a.active[asset_id])

        # The enterprise cluster: every one of its assets descends from its root data product.
        lineage_kinds = ("data_product", "dataset", "template", "analysis", "dashboard", "visual")
        weight = sum(KIND_WEIGHTS[k] for k in lineage_kinds)
        counts = {k: max(3, round(lay.closure_size * KIND_WEIGHTS[k] / weight)) for k in lineage_kinds}
        counts["visual"] += lay.closure_size + 1 - sum(counts.values())
        enterprise = {"data_source": [], **{k: take(k, counts[k]) for k in lineage_kinds}}
        root = take("data_product", 1, where=active)[0]
        enterprise["data_product"][0:0] = [root]
        enterprise["visual"].pop()  # the root took its place
        lay.closure_root = root

        # The hubs and the release.
        lay.warehouse = take("data_source", 1, where=active)[0]
        lay.date_dimension = take("dataset", 1, where=active)[0]
        lay.reference_analysis = take("analysis", 1, where=active)[0]
        lay.template_v1, lay.template_v2 = take("template", 2, where=active)
        lay.placeholder_dataset = take("dataset", 1, where=active)[0]
        customer_dashboards = set(
            take("dashboard", lay.release_size, where=lambda i: bool(a.active[i] and a.customer[i]))
        )
        by_kind["dashboard"].extend(customer_dashboards)  # they belong to clusters like any dashboard
        rng.shuffle(by_kind["dashboard"])

        # The clusters.
        lay_kinds = ("data_source", *lineage_kinds)
        remaining = sum(len(by_kind[k]) for k in lay_kinds)
        lay.clusters = max(1, round(remaining / CLUSTER_SIZE))
        clusters = [{k: by_kind[k][c :: lay.clusters] for k in lay_kinds} for c in range(lay.clusters)]
        log(f"  {lay.clusters} clusters and an enterprise cluster of {lay.closure_size + 1:,} assets ...")
        for members in clusters:
            self._cluster(members, customer_dashboards=customer_dashboards)
        self._cluster(enterprise, customer_dashboards=customer_dashboards, root=root)
        structural = len(self)

        # The warehouse, the date dimension and the reference analysis with its customer dashboards.
        datasets = [d for c in clusters for d in c["dataset"]]
        for dataset in rng.sample(datasets, min(len(datasets), lay.warehouse_fanout)):
            self.add(lay.warehouse, dataset, "reads_from")
        self.add(lay.warehouse, lay.date_dimension, "reads_from")
        self.add(lay.warehouse, lay.placeholder_dataset, "reads_from")
        consumers = [x for c in clusters for k in ("analysis", "dashboard", "visual") for x in c[k]]
        for consumer in rng.sample(consumers, min(len(consumers), lay.date_fanout)):
            self.add(lay.date_dimension, consumer, "uses_dataset")
        self._release_history(sorted(customer_dashboards), datasets)
        hubs = len(self) - structural

        # Ended relationships, then further edges inside clusters up to the total asked for.
        everything = [*clusters, enterprise]
        sizes = list(itertools.accumulate(sum(len(v) for v in c.values()) for c in everything))
        while self.ended < ended_target:
            members = rng.choices(everything, cum_weights=sizes)[0]
            self._fill(members, ended=True)
        attempts = 0
        while len(self) < edges and attempts < 20 * edges:
            attempts += 1
            members = rng.choices(everything, cum_weights=sizes)[0]
            self._fill(members, ended=False)
        log(
            f"  {len(self):,} edges: {structural:,} in clusters, {hubs:,} around the hubs, "
            f"{self.ended:,} ended, the rest extra edges inside clusters"
        )
        if len(self) > edges * 1.02:
            log(f"  note: the layout needs {len(self):,} edges, more than --edges {edges:,}")
        return lay

    def _cluster(self, m: dict[str, list[int]], *, customer_dashboards: set[int], root: int | None = None) -> None:
        rng, add = self.rng, self.add
        products, sources, datasets = m["data_product"], m["data_source"], m["dataset"]
        analyses, templates, dashboards, visuals = m["analysis"], m["template"], m["dashboard"], m["visual"]
        for i, product in enumerate(products):
            if i and (root is not None or rng.random() < 0.4):
                add(products[rng.randrange(i)], product, "derived_from")
        cycle_from = products[1:] if root is not None else products
        if len(cycle_from) >= 3 and (root is not None or rng.random() < 0.1):
            x, y, z = rng.sample(cycle_from, 3)
            add(x, y, "derived_from")
            add(y, z, "derived_from")
            add(z, x, "derived_from")
            self.layout.cycles += 1
        upstream = sources + products if root is None else products
        if not upstream or not datasets:
            return
        popular = _zipf(len(upstream), 1.1)
        for j, (dataset, origin) in enumerate(
            zip(datasets, rng.choices(upstream, cum_weights=popular, k=len(datasets)), strict=True)
        ):
            add(origin, dataset, "reads_from")
            if j and rng.random() < 0.4:
                add(datasets[rng.randrange(j)], dataset, "derived_from")
        for analysis in analyses:
            for dataset in rng.sample(datasets, min(len(datasets), rng.randint(2, 5))):
                add(dataset, analysis, "uses_dataset")
        for template in templates:
            if analyses:
                add(rng.choice(analyses), template, "template_of")
            for dataset in rng.sample(datasets, min(len(datasets), rng.randint(1, 2))):
                add(dataset, template, "uses_dataset")
        for dashboard in dashboards:
            for dataset in rng.sample(datasets, min(len(datasets), rng.randint(2, 5))):
                add(dataset, dashboard, "uses_dataset")
            if templates and dashboard not in customer_dashboards and rng.random() < 0.5:
                add(rng.choice(templates), dashboard, "created_from")
        containers = dashboards + analyses
        for visual in visuals:
            add(rng.choice(datasets), visual, "uses_dataset")
            if containers:
                add(rng.choice(containers), visual, "contains")
                if rng.random() < 0.3:
                    add(rng.choice(containers), visual, "contains")

    def _fill(self, m: dict[str, list[int]], *, ended: bool) -> None:
        """One more edge inside a cluster: mostly a dataset used by a BI asset or a visual in a dashboard."""
        rng = self.rng
        r = rng.random()
        upstream = m["data_source"] + m["data_product"] if r >= 0.9 else []
        if r < 0.6 and m["dataset"]:
            consumers = m["visual"] if r < 0.35 else (m["dashboard"] if r < 0.5 else m["analysis"])
            if not consumers:
                return
            source, target, kind = rng.choice(m["dataset"]), rng.choice(consumers), "uses_dataset"
        elif r < 0.9 and m["dashboard"] and m["visual"]:
            source, target, kind = rng.choice(m["dashboard"]), rng.choice(m["visual"]), "contains"
        elif upstream and m["dataset"]:
            source, target, kind = rng.choice(upstream), rng.choice(m["dataset"]), "reads_from"
        else:
            return
        if ended:
            began = self.now - rng.randrange(200 * DAY, 3 * 365 * DAY)
            self.add(
                source, target, kind, valid_from=began, valid_to=began + rng.randrange(DAY, self.now - DAY - began)
            )
        else:
            self.add(source, target, kind)

    def _release_history(self, dashboards: list[int], datasets: list[int]) -> None:
        """Template v1 made from the reference analysis, replaced by v2 at the last release; the customer
        dashboards moved from v1 to v2 then. Each uses its customer's dataset, which fits the placeholder."""
        rng, lay, add = self.rng, self.layout, self.add
        released = self.now - 120 * DAY
        first = self.now - 700 * DAY
        analysis, v1, v2, placeholder = (
            lay.reference_analysis,
            lay.template_v1,
            lay.template_v2,
            lay.placeholder_dataset,
        )
        add(placeholder, analysis, "uses_dataset", valid_from=first)
        add(analysis, v1, "template_of", valid_from=first, valid_to=released)
        add(placeholder, v1, "uses_dataset", valid_from=first, valid_to=released)
        add(analysis, v2, "template_of", valid_from=released)
        add(placeholder, v2, "uses_dataset", valid_from=released)
        pool = rng.sample(datasets, max(10, len(dashboards) // 20))
        lay.customer_datasets = pool
        lay.misfit_datasets = pool[: max(1, len(pool) // 100)]
        for dashboard in dashboards:
            began = rng.randrange(first, released - DAY)
            add(v1, dashboard, "created_from", valid_from=began, valid_to=released)
            add(v2, dashboard, "created_from", valid_from=released)
            add(rng.choice(pool), dashboard, "uses_dataset", valid_from=began)

    def copy_text(self, order: Sequence[int]) -> Iterable[str]:
        """COPY text of the edges in the given order, ids numbered in that order, EDGE_CHUNK lines at a time."""
        lines: list[str] = []
        ts = _ts
        for edge_id, i in enumerate(order, 1):
            began = ts(self.valid_from[i])
            ended_at = self.valid_to[i]
            ended = ts(ended_at) if ended_at else "\\N"
            lines.append(
                f"{edge_id}\t{self.source[i]}\t{self.target[i]}\t{EDGE_KINDS[self.kind[i]]}\t{began}\t{ended}\t"
                f"{began}\timport\t{began}\t{ended if ended_at else began}\t\\N\t\\N"
            )
            if len(lines) >= EDGE_CHUNK:
                yield _lines(lines)
                lines = []
        if lines:
            yield _lines(lines)


def lineage_load(db: LineageDatabase, *, assets: int, edges: int, seed: int) -> tuple[Layout, dict[str, Any]]:
    """Loads everything in one transaction (a failed load leaves nothing half done), then indexes and analyzes."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    catalog = Catalog(now=time.time())
    with db.connect() as conn:
        # The data is generated consistent, so foreign keys are not checked row by row during the load.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '1GB'")
        indexes = secondary_indexes(conn, LOADED_TABLES)
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        reference_load(conn, catalog)
        generator = AssetGenerator(catalog, seed)
        generator.kinds = list(KIND_WEIGHTS)
        generator.kind_cum = list(itertools.accumulate(KIND_WEIGHTS.values()))
        info = Assets(
            kind=bytearray(assets + 1), customer=array("i", bytes(4 * (assets + 1))), active=bytearray(assets + 1)
        )
        loaded = 0
        step = time.perf_counter()
        while loaded < assets:
            count = min(ASSET_CHUNK, assets - loaded)
            asset_text, link_text, column_text = generator.chunk(loaded + 1, count)
            for line in asset_text.splitlines():  # what each generated asset became: kind, status, customer
                fields = line.split("\t", 17)
                asset_id = int(fields[0])
                info.kind[asset_id] = KIND_CODE[fields[1]]
                info.active[asset_id] = fields[7] == "active"
                info.customer[asset_id] = 0 if fields[16] == "\\N" else int(fields[16])
            _copy_text(conn, "catalog_asset", ASSET_COLUMNS, asset_text)
            _copy_text(conn, "catalog_asset_tags", TAG_LINK_COLUMNS, link_text)
            _copy_text(conn, "catalog_column", COLUMN_COLUMNS, column_text)
            loaded += count
            log(f"\r  assets {loaded:>10,} / {assets:,}  ({loaded / (time.perf_counter() - step):,.0f}/s)", end="")
        log("")
        timings["assets_seconds"] = time.perf_counter() - step
        step = time.perf_counter()
        log("  generating the edges ...")
        graph = EdgeGenerator(info, seed=seed, now=catalog.now)
        layout = graph.generate(edges=edges)
        order = list(range(len(graph)))
        graph.rng.shuffle(order)
        timings["edges_generate_seconds"] = time.perf_counter() - step
        step = time.perf_counter()
        written = 0
        for text in graph.copy_text(order):
            _copy_text(conn, "lineage_edge", EDGE_COLUMNS, text)
            written = min(written + EDGE_CHUNK, len(order))
            log(f"\r  edges {written:>10,} / {len(order):,}  ({written / (time.perf_counter() - step):,.0f}/s)", end="")
        log("")
        timings["edges_copy_seconds"] = time.perf_counter() - step
        del graph, order, info
        for table in (*SEQUENCED_TABLES, "lineage_edge"):
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))").format(
                    t=sql.Literal(table), i=sql.Identifier(table)
                )
            )
        special_assets_name(conn, layout)
        conn.commit()
        conn.autocommit = True
        step = time.perf_counter()
        for name, definition in indexes:
            log(f"  rebuilding {name} ...")
            conn.execute(definition)
        timings["index_seconds"] = time.perf_counter() - step
        step = time.perf_counter()
        log("  VACUUM ANALYZE ...")
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_seconds"] = time.perf_counter() - step
        conn.execute("CHECKPOINT")
        orphans = conn.execute(
            """
            SELECT count(*) FROM lineage_edge e
            WHERE NOT EXISTS (SELECT 1 FROM catalog_asset a WHERE a.id = e.source_id)
               OR NOT EXISTS (SELECT 1 FROM catalog_asset a WHERE a.id = e.target_id)
            """
        ).fetchone()[0]
        if orphans:
            raise SystemExit(f"the load is inconsistent: {orphans} edges with a missing end")
    timings["total_seconds"] = time.perf_counter() - started
    stats = {
        "seconds": round(timings["total_seconds"], 1),
        "steps_seconds": {k: round(v, 1) for k, v in timings.items() if k != "total_seconds"},
        "tag_links": generator.tag_link_id,
        "columns": generator.column_id,
        "edge_history_rows": 0,
    }
    return layout, stats


def special_assets_name(conn: psycopg.Connection, lay: Layout) -> None:
    """Names the hubs and the release's assets, and gives the release's datasets the placeholder's schema (a few
    customer datasets with `amount` mistyped, so the release's dataset check finds problems)."""
    named = [
        (lay.closure_root, "Customer 360 (enterprise data product)", None),
        (lay.warehouse, "Enterprise warehouse", None),
        (lay.date_dimension, "Date dimension", None),
        (lay.placeholder_dataset, "Sales performance placeholder", None),
        (lay.reference_analysis, "Sales performance reference analysis", 2),
        (lay.template_v1, "Sales performance reference analysis template v1", 1),
        (lay.template_v2, "Sales performance reference analysis template v2", 2),
    ]
    for asset_id, name, version in named:
        conn.execute(
            "UPDATE catalog_asset SET name = %s, status = 'active', version = coalesce(%s, version) WHERE id = %s",
            [name, version, asset_id],
        )
    conn.execute(
        "UPDATE catalog_asset SET customer_id = NULL, attributes = '{\"is_reference\": true}' WHERE id = %s",
        [lay.reference_analysis],
    )
    conn.execute("UPDATE catalog_asset SET customer_id = NULL, status = 'archived' WHERE id = %s", [lay.template_v1])
    conn.execute("UPDATE catalog_asset SET customer_id = NULL WHERE id = %s", [lay.template_v2])
    schema_ids = [lay.placeholder_dataset, *lay.customer_datasets]
    conn.execute("DELETE FROM catalog_column WHERE asset_id = ANY(%s)", [schema_ids])
    misfits = set(lay.misfit_datasets)
    rows = [
        (name, "varchar" if asset_id in misfits and name == "amount" else data_type, position, asset_id)
        for asset_id in schema_ids
        for position, (name, data_type) in enumerate(RELEASE_COLUMNS)
    ]
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO catalog_column (name, data_type, description, position, nullable, created_at, updated_at, "
            "asset_id) VALUES (%s, %s, '', %s, true, now(), now(), %s)",
            rows,
        )


# ---------------------------------------------------------------------------------------------------------------
# networkx: the same traversals on an in-memory copy


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def networkx_load(db: LineageDatabase) -> tuple[Any, dict[str, Any]]:
    """Every open edge in a networkx DiGraph (with its kind), and what loading it cost."""
    import networkx as nx

    gc.collect()
    before = rss_mib()
    started = time.perf_counter()
    rows: list[tuple[int, int, str]] = []
    with (
        db.connect() as conn,
        conn.cursor() as cursor,
        cursor.copy(
            "COPY (SELECT source_id, target_id, kind FROM lineage_edge WHERE valid_to IS NULL) TO STDOUT"
        ) as copy,
    ):
        copy.set_types(["int8", "int8", "text"])
        rows.extend(copy.rows())
    fetched = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_edges_from((source, target, {"kind": kind}) for source, target, kind in rows)
    built = time.perf_counter()
    del rows
    gc.collect()
    return graph, {
        "version": nx.__version__,
        "graph": "DiGraph of the open edges, kind as an edge attribute",
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "load_seconds": round(built - started, 1),
        "fetch_seconds": round(fetched - started, 1),
        "build_seconds": round(built - fetched, 1),
        "memory_mib": round(rss_mib() - before),
    }


def networkx_details(db: LineageDatabase) -> tuple[dict[int, tuple], dict[str, Any]]:
    """What impact_summary groups by, per asset, in memory (for the summary's networkx counterpart)."""
    gc.collect()
    before = rss_mib()
    started = time.perf_counter()
    with db.connect() as conn:
        rows = conn.execute(
            """
            SELECT a.id, a.kind, c.name, b.name, u.username, u.email, g.name
            FROM catalog_asset a
            LEFT JOIN catalog_customer c ON c.id = a.customer_id
            LEFT JOIN catalog_businessunit b ON b.id = a.business_unit_id
            LEFT JOIN auth_user u ON u.id = a.owner_id
            LEFT JOIN auth_group g ON g.id = a.owner_group_id
            """
        ).fetchall()
    details = {row[0]: row[1:] for row in rows}
    del rows
    gc.collect()
    return details, {
        "load_seconds": round(time.perf_counter() - started, 1),
        "memory_mib": round(rss_mib() - before),
    }


def _nx_walk(
    neighbours: Callable[[int], Iterable[int]], seen: dict[int, int], *, root: int, sign: int, depth: int, cap: int
) -> bool:
    """lineage.selectors._walk on the in-memory graph: level by level, new nodes in id order, stop at the cap."""
    frontier = [root]
    for level in range(1, depth + 1):
        if not frontier:
            return False
        found = sorted(far for near in frontier for far in neighbours(near))
        frontier = []
        for node in found:
            if node in seen:
                continue
            if len(seen) >= cap:
                return True
            seen[node] = sign * level
            frontier.append(node)
    return False


def nx_lineage(graph: Any, root: int, *, direction: str, depth: int, cap: int) -> tuple[dict[int, int], bool, int]:
    """What lineage_subgraph + degrees compute, in memory: (node → depth, truncated, number of edges)."""
    seen = {root: 0}
    truncated = False
    if direction in ("downstream", "both"):
        truncated = _nx_walk(graph.successors, seen, root=root, sign=1, depth=depth, cap=cap)
    if direction in ("upstream", "both") and not truncated:
        truncated = _nx_walk(graph.predecessors, seen, root=root, sign=-1, depth=depth, cap=cap)
    nodes = list(seen)
    edges = list(graph.subgraph(nodes).edges(data="kind"))
    dict(graph.out_degree(nodes))
    dict(graph.in_degree(nodes))
    return seen, truncated, len(edges)


# ---------------------------------------------------------------------------------------------------------------
# Measuring


class Rollback(Exception):
    """Raised to roll back the release after timing it."""


def summary(timings: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(timings, 0.5), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wait_for_quiet(*, max_load: float, timeout: float) -> dict[str, Any]:
    """Waits until the 1-minute load average is below max_load (at most `timeout` seconds)."""
    started = time.monotonic()
    first = load_average()
    while os.getloadavg()[0] >= max_load and time.monotonic() - started < timeout:
        log(f"  load average {os.getloadavg()[0]:.2f} >= {max_load}; waiting ...")
        time.sleep(30)
    return {
        "before_waiting": first,
        "at_start": load_average(),
        "waited_seconds": round(time.monotonic() - started),
        "quiet": os.getloadavg()[0] < max_load,
        "threshold_1min": max_load,
    }


def with_ratio(
    ours: dict[str, Any], nx_timings: Sequence[float], *, target: float, key: str = "p95_ms"
) -> dict[str, Any]:
    theirs = summary(nx_timings)
    result = dict(ours)
    result["networkx_p50_ms"] = theirs["p50_ms"]
    result["networkx_p95_ms"] = theirs["p95_ms"]
    result["ratio_p50"] = round(ours["p50_ms"] / max(theirs["p50_ms"], 0.001), 1)
    result["ratio_p95"] = round(ours["p95_ms"] / max(theirs["p95_ms"], 0.001), 1)
    result[f"target_{key}"] = target
    result["pass"] = ours[key] <= target
    return result


def traversal_measure(
    *,
    user: Any,
    graph: Any,
    roots: Sequence[int],
    direction: str,
    depth: int,
    cap: int,
    runs: int,
    warmup: int,
    target: float,
) -> dict[str, Any]:
    """lineage_for_user from each root in turn, then networkx the same way; checks that the node sets agree."""
    from lineage.selectors import lineage_for_user

    load = load_average()[0]

    def ours(root: int) -> dict[str, Any]:
        return lineage_for_user(user=user, root=root, direction=direction, depth=depth, node_cap=cap)

    for i in range(warmup):
        ours(roots[i % len(roots)])
    timings, sizes, truncated = [], [], []
    for i in range(runs):
        root = roots[i % len(roots)]
        started = time.perf_counter()
        data = ours(root)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(data["nodes"]))
        truncated.append(data["truncated"])
    nx_timings, disagreements = [], []
    for i in range(runs):
        root = roots[i % len(roots)]
        started = time.perf_counter()
        nx_lineage(graph, root, direction=direction, depth=depth, cap=cap)
        nx_timings.append((time.perf_counter() - started) * 1000)
    for root in sorted(set(roots[: min(runs, len(roots))])):
        data = ours(root)
        seen, nx_truncated, _ = nx_lineage(graph, root, direction=direction, depth=depth, cap=cap)
        if {int(n["id"]) for n in data["nodes"]} != set(seen) or data["truncated"] != nx_truncated:
            disagreements.append(root)
    result = {"runs": runs, "roots": len(set(roots[:runs])), "load_1min_at_start": load, **summary(timings)}
    result["nodes_p50"] = int(percentile(sizes, 0.5))
    result["nodes_max"] = max(sizes)
    result["truncated_reported"] = f"{sum(truncated)} of {runs} runs"
    result["same_nodes_as_networkx"] = not disagreements
    if disagreements:
        result["disagreeing_roots"] = disagreements[:10]
    return with_ratio(result, nx_timings, target=target)


def impact_measure(*, user: Any, graph: Any, details: dict[int, tuple], root: int, runs: int) -> dict[str, Any]:
    """impact_closure(...).count() and impact_summary, beside networkx descendants (and the same grouping)."""
    import networkx as nx

    from lineage.selectors import impact_closure, impact_summary

    load = load_average()[0]
    impact_closure(root=root).count()  # warm-up
    count_timings, summary_timings, totals = [], [], set()
    for _ in range(runs):
        started = time.perf_counter()
        totals.add(impact_closure(root=root).count())
        count_timings.append((time.perf_counter() - started) * 1000)
    for _ in range(runs):
        started = time.perf_counter()
        impact = impact_summary(user=user, root=root)
        summary_timings.append((time.perf_counter() - started) * 1000)
        totals.add(impact.total)
    nx_count, nx_summary, nx_totals = [], [], set()
    for _ in range(runs):
        started = time.perf_counter()
        nx_totals.add(len(nx.descendants(graph, root)))
        nx_count.append((time.perf_counter() - started) * 1000)
    for _ in range(runs):
        started = time.perf_counter()
        rows = [details[node] for node in nx.descendants(graph, root)]
        groups = [Counter(row[i] for row in rows) for i in range(6)]
        Counter((row[3], row[4]) for row in rows if row[3] is not None)
        nx_summary.append((time.perf_counter() - started) * 1000)
        nx_totals.add(len(rows))
        del groups
    target = TARGETS_MS["impact"]
    closure = {"runs": runs, "nodes": sorted(totals), "load_1min_at_start": load, **summary(count_timings)}
    full = {"runs": runs, "nodes": sorted(totals), "load_1min_at_start": load, **summary(summary_timings)}
    return {
        "closure_count": with_ratio(closure, nx_count, target=target),
        "impact_summary": with_ratio(full, nx_summary, target=target),
        "same_count_as_networkx": totals == nx_totals and len(totals) == 1,
    }


def release_measure(*, user: Any, graph: Any, layout: Layout, runs: int, db: LineageDatabase) -> dict[str, Any]:
    """release_apply on the reference analysis, rolled back after each run; then the same rewrite in memory."""
    from django.db import transaction

    from catalog.models import Asset
    from lineage.services import release_apply

    load = load_average()[0]
    analysis = Asset.objects.get(pk=layout.reference_analysis)
    timings, repointed, problems = [], set(), set()
    for run in range(runs):
        log(f"    release run {run + 1} of {runs} ...", end="")
        try:
            with transaction.atomic():
                started = time.perf_counter()
                release = release_apply(
                    reference_analysis=analysis, description="Benchmark release", actor=user, force=True
                )
                elapsed = (time.perf_counter() - started) * 1000
                repointed.add(len(release.changes))
                problems.add(len(release.problems))
                raise Rollback
        except Rollback:
            pass
        timings.append(elapsed)
        log(f" {elapsed:,.0f} ms")
        # The rolled-back rows are dead; clean them as autovacuum would, so every run starts alike.
        with db.connect(autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) lineage_edge, lineage_historicaledge, catalog_asset, lineage_release")
    old = layout.template_v2
    new = -1
    targets = [t for t, attrs in graph.adj[old].items() if attrs.get("kind") == "created_from"]
    nx_timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for target in targets:
            graph.remove_edge(old, target)
            graph.add_edge(new, target, kind="created_from")
        nx_timings.append((time.perf_counter() - started) * 1000)
        for target in targets:  # put the graph back (not timed)
            graph.remove_edge(new, target)
            graph.add_edge(old, target, kind="created_from")
        graph.remove_node(new)
    result = {
        "runs": runs,
        "load_1min_at_start": load,
        "repointed": sorted(repointed),
        "customer_assets_with_dataset_problems": sorted(problems),
        **summary(timings),
        "every_run_ms": [round(t) for t in timings],
        "networkx_rewrites": len(targets),
    }
    return with_ratio(result, nx_timings, target=TARGETS_MS["release"])


def http_measure(client: Client, paths: Sequence[str], *, runs: int, warmup: int, target: float) -> dict[str, Any]:
    load = load_average()[0]
    for i in range(warmup):
        client.get(paths[i % len(paths)])
    timings, errors, truncated = [], [], 0
    for i in range(runs):
        path = paths[i % len(paths)]
        status, body, elapsed = client.get(path)
        if status != 200:
            errors.append(f"{status} {path}: {body[:200].decode(errors='replace')}")
            continue
        timings.append(elapsed)
        data = json.loads(body)
        truncated += bool(data.get("truncated"))
    result: dict[str, Any] = {"requests": len(timings), "load_1min_at_start": load}
    if timings:
        result.update(summary(timings))
        result["truncated_reported"] = f"{truncated} of {len(timings)} responses"
        result["target_p95_ms"] = target
        result["pass"] = result["p95_ms"] <= target and not errors
    else:
        result["pass"] = False
    if errors:
        result["errors"] = {"count": len(errors), "first": errors[:3]}
    return result


def summary_table(in_process: dict[str, dict[str, Any]], http: dict[str, dict[str, Any]]) -> str:
    """The figures side by side, for the terminal."""
    lines = [
        f"{'measurement':34} {'p50 ms':>9} {'p95 ms':>9} {'networkx p50':>13} {'p95':>9} {'ratio p95':>10} "
        f"{'target':>8}  pass"
    ]
    for name, r in in_process.items():
        target = r.get("target_p95_ms", "")
        lines.append(
            f"{name:34} {r['p50_ms']:9.1f} {r['p95_ms']:9.1f} {r['networkx_p50_ms']:13.2f} {r['networkx_p95_ms']:9.2f} "
            f"{r['ratio_p95']:10.1f} {target:8}  {'yes' if r['pass'] else 'NO'}"
        )
    for name, r in http.items():
        if "p50_ms" in r:
            lines.append(
                f"{'http ' + name:34} {r['p50_ms']:9.1f} {r['p95_ms']:9.1f} {'':13} {'':9} {'':10} "
                f"{r['target_p95_ms']:8}  {'yes' if r['pass'] else 'NO'}"
            )
    return "\n".join(lines)


def counts_read(db: LineageDatabase, layout: Layout) -> dict[str, Any]:
    with db.connect() as conn:
        assets = dict(conn.execute("SELECT kind, count(*) FROM catalog_asset GROUP BY kind ORDER BY kind").fetchall())
        edges = {
            kind: {"open": open_, "ended": ended}
            for kind, open_, ended in conn.execute(
                "SELECT kind, count(*) FILTER (WHERE valid_to IS NULL), count(*) FILTER (WHERE valid_to IS NOT NULL) "
                "FROM lineage_edge GROUP BY kind ORDER BY kind"
            ).fetchall()
        }

        def out_degree(asset_id: int) -> int:
            return conn.execute(
                "SELECT count(*) FROM lineage_edge WHERE source_id = %s AND valid_to IS NULL", [asset_id]
            ).fetchone()[0]

        hubs = {
            "warehouse_datasets": out_degree(layout.warehouse),
            "date_dimension_consumers": out_degree(layout.date_dimension),
            "template_v2_customer_assets": out_degree(layout.template_v2),
        }
    return {
        "assets": sum(assets.values()),
        "assets_by_kind": assets,
        "edges": sum(e["open"] + e["ended"] for e in edges.values()),
        "open_edges": sum(e["open"] for e in edges.values()),
        "ended_edges": sum(e["ended"] for e in edges.values()),
        "edges_by_kind": edges,
        "hubs": hubs,
        "clusters": layout.clusters,
        "data_product_cycles": layout.cycles,
    }


def top_upstream(db: LineageDatabase, count: int) -> list[int]:
    """The data sources and data products with the most open outgoing edges."""
    with db.connect() as conn:
        rows = conn.execute(
            """
            SELECT e.source_id FROM lineage_edge e JOIN catalog_asset a ON a.id = e.source_id
            WHERE e.valid_to IS NULL AND a.kind IN ('data_source', 'data_product')
            GROUP BY e.source_id ORDER BY count(*) DESC, e.source_id LIMIT %s
            """,
            [count],
        ).fetchall()
    return [row[0] for row in rows]


def roots_choose(
    db: LineageDatabase, graph: Any, layout: Layout, *, seed: int, runs: int
) -> tuple[list[int], list[int], list[int]]:
    """(ordinary assets, hubs, hub-ish roots): random assets with fewer than 100 open edges for one-hop; the three
    big hubs and the five next best connected assets; the hubs, the closure root and the data sources and products
    with the most outgoing edges for depth 5."""
    rng = random.Random(seed + 2)
    named_hubs = [layout.warehouse, layout.date_dimension, layout.template_v2]
    degree = {node: graph.in_degree(node) + graph.out_degree(node) for node in graph.nodes}
    by_degree = sorted(degree, key=lambda node: (-degree[node], node))
    hubs = named_hubs + [node for node in by_degree if node not in named_hubs][:5]
    ordinary_pool = sorted(node for node, d in degree.items() if d < 100 and node not in named_hubs)
    ordinary = rng.sample(ordinary_pool, min(len(ordinary_pool), runs))
    hubbish = [layout.warehouse, layout.date_dimension, layout.template_v2, layout.closure_root]
    hubbish += [node for node in top_upstream(db, 20) if node not in hubbish][:16]
    return ordinary, hubs, hubbish


def postgres_info(db: LineageDatabase) -> dict[str, Any]:
    names = ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit")
    with db.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0] for name in names}
        sizes = {
            table: conn.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table]).fetchone()[0]
            for table in ("catalog_asset", "lineage_edge")
        }
    return {"version": version, "settings": settings, "sizes_with_indexes": sizes}


# ---------------------------------------------------------------------------------------------------------------
# The run


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=1_000_000, help="assets to load (default 1,000,000)")
    parser.add_argument("--edges", type=int, default=3_000_000, help="edges to load, ended ones included (3,000,000)")
    parser.add_argument("--database", default="cartograph_lineage_bench", help="name of the scratch database")
    parser.add_argument("--keep", action="store_true", help="keep the database, and reuse it when it is complete")
    parser.add_argument("--runs", type=int, default=100, help="timed one-hop and depth-5 traversals each (100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed traversals first (10)")
    parser.add_argument("--impact-runs", type=int, default=10, help="timed impact closures (10)")
    parser.add_argument("--release-runs", type=int, default=5, help="timed releases, each rolled back (5)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCHMARK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="server to use, as a URL of its maintenance database (env BENCHMARK_POSTGRES_URL)",
    )
    parser.add_argument("--workers", type=int, default=2, help="web server workers (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per web server worker (default 2)")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for a 1-minute load average below this")
    parser.add_argument("--load-wait", type=float, default=900, help="longest wait for it, in seconds (900)")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed of the synthetic catalog")
    args = parser.parse_args(argv)
    if args.assets < 20_000 or args.edges < 2 * args.assets or args.runs < 1:
        parser.error("--assets must be at least 20,000, --edges at least twice --assets, --runs at least 1")
    return args


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    db = LineageDatabase(args.postgres, args.database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DEBUG": "false",
        "CARTOGRAPH_RECORD_VIEWS_ASYNC": "false",
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": db.url(),
    }
    server: Server | None = None
    workdir = Path(tempfile.mkdtemp(prefix="lineage-scale-"))
    key = {"assets": args.assets, "edges": args.edges, "seed": args.seed}
    try:
        earlier = database_prepare(db, key=key, keep=args.keep)
        migrate(db, env)
        if earlier is not None:
            layout = Layout(**earlier["layout"])
            load: dict[str, Any] = {"reused": True, "first_load": earlier.get("load")}
            with db.connect(autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                conn.execute("CHECKPOINT")
        else:
            log(f"Loading {args.assets:,} assets and {args.edges:,} edges ...")
            layout, load = lineage_load(db, assets=args.assets, edges=args.edges, seed=args.seed)
            load["reused"] = False
            db.set_comment(
                {
                    "marker": MARKER,
                    "complete": True,
                    **key,
                    "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "layout": layout.__dict__,
                    "load": load,
                }
            )
            log(f"Loaded in {load['seconds']:.0f} s.")
        counts = counts_read(db, layout)
        log("Loading the open edges into networkx ...")
        graph, nx_info = networkx_load(db)
        details, details_info = networkx_details(db)
        nx_info["impact_details"] = details_info
        # Millions of long-lived graph objects would make every full garbage collection in the measured code slow.
        gc.freeze()
        log(f"  {nx_info['edges']:,} edges in {nx_info['load_seconds']} s, {nx_info['memory_mib']:,} MiB")

        os.environ.update(env)
        import django

        django.setup()
        from django.contrib.auth import get_user_model

        staff = get_user_model().objects.get(username="bench-staff")
        ordinary, hubs, hubbish = roots_choose(db, graph, layout, seed=args.seed, runs=args.runs)
        gc.collect()

        log("Waiting for a quiet machine ...")
        quiet = wait_for_quiet(max_load=args.max_load, timeout=args.load_wait)
        log(f"  load average {quiet['at_start']}")
        results: dict[str, Any] = {}
        log("One-hop expansion (in process) ...")
        common = {"user": staff, "graph": graph, "runs": args.runs, "warmup": args.warmup}
        results["one_hop_ordinary"] = traversal_measure(
            roots=ordinary, direction="both", depth=1, cap=ONE_HOP_CAP, target=TARGETS_MS["one_hop"], **common
        )
        results["one_hop_hubs"] = traversal_measure(
            roots=hubs, direction="both", depth=1, cap=ONE_HOP_CAP, target=TARGETS_MS["one_hop"], **common
        )
        log("Depth-5 downstream, capped at 2,000 nodes (in process) ...")
        results["depth5_downstream_cap2000"] = traversal_measure(
            roots=hubbish, direction="downstream", depth=5, cap=DEPTH5_CAP, target=TARGETS_MS["depth5"], **common
        )
        log("Impact closure (in process) ...")
        results["impact"] = impact_measure(
            user=staff, graph=graph, details=details, root=layout.closure_root, runs=args.impact_runs
        )
        log("Release (in process, rolled back) ...")
        results["release"] = release_measure(user=staff, graph=graph, layout=layout, runs=args.release_runs, db=db)
        from django.db import connections

        connections.close_all()

        tokens = tokens_read(db)
        server = Server(env=env, workers=args.workers, threads=args.threads, log_path=workdir / "web.log")
        log(f"Starting the web server on port {server.port} ...")
        wait_until_ready(server, tokens["staff"])
        client = Client(server.port, tokens["staff"])
        log("Over HTTP ...")
        one_hop = "/api/v1/assets/{}/lineage/?direction=both&depth=1"
        depth5 = f"/api/v1/assets/{{}}/lineage/?direction=downstream&depth=5&node_cap={DEPTH5_CAP}"
        results["http"] = {
            "one_hop_ordinary": http_measure(
                client,
                [one_hop.format(r) for r in ordinary],
                runs=args.runs,
                warmup=args.warmup,
                target=TARGETS_MS["one_hop"],
            ),
            "one_hop_hubs": http_measure(
                client,
                [one_hop.format(r) for r in hubs],
                runs=args.runs,
                warmup=args.warmup,
                target=TARGETS_MS["one_hop"],
            ),
            "depth5_downstream_cap2000": http_measure(
                client,
                [depth5.format(r) for r in hubbish],
                runs=args.runs,
                warmup=args.warmup,
                target=TARGETS_MS["depth5"],
            ),
            "impact": http_measure(
                client,
                [f"/api/v1/assets/{layout.closure_root}/impact/"],
                runs=args.impact_runs,
                warmup=1,
                target=TARGETS_MS["impact"],
            ),
        }
        client.close()
        in_process = {
            "one_hop_ordinary": results["one_hop_ordinary"],
            "one_hop_hubs": results["one_hop_hubs"],
            "depth5_downstream_cap2000": results["depth5_downstream_cap2000"],
            "impact_closure_count": results["impact"]["closure_count"],
            "impact_summary": results["impact"]["impact_summary"],
            "release": results["release"],
        }
        missed = [name for name, outcome in in_process.items() if not outcome["pass"]]
        report = {
            "benchmark": "lineage_scale",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "load_average": {**quiet, "at_end": load_average()},
            "postgresql": postgres_info(db),
            "code": git_state(),
            "counts": counts,
            "layout": {
                "closure_root": layout.closure_root,
                "closure_size": layout.closure_size,
                "warehouse": layout.warehouse,
                "date_dimension": layout.date_dimension,
                "reference_analysis": layout.reference_analysis,
                "template_v2": layout.template_v2,
                "release_size": layout.release_size,
                "one_hop_hubs": hubs,
                "depth5_roots": hubbish,
            },
            "load": load,
            "networkx": nx_info,
            "measured_in_process": "lineage selectors and services called in this process (production settings)",
            "server": {
                "settings": "config.settings.production",
                "server": f"granian, {args.workers} workers x {args.threads} threads",
            },
            "targets_ms": {
                "one_hop_p95": TARGETS_MS["one_hop"],
                "depth5_cap2000_p95": TARGETS_MS["depth5"],
                "impact_closure": TARGETS_MS["impact"],
                "release_10000": TARGETS_MS["release"],
            },
            "results": results,
            "passed": not missed,
            "missed": missed,
        }
        log(summary_table(in_process, results["http"]))
        print(json.dumps(report, indent=2))
        return 0 if report["passed"] else 1
    except KeyboardInterrupt:
        log("\nInterrupted.")
        return 130
    finally:
        if server is not None:
            log("Stopping the web server.")
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep and db.comment() is not None:
            log(f"Dropping database {db.name}.")
            db.drop()


if __name__ == "__main__":
    sys.exit(main())
