"""Applying a plan's steps to QuickSight through boto3: Create*/Update* calls, waiting on creation status through
Describe*, and undoing them (delete what was created, restore what was updated from its definition before).

The client comes from the factory named by the CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY setting (a dotted path to a
callable taking `region`), so tests hand in a client wired to botocore's Stubber.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings
from django.utils.module_loading import import_string

RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="cartograph-promotions")
SUCCEEDED = frozenset({"CREATION_SUCCESSFUL", "UPDATE_SUCCESSFUL"})
FAILED = frozenset({"CREATION_FAILED", "UPDATE_FAILED", "DELETED"})


class StepFailed(Exception):
    """A QuickSight call of a step failed or the resource ended in a failed status.

    `applied` says the Create*/Update* call itself went through (what came after failed), so the step has to be
    undone too; `previous` is what an update replaced.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.applied = False
        self.previous: dict[str, Any] | None = None


def quicksight_client(*, region: str) -> Any:
    """A QuickSight client with adaptive retries (credentials from the usual AWS environment/profile chain)."""
    return boto3.client("quicksight", region_name=region, config=RETRY_CONFIG)


def client_for(*, region: str) -> Any:
    factory: Callable[..., Any] = import_string(settings.CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY)
    return factory(region=region)


# per kind: (create, update, delete, describe, describe-definition, id key, extra delete parameters)
OPERATIONS: dict[str, dict[str, Any]] = {
    "data_source": {
        "create": "create_data_source",
        "update": "update_data_source",
        "delete": "delete_data_source",
        "describe": "describe_data_source",
        "id": "DataSourceId",
        "update_drops": ("Type",),
    },
    "dataset": {
        "create": "create_data_set",
        "update": "update_data_set",
        "delete": "delete_data_set",
        "describe": "describe_data_set",
        "id": "DataSetId",
        "update_drops": (),
    },
    "template": {
        "create": "create_template",
        "update": "update_template",
        "delete": "delete_template",
        "describe": "describe_template",
        "definition": "describe_template_definition",
        "id": "TemplateId",
        "update_drops": (),
    },
    "analysis": {
        "create": "create_analysis",
        "update": "update_analysis",
        "delete": "delete_analysis",
        "describe": "describe_analysis",
        "definition": "describe_analysis_definition",
        "id": "AnalysisId",
        "update_drops": (),
        "delete_extra": {"ForceDeleteWithoutRecovery": True},
    },
    "dashboard": {
        "create": "create_dashboard",
        "update": "update_dashboard",
        "delete": "delete_dashboard",
        "describe": "describe_dashboard",
        "definition": "describe_dashboard_definition",
        "id": "DashboardId",
        "update_drops": (),
    },
}


def _status(kind: str, described: dict[str, Any]) -> str | None:
    """The creation status in a Describe* answer (datasets are created synchronously: no status)."""
    if kind == "data_source":
        return described.get("DataSource", {}).get("Status")
    if kind == "template":
        return described.get("Template", {}).get("Version", {}).get("Status")
    if kind == "analysis":
        return described.get("Analysis", {}).get("Status")
    if kind == "dashboard":
        return described.get("Dashboard", {}).get("Version", {}).get("Status")
    return None


def _wait(client: Any, *, kind: str, account: str, resource_id: str, status: str | None) -> None:
    """Polls Describe* until the resource is created or updated, failing the step if QuickSight says it failed."""
    ops = OPERATIONS[kind]
    deadline = time.monotonic() + settings.CARTOGRAPH_PROMOTIONS_WAIT_SECONDS
    while status not in SUCCEEDED:
        if status in FAILED:
            raise StepFailed(f"QuickSight reports {kind} {resource_id} as {status}")
        if time.monotonic() > deadline:
            raise StepFailed(f"{kind} {resource_id} was still {status} after waiting; see it in QuickSight")
        if status is not None:
            time.sleep(settings.CARTOGRAPH_PROMOTIONS_POLL_SECONDS)
        described = getattr(client, ops["describe"])(AwsAccountId=account, **{ops["id"]: resource_id})
        status = _status(kind, described)
        if status is None:  # nothing to wait for
            return


