"""The knowledge graph of known relationships between products, and the graph-enriched view of a product.

Pure: takes plain data (links and data frames by product key) and returns plain data, so it is tested without a
database. networkx holds the graph; the enriched view of P adds, along P's relationships up to `hops` away, the
alternate values of mapped attributes as extra rows: a customer whose sales opportunities carry other emails and
phones appears once more per alternate value, so data that knows the customer only by one of those still joins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd

ROW = "__cartograph_row"
DEFAULT_MAX_ADDED = 2_000_000  # extra rows one enriched view may gain, whatever the fan-out of the relationships


@dataclass(frozen=True)
class Link:
    """A relationship as the graph needs it: `left` and `right` are product keys, `keys` pairs join columns
    (left column, right column), `attributes` pairs mapped attributes the same way."""

    id: int
    name: str
    left: str
    right: str
    keys: tuple[tuple[str, str], ...]
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Step:
    """A link walked from `here` to `there`: `keys` and `attributes` are (column of here, column of there)."""

    link: Link
    here: str
    there: str
    keys: tuple[tuple[str, str], ...]
    attributes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Addition:
    """What one mapped attribute of one relationship added to the enriched view."""

    relationship: str
    relationship_id: int
    via: str  # the product whose values were added
    attribute: str  # column of the enriched product that gained values
    from_column: str  # column of `via` the values came from
    hop: int
    rows_added: int


@dataclass
class EnrichedView:
    """The enriched frame: the plain rows first (`plain_rows` of them), then the added ones."""

    key: str
    frame: pd.DataFrame
    plain_rows: int
    additions: list[Addition] = field(default_factory=list)
    via: tuple[str, ...] = ()  # every product whose data went into it, nearest first

    @property
    def added_rows(self) -> int:
        return len(self.frame) - self.plain_rows

    def added(self) -> pd.DataFrame:
        return self.frame.iloc[self.plain_rows :]


def graph_build(links: Iterable[Link]) -> nx.MultiGraph:
    """An undirected multigraph of products with one edge per relationship (its link in the `link` attribute)."""
    graph = nx.MultiGraph()
    for link in links:
        graph.add_edge(link.left, link.right, key=link.id, link=link)
    return graph


def steps_from(graph: nx.MultiGraph, key: str) -> list[Step]:
    """The relationships of `key`, each oriented from it (a relationship is walked both ways), in a stable order."""
    if key not in graph:
        return []
    steps = []
    for _, there, data in sorted(graph.edges(key, data=True), key=lambda edge: (edge[2]["link"].name, edge[1])):
        link: Link = data["link"]
        if there == key:
            continue
        if link.left == key:
            steps.append(Step(link, key, there, link.keys, link.attributes))
        else:
            swap = tuple((b, a) for a, b in link.keys)
            steps.append(Step(link, key, there, swap, tuple((b, a) for a, b in link.attributes)))
    return steps


def neighbourhood(graph: nx.MultiGraph, key: str, *, hops: int) -> dict[str, int]:
    """Products within `hops` relationships of `key` (itself excluded), with their distance."""
    if key not in graph or hops < 1:
        return {}
    distances = nx.single_source_shortest_path_length(graph, key, cutoff=hops)
    return {node: hop for node, hop in distances.items() if node != key}


def _strings(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Join keys as text, so a key stored as an integer on one side and as text on the other still joins."""
    out = frame[columns].copy()
    for column in columns:
        series = out[column]
        if pd.api.types.is_float_dtype(series) and series.dropna().apply(float.is_integer).all():
            series = series.astype("Int64")
        out[column] = series.astype("string").str.strip()
    return out


