"""QuickSight responses shaped as the service model says, for botocore's Stubber, and a client factory the settings
can name so that code building its own client (a Celery task, the web server of a browser test) gets a stubbed one."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import ANY, Stubber

ACCOUNT = "arn:aws:quicksight:eu-west-1:111122223333"
ACCOUNT_ID = "111122223333"
_prepared: list[Any] = []


def new_client() -> tuple[Any, Stubber]:
    client = boto3.client(
        "quicksight", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return client, Stubber(client)


def prepare(client: Any) -> None:
    """The next client the factory hands out."""
    _prepared.append(client)


def client_factory(*, region: str) -> Any:
    assert region == "eu-west-1", region
    return _prepared.pop(0)


def _id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def created(stubber: Stubber, kind: str, arn: str, *, describe_status: str = "CREATION_SUCCESSFUL") -> None:
    """A Create* call answered as in progress, then the Describe* that says how it ended."""
    resource_id = _id(arn)
    meta = {"Status": 202, "RequestId": "req"}
    if kind == "dataset":
        stubber.add_response(
            "create_data_set",
            {
                "Arn": arn,
                "DataSetId": resource_id,
                "IngestionArn": f"{arn}/ingestion/1",
                "Status": 201,
                "RequestId": "r",
            },
            {
                "AwsAccountId": ACCOUNT_ID,
                "DataSetId": resource_id,
                "Name": ANY,
                "ImportMode": ANY,
                "PhysicalTableMap": ANY,
            },
        )
        return
    if kind == "data_source":
        stubber.add_response(
            "create_data_source",
            {"Arn": arn, "DataSourceId": resource_id, "CreationStatus": "CREATION_IN_PROGRESS", **meta},
        )
        stubber.add_response(
            "describe_data_source",
            {"DataSource": {"Arn": arn, "DataSourceId": resource_id, "Name": "x", "Status": describe_status}, **meta},
        )
        return
    if kind == "analysis":
        stubber.add_response(
            "create_analysis", {"Arn": arn, "AnalysisId": resource_id, "CreationStatus": "CREATION_IN_PROGRESS", **meta}
        )
        stubber.add_response(
            "describe_analysis",
            {"Analysis": {"Arn": arn, "AnalysisId": resource_id, "Name": "x", "Status": describe_status}, **meta},
            {"AwsAccountId": ACCOUNT_ID, "AnalysisId": resource_id},
        )
        return
    key = {"template": "TemplateId", "dashboard": "DashboardId"}[kind]
    stubber.add_response(
        f"create_{kind}",
        {
            "Arn": arn,
            "VersionArn": f"{arn}/version/1",
            key: resource_id,
            "CreationStatus": "CREATION_IN_PROGRESS",
            **meta,
        },
    )
    stubber.add_response(
        f"describe_{kind}",
        {
            kind.capitalize(): {
                "Arn": arn,
                key: resource_id,
                "Name": "x",
                "Version": {"Status": describe_status, "VersionNumber": 1},
            },
            **meta,
        },
        {"AwsAccountId": ACCOUNT_ID, key: resource_id},
    )


def membership(stubber: Stubber, member_id: str, member_type: str, folder_id: str) -> None:
    stubber.add_response(
        "create_folder_membership",
        {"Status": 200, "FolderMember": {"MemberId": member_id, "MemberType": member_type}, "RequestId": "r"},
        {"AwsAccountId": ACCOUNT_ID, "FolderId": folder_id, "MemberId": member_id, "MemberType": member_type},
    )


def deleted(stubber: Stubber, kind: str, arn: str) -> None:
    resource_id = _id(arn)
    operation, key = {
        "dataset": ("delete_data_set", "DataSetId"),
        "data_source": ("delete_data_source", "DataSourceId"),
        "template": ("delete_template", "TemplateId"),
        "analysis": ("delete_analysis", "AnalysisId"),
        "dashboard": ("delete_dashboard", "DashboardId"),
    }[kind]
    expected = {"AwsAccountId": ACCOUNT_ID, key: resource_id}
    if kind == "analysis":
        expected["ForceDeleteWithoutRecovery"] = True
    stubber.add_response(operation, {"Arn": arn, key: resource_id, "Status": 200, "RequestId": "r"}, expected)


def failed(stubber: Stubber, operation: str, code: str = "ResourceExistsException", message: str = "exists") -> None:
    stubber.add_client_error(operation, service_error_code=code, service_message=message, http_status_code=409)


def promote_dashboard_to_staging(stubber: Stubber) -> None:
    """The calls promoting the Sales dashboard (and its dataset, analysis and template) into the staging folder."""
    created(stubber, "dataset", f"{ACCOUNT}:dataset/sales--staging")
    created(stubber, "analysis", f"{ACCOUNT}:analysis/sales-analysis--staging")
    created(stubber, "template", f"{ACCOUNT}:template/sales-template--staging")
    created(stubber, "dashboard", f"{ACCOUNT}:dashboard/sales-dashboard--staging")
    membership(stubber, "sales--staging", "DATASET", "staging")
    membership(stubber, "sales-analysis--staging", "ANALYSIS", "staging")
    membership(stubber, "sales-dashboard--staging", "DASHBOARD", "staging")
