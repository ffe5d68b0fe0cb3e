"""Rendering a promotion plan as files other tools apply: a QuickSight asset-bundle-style JSON document and an AWS
CloudFormation template. Pure: takes the plan's steps as plain dicts, returns plain dicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .choices import StepAction

BUNDLE_FORMAT = "cartograph-quicksight-asset-bundle"
SECTIONS = {
    "data_source": "DataSources",
    "dataset": "DataSets",
    "template": "Templates",
    "analysis": "Analyses",
    "dashboard": "Dashboards",
}
CFN_TYPES = {
    "data_source": "AWS::QuickSight::DataSource",
    "dataset": "AWS::QuickSight::DataSet",
    "template": "AWS::QuickSight::Template",
    "analysis": "AWS::QuickSight::Analysis",
    "dashboard": "AWS::QuickSight::Dashboard",
}
# Kinds whose CloudFormation resource takes FolderArns (templates live outside folders).
FOLDER_KINDS = frozenset({"data_source", "dataset", "analysis", "dashboard"})
APPLIED = (StepAction.CREATE, StepAction.UPDATE)


def logical_id(step: Mapping[str, Any]) -> str:
    """A CloudFormation logical id for a step's resource: letters and digits only, unique by position."""
    words = re.findall(r"[A-Za-z0-9]+", f"{step['kind']} {step['name']}")
    return ("".join(word[:1].upper() + word[1:] for word in words) or "Resource")[:200] + str(step["position"])


def bundle_render(
    *, promotion: Mapping[str, Any], steps: Sequence[Mapping[str, Any]], conflicts: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The plan as one JSON document shaped like a QuickSight asset bundle: resources per section, in the order they
    must be created, each with the parameters of its Create*/Update* call, then the folder memberships."""
    resources: dict[str, list[dict[str, Any]]] = {section: [] for section in SECTIONS.values()}
    kept: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    by_position = {step["position"]: step for step in steps}
    for step in steps:
        if step["action"] == StepAction.MEMBERSHIP:
            memberships.append(dict(step["request"]))
        elif step["action"] in APPLIED:
            resources[SECTIONS[step["kind"]]].append(
                {
                    "Order": step["position"],
                    "Action": step["action"],
                    "Arn": step["target_arn"],
                    "Id": step["target_id"],
                    "Name": step["name"],
                    "DependsOn": [by_position[p]["target_arn"] for p in step["depends_on"] if p in by_position],
                    "Parameters": step["request"],
                }
            )
        else:
            kept.append({"Arn": step["target_arn"], "Kind": step["kind"], "Action": step["action"]})
    return {
        "Format": BUNDLE_FORMAT,
        "FormatVersion": 1,
        "Promotion": dict(promotion),
        "Resources": resources,
        "FolderMemberships": memberships,
        "Existing": kept,
        "Conflicts": [dict(c) for c in conflicts],
    }


def _references(value: Any, arns: Mapping[str, str]) -> Any:
    """Replaces ARNs of resources created by the same stack with Fn::GetAtt, so CloudFormation orders them."""
    if isinstance(value, str) and value in arns:
        return {"Fn::GetAtt": [arns[value], "Arn"]}
    if isinstance(value, dict):
        return {key: _references(item, arns) for key, item in value.items()}
    if isinstance(value, list):
        return [_references(item, arns) for item in value]
    return value


def cloudformation_render(*, description: str, folder_arn: str, steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The plan as an AWS CloudFormation template: one AWS::QuickSight::* resource per created or updated asset,
    references between them as Fn::GetAtt (with DependsOn), folder membership as FolderArns."""
    applied = [step for step in steps if step["action"] in APPLIED]
    logical = {step["target_arn"]: logical_id(step) for step in applied}
    by_position = {step["position"]: step for step in steps}
    in_folder = {step["target_arn"] for step in steps if step["action"] == StepAction.MEMBERSHIP} | {
        step["target_arn"] for step in applied if step["action"] == StepAction.UPDATE
    }
    resources: dict[str, Any] = {}
    for step in applied:
        properties = _references(dict(step["request"]), {k: v for k, v in logical.items() if k != step["target_arn"]})
        if step["kind"] in FOLDER_KINDS and step["target_arn"] in in_folder:
            properties["FolderArns"] = [folder_arn]
        depends = sorted(
            {
                logical[by_position[p]["target_arn"]]
                for p in step["depends_on"]
                if p in by_position and by_position[p]["target_arn"] in logical
            }
        )
        resource: dict[str, Any] = {"Type": CFN_TYPES[step["kind"]], "Properties": properties}
        if depends:
            resource["DependsOn"] = depends
        resources[logical_id(step)] = resource
    outputs = {
        name: {"Description": f"ARN of {step['name']}"[:1024], "Value": {"Fn::GetAtt": [name, "Arn"]}}
        for step in applied
        for name in [logical_id(step)]
    }
    if not resources:  # a template needs one resource; this one does nothing
        resources["NothingToChange"] = {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description[:1024],
        "Resources": resources,
        "Outputs": outputs,
    }
