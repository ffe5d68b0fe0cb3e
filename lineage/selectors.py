"""Reads of lineage: bounded traversals, impact closure, paths, as-of and diffs — scoped to what the user may see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DateTimeField, F, Func, Lookup, Min, Q, QuerySet
from django.db.models.expressions import RawSQL

from catalog.models import Asset

from .choices import EdgeKind
from .graph import EdgeRow, Subgraph, path_edges, shortest_paths
from .models import Edge, Release

MAX_DEPTH = 20
DEFAULT_NODE_CAP = 500
MAX_NODE_CAP = 10_000
_EDGE_FIELDS = ("id", "source_id", "target_id", "kind", "valid_from", "valid_to")
NODE_FIELDS = (
    "id",
    "name",
    "kind",
    "status",
    "environment",
    "version",
    "external_id",
    "owner__username",
    "owner_group__name",
    "domain__name",
    "business_unit__name",
    "customer__name",
    "product_line__name",
)


def edges_at(*, as_of: datetime | None = None, kinds: Iterable[str] | None = None) -> QuerySet[Edge]:
    """Edges that held at `as_of` (now when None), optionally of some kinds."""
    edges = Edge.objects.all()
    if as_of is None:
        edges = edges.filter(valid_to__isnull=True)
    else:
        edges = edges.filter(Q(valid_from__lte=as_of) & (Q(valid_to__isnull=True) | Q(valid_to__gt=as_of)))
    kinds = list(kinds or [])
    if kinds:
        edges = edges.filter(kind__in=kinds)
    return edges


class AnyOf(Lookup):
    """`field IN ids` for integer ids, as one array parameter on PostgreSQL (`field = ANY(%s)`, the same plan).

    A traversal or an impact closure filters by thousands of ids; one placeholder per id costs Django and the
    driver more than the query itself. Used as an expression: `.filter(AnyOf(F("source_id"), ids))`.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", (*params, *self.rhs)

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        if len(self.rhs) == 1:  # a plain equality keeps the index order (a hub's first hop then reads no more)
            return f"{lhs} = %s", (*params, self.rhs[0])
        # written out as an array literal: the driver's generic list adapter costs more than the query for
        # thousands of ids
        return f"{lhs} = ANY(%s::bigint[])", (*params, "{" + ",".join(map(str, map(int, self.rhs))) + "}")


class _UTCWallTime(Func):
    """A timestamptz as the wall-clock time in UTC (a timestamp without time zone); PostgreSQL."""

    template = "(%(expressions)s AT TIME ZONE 'UTC')"
    output_field = DateTimeField()


def _rows(edges: QuerySet[Edge]) -> list[EdgeRow]:
    zone = connection.timezone
    if connection.vendor == "postgresql" and zone is not None and connection.timezone_name == "UTC":
        # Read as UTC wall times, the timestamps are parsed by the driver's own (compiled) loader instead of the
        # per-value Python one Django installs to attach the connection's zone, UTC; that was a third of reading
        # a few thousand edges. The values are the same datetimes.
        fields = (*_EDGE_FIELDS[:4], _UTCWallTime("valid_from"), _UTCWallTime("valid_to"))
        return [
            EdgeRow(pk, source, target, kind, start.replace(tzinfo=zone), end and end.replace(tzinfo=zone))
            for pk, source, target, kind, start, end in edges.values_list(*fields)
        ]
    return [EdgeRow(*row) for row in edges.values_list(*_EDGE_FIELDS)]


def _walk(graph: Subgraph, *, edges: QuerySet[Edge], downstream: bool, depth: int, cap: int) -> None:
    """Breadth-first, one set-based query per hop; stops at `depth` hops or `cap` nodes (then `truncated`).

    A hop reads only the distinct far ends, in id order, and at most cap + 1 of them: however many of those are
    already in the graph, that is enough to reach the cap, so a hub's ten thousand edges are not read to keep
    five hundred. The edges between the nodes are read once, after the walks.
    """
    near, far = ("source_id", "target_id") if downstream else ("target_id", "source_id")
    sign = 1 if downstream else -1
    frontier = [graph.root]
    for level in range(1, depth + 1):
        if not frontier:
            return
        found = edges.filter(AnyOf(F(near), frontier)).order_by(far).values_list(far, flat=True).distinct()[: cap + 1]
        frontier = []
        for node in found:
            if node in graph.depth:
                continue
            if len(graph.depth) >= cap:
                graph.truncated = True
                return
            graph.depth[node] = sign * level
            frontier.append(node)


