"""Pure graph work on plain data: traversal bookkeeping, shortest paths, grouping. No database here."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import networkx as nx


@dataclass(frozen=True)
class EdgeRow:
    id: int
    source: int
    target: int
    kind: str
    valid_from: datetime
    valid_to: datetime | None


@dataclass
class Subgraph:
    """The result of a bounded traversal: node ids with their distance from the root, and the edges between them."""

    root: int
    depth: dict[int, int] = field(default_factory=dict)  # node → hops from the root (negative upstream)
    edges: dict[int, EdgeRow] = field(default_factory=dict)
    truncated: bool = False

    def add_edges(self, rows: Iterable[EdgeRow]) -> None:
        for row in rows:
            if row.source in self.depth and row.target in self.depth:
                self.edges[row.id] = row

    def hidden_counts(self, degree_out: dict[int, int], degree_in: dict[int, int]) -> dict[int, tuple[int, int]]:
        """(upstream, downstream) neighbours of each node that the subgraph does not include."""
        included_out: Counter[int] = Counter(edge.source for edge in self.edges.values())
        included_in: Counter[int] = Counter(edge.target for edge in self.edges.values())
        return {
            node: (
                max(degree_in.get(node, 0) - included_in[node], 0),
                max(degree_out.get(node, 0) - included_out[node], 0),
            )
            for node in self.depth
        }


def digraph(edges: Iterable[EdgeRow]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for edge in edges:
        graph.add_edge(edge.source, edge.target, key=edge.id, kind=edge.kind)
    return graph


def shortest_paths(edges: Iterable[EdgeRow], start: int, end: int, *, limit: int = 20) -> list[list[int]]:
    """Every shortest directed path start → end (at most `limit`), as lists of node ids."""
    graph = nx.DiGraph()
    graph.add_edges_from((edge.source, edge.target) for edge in edges)
    if start not in graph or end not in graph:
        return []
    try:
        paths = []
        for path in nx.all_shortest_paths(graph, start, end):
            paths.append(list(path))
            if len(paths) >= limit:
                break
        return paths
    except nx.NetworkXNoPath:
        return []


def path_edges(paths: list[list[int]], edges: Iterable[EdgeRow]) -> list[EdgeRow]:
    """The edges that make up the given paths (one per consecutive pair, the lowest id when several kinds join)."""
    wanted = {(a, b) for path in paths for a, b in itertools.pairwise(path)}
    chosen: dict[tuple[int, int], EdgeRow] = {}
    for edge in edges:
        key = (edge.source, edge.target)
        if key in wanted and (key not in chosen or edge.id < chosen[key].id):
            chosen[key] = edge
    return list(chosen.values())


def layers(depth: dict[int, int]) -> dict[int, list[int]]:
    """Nodes grouped by their distance from the root: a layout hint for a layered drawing."""
    result: dict[int, list[int]] = {}
    for node, level in sorted(depth.items(), key=lambda item: (item[1], item[0])):
        result.setdefault(level, []).append(node)
    return result


def acyclic(edges: Iterable[EdgeRow]) -> bool:
    """Whether the edges form no cycle (Kahn's algorithm: take away nodes nothing flows into until none is left)."""
    targets: dict[int, list[int]] = {}
    inflow: Counter[int] = Counter()
    for edge in edges:
        targets.setdefault(edge.source, []).append(edge.target)
        inflow[edge.target] += 1
    ready = [node for node in targets if not inflow[node]]
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for target in targets.get(node, ()):
            inflow[target] -= 1
            if not inflow[target]:
                ready.append(target)
    return removed == len(targets.keys() | inflow.keys())


def cycles(edges: Iterable[EdgeRow], *, limit: int = 10) -> list[list[int]]:
    """A few simple cycles in the subgraph (storage may hold cycles; the UI says so)."""
    edges = list(edges)
    if acyclic(edges):  # as most lineage is: found out far sooner than by searching for cycles
        return []
    graph = nx.DiGraph()
    graph.add_edges_from((edge.source, edge.target) for edge in edges)
    found = []
    for cycle in nx.simple_cycles(graph):
        found.append(cycle)
        if len(found) >= limit:
            break
    return found
