"""Computing a promotion plan from plain data: which assets to create, update or keep in the target, in which order,
with which QuickSight parameters, and what stands in the way. No database: the services fetch and store.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .choices import PROMOTABLE_KINDS, StepAction

KIND_ORDER = {kind: index for index, kind in enumerate(PROMOTABLE_KINDS)}
ARN = re.compile(
    r"^(?P<prefix>arn:aws[\w-]*:quicksight:(?P<region>[\w-]+):(?P<account>\d{12})):(?P<type>[a-z]+)/(?P<id>.+)$"
)
# QuickSight resource type in an ARN and in folder memberships, per asset kind.
ARN_TYPES = {
    "data_source": "datasource",
    "dataset": "dataset",
    "template": "template",
    "analysis": "analysis",
    "dashboard": "dashboard",
    "folder": "folder",
}
MEMBER_TYPES = {"data_source": "DATASOURCE", "dataset": "DATASET", "analysis": "ANALYSIS", "dashboard": "DASHBOARD"}
SOURCE_TYPES = {
    "postgresql": "POSTGRESQL",
    "redshift": "REDSHIFT",
    "athena": "ATHENA",
    "s3": "S3",
    "mysql": "MYSQL",
    "file": "S3",
}
COLUMN_TYPES = (
    ("bool", "BOOLEAN"),
    ("int", "INTEGER"),
    ("serial", "INTEGER"),
    ("numeric", "DECIMAL"),
    ("decimal", "DECIMAL"),
    ("float", "DECIMAL"),
    ("double", "DECIMAL"),
    ("real", "DECIMAL"),
    ("date", "DATETIME"),
    ("time", "DATETIME"),
    ("json", "JSON"),
)
ID_SEPARATOR = "--"


class PlanError(ValueError):
    """The input cannot be planned at all (the caller answers it with a 400 naming `field`)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Node:
    """One catalogued asset as the planner needs it."""

    id: int
    kind: str
    name: str
    external_id: str
    version: int = 1
    description: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    columns: tuple[tuple[str, str], ...] = ()
    own_template_arn: str = ""  # for an analysis: the template made from it (its template_of target)


@dataclass(frozen=True)
class Copy:
    """What already stands in the target for a source asset."""

    asset_id: int
    external_id: str
    name: str
    description: str
    version: int
    attributes: Mapping[str, Any]
    source_changed: bool  # the source changed since the last promotion
    copy_changed: bool  # the copy changed in the target since the last promotion


@dataclass(frozen=True)
class Target:
    """The folder promoted into."""

    folder_arn: str
    environment: str
    customer: str = ""  # a customer copy: the customer's name, added to the copies' names


@dataclass
class Step:
    position: int
    asset_id: int
    kind: str
    action: str
    name: str
    target_id: str
    target_arn: str
    depends_on: list[int] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    request: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "asset_id": self.asset_id,
            "kind": self.kind,
            "action": self.action,
            "name": self.name,
            "target_id": self.target_id,
            "target_arn": self.target_arn,
            "depends_on": self.depends_on,
            "changes": self.changes,
            "request": self.request,
        }


@dataclass
class Plan:
    steps: list[Step]
    conflicts: list[dict[str, Any]]


def parse_arn(arn: str) -> dict[str, str] | None:
    match = ARN.match(arn or "")
    return match.groupdict() if match else None