def lineage_subgraph(
    *,
    root: int,
    direction: str = "both",
    depth: int = 1,
    kinds: Iterable[str] | None = None,
    as_of: datetime | None = None,
    cap: int = DEFAULT_NODE_CAP,
) -> Subgraph:
    """Nodes within `depth` hops of `root` (upstream, downstream or both) and the edges between them."""
    edges = edges_at(as_of=as_of, kinds=kinds)
    graph = Subgraph(root=root, depth={root: 0})
    if direction in ("downstream", "both"):
        _walk(graph, edges=edges, downstream=True, depth=depth, cap=cap)
    if direction in ("upstream", "both") and not graph.truncated:
        _walk(graph, edges=edges, downstream=False, depth=depth, cap=cap)
    # every edge between the nodes: those the walks followed, and side edges (e.g. between two upstream nodes)
    nodes = list(graph.depth)
    if len(nodes) > 1:
        graph.add_edges(_rows(edges.filter(AnyOf(F("source_id"), nodes), AnyOf(F("target_id"), nodes))))
    return graph


def degrees(*, nodes: list[int], kinds: Iterable[str] | None, as_of: datetime | None) -> tuple[dict, dict]:
    """(out-degree, in-degree) of each node over the edges that held at `as_of`."""
    edges = edges_at(as_of=as_of, kinds=kinds).order_by()
    # count(*) rather than count(id): the open-edge indexes then answer alone (index-only scans)
    out = dict(edges.filter(AnyOf(F("source_id"), nodes)).values_list("source_id").annotate(n=Count("*")))
    into = dict(edges.filter(AnyOf(F("target_id"), nodes)).values_list("target_id").annotate(n=Count("*")))
    return out, into


