"""QuickSight shapes → plans: ARNs, Describe* outputs (bulk import, connector) and native EventBridge events.

Pure: plain dicts in, `changes.Plan` out. Every key is read case-insensitively (see `changes.ci_get`).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .changes import AssetChange, ColumnLink, Join, Membership, ParseError, Plan, Ref, ci_get, ci_path
from .sql import SqlLineageError, sql_lineage

# ARN resource types → asset kinds
RESOURCE_KINDS = {
    "datasource": "data_source",
    "dataset": "dataset",
    "analysis": "analysis",
    "template": "template",
    "dashboard": "dashboard",
    "folder": "folder",
}
KIND_RESOURCES = {kind: resource for resource, kind in RESOURCE_KINDS.items()}
ARN_RE = re.compile(r"^arn:aws[\w-]*:quicksight:(?P<region>[\w-]*):(?P<account>\d*):(?P<resource>[a-z]+)/(?P<id>[^/]+)")
# QuickSight source types → the catalog's data source types
SOURCE_TYPES = {
    "POSTGRESQL": "postgresql",
    "AURORA_POSTGRESQL": "postgresql",
    "REDSHIFT": "redshift",
    "ATHENA": "athena",
    "S3": "s3",
    "MYSQL": "mysql",
    "MARIADB": "mysql",
    "AURORA": "mysql",
    "FILE": "file",
}
MAX_SQL = 100_000


def arn_ref(arn: Any, *, path: str = "") -> Ref:
    """(kind, canonical ARN) of a QuickSight ARN; a template version suffix is dropped."""
    if not isinstance(arn, str):
        raise ParseError("must be a QuickSight ARN string", path=path)
    match = ARN_RE.match(arn.strip())
    if not match or match["resource"] not in RESOURCE_KINDS:
        raise ParseError(
            f"{arn[:200]!r} is not a QuickSight ARN of a data source, dataset, analysis, template, dashboard or folder",
            path=path,
        )
    canonical = f"arn:aws:quicksight:{match['region']}:{match['account']}:{match['resource']}/{match['id']}"
    return RESOURCE_KINDS[match["resource"]], canonical


def arn_build(*, kind: str, account: str, region: str, resource_id: str) -> str:
    return f"arn:aws:quicksight:{region}:{account}:{KIND_RESOURCES[kind]}/{resource_id}"


def arn_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def fingerprint(data: Any) -> str:
    """A stable digest of a JSON value (key order does not matter)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _unwrap(item: Any, key: str, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ParseError("must be an object (a Describe* output)", path=path)
    inner = ci_get(item, key)
    return inner if isinstance(inner, dict) else item


def _name(obj: dict[str, Any], path: str, fallback: str = "") -> str:
    name = ci_get(obj, "Name")
    if name is None and fallback:
        return fallback
    if not isinstance(name, str) or not name.strip():
        raise ParseError("is missing or empty", path=f"{path}.Name")
    return name.strip()[:300]


def _arn(obj: dict[str, Any], kind: str, path: str) -> Ref:
    ref = arn_ref(ci_get(obj, "Arn"), path=f"{path}.Arn")
    if ref[0] != kind:
        raise ParseError(f"is the ARN of a {ref[0]}, expected a {kind}", path=f"{path}.Arn")
    return ref


def _arn_list(values: Any, path: str, *, kind: str | None = None) -> list[Ref]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise ParseError("must be a list of ARNs", path=path)
    refs = []
    for index, value in enumerate(values):
        ref = arn_ref(value, path=f"{path}[{index}]")
        if kind and ref[0] != kind:
            raise ParseError(f"is the ARN of a {ref[0]}, expected a {kind}", path=f"{path}[{index}]")
        if ref not in refs:
            refs.append(ref)
    return refs


def _columns(values: Any, path: str) -> list[dict[str, Any]]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise ParseError("must be a list of columns", path=path)
    columns = []
    seen = set()
    for index, column in enumerate(values):
        name = ci_get(column, "Name")
        if not isinstance(name, str) or not name.strip():
            raise ParseError("has no Name", path=f"{path}[{index}]")
        if name in seen:
            continue
        seen.add(name)
        data_type = ci_get(column, "Type", "DataType") or ""
        columns.append({"name": name.strip()[:300], "data_type": str(data_type).lower()[:100]})
    return columns


# ---------------------------------------------------------------------------------------------------------------
# Describe* outputs


def data_source_plan(item: Any, *, path: str) -> Plan:
    obj = _unwrap(item, "DataSource", path)
    ref = _arn(obj, "data_source", path)
    attributes: dict[str, Any] = {"arn": ref[1]}
    source_type = ci_get(obj, "Type")
    if source_type:
        attributes["type"] = SOURCE_TYPES.get(str(source_type).upper(), "other")
    parameters = ci_get(obj, "DataSourceParameters")
    if isinstance(parameters, dict):
        for inner in parameters.values():
            if isinstance(inner, dict):
                host = ci_get(inner, "Host", "InstanceId", "ClusterId", "WorkGroup")
                database = ci_get(inner, "Database")
                if host:
                    attributes["host"] = str(host)[:2000]
                if database:
                    attributes["database"] = str(database)[:2000]
                break
    return Plan(assets=[AssetChange(ref=ref, name=_name(obj, path), attributes=attributes)])


def _table_ref(source_arn: str, table: str) -> Ref:
    return "data_product", f"{source_arn}/{table}"


def _join_pairs(on_clause: str) -> list[list[str]]:
    """Equal column pairs of a QuickSight OnClause such as `{customer_id} = {id} AND {a} = {b}`."""
    text = re.sub(r"\{([^}]*)\}", lambda m: '"' + m.group(1).replace('"', '""') + '"', on_clause)
    try:
        condition = sqlglot.parse_one(text, into=exp.Condition)
    except SqlglotError:
        return []
    pairs = []
    for eq in condition.find_all(exp.EQ):
        if isinstance(eq.left, exp.Column) and isinstance(eq.right, exp.Column):
            pairs.append([eq.left.name, eq.right.name])
    return pairs


def data_set_plan(item: Any, *, path: str, source_types: dict[str, str] | None = None) -> Plan:
    """A dataset with its reads (data sources, tables, custom SQL lineage), derived datasets and joins."""
    source_types = source_types or {}
    obj = _unwrap(item, "DataSet", path)
    ref = _arn(obj, "dataset", path)
    plan = Plan()
    columns = _columns(ci_get(obj, "OutputColumns"), f"{path}.OutputColumns")
    output_names = {c["name"] for c in columns}
    attributes: dict[str, Any] = {"arn": ref[1]}
    mode = ci_get(obj, "ImportMode")
    if mode:
        attributes["import_mode"] = "spice" if str(mode).upper() == "SPICE" else "direct"
    reads: list[Ref] = []
    derived: list[Ref] = []
    # physical table id → the asset standing for it (a table, or the dataset itself for SQL and files)
    physical_assets: dict[str, Ref] = {}
    physical = ci_get(obj, "PhysicalTableMap") or {}
    if not isinstance(physical, dict):
        raise ParseError("must be an object keyed by physical table id", path=f"{path}.PhysicalTableMap")
    for table_id, table in physical.items():
        table_path = f"{path}.PhysicalTableMap.{table_id}"
        relational = ci_get(table, "RelationalTable")
        custom = ci_get(table, "CustomSql")
        s3 = ci_get(table, "S3Source")
        spec = relational or custom or s3
        if not isinstance(spec, dict):
            raise ParseError("has none of RelationalTable, CustomSql, S3Source", path=table_path)
        kind_key = "RelationalTable" if relational else "CustomSql" if custom else "S3Source"
        source = arn_ref(ci_get(spec, "DataSourceArn"), path=f"{table_path}.{kind_key}.DataSourceArn")
        if source[0] != "data_source":
            raise ParseError(f"is the ARN of a {source[0]}", path=f"{table_path}.{kind_key}.DataSourceArn")
        if source not in reads:
            reads.append(source)
        physical_assets[table_id] = ref
        if relational:
            table_name = ".".join(
                str(part) for part in (ci_get(spec, "Catalog"), ci_get(spec, "Schema"), ci_get(spec, "Name")) if part
            )
            if not ci_get(spec, "Name"):
                raise ParseError("is missing", path=f"{table_path}.RelationalTable.Name")
            table_columns = _columns(ci_get(spec, "InputColumns"), f"{table_path}.RelationalTable.InputColumns")
            table_ref = _table_ref(source[1], table_name)
            physical_assets[table_id] = table_ref
            attributes.setdefault("physical_table", table_name[:2000])
            plan.assets.append(
                AssetChange(
                    ref=table_ref,
                    name=table_name[:300],
                    columns=table_columns,
                    merge_attributes=True,
                    merge_columns=True,
                )
            )
            if table_ref not in reads:
                reads.append(table_ref)
            if not columns and len(physical) == 1:
                columns = list(table_columns)
                output_names = {c["name"] for c in columns}
            for column in table_columns:
                if column["name"] in output_names:
                    plan.column_links.append(ColumnLink(table_ref, column["name"], ref, column["name"]))
        elif custom:
            sql = ci_get(spec, "SqlQuery")
            if not isinstance(sql, str) or not sql.strip():
                raise ParseError("is missing", path=f"{table_path}.CustomSql.SqlQuery")
            attributes.setdefault("sql", sql[:MAX_SQL])
            sql_columns = _columns(ci_get(spec, "Columns"), f"{table_path}.CustomSql.Columns")
            if not columns and len(physical) == 1:
                columns = list(sql_columns)
                output_names = {c["name"] for c in columns}
            try:
                found = sql_lineage(sql, source_type=source_types.get(source[1], ""))
            except SqlLineageError as error:
                plan.notes.append(f"{table_path}.CustomSql.SqlQuery: not parsed ({error})")
                continue
            table_columns_of: dict[str, list[dict[str, Any]]] = {t: [] for t in found.tables}
            for output, sources in found.columns.items():
                for table_name, column_name in sources:
                    listed = table_columns_of.setdefault(table_name, [])
                    if all(c["name"] != column_name for c in listed):
                        listed.append({"name": column_name})
                    if output in output_names or not output_names:
                        plan.column_links.append(
                            ColumnLink(_table_ref(source[1], table_name), column_name, ref, output)
                        )
            for table_name, table_columns in table_columns_of.items():
                table_ref = _table_ref(source[1], table_name)
                plan.assets.append(
                    AssetChange(
                        ref=table_ref,
                        name=table_name[:300],
                        columns=table_columns,
                        merge_attributes=True,
                        merge_columns=True,
                    )
                )
                if table_ref not in reads:
                    reads.append(table_ref)
            if len(found.tables) == 1:
                physical_assets[table_id] = _table_ref(source[1], found.tables[0])
    logical = ci_get(obj, "LogicalTableMap") or {}
    if not isinstance(logical, dict):
        raise ParseError("must be an object keyed by logical table id", path=f"{path}.LogicalTableMap")

    def operand_asset(logical_id: str) -> Ref:
        source = ci_get(logical.get(logical_id), "Source") or {}
        if ci_get(source, "PhysicalTableId") in physical_assets:
            return physical_assets[ci_get(source, "PhysicalTableId")]
        if ci_get(source, "DataSetArn"):
            return arn_ref(ci_get(source, "DataSetArn"), path=f"{path}.LogicalTableMap.{logical_id}.Source")
        return ref

    for logical_id, table in logical.items():
        table_path = f"{path}.LogicalTableMap.{logical_id}.Source"
        source = ci_get(table, "Source") or {}
        if ci_get(source, "DataSetArn"):
            parent = arn_ref(ci_get(source, "DataSetArn"), path=f"{table_path}.DataSetArn")
            if parent[0] == "dataset" and parent != ref and parent not in derived:
                derived.append(parent)
        join = ci_get(source, "JoinInstruction")
        if isinstance(join, dict):
            on_clause = ci_get(join, "OnClause")
            left_id, right_id = ci_get(join, "LeftOperand"), ci_get(join, "RightOperand")
            if not isinstance(on_clause, str) or not on_clause.strip():
                raise ParseError("is missing", path=f"{table_path}.JoinInstruction.OnClause")
            if left_id not in logical or right_id not in logical:
                raise ParseError(
                    "LeftOperand and RightOperand must name logical tables of this dataset",
                    path=f"{table_path}.JoinInstruction",
                )
            plan.joins.append(
                Join(
                    dataset=ref,
                    left=operand_asset(left_id),
                    right=operand_asset(right_id),
                    join_type=str(ci_get(join, "Type") or "")[:10],
                    on_clause=on_clause.strip()[:1000],
                    column_pairs=_join_pairs(on_clause),
                )
            )
    incoming: dict[str, list[Ref]] = {"reads_from": reads}
    if derived:
        incoming["derived_from"] = derived
    change = AssetChange(ref=ref, name=_name(obj, path), attributes=attributes, incoming=incoming)
    if columns:
        change.columns = columns
    plan.assets.insert(0, change)
    return plan


def template_plan(item: Any, *, path: str) -> Plan:
    obj = _unwrap(item, "Template", path)
    ref = _arn(obj, "template", path)
    version = ci_get(obj, "Version") or {}
    attributes: dict[str, Any] = {"arn": ref[1]}
    incoming: dict[str, list[Ref]] = {}
    source_arn = ci_get(version, "SourceEntityArn")
    if source_arn:
        source = arn_ref(source_arn, path=f"{path}.Version.SourceEntityArn")
        if source[0] not in ("analysis", "template"):
            raise ParseError(f"is a {source[0]}; a template comes from an analysis or a template", path=path)
        incoming["template_of"] = [source]
        if source[0] == "analysis":
            attributes["source_analysis"] = source[1]
    configurations = ci_get(version, "DataSetConfigurations")
    if configurations is not None:
        attributes["dataset_configurations"] = dataset_configurations(
            configurations, path=f"{path}.Version.DataSetConfigurations"
        )
    number = ci_get(version, "VersionNumber")
    change = AssetChange(ref=ref, name=_name(obj, path), attributes=attributes, incoming=incoming)
    if isinstance(number, int) and number >= 1:
        change.version = number
    return Plan(assets=[change])


def dataset_configurations(values: Any, *, path: str) -> list[dict[str, Any]]:
    """Template dataset placeholders with the column schema each expects (releases check datasets against them)."""
    if not isinstance(values, list):
        raise ParseError("must be a list", path=path)
    result = []
    for index, config in enumerate(values):
        placeholder = ci_get(config, "Placeholder")
        if not isinstance(placeholder, str) or not placeholder:
            raise ParseError("is missing", path=f"{path}[{index}].Placeholder")
        schema = ci_path(config, "DataSetSchema.ColumnSchemaList") or []
        columns = []
        for column in schema if isinstance(schema, list) else []:
            name = ci_get(column, "Name")
            if isinstance(name, str) and name:
                columns.append({"name": name[:300], "data_type": str(ci_get(column, "DataType") or "").lower()[:100]})
        result.append({"placeholder": placeholder[:300], "columns": columns})
    return result


def analysis_plan(item: Any, *, path: str) -> Plan:
    obj = _unwrap(item, "Analysis", path)
    ref = _arn(obj, "analysis", path)
    datasets = _arn_list(ci_get(obj, "DataSetArns"), f"{path}.DataSetArns", kind="dataset")
    sheets = [str(ci_get(s, "Name") or ci_get(s, "SheetId"))[:2000] for s in ci_get(obj, "Sheets") or []]
    attributes: dict[str, Any] = {"arn": ref[1]}
    if sheets:
        attributes["sheets"] = sheets
    # DescribeAnalysis has no source entity: the template link comes from change events only, so it is left alone.
    return Plan(
        assets=[
            AssetChange(
                ref=ref,
                name=_name(obj, path),
                attributes=attributes,
                incoming={"uses_dataset": datasets},
                merge_attributes=True,
            )
        ]
    )


def dashboard_plan(item: Any, *, path: str) -> Plan:
    obj = _unwrap(item, "Dashboard", path)
    ref = _arn(obj, "dashboard", path)
    version = ci_get(obj, "Version") or {}
    datasets = _arn_list(ci_get(version, "DataSetArns"), f"{path}.Version.DataSetArns", kind="dataset")
    attributes: dict[str, Any] = {"arn": ref[1]}
    plan = Plan()
    incoming: dict[str, list[Ref]] = {"uses_dataset": datasets}
    number = ci_get(version, "VersionNumber")
    if isinstance(number, int) and number >= 0:
        attributes["published_version"] = number
    sheets = [str(ci_get(s, "Name") or ci_get(s, "SheetId"))[:2000] for s in ci_get(version, "Sheets") or []]
    if sheets:
        attributes["sheets"] = sheets
    source_arn = ci_get(version, "SourceEntityArn")
    if source_arn:
        source = arn_ref(source_arn, path=f"{path}.Version.SourceEntityArn")
        if source[0] == "template":
            incoming["created_from"] = [source]
            attributes["source_template"] = source[1]
        else:
            plan.notes.append(f"{path}: published from a {source[0]}; only template sources become lineage edges")
    plan.assets.append(AssetChange(ref=ref, name=_name(obj, path), attributes=attributes, incoming=incoming))
    return plan


def folder_plan(item: Any, *, path: str) -> Plan:
    """A folder (DescribeFolder output) with its `Members` (ListFolderMembers' FolderMemberList); exact membership."""
    if not isinstance(item, dict):
        raise ParseError("must be an object", path=path)
    obj = _unwrap(item, "Folder", path)
    ref = _arn(obj, "folder", path)
    attributes: dict[str, Any] = {"arn": ref[1]}
    if ci_get(obj, "FolderType"):
        attributes["folder_type"] = str(ci_get(obj, "FolderType"))[:2000]
    plan = Plan(assets=[AssetChange(ref=ref, name=_name(obj, path), attributes=attributes)])
    members = ci_get(item, "Members", "FolderMemberList")
    if members is not None:
        if not isinstance(members, list):
            raise ParseError("must be a list", path=f"{path}.Members")
        for index, member in enumerate(members):
            member_ref = arn_ref(ci_get(member, "MemberArn"), path=f"{path}.Members[{index}].MemberArn")
            plan.memberships.append(Membership(folder=ref, member=member_ref))
        plan.exact_folders.append(ref)
    folder_path = ci_get(obj, "FolderPath")
    if isinstance(folder_path, list) and folder_path:
        parent = arn_ref(folder_path[-1], path=f"{path}.FolderPath[{len(folder_path) - 1}]")
        plan.memberships.append(Membership(folder=parent, member=ref))
    return plan


# ---------------------------------------------------------------------------------------------------------------
# Native EventBridge events ("QuickSight Dashboard Creation Successful", ...)

_PRODUCT = r"(?:aws\s+|amazon\s+)?quick\s*(?:sight|suite)?\s+"
NATIVE_RE = re.compile(
    _PRODUCT + r"(?P<entity>dashboard|analysis|template|data\s*set|data\s*source|folder\s+membership|folder|theme"
    r"|vpc\s+connection)\s+(?P<action>.+)$",
    re.IGNORECASE,
)
NATIVE_ENTITY_KINDS = {
    "dashboard": "dashboard",
    "analysis": "analysis",
    "template": "template",
    "dataset": "dataset",
    "datasource": "data_source",
    "folder": "folder",
    "foldermembership": "folder",
}
NATIVE_ID_KEYS = {
    "dashboard": "dashboardId",
    "analysis": "analysisId",
    "template": "templateId",
    "dataset": "dataSetId",
    "data_source": "dataSourceId",
    "folder": "folderId",
}


class UnknownEvent(Exception):
    """The event is well formed but of a type this catalog does not act on; it is stored, not applied."""


def native_plan(event: dict[str, Any], *, at: datetime) -> Plan:
    """A native event carries only ids: deletes apply at once, creates and updates mark the asset for a describe."""
    detail_type = str(ci_get(event, "detail-type") or "")
    match = NATIVE_RE.match(detail_type.strip())
    if not match:
        raise UnknownEvent(f"detail-type {detail_type!r} is not a QuickSight asset event")
    entity = re.sub(r"\s+", "", match["entity"].lower())
    action = match["action"].lower()
    if entity not in NATIVE_ENTITY_KINDS:
        raise UnknownEvent(f"{match['entity']} events do not change catalogued assets")
    kind = NATIVE_ENTITY_KINDS[entity]
    detail = ci_get(event, "detail")
    if not isinstance(detail, dict):
        raise ParseError("must be an object", path="detail")
    resources = [r for r in ci_get(event, "resources") or [] if isinstance(r, str)]
    resource_id = ci_get(detail, NATIVE_ID_KEYS[kind], "id")
    arn = next((r for r in resources if ARN_RE.match(r) and arn_ref(r)[0] == kind), None)
    if arn is None:
        if not isinstance(resource_id, str) or not resource_id:
            raise ParseError(f"has no {NATIVE_ID_KEYS[kind]} and the event has no resource ARN", path="detail")
        account, region = ci_get(event, "account"), ci_get(event, "region")
        if not account or not region:
            raise ParseError("account and region are needed to name the asset", path="account")
        arn = arn_build(kind=kind, account=str(account), region=str(region), resource_id=resource_id)
    ref = arn_ref(arn, path="resources")
    plan = Plan(at=at)
    if "failed" in action or "permission" in action:
        plan.notes.append(f"{detail_type}: nothing in the catalog changes")
        return plan
    if "delete" in action and entity != "foldermembership":
        plan.assets.append(AssetChange(ref=ref, delete=True))
        return plan
    change = AssetChange(ref=ref, name="", attributes={}, merge_attributes=True)
    if "published version" in action and kind == "dashboard":
        number = ci_get(detail, "versionNumber")
        if isinstance(number, int) and number >= 0:
            change.attributes = {"published_version": number}
    plan.assets.append(change)
    plan.describe.append(ref)
    return plan