def fingerprint(*, name: str, description: str, version: int, attributes: Mapping[str, Any]) -> str:
    """A digest of what a promotion copies of an asset; the ARN is left out (it differs per environment)."""
    kept = {key: value for key, value in attributes.items() if key != "arn"}
    text = json.dumps([name, description, version, kept], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def base_id(resource_id: str) -> str:
    """The resource id without the environment suffix a promotion added (so staging → production stays short)."""
    return resource_id.split(ID_SEPARATOR, 1)[0]


def target_resource_id(*, source_arn: str, folder_arn: str) -> str:
    source = parse_arn(source_arn)
    folder = parse_arn(folder_arn)
    assert source is not None and folder is not None
    return f"{base_id(source['id'])}{ID_SEPARATOR}{folder['id']}"[:512]


class CycleError(PlanError):
    """The dependencies loop; `cycle` is the loop as a closed walk of node ids."""

    def __init__(self, cycle: list[int]) -> None:
        super().__init__(f"the dependencies form a cycle: {' → '.join(map(str, cycle))}", field="asset")
        self.cycle = cycle


def dependency_order(*, nodes: Iterable[int], edges: Iterable[tuple[int, int]], rank: Mapping[int, tuple]) -> list[int]:
    """Nodes so that every edge's source comes before its target (ties by `rank`); a cycle is a CycleError."""
    nodes = list(nodes)
    parents: dict[int, set[int]] = {n: set() for n in nodes}
    children: dict[int, set[int]] = {n: set() for n in nodes}
    for source, target in edges:
        if source in parents and target in parents and source != target:
            parents[target].add(source)
            children[source].add(target)
    waiting = {n: len(parents[n]) for n in nodes}
    ready = [(rank[n], n) for n in nodes if waiting[n] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (rank[child], child))
    if len(order) < len(nodes):
        remaining = set(nodes) - set(order)
        raise CycleError(find_cycle({n: parents[n] & remaining for n in remaining}))
    return order


def find_cycle(parents: Mapping[int, set[int]]) -> list[int]:
    """One cycle among nodes that each have a parent among them (what a topological sort leaves over), as a closed
    walk of ids in the direction of the edges."""
    node = min(parents)
    seen: list[int] = []
    while node not in seen:
        seen.append(node)
        node = min(parents[node])
    cycle = list(reversed(seen[seen.index(node) :]))
    return [*cycle, cycle[0]]


def _column_type(data_type: str) -> str:
    lowered = data_type.lower()
    for needle, quicksight_type in COLUMN_TYPES:
        if needle in lowered:
            return quicksight_type
    return "STRING"


def _placeholder(node: Node) -> str:
    parsed = parse_arn(node.external_id)
    return base_id(parsed["id"]) if parsed else str(node.id)


def _diff(node: Node, name: str, copy: Copy | None) -> list[dict[str, Any]]:
    """What the step changes in the target, field by field."""
    before: dict[str, Any] = (
        {"name": copy.name, "description": copy.description, "version": copy.version, "attributes": _plain(copy)}
        if copy
        else {}
    )
    after = {"name": name, "description": node.description, "version": node.version, "attributes": _plain(node)}
    return [
        {"field": key, "from": before.get(key), "to": value} for key, value in after.items() if before.get(key) != value
    ]


def _plain(item: Node | Copy) -> dict[str, Any]:
    return {key: value for key, value in item.attributes.items() if key != "arn"}


def plan_compute(
    *,
    root: int,
    nodes: Mapping[int, Node],
    edges: Iterable[tuple[int, int, str]],
    target: Target,
    copies: Mapping[int, Copy],
    include_dependencies: bool = True,
    mappings: Mapping[int, str | dict[str, Any]] | None = None,
    renames: Mapping[int, str] | None = None,
    overwrite: bool = False,
) -> Plan:
    """The ordered steps that make `root` (and its dependencies, `nodes`, joined by dependency `edges`) exist in
    the target folder, and the conflicts that block or qualify it.

    Data sources are never copied as they are (their connection differs per environment): each needs a mapping to a
    data source ARN of the target environment or connection parameters, unless an earlier promotion copied it.
    """
    mappings = mappings or {}
    renames = renames or {}
    edges = [(s, t, k) for s, t, k in edges if s in nodes and t in nodes and s != t]
    folder = parse_arn(target.folder_arn)
    if folder is None:
        raise PlanError(f"the target folder has no QuickSight ARN ({target.folder_arn!r})", field="target")
    for node in nodes.values():
        if parse_arn(node.external_id) is None:
            raise PlanError(
                f"{node.kind} {node.name!r} (asset {node.id}) has no QuickSight ARN as external id; "
                "import it from QuickSight first",
                field="asset",
            )
    # dependencies before dependants; among equals, kinds in creation order, then by name
    rank = {n.id: (KIND_ORDER[n.kind], n.name, n.id) for n in nodes.values()}
    try:
        order = dependency_order(nodes=nodes, edges=[(s, t) for s, t, _ in edges], rank=rank)
    except CycleError as error:
        names = " → ".join(f"{nodes[n].name} ({nodes[n].kind} {n})" for n in error.cycle)
        raise PlanError(f"the dependencies form a cycle: {names}", field="asset") from error
    parents: dict[int, list[tuple[int, str]]] = {n: [] for n in nodes}
    children_of: dict[int, list[tuple[int, str]]] = {n: [] for n in nodes}
    for source, target_id, kind in edges:
        parents[target_id].append((source, kind))
        children_of[source].append((target_id, kind))

    conflicts: list[dict[str, Any]] = []
    steps: list[Step] = []
    step_of: dict[int, Step] = {}
    account, region_prefix = folder["account"], folder["prefix"]

    def conflict(node: Node, kind: str, message: str, *, blocking: bool = True) -> None:
        conflicts.append(
            {"asset_id": node.id, "name": node.name, "kind": kind, "message": message, "blocking": blocking}
        )

    def arn_in_target(node_id: int) -> str:
        step = step_of.get(node_id)
        return step.target_arn if step else nodes[node_id].external_id

    def datasets_of(node_id: int) -> list[dict[str, str]]:
        refs = [
            {"DataSetPlaceholder": _placeholder(nodes[s]), "DataSetArn": arn_in_target(s)}
            for s, kind in sorted(parents[node_id])
            if kind == "uses_dataset"
        ]
        return refs

    for node_id in order:
        node = nodes[node_id]
        copy = copies.get(node_id)
        resource_id = target_resource_id(source_arn=node.external_id, folder_arn=target.folder_arn)
        arn = f"{region_prefix}:{ARN_TYPES[node.kind]}/{resource_id}"
        name = (
            renames.get(node_id)
            or (
                f"{node.name} ({target.customer})"
                if target.customer and node.kind in ("analysis", "dashboard")
                else node.name
            )[:300]
        )
        if copy is not None:
            arn = copy.external_id
            copy_arn = parse_arn(copy.external_id)
            resource_id = copy_arn["id"] if copy_arn else resource_id
        action = StepAction.CREATE
        mapping = mappings.get(node_id)
        if isinstance(mapping, str):  # an asset of the target (or shared with it) stands in for this one
            action, arn = StepAction.MAP, mapping
            parsed = parse_arn(mapping)
            resource_id = parsed["id"] if parsed else mapping
        elif node.kind == "data_source":
            if isinstance(mapping, dict):
                action = StepAction.UPDATE if copy else StepAction.CREATE
            elif copy is not None:
                action = StepAction.UNCHANGED
            else:
                action = StepAction.MAP
                conflict(
                    node,
                    "missing_mapping",
                    f"data source {node.name!r} has no mapping for {target.environment or 'the target'}: map it to a "
                    "data source ARN there or give connection parameters",
                )
        elif node_id != root and not include_dependencies:
            action = StepAction.UNCHANGED
            if copy is None:
                conflict(
                    node,
                    "missing_dependency",
                    f"{node.kind} {node.name!r} is not in the target and dependencies are not included",
                )
        elif copy is not None:
            if copy.copy_changed:
                conflict(
                    node,
                    "changed_in_target",
                    f"{node.kind} {copy.name!r} was changed in the target since the last promotion"
                    + ("; it will be overwritten" if overwrite else "; promote with overwrite to replace it"),
                    blocking=not overwrite,
                )
            changed = copy.source_changed or copy.copy_changed or name != copy.name
            action = StepAction.UPDATE if changed else StepAction.UNCHANGED
        step = Step(
            position=len(steps),
            asset_id=node_id,
            kind=node.kind,
            action=action,
            name=name,
            target_id=resource_id,
            target_arn=arn,
            depends_on=sorted(step_of[s].position for s, _ in parents[node_id] if s in step_of),
        )
        step_of[node_id] = step
        steps.append(step)
        if action in (StepAction.CREATE, StepAction.UPDATE):
            step.changes = _diff(node, name, copy)
            step.request = _request(
                node=node,
                step=step,
                account=account,
                parents=parents[node_id],
                arn_in_target=arn_in_target,
                datasets=datasets_of(node_id),
                mapping=mappings.get(node_id),
                conflict=lambda kind, message, node=node: conflict(node, kind, message),
                own_templates=[nodes[t].external_id for t, k in children_of[node_id] if k == "template_of"]
                + ([node.own_template_arn] if node.own_template_arn else []),
            )

    for step in list(steps):
        if step.action == StepAction.CREATE and step.kind in MEMBER_TYPES:
            steps.append(
                Step(
                    position=len(steps),
                    asset_id=step.asset_id,
                    kind=step.kind,
                    action=StepAction.MEMBERSHIP,
                    name=step.name,
                    target_id=step.target_id,
                    target_arn=step.target_arn,
                    depends_on=[step.position],
                    request={
                        "AwsAccountId": account,
                        "FolderId": folder["id"],
                        "MemberId": step.target_id,
                        "MemberType": MEMBER_TYPES[step.kind],
                    },
                )
            )
    return Plan(steps=steps, conflicts=conflicts)


def _request(
    *, node: Node, step: Step, account: str, parents, arn_in_target, datasets, mapping, conflict, own_templates
) -> dict:
    """The Create* parameters of one step (the Update* call takes the same, less what cannot change)."""
    kind = node.kind
    if kind == "data_source":
        parameters = dict(mapping.get("parameters") or {}) if isinstance(mapping, dict) else {}
        source_type = (mapping or {}).get("type") or SOURCE_TYPES.get(str(node.attributes.get("type", "")), "")
        return {
            "AwsAccountId": account,
            "DataSourceId": step.target_id,
            "Name": step.name,
            "Type": source_type or "POSTGRESQL",
            "DataSourceParameters": parameters,
        }
    if kind == "dataset":
        sources = [s for s, edge_kind in parents if edge_kind == "reads_from"]
        if not sources:
            conflict("no_data_source", f"dataset {node.name!r} reads from no data source the plan knows of")
        source_arn = arn_in_target(sources[0]) if sources else ""
        columns = [{"Name": name, "Type": _column_type(data_type)} for name, data_type in node.columns] or [
            {"Name": "value", "Type": "STRING"}
        ]
        sql = str(node.attributes.get("sql", ""))
        if sql:
            table = {
                "CustomSql": {"DataSourceArn": source_arn, "Name": node.name[:128], "SqlQuery": sql, "Columns": columns}
            }
        else:
            table = {
                "RelationalTable": {
                    "DataSourceArn": source_arn,
                    "Name": str(node.attributes.get("physical_table") or node.name)[:256],
                    "InputColumns": columns,
                }
            }
        mode = "DIRECT_QUERY" if node.attributes.get("import_mode") == "direct" else "SPICE"
        return {
            "AwsAccountId": account,
            "DataSetId": step.target_id,
            "Name": step.name,
            "ImportMode": mode,
            "PhysicalTableMap": {"table-1": table},
        }
    if kind == "template":
        analyses = [s for s, edge_kind in parents if edge_kind == "template_of"]
        if analyses:
            source = {"SourceAnalysis": {"Arn": arn_in_target(analyses[0]), "DataSetReferences": datasets}}
        else:
            source = {"SourceTemplate": {"Arn": node.external_id}}
        if "SourceAnalysis" in source and not datasets:
            conflict("no_dataset", f"template {node.name!r} uses no dataset; QuickSight needs at least one")
        return {
            "AwsAccountId": account,
            "TemplateId": step.target_id,
            "Name": step.name,
            "SourceEntity": source,
            "VersionDescription": f"Promoted from {node.external_id}"[:512],
        }
    # analyses and dashboards are made from a template, with the target's datasets in its placeholders
    templates = [s for s, edge_kind in parents if edge_kind == "created_from"]
    # else its own template (template_of), as it stands in the source: it exists already, the copy may not yet
    template_arn = arn_in_target(templates[0]) if templates else (own_templates[0] if own_templates else "")
    if not template_arn:
        conflict("no_template", f"{kind} {node.name!r} has no template to be made from; release a template of it first")
    if not datasets:
        conflict("no_dataset", f"{kind} {node.name!r} uses no dataset; QuickSight needs at least one")
    id_key = "AnalysisId" if kind == "analysis" else "DashboardId"
    return {
        "AwsAccountId": account,
        id_key: step.target_id,
        "Name": step.name,
        "SourceEntity": {"SourceTemplate": {"Arn": template_arn, "DataSetReferences": datasets}},
    }