def visible_nodes(*, user, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Details of the assets among `ids` that the user may see (one query); the others are to be placeholders."""
    visible = Asset.objects.visible_to(user).filter(AnyOf(F("pk"), ids))
    return {row["id"]: row for row in visible.values(*NODE_FIELDS)}


DOWNSTREAM_CLOSURE_SQL = """
WITH RECURSIVE downstream(node) AS (
    SELECT e.target_id FROM lineage_edge e WHERE e.source_id = %s AND e.valid_to IS NULL
  UNION
    SELECT e.target_id FROM lineage_edge e JOIN downstream d ON e.source_id = d.node WHERE e.valid_to IS NULL
)
SELECT node FROM downstream WHERE node <> %s
"""


def impact_closure(*, root: int) -> QuerySet[Asset]:
    """Every asset downstream of `root` at any depth (current edges), in one recursive query; UNION makes it
    cycle-safe because a node already reached is never added again."""
    return Asset.objects.filter(pk__in=RawSQL(DOWNSTREAM_CLOSURE_SQL, (root, root)))


def impact_closure_ids(*, root: int) -> list[int]:
    """The ids of impact_closure, computed once (each query over impact_closure runs the recursion again)."""
    with connection.cursor() as cursor:
        cursor.execute(DOWNSTREAM_CLOSURE_SQL, (root, root))
        return [row[0] for row in cursor.fetchall()]


@dataclass
class Impact:
    total: int
    visible: int
    restricted: int
    by_kind: list[dict[str, Any]]
    by_customer: list[dict[str, Any]]
    by_business_unit: list[dict[str, Any]]
    by_owner: list[dict[str, Any]]
    notify: list[dict[str, Any]]


# What impact_summary counts the visible closure by, besides kind: (foreign key, the label field of its model).
_IMPACT_GROUPS = (
    ("customer", "name"),
    ("business_unit", "name"),
    ("owner", "username"),
    ("owner_group", "name"),
)


def _tallies(visible: QuerySet[Asset]) -> tuple[int, dict[str, list[tuple[Any, int]]], dict[str, str]]:
    """(visible count, {"kind" and each of _IMPACT_GROUPS: [(label, count)]}, username → email).

    One query counts the assets by (kind, customer, business unit, owner, owner group); the counts per dimension
    are summed here and each dimension's labels are put in the database's order by a small query on their table,
    so every list comes out as a GROUP BY on that label ordered by (-count, label) gives it, while the closure's
    assets are read once rather than once per dimension.
    """
    keys = ("kind", *(f"{name}_id" for name, _ in _IMPACT_GROUPS))
    rows = visible.order_by().values_list(*keys).annotate(count=Count("id"), sample=Min("id"))
    sums: list[Counter[Any]] = [Counter() for _ in keys]
    samples: dict[str, int] = {}  # an asset of each kind, to have the kinds ordered by the database too
    for *values, count, sample in rows:
        for i, value in enumerate(values):
            sums[i][value] += count
        samples.setdefault(values[0], sample)
    labels = [Asset.objects.filter(AnyOf(F("pk"), list(samples.values()))).order_by("kind").values_list("kind", "kind")]
    emails: dict[str, str] = {}
    for i, (name, label) in enumerate(_IMPACT_GROUPS, 1):
        related = Asset._meta.get_field(name).related_model._default_manager.filter(
            AnyOf(F("pk"), [v for v in sums[i] if v is not None])
        )
        if name == "owner":
            emails = dict(related.values_list(label, "email"))
        labels.append(related.order_by(label).values_list("pk", label))
    tallies: dict[str, list[tuple[Any, int]]] = {}
    for name, counts, ordered in zip(("kind", *(n for n, _ in _IMPACT_GROUPS)), sums, labels, strict=True):
        label_of = dict(ordered)
        position = {value: i for i, value in enumerate(label_of)}
        position[None] = len(position) if connection.features.nulls_order_largest else -1
        ranked = sorted(counts.items(), key=lambda item: (-item[1], position[item[0]]))
        tallies[name] = [(label_of.get(value), count) for value, count in ranked]
    return sum(sums[0].values()), tallies, emails


def _labelled(tally: list[tuple[Any, int]], empty: str) -> list[dict[str, Any]]:
    return [{"label": value or empty, "count": count} for value, count in tally]


def impact_summary(*, user, root: int) -> Impact:
    ids = impact_closure_ids(root=root)
    total = len(ids)  # every node of the closure is an asset (edges cascade with their assets)
    visible = Asset.objects.filter(AnyOf(F("pk"), ids)).visible_to(user)
    visible_count, tallies, emails = _tallies(visible)
    restricted = total - visible_count
    by_kind = _labelled(tallies["kind"], "")
    if restricted:
        by_kind.append({"label": "restricted", "count": restricted})
    notify = [
        {"type": "user", "name": name, "email": emails[name], "assets": count}
        for name, count in tallies["owner"]
        if name is not None
    ] + [
        {"type": "group", "name": name, "email": "", "assets": count}
        for name, count in tallies["owner_group"]
        if name is not None
    ]
    return Impact(
        total=total,
        visible=visible_count,
        restricted=restricted,
        by_kind=by_kind,
        by_customer=_labelled(tallies["customer"], "(no customer)"),
        by_business_unit=_labelled(tallies["business_unit"], "(no business unit)"),
        by_owner=_labelled(tallies["owner"], "(no owner)"),
        notify=notify,
    )


IMPACT_CSV_COLUMNS = [
    "id",
    "name",
    "kind",
    "customer",
    "business unit",
    "owner",
    "owner email",
    "owner group",
    "status",
]


def impact_rows(*, user, root: int) -> Iterator[list[Any]]:
    """Every downstream asset as a CSV row; restricted ones as anonymous rows so the count adds up."""
    closure = impact_closure(root=root)
    visible = closure.visible_to(user)
    fields = (
        "id",
        "name",
        "kind",
        "customer__name",
        "business_unit__name",
        "owner__username",
        "owner__email",
        "owner_group__name",
        "status",
    )
    shown = 0
    for row in visible.order_by("kind", "name", "id").values_list(*fields).iterator(chunk_size=2000):
        shown += 1
        yield ["" if value is None else value for value in row]
    hidden = closure.count() - shown
    for _ in range(hidden):
        yield ["", "restricted asset", "", "", "", "", "", "", ""]


def lineage_path(
    *, start: int, end: int, kinds: Iterable[str] | None = None, max_depth: int = MAX_DEPTH
) -> tuple[str | None, list[list[int]], list[EdgeRow]]:
    """Shortest path(s) start → end over current edges, else end → start; (direction, paths, edges).

    Bidirectional breadth-first search, one query per hop, expanding the smaller frontier; networkx then lists the
    shortest paths over the edges fetched.
    """
    edges = edges_at(kinds=kinds)
    for direction, a, b in (("downstream", start, end), ("upstream", end, start)):
        fetched: list[EdgeRow] = []
        forward, backward = {a}, {b}
        forward_frontier, backward_frontier = [a], [b]
        for _ in range(max_depth):
            if not forward_frontier or not backward_frontier:
                break
            if len(forward_frontier) <= len(backward_frontier):
                rows = _rows(edges.filter(source_id__in=forward_frontier))
                forward_frontier = [r.target for r in rows if r.target not in forward]
                forward.update(forward_frontier)
            else:
                rows = _rows(edges.filter(target_id__in=backward_frontier))
                backward_frontier = [r.source for r in rows if r.source not in backward]
                backward.update(backward_frontier)
            fetched.extend(rows)
            if forward & backward:
                paths = shortest_paths(fetched, a, b)
                if paths:
                    return direction, paths, path_edges(paths, fetched)
    return None, [], []


def lineage_diff(
    *, root: int, from_date: datetime, to_date: datetime, depth: int = MAX_DEPTH
) -> tuple[list[EdgeRow], list[EdgeRow]]:
    """Edges of the root's lineage (as it stood at either date) that appeared or ended between the two dates."""
    nodes: set[int] = set()
    for moment in (from_date, to_date):
        nodes |= set(lineage_subgraph(root=root, direction="both", depth=depth, as_of=moment, cap=MAX_NODE_CAP).depth)
    touching = Edge.objects.filter(Q(source_id__in=nodes) & Q(target_id__in=nodes))
    appeared = _rows(touching.filter(valid_from__gte=from_date, valid_from__lt=to_date).order_by("valid_from", "id"))
    ended = _rows(touching.filter(valid_to__gte=from_date, valid_to__lt=to_date).order_by("valid_to", "id"))
    return appeared, ended


def current_template(*, analysis: Asset) -> Asset | None:
    """The latest template made from this reference analysis (open template_of edge), if any."""
    return (
        Asset.objects.filter(
            incoming_edges__source=analysis,
            incoming_edges__kind=EdgeKind.TEMPLATE_OF,
            incoming_edges__valid_to__isnull=True,
            kind="template",
        )
        .exclude(status="deleted")
        .order_by("-version", "-created_at", "-id")
        .first()
    )


def release_list(*, user) -> QuerySet[Release]:
    visible = Asset.objects.visible_to(user).values("pk")
    return Release.objects.filter(reference_analysis__in=visible).select_related(
        "reference_analysis", "previous_template", "new_template", "created_by"
    )


def reference_analysis_of(*, asset: Asset) -> Asset | None:
    """The reference analysis behind an asset: itself for an analysis, the template's source for a template."""
    if asset.kind == "analysis":
        return asset
    if asset.kind == "template":
        edge = (
            Edge.objects.filter(target=asset, kind=EdgeKind.TEMPLATE_OF, source__kind="analysis")
            .select_related("source")
            .order_by("valid_to", "-valid_from")
            .first()
        )
        return edge.source if edge else None
    return None


@dataclass
class ProvenanceRow:
    asset_id: int | None
    name: str
    kind: str
    customer: str
    template_id: int
    template: str
    template_version: int
    line: str  # the reference analysis or fork whose template the asset is on
    is_fork: bool
    behind: bool  # on an older template than the latest of its line


def provenance(*, user, analysis: Asset) -> dict[str, Any]:
    """Which customer assets are on which template version of a reference analysis and its forks, and who is behind.

    Restricted assets appear as anonymous rows so the counts add up.
    """
    lines = [(analysis, False)] + [
        (fork, True)
        for fork in Asset.objects.filter(
            incoming_edges__source=analysis,
            incoming_edges__kind=EdgeKind.FORKED_FROM,
            incoming_edges__valid_to__isnull=True,
        )
        .select_related("customer")
        .order_by("name")
    ]
    line_ids = [line.pk for line, _ in lines]
    template_edges = Edge.objects.filter(source_id__in=line_ids, kind=EdgeKind.TEMPLATE_OF).values_list(
        "source_id", "target_id"
    )
    templates_by_line: dict[int, list[int]] = {}
    for source_id, target_id in template_edges:
        templates_by_line.setdefault(source_id, []).append(target_id)
    template_ids = {t for ids in templates_by_line.values() for t in ids}
    templates = {
        row["id"]: row
        for row in Asset.objects.filter(pk__in=template_ids).values("id", "name", "version", "status", "created_at")
    }
    latest = {}
    for line_id, ids in templates_by_line.items():
        live = [templates[t] for t in ids if templates[t]["status"] == "active"] or [templates[t] for t in ids]
        latest[line_id] = max(live, key=lambda t: (t["version"], t["created_at"], t["id"]))["id"]
    line_of_template = {t: line_id for line_id, ids in templates_by_line.items() for t in ids}
    names = {line.pk: (line.name, is_fork) for line, is_fork in lines}
    edges = Edge.objects.filter(
        source_id__in=template_ids, kind=EdgeKind.CREATED_FROM, valid_to__isnull=True
    ).values_list("source_id", "target_id")
    pointed = list(edges)
    visible = {
        row["id"]: row
        for row in Asset.objects.visible_to(user)
        .filter(pk__in=[t for _, t in pointed])
        .values("id", "name", "kind", "customer__name")
    }
    rows = []
    for template_id, target_id in pointed:
        line_id = line_of_template[template_id]
        template = templates[template_id]
        asset = visible.get(target_id)
        rows.append(
            ProvenanceRow(
                asset_id=target_id if asset else None,
                name=asset["name"] if asset else "restricted asset",
                kind=asset["kind"] if asset else "",
                customer=(asset["customer__name"] or "") if asset else "",
                template_id=template_id,
                template=template["name"],
                template_version=template["version"],
                line=names[line_id][0],
                is_fork=names[line_id][1],
                behind=template_id != latest[line_id],
            )
        )
    rows.sort(key=lambda r: (r.customer or "~", r.name, r.template_version))
    return {
        "reference_analysis": {"id": analysis.pk, "name": analysis.name, "version": analysis.version},
        "templates": sorted(
            (
                {**templates[t], "line": names[line_of_template[t]][0], "latest": t == latest[line_of_template[t]]}
                for t in template_ids
            ),
            key=lambda t: (t["line"], t["version"], t["id"]),
        ),
        "forks": [
            {"id": line.pk, "name": line.name, "customer": line.customer.name if line.customer else ""}
            for line, is_fork in lines
            if is_fork
        ],
        "rows": rows,
        "behind": sum(1 for r in rows if r.behind),
    }


class Placeholders:
    """Gives each asset the user may not see an opaque id ("restricted-1", ...) for one response."""

    def __init__(self, visible: dict[int, dict[str, Any]]) -> None:
        self.visible = visible
        self.ids: dict[int, str] = {}

    def ref(self, node: int) -> str:
        if node in self.visible:
            return str(node)
        return self.ids.setdefault(node, f"restricted-{len(self.ids) + 1}")


def _node(node: int, refs: Placeholders, depth: int, hidden: tuple[int, int]) -> dict[str, Any]:
    details = refs.visible.get(node)
    base = {"id": refs.ref(node), "depth": depth, "hidden_upstream": hidden[0], "hidden_downstream": hidden[1]}
    if details is None:
        return {**base, "restricted": True, "name": "Restricted asset", "kind": ""}
    return {**base, "restricted": False, "name": details["name"], "kind": details["kind"], "details": details}


def _edge(edge: EdgeRow, refs: Placeholders) -> dict[str, Any]:
    return {
        "id": edge.id,
        "source": refs.ref(edge.source),
        "target": refs.ref(edge.target),
        "kind": edge.kind,
        "valid_from": edge.valid_from,
        "valid_to": edge.valid_to,
    }


def lineage_for_user(
    *,
    user,
    root: int,
    direction: str,
    depth: int,
    kinds: list[str] | None = None,
    as_of: datetime | None = None,
    node_cap: int = DEFAULT_NODE_CAP,
) -> dict[str, Any]:
    """The lineage graph as the user may see it: restricted assets are anonymous placeholders; counts still add up."""
    from .graph import cycles

    graph = lineage_subgraph(root=root, direction=direction, depth=depth, kinds=kinds, as_of=as_of, cap=node_cap)
    nodes = list(graph.depth)
    out, into = degrees(nodes=nodes, kinds=kinds, as_of=as_of)
    hidden = graph.hidden_counts(out, into)
    refs = Placeholders(visible_nodes(user=user, ids=nodes))
    ordered = sorted(graph.depth.items(), key=lambda item: (abs(item[1]), item[1], item[0]))
    edges = sorted(graph.edges.values(), key=lambda e: e.id)
    return {
        "root": root,
        "direction": direction,
        "depth": depth,
        "as_of": as_of,
        "node_cap": node_cap,
        "truncated": graph.truncated,
        "nodes": [_node(node, refs, level, hidden[node]) for node, level in ordered],
        "edges": [_edge(edge, refs) for edge in edges],
        "cycles": [[refs.ref(n) for n in cycle] for cycle in cycles(edges)],
    }


def path_for_user(*, user, start: int, end: int, kinds: list[str] | None = None) -> dict[str, Any]:
    direction, paths, edges = lineage_path(start=start, end=end, kinds=kinds)
    nodes = sorted({n for path in paths for n in path})
    refs = Placeholders(visible_nodes(user=user, ids=nodes))
    return {
        "direction": direction,
        "paths": [[refs.ref(n) for n in path] for path in paths],
        "nodes": [_node(n, refs, 0, (0, 0)) for n in nodes],
        "edges": [_edge(e, refs) for e in sorted(edges, key=lambda e: e.id)],
    }


def diff_for_user(*, user, root: int, from_date: datetime, to_date: datetime, depth: int) -> dict[str, Any]:
    appeared, ended = lineage_diff(root=root, from_date=from_date, to_date=to_date, depth=depth)
    nodes = sorted({n for e in appeared + ended for n in (e.source, e.target)})
    refs = Placeholders(visible_nodes(user=user, ids=nodes))
    return {
        "root": root,
        "from_date": from_date,
        "to_date": to_date,
        "nodes": [_node(n, refs, 0, (0, 0)) for n in nodes],
        "appeared": [_edge(e, refs) for e in appeared],
        "ended": [_edge(e, refs) for e in ended],
    }


def created_from_of(*, asset_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The template each asset is created from now (its open created_from edge): id, name and version."""
    rows = Edge.objects.filter(
        target_id__in=list(asset_ids), kind=EdgeKind.CREATED_FROM, valid_to__isnull=True
    ).values_list("target_id", "source_id", "source__name", "source__version")
    return {target: {"id": source, "name": name, "version": version} for target, source, name, version in rows}