def _call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    try:
        return getattr(client, operation)(**params)
    except ClientError as error:
        info = error.response.get("Error", {})
        raise StepFailed(f"{operation}: {info.get('Code', 'error')}: {info.get('Message', '')}".strip()) from error
    except (ParamValidationError, BotoCoreError) as error:
        raise StepFailed(f"{operation}: {error}") from error


def step_apply(client: Any, *, kind: str, action: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """Runs one step; returns, for an update, what it replaced (so a rollback can restore it)."""
    account = request["AwsAccountId"]
    if action == "membership":
        _call(client, "create_folder_membership", **request)
        return None
    ops = OPERATIONS[kind]
    resource_id = request[ops["id"]]
    previous = None
    if action == "update":
        previous = _snapshot(client, kind=kind, account=account, resource_id=resource_id)
        params = {key: value for key, value in request.items() if key not in ops["update_drops"]}
        answer = _call(client, ops["update"], **params)
    else:
        answer = _call(client, ops["create"], **request)
    try:
        if kind != "dataset":
            status = answer.get("CreationStatus") or answer.get("UpdateStatus")
            _wait(client, kind=kind, account=account, resource_id=resource_id, status=status)
        if kind == "dashboard" and action == "update":
            # an update makes a new dashboard version; readers see it once it is the published one
            version = int(str(answer["VersionArn"]).rsplit("/", 1)[-1])
            _call(
                client,
                "update_dashboard_published_version",
                AwsAccountId=account,
                DashboardId=resource_id,
                VersionNumber=version,
            )
    except StepFailed as error:
        error.applied, error.previous = True, previous
        raise
    return previous


def _snapshot(client: Any, *, kind: str, account: str, resource_id: str) -> dict[str, Any]:
    """What an update is about to replace, in the shape the Update* call takes back."""
    ops = OPERATIONS[kind]
    if kind == "data_source":
        source = _call(client, ops["describe"], AwsAccountId=account, DataSourceId=resource_id)["DataSource"]
        return {"Name": source["Name"], "DataSourceParameters": source.get("DataSourceParameters", {})}
    if kind == "dataset":
        data_set = _call(client, ops["describe"], AwsAccountId=account, DataSetId=resource_id)["DataSet"]
        keep = ("Name", "PhysicalTableMap", "LogicalTableMap", "ImportMode")
        return {key: data_set[key] for key in keep if key in data_set}
    if kind == "dashboard":
        dashboard = _call(client, ops["describe"], AwsAccountId=account, DashboardId=resource_id)["Dashboard"]
        return {"VersionNumber": dashboard["Version"]["VersionNumber"]}
    described = _call(client, ops["definition"], AwsAccountId=account, **{ops["id"]: resource_id})
    return {"Name": described["Name"], "Definition": described["Definition"]}


def step_undo(client: Any, *, kind: str, action: str, request: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Undoes one applied step: deletes what it created, restores what it updated, leaves the folder."""
    account = request["AwsAccountId"]
    if action == "membership":
        _call(client, "delete_folder_membership", **request)
        return
    ops = OPERATIONS[kind]
    resource_id = request[ops["id"]]
    if action == "create":
        _call(client, ops["delete"], AwsAccountId=account, **{ops["id"]: resource_id}, **ops.get("delete_extra", {}))
        return
    if previous and kind == "dashboard":
        _call(
            client,
            "update_dashboard_published_version",
            AwsAccountId=account,
            DashboardId=resource_id,
            VersionNumber=previous["VersionNumber"],
        )
    elif previous:
        answer = _call(client, ops["update"], AwsAccountId=account, **{ops["id"]: resource_id}, **previous)
        if kind != "dataset":
            _wait(client, kind=kind, account=account, resource_id=resource_id, status=answer.get("UpdateStatus"))
