#!/usr/bin/env python
"""Recommender at scale: candidate pruning and matching over 1,000 generated data products.

    python benchmarks/recommender_scale.py [--products 1000] [--rows 10000] [--subset 100] [--queries 20]
                                           [--brute-queries 1] [--workers 2] [--seed 0]

Quick run: python benchmarks/recommender_scale.py --products 200 --rows 2000 --subset 40 --queries 5 --brute-queries 1

What it does, in order (pure computation: no database, no Django):

1. Generates the products. There are products/5 entity domains (integer counters 1..n, short codes such as
   ``CUS-0001234``, UUIDs), each owned by one product whose key column holds the domain's keys. Every product has
   10 to 40 columns (a domain's owner is named for it, e.g. ``customers``; the others have neutral names): a key
   when it owns a domain, 0 to 3 foreign keys into other domains (named ``customer_id``, ``customer``,
   ``custkey`` or, one in five, an opaque ``ref_2``), and filler columns that overlap everywhere on purpose (row
   numbers in one product in five, small integers, years, amounts, categories, dates, flags, free text, with shared
   names such as ``status``, ``year`` or ``comment``). The known joins are the foreign key -> key pairs. Each
   product's sample has --rows rows (a domain owner has at most one row per key). Data is regenerated from the
   seed on demand, so loading a product's sample costs what reading a stored sample would.
2. Profiles every product (the stored profile, computed once per data change; --workers processes) and builds the
   candidate index (MinHash LSH Ensemble + name signals) over all but one product: **time to build the index**.
3. Adds the held-out product as a newly added product and times profile + index add + top-10 recommendations
   (``recommender.engine.recommend``, shortlist 20, COMA with instances): **target at most 5 s on 2 cores**.
4. On a subset of --subset products (the queries, their known partners, the rest at random): recall@10 of the
   known joins for our recommender (index over the subset, top 10) for --queries queries, and, for the first
   --brute-queries of them, brute-force COMA (valentine ``Coma(use_instances=True)`` against every other product of
   the subset, 1,000 shuffled rows each, the table scored by its best column similarity) with its time beside ours:
   the speed-up ratio.
5. Prints the figures as JSON on stdout (progress on stderr): wall-clock seconds and, because a shared machine
   slows wall-clock time down, CPU seconds of this process beside them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommender.candidates import CandidateIndex
from recommender.engine import recommend
from recommender.matching import MatcherConfig, register_nltk_data, valentine_scores
from recommender.profiling import TableProfile, profile_table

ENTITIES = [
    "customer", "supplier", "product", "order", "store", "employee", "account", "invoice", "shipment", "claim",
    "policy", "patient", "vendor", "campaign", "contract", "device", "ticket", "project", "warehouse", "region",
]  # fmt: skip
WORDS = ["alpha", "bravo", "delta", "echo", "gold", "silver", "north", "south", "east", "west", "red", "blue"]
FILLER_NAMES = {
    "counter": ["row_no", "line_no"],
    "small": ["priority", "level", "rank", "size"],
    "year": ["year", "fiscal_year"],
    "amount": ["amount", "price", "total", "cost"],
    "quantity": ["quantity", "units"],
    "category": ["status", "category", "segment", "type"],
    "date": ["created", "updated", "date"],
    "flag": ["active", "flag", "deleted"],
    "text": ["comment", "note", "description"],
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_KEYS: dict[int, np.ndarray] = {}  # domain keys, made once per process


@dataclass
class Domain:
    index: int
    entity: str
    kind: str  # "int" | "code" | "uuid"
    size: int
    owner: int

    def keys(self) -> np.ndarray:
        cached = _KEYS.get(self.index)
        if cached is None or len(cached) != self.size:
            cached = _KEYS[self.index] = self._keys()
        return cached

    def _keys(self) -> np.ndarray:
        n = np.arange(1, self.size + 1)
        if self.kind == "int":
            return n
        if self.kind == "code":
            prefix = self.entity[:3].upper()
            return np.array([f"{prefix}{self.index}-{v:07d}" for v in n], dtype=object)
        return np.array([str(uuid.UUID(int=(self.index << 64) + int(v) * 2654435761)) for v in n], dtype=object)


@dataclass
class Product:
    index: int
    owns: int | None
    name: str = ""
    key_name: str = ""
    fks: list[tuple[str, int]] = field(default_factory=list)  # (column, domain)
    fillers: list[tuple[str, str]] = field(default_factory=list)  # (column, generator kind)


@dataclass
class World:
    seed: int
    rows: int
    domains: list[Domain]
    products: list[Product]

    def joins(self) -> set[frozenset[int]]:
        """Known joinable product pairs (foreign key -> the domain's owner)."""
        pairs = set()
        for product in self.products:
            for _, domain in product.fks:
                owner = self.domains[domain].owner
                if owner != product.index:
                    pairs.add(frozenset((product.index, owner)))
        return pairs

    def names(self) -> dict[str, str]:
        """Product names by key (what a catalog shows; a bare ``id`` reads as ``<name> id``)."""
        return {str(p.index): p.name for p in self.products}

    def frame(self, index: int) -> pd.DataFrame:
        """The sample of one product, regenerated from the seed."""
        product = self.products[index]
        rng = np.random.default_rng((self.seed, index))
        rows = self.rows
        columns: dict[str, object] = {}
        if product.owns is not None:
            keys = self.domains[product.owns].keys()
            rows = min(rows, len(keys))
            columns[product.key_name] = keys[rng.choice(len(keys), rows, replace=False)]
        for name, domain in product.fks:
            keys = self.domains[domain].keys()
            weights = 1.0 / np.arange(1, len(keys) + 1) ** 0.3
            columns[name] = keys[rng.choice(len(keys), rows, p=weights / weights.sum())]
        for name, kind in product.fillers:
            columns[name] = filler(kind, rows, rng)
        return pd.DataFrame(columns)


def filler(kind: str, rows: int, rng: np.random.Generator) -> object:
    if kind == "counter":
        return np.arange(1, rows + 1)
    if kind == "small":
        return rng.integers(1, 11, rows)
    if kind == "year":
        return rng.integers(2015, 2025, rows)
    if kind == "amount":
        return np.round(rng.gamma(2.0, 50.0, rows), 2)
    if kind == "quantity":
        return rng.integers(1, 500, rows)
    if kind == "category":
        return np.array(WORDS, dtype=object)[rng.integers(0, len(WORDS), rows)]
    if kind == "date":
        return (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D")).strftime(
            "%Y-%m-%d"
        )
    if kind == "flag":
        return rng.integers(0, 2, rows).astype(bool)
    sentences = pd.Series([" ".join(rng.choice(WORDS, 6)) for _ in range(200)])
    return (
        sentences.iloc[rng.integers(0, 200, rows)].reset_index(drop=True) + " " + pd.Series(range(rows)).astype(str)
    ).tolist()


FILLER_KINDS = ["small", "year", "amount", "quantity", "category", "date", "flag", "text"]


def world_make(*, products: int, rows: int, seed: int) -> World:
    rng = np.random.default_rng(seed)
    n_domains = max(2, products // 5)
    domains = []
    for d in range(n_domains):
        entity = ENTITIES[d % len(ENTITIES)]
        kind = ["int", "int", "code", "uuid"][d % 4]
        domains.append(Domain(index=d, entity=f"{entity}{d // len(ENTITIES) or ''}", kind=kind, size=0, owner=d))
        domains[-1].size = int(rng.integers(max(50, rows // 20), rows * 2))
    world = World(seed=seed, rows=rows, domains=domains, products=[])
    for p in range(products):
        product = Product(index=p, owns=p if p < n_domains else None)
        product.name = f"{WORDS[p % len(WORDS)]}_{['facts', 'events', 'lines', 'log'][p % 4]}_{p}"
        if product.owns is not None:
            entity = domains[p].entity
            product.name = f"{entity}s"  # a domain's owner is named for it: customers, invoices, ...
            product.key_name = [f"{entity}_id", "id", f"{entity[:1]}_{entity[:4]}key"][int(rng.integers(0, 3))]
        used = {product.key_name}
        for j in range(int(rng.integers(0 if product.owns is not None else 1, 4))):
            domain = int(rng.integers(0, n_domains))
            if domain == product.owns:
                continue
            entity = domains[domain].entity
            style = int(rng.integers(0, 5))
            name = [f"{entity}_id", entity, f"{entity[:4]}key", f"{entity}_ref", f"ref_{j}"][style]
            if name in used:
                continue
            used.add(name)
            product.fks.append((name, domain))
        width = int(rng.integers(10, 41))
        if rng.random() < 0.2:  # a row number (1..rows): unique, and the same in every table that has one
            used.add("row_no")
            product.fillers.append(("row_no", "counter"))
        j = 0
        while len(used) < width:
            kind = FILLER_KINDS[int(rng.integers(0, len(FILLER_KINDS)))]
            names = FILLER_NAMES[kind]
            base = names[int(rng.integers(0, len(names)))]
            name = base if base not in used else f"{base}_{j}"
            j += 1
            if name in used:
                continue
            used.add(name)
            product.fillers.append((name, kind))
        world.products.append(product)
    return world


_WORLD: World | None = None


def _init(world: World) -> None:
    global _WORLD
    _WORLD = world


def _profile(index: int) -> tuple[int, TableProfile]:
    assert _WORLD is not None
    return index, profile_table(_WORLD.frame(index))


def profiles_make(world: World, indices: list[int], workers: int) -> dict[int, TableProfile]:
    out: dict[int, TableProfile] = {}
    step = max(1, len(indices) // 10)
    if workers <= 1:
        _init(world)
        results = map(_profile, indices)
    else:
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=_init, initargs=(world,))
        results = pool.imap_unordered(_profile, indices, chunksize=4)
    for done, (index, profile) in enumerate(results, start=1):
        out[index] = profile
        if done % step == 0 or done == len(indices):
            say(f"profiling... {done}/{len(indices)}")
    if workers > 1:
        pool.close()
        pool.join()
    return out


def brute_force(world: World, query: int, others: list[int], *, rows: int = 1000) -> list[int]:
    """Plain valentine COMA with instances against every other product; best column similarity ranks."""
    config = MatcherConfig(matcher="coma_instances", instance_rows=rows)
    frame = world.frame(query)
    scores = []
    for other in others:
        similarities = valentine_scores(frame, world.frame(other), config=config)
        scores.append((max(similarities.values(), default=0.0), other))
    scores.sort(key=lambda item: (-item[0], item[1]))
    return [other for score, other in scores[:10] if score > 0]


def recall(found: list[int], relevant: set[int]) -> float:
    return len(relevant & set(found)) / len(relevant) if relevant else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--subset", type=int, default=100)
    parser.add_argument("--queries", type=int, default=20, help="subset queries scored for our recall@10")
    parser.add_argument("--brute-queries", type=int, default=1, help="of those, how many brute-force COMA also runs")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes for profiling")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.products < 10 or args.subset < 5 or args.subset > args.products or args.rows < 100:
        parser.error("need --products >= 10, 5 <= --subset <= --products and --rows >= 100")
    register_nltk_data()
    figures: dict[str, object] = {"products": args.products, "rows": args.rows, "cpus": os.cpu_count()}

    started = time.perf_counter()
    world = world_make(products=args.products, rows=args.rows, seed=args.seed)
    joins = world.joins()
    partners: dict[int, set[int]] = {}
    for pair in joins:
        a, b = tuple(pair)
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    widths = [len(p.fks) + len(p.fillers) + (p.owns is not None) for p in world.products]
    say(f"generated {args.products} products ({min(widths)}-{max(widths)} columns), {len(joins)} known joins")
    figures["known_joins"] = len(joins)
    names = world.names()

    # 2. Profiles and the index over all products but one (the one added later).
    newcomer = next(p.index for p in reversed(world.products) if p.fks and p.index in partners)
    t = time.perf_counter()
    profiles = profiles_make(world, list(range(args.products)), args.workers)
    figures["profile_seconds_all_products"] = round(time.perf_counter() - t, 1)
    figures["profile_workers"] = args.workers
    t = time.perf_counter()
    index = CandidateIndex()
    for key, profile in profiles.items():
        if key != newcomer:
            index.add(str(key), profile, name=names[str(key)])
    index.build()
    figures["index_build_seconds"] = round(time.perf_counter() - t, 2)
    say(f"index over {len(index)} products built in {figures['index_build_seconds']}s")

    # 3. A newly added product.
    loads = [0.0]

    def load(key: str) -> pd.DataFrame:
        t0 = time.perf_counter()
        frame = world.frame(int(key))
        loads[0] += time.perf_counter() - t0
        return frame

    warm = pd.DataFrame({"a": range(50), "b": [f"x{i}" for i in range(50)]})
    valentine_scores(warm, warm, config=MatcherConfig())  # imports and NLTK data, as in a running server
    t, cpu = time.perf_counter(), time.process_time()
    frame = world.frame(newcomer)
    profile = profile_table(frame)
    index.add(str(newcomer), profile, name=names[str(newcomer)])
    t_profiled = time.perf_counter()
    results = recommend(
        key=str(newcomer), frame=frame, profile=profile, index=index, load=load, k=10, shortlist=20, names=names
    )
    total, cpu = time.perf_counter() - t, time.process_time() - cpu
    found = [int(k) for k, _ in results]
    figures["new_product"] = {
        "columns": frame.shape[1],
        "seconds_total": round(total, 2),
        "cpu_seconds_total": round(cpu, 2),
        "seconds_profile_and_add": round(t_profiled - t, 2),
        "seconds_recommend": round(total - (t_profiled - t), 2),
        "seconds_loading_candidates": round(loads[0], 2),
        "target_seconds": 5.0,
        "recall_at_10": round(recall(found, partners.get(newcomer, set())), 3),
        "known_partners": len(partners.get(newcomer, set())),
    }
    say(f"new product: top-10 in {total:.2f}s ({cpu:.2f}s CPU), recall@10 {figures['new_product']['recall_at_10']}")

    # 4. The subset: queries with partners, their partners, the rest at random.
    rng = np.random.default_rng(args.seed + 1)
    order = [int(i) for i in rng.permutation(args.products) if int(i) in partners]
    subset: list[int] = []
    queries: list[int] = []
    for candidate in order:
        if len(queries) >= args.queries:
            break
        needed = [candidate, *sorted(partners[candidate] - set(subset))]
        needed = [n for n in needed if n not in subset]
        if len(subset) + len(needed) > args.subset:
            continue
        subset.extend(needed)
        queries.append(candidate)
    rest = [int(i) for i in rng.permutation(args.products) if int(i) not in subset]
    subset.extend(rest[: args.subset - len(subset)])
    members = set(subset)
    sub_index = CandidateIndex()
    for key in subset:
        sub_index.add(str(key), profiles[key], name=names[str(key)])
    sub_index.build()
    ours_recall, ours_time, ours_cpu = [], [], []
    for position, query in enumerate(queries, start=1):
        relevant = partners[query] & members
        t, cpu = time.perf_counter(), time.process_time()
        found = [
            int(k)
            for k, _ in recommend(
                key=str(query),
                frame=world.frame(query),
                profile=profiles[query],
                index=sub_index,
                load=load,
                k=10,
                config=MatcherConfig(threshold=0.0),  # a ranking, as brute force gives: no score threshold
                names=names,
            )
        ]
        ours_time.append(time.perf_counter() - t)
        ours_cpu.append(time.process_time() - cpu)
        ours_recall.append(recall(found, relevant))
        say(f"subset query {position}/{len(queries)}: ours recall@10 {ours_recall[-1]:.2f} in {ours_time[-1]:.2f}s")
    brute_recall, brute_time, brute_cpu = [], [], []
    for position, query in enumerate(queries[: args.brute_queries], start=1):
        relevant = partners[query] & members
        t, cpu = time.perf_counter(), time.process_time()
        found = brute_force(world, query, [o for o in subset if o != query])
        brute_time.append(time.perf_counter() - t)
        brute_cpu.append(time.process_time() - cpu)
        brute_recall.append(recall(found, relevant))
        say(
            f"brute-force COMA {position}/{args.brute_queries}: recall@10 {brute_recall[-1]:.2f}, {brute_time[-1]:.1f}s"
        )
    n_brute = len(brute_time)
    figures["subset"] = {
        "products": len(subset),
        "queries": len(queries),
        "ours_recall_at_10": round(float(np.mean(ours_recall)), 3) if ours_recall else None,
        "ours_seconds_per_query": round(float(np.mean(ours_time)), 2) if ours_time else None,
        "brute_force_queries": n_brute,
        "brute_force_recall_at_10": round(float(np.mean(brute_recall)), 3) if brute_recall else None,
        "ours_recall_at_10_same_queries": round(float(np.mean(ours_recall[:n_brute])), 3) if n_brute else None,
        "brute_force_seconds_per_query": round(float(np.mean(brute_time)), 1) if brute_time else None,
        "ours_seconds_per_query_same_queries": round(float(np.mean(ours_time[:n_brute])), 2) if n_brute else None,
        "speed_up": round(float(np.mean(brute_time)) / float(np.mean(ours_time[:n_brute])), 1) if n_brute else None,
        "speed_up_cpu": round(float(np.mean(brute_cpu)) / float(np.mean(ours_cpu[:n_brute])), 1) if n_brute else None,
    }
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