def _alternates(base: pd.DataFrame, other: pd.DataFrame, step: Step, here_attr: str, there_attr: str) -> pd.DataFrame:
    """Rows of `base` repeated once per value of `there_attr` that its related rows of `other` have (and it has not)."""
    here_keys = [a for a, _ in step.keys]
    there_keys = [b for _, b in step.keys]
    needed = [*dict.fromkeys([*there_keys, there_attr])]
    if any(c not in base.columns for c in [*here_keys, here_attr]) or any(c not in other.columns for c in needed):
        return base.iloc[0:0]
    left = _strings(base, here_keys).dropna()
    left[ROW] = base.loc[left.index, ROW]
    right = _strings(other, there_keys)
    right["__value"] = other[there_attr].astype("string").str.strip()
    right = right.dropna().drop_duplicates()
    renamed = {b: f"__key{i}" for i, b in enumerate(there_keys)}
    right = right.rename(columns=renamed)
    joined = left.merge(right, left_on=here_keys, right_on=list(renamed.values()), how="inner")
    if joined.empty:
        return base.iloc[0:0]
    rows = base.set_index(ROW).loc[joined[ROW].to_numpy()].reset_index()
    current = rows[here_attr].astype("string").str.strip().fillna("").to_numpy(dtype=object)
    values = joined["__value"].astype(object).to_numpy()
    keep = current != values
    rows = rows.loc[keep].copy()
    rows[here_attr] = values[keep]
    return rows


def enriched_view(
    *,
    key: str,
    frame: pd.DataFrame,
    graph: nx.MultiGraph,
    load: Callable[[str], pd.DataFrame | None],
    hops: int = 1,
    max_added: int = DEFAULT_MAX_ADDED,
    _visited: frozenset[str] | None = None,
    _hop: int = 1,
) -> EnrichedView:
    """The enriched view of `key` (whose plain data is `frame`): for every relationship up to `hops` away, the
    alternate values of each mapped attribute become extra rows (a copy of the row with that attribute replaced).

    A related product further away first enriches its neighbour, so with two hops the values of a product two
    relationships away reach P through the one between. `load(key)` gives a related product's data, or None when
    it has none (or the reader may not see it); such a product is skipped. Cycles are walked once.
    """
    visited = (_visited or frozenset()) | {key}
    base = frame.reset_index(drop=True)
    base = base.assign(**{ROW: range(len(base))})
    extras: list[pd.DataFrame] = []
    additions: list[Addition] = []
    via: list[str] = []
    budget = max_added
    if hops >= 1:
        for step in steps_from(graph, key):
            if step.there in visited or not step.attributes:
                continue
            other = load(step.there)
            if other is None:
                continue
            other_view = enriched_view(
                key=step.there,
                frame=other,
                graph=graph,
                load=load,
                hops=hops - 1,
                max_added=max_added,
                _visited=visited,
                _hop=_hop + 1,
            )
            if step.there not in via:
                via.append(step.there)
            additions.extend(other_view.additions)
            via.extend(v for v in other_view.via if v not in via)
            for here_attr, there_attr in step.attributes:
                rows = _alternates(base, other_view.frame, step, here_attr, there_attr)
                # the same alternate reached twice (two related rows with one email) is one row
                rows = rows.drop_duplicates(subset=[c for c in rows.columns if c != ROW])
                if len(rows) > budget:
                    rows = rows.iloc[:budget]
                budget -= len(rows)
                additions.append(
                    Addition(
                        relationship=step.link.name,
                        relationship_id=step.link.id,
                        via=step.there,
                        attribute=here_attr,
                        from_column=there_attr,
                        hop=_hop,
                        rows_added=len(rows),
                    )
                )
                if len(rows):
                    extras.append(rows)
    plain = base.drop(columns=[ROW])
    if not extras:
        return EnrichedView(key=key, frame=plain, plain_rows=len(plain), additions=additions, via=tuple(via))
    added = pd.concat(extras, ignore_index=True).drop(columns=[ROW])
    combined = pd.concat([plain, added], ignore_index=True)
    return EnrichedView(key=key, frame=combined, plain_rows=len(plain), additions=additions, via=tuple(via))
