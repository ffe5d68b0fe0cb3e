"""CloudTrail records of QuickSight API calls → plans.

Request parameters come in lowerCamelCase from CloudTrail (`requestParameters.sourceEntity.sourceTemplate.arn`) and
in PascalCase from the API reference; both are read. `SourceEntity` is where the template → analysis link shows:
DescribeAnalysis does not return it, so these records are the only source of that edge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .changes import AssetChange, Membership, ParseError, Plan, Ref, ci_get, ci_path
from .quicksight import UnknownEvent, arn_build, arn_ref, data_set_plan, data_source_plan

KIND_BY_NOUN = {
    "DataSource": "data_source",
    "DataSet": "dataset",
    "Analysis": "analysis",
    "Template": "template",
    "Dashboard": "dashboard",
    "Folder": "folder",
}
MEMBER_KINDS = {"DASHBOARD": "dashboard", "ANALYSIS": "analysis", "DATASET": "dataset", "DATASOURCE": "data_source"}


def _id(params: dict[str, Any], noun: str) -> str:
    value = ci_get(params, f"{noun}Id")
    if not isinstance(value, str) or not value:
        raise ParseError("is missing", path=f"detail.requestParameters.{noun[0].lower()}{noun[1:]}Id")
    return value


def _references(source: Any, path: str) -> list[Ref]:
    refs: list[Ref] = []
    references = ci_get(source, "DataSetReferences") or []
    if not isinstance(references, list):
        raise ParseError("must be a list", path=f"{path}.dataSetReferences")
    for index, reference in enumerate(references):
        ref = arn_ref(ci_get(reference, "DataSetArn"), path=f"{path}.dataSetReferences[{index}].dataSetArn")
        if ref not in refs:
            refs.append(ref)
    return refs


def _definition_datasets(params: dict[str, Any]) -> list[Ref]:
    declarations = ci_path(params, "Definition.DataSetIdentifierDeclarations") or []
    refs: list[Ref] = []
    for index, declaration in enumerate(declarations if isinstance(declarations, list) else []):
        path = f"detail.requestParameters.definition.dataSetIdentifierDeclarations[{index}].dataSetArn"
        ref = arn_ref(ci_get(declaration, "DataSetArn"), path=path)
        if ref not in refs:
            refs.append(ref)
    return refs


def cloudtrail_plan(record: dict[str, Any], *, at: datetime) -> Plan:
    """What one CloudTrail record of a QuickSight call changes; raises UnknownEvent for calls that change nothing."""
    name = ci_get(record, "eventName")
    if not isinstance(name, str) or not name:
        raise ParseError("is missing", path="detail.eventName")
    plan = Plan(at=at)
    if ci_get(record, "errorCode"):
        plan.notes.append(f"{name} failed ({ci_get(record, 'errorCode')}); nothing in the catalog changes")
        return plan
    params = ci_get(record, "requestParameters")
    if not isinstance(params, dict):
        raise ParseError("must be an object", path="detail.requestParameters")
    account = str(ci_get(params, "AwsAccountId") or ci_get(record, "recipientAccountId") or "")
    region = str(ci_get(record, "awsRegion") or "")
    if not account or not region:
        raise ParseError("awsRegion and requestParameters.awsAccountId are needed to name assets", path="detail")

    def arn(kind: str, noun: str) -> Ref:
        return arn_ref(arn_build(kind=kind, account=account, region=region, resource_id=_id(params, noun)))

    verb, noun = _split(name)
    if noun in KIND_BY_NOUN and verb == "Delete":
        plan.assets.append(AssetChange(ref=arn(KIND_BY_NOUN[noun], noun), delete=True))
        return plan
    if name in ("CreateDataSource", "UpdateDataSource"):
        ref = arn("data_source", "DataSource")
        plan.extend(data_source_plan({**params, "Arn": ref[1]}, path="detail.requestParameters"))
        return plan
    if name in ("CreateDataSet", "UpdateDataSet"):
        ref = arn("dataset", "DataSet")
        plan.extend(data_set_plan({**params, "Arn": ref[1]}, path="detail.requestParameters"))
        return plan
    if name in ("CreateAnalysis", "UpdateAnalysis", "CreateDashboard", "UpdateDashboard"):
        kind = KIND_BY_NOUN[noun]
        ref = arn(kind, noun)
        incoming: dict[str, list[Ref]] = {}
        source = ci_path(params, "SourceEntity.SourceTemplate")
        path = "detail.requestParameters.sourceEntity.sourceTemplate"
        if isinstance(source, dict):
            template = arn_ref(ci_get(source, "Arn"), path=f"{path}.arn")
            if template[0] != "template":
                raise ParseError(f"is the ARN of a {template[0]}, expected a template", path=f"{path}.arn")
            incoming["created_from"] = [template]
            incoming["uses_dataset"] = _references(source, path)
        elif ci_get(params, "Definition") is not None:
            incoming["created_from"] = []  # built from a definition: no longer from a template
            datasets = _definition_datasets(params)
            if datasets:
                incoming["uses_dataset"] = datasets
        attributes: dict[str, Any] = {"arn": ref[1]}
        if kind == "dashboard" and "created_from" in incoming:
            attributes["source_template"] = incoming["created_from"][0][1] if incoming["created_from"] else ""
        plan.assets.append(
            AssetChange(ref=ref, name=_name(params), attributes=attributes, incoming=incoming, merge_attributes=True)
        )
        return plan
    if name in ("CreateTemplate", "UpdateTemplate"):
        ref = arn("template", "Template")
        incoming = {}
        attributes = {"arn": ref[1]}
        entity = ci_get(params, "SourceEntity") or {}
        analysis = ci_get(entity, "SourceAnalysis")
        template = ci_get(entity, "SourceTemplate")
        path = "detail.requestParameters.sourceEntity"
        if isinstance(analysis, dict):
            source = arn_ref(ci_get(analysis, "Arn"), path=f"{path}.sourceAnalysis.arn")
            incoming["template_of"] = [source]
            incoming["uses_dataset"] = _references(analysis, f"{path}.sourceAnalysis")
            attributes["source_analysis"] = source[1]
        elif isinstance(template, dict):
            incoming["template_of"] = [arn_ref(ci_get(template, "Arn"), path=f"{path}.sourceTemplate.arn")]
        plan.assets.append(
            AssetChange(
                ref=ref,
                name=_name(params, fallback=_id(params, "Template")),
                attributes=attributes,
                incoming=incoming,
                merge_attributes=True,
            )
        )
        return plan
    if name in ("CreateTemplateAlias", "UpdateTemplateAlias"):
        ref = arn("template", "Template")
        alias = ci_get(params, "AliasName")
        if not isinstance(alias, str) or not alias:
            raise ParseError("is missing", path="detail.requestParameters.aliasName")
        plan.assets.append(AssetChange(ref=ref, attributes={"aliases": [alias]}, merge_attributes=True))
        return plan
    if name == "UpdateDashboardPublishedVersion":
        ref = arn("dashboard", "Dashboard")
        number = ci_get(params, "VersionNumber")
        if not isinstance(number, int) or number < 0:
            raise ParseError("must be a whole number", path="detail.requestParameters.versionNumber")
        plan.assets.append(AssetChange(ref=ref, attributes={"published_version": number}, merge_attributes=True))
        return plan
    if name in ("CreateFolder", "UpdateFolder"):
        ref = arn("folder", "Folder")
        attributes = {"arn": ref[1]}
        if ci_get(params, "FolderType"):
            attributes["folder_type"] = str(ci_get(params, "FolderType"))
        plan.assets.append(AssetChange(ref=ref, name=_name(params), attributes=attributes, merge_attributes=True))
        parent = ci_get(params, "ParentFolderArn")
        if parent:
            plan.memberships.append(
                Membership(folder=arn_ref(parent, path="detail.requestParameters.parentFolderArn"), member=ref)
            )
        return plan
    if name in ("CreateFolderMembership", "DeleteFolderMembership"):
        folder = arn("folder", "Folder")
        member_type = str(ci_get(params, "MemberType") or "").upper()
        if member_type not in MEMBER_KINDS:
            raise UnknownEvent(f"folder members of type {member_type or '(none)'} are not catalogued")
        member_id = ci_get(params, "MemberId")
        if not isinstance(member_id, str) or not member_id:
            raise ParseError("is missing", path="detail.requestParameters.memberId")
        kind = MEMBER_KINDS[member_type]
        member = arn_ref(arn_build(kind=kind, account=account, region=region, resource_id=member_id))
        plan.memberships.append(Membership(folder=folder, member=member, remove=name.startswith("Delete")))
        return plan
    raise UnknownEvent(f"{name} does not change catalogued assets")


def _split(name: str) -> tuple[str, str]:
    for verb in ("Create", "Update", "Delete"):
        if name.startswith(verb):
            return verb, name[len(verb) :]
    return "", name


def _name(params: dict[str, Any], fallback: str = "") -> str:
    name = ci_get(params, "Name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:300]
    if fallback:
        return fallback
    raise ParseError("is missing", path="detail.requestParameters.name")
