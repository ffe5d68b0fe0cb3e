"""The QuickSight connector: list and describe every asset of an account and region through boto3, import the
Describe* outputs like a bundle, and mark what is gone upstream as deleted.

Paging is done by boto3's paginators; throttling is retried by botocore's adaptive retry mode (client-side rate
limiting with backoff). `progress(stage, done, total)` is called as work advances (the command draws a bar).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.choices import AssetStatus, ChangeSource
from catalog.models import Asset

from . import services
from .models import QuickSightConnector
from .quicksight import KIND_RESOURCES, arn_ref

Progress = Callable[[str, int, int], None]
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="cartograph-sync")
# (bundle section, list operation, summaries key, id key, describe operation, describe result key)
LISTINGS = (
    ("DataSources", "list_data_sources", "DataSources", "DataSourceId", "describe_data_source", "DataSource"),
    ("DataSets", "list_data_sets", "DataSetSummaries", "DataSetId", "describe_data_set", "DataSet"),
    ("Analyses", "list_analyses", "AnalysisSummaryList", "AnalysisId", "describe_analysis", "Analysis"),
    ("Templates", "list_templates", "TemplateSummaryList", "TemplateId", "describe_template", "Template"),
    ("Dashboards", "list_dashboards", "DashboardSummaryList", "DashboardId", "describe_dashboard", "Dashboard"),
    ("Folders", "list_folders", "FolderSummaryList", "FolderId", "describe_folder", "Folder"),
)
SECTION_KINDS = {
    "DataSources": "data_source",
    "DataSets": "dataset",
    "Analyses": "analysis",
    "Templates": "template",
    "Dashboards": "dashboard",
    "Folders": "folder",
}


def quicksight_client(*, region: str) -> Any:
    """A QuickSight client with adaptive retries (credentials from the usual AWS environment/profile chain)."""
    return boto3.client("quicksight", region_name=region, config=RETRY_CONFIG)


@dataclass
class SyncReport:
    listed: dict[str, int] = field(default_factory=dict)
    template_versions: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    failed_sections: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "template_versions": self.template_versions,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "rejected": self.rejected,
            "failed_sections": self.failed_sections,
        }


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def _error(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message', '')}"
    return str(error)


def _describe(client: Any, section: str, account_id: str, summary: dict[str, Any], report: SyncReport) -> Any:
    """The Describe* output for one listed asset (templates: every version is read, the latest imported)."""
    _, _, _, id_key, operation, _ = next(listing for listing in LISTINGS if listing[0] == section)
    asset_id = summary[id_key]
    if section == "Templates":
        versions = [
            v["VersionNumber"]
            for v in _pages(
                client,
                "list_template_versions",
                "TemplateVersionSummaryList",
                AwsAccountId=account_id,
                TemplateId=asset_id,
            )
        ]
        report.template_versions += len(versions)
        described = [
            client.describe_template(AwsAccountId=account_id, TemplateId=asset_id, VersionNumber=number)
            for number in sorted(versions)
        ]
        return described[-1] if described else client.describe_template(AwsAccountId=account_id, TemplateId=asset_id)
    result = getattr(client, operation)(AwsAccountId=account_id, **{id_key: asset_id})
    if section == "Folders":
        members = list(
            _pages(client, "list_folder_members", "FolderMemberList", AwsAccountId=account_id, FolderId=asset_id)
        )
        return {"Folder": result["Folder"], "Members": members}
    return result


def quicksight_sync(
    *,
    client: Any,
    account_id: str,
    region: str,
    actor: AbstractBaseUser | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Lists, describes and imports every asset of the account and region, then soft-deletes catalogued assets of
    that account and region that QuickSight no longer lists (only for sections that were listed completely)."""
    report = SyncReport()
    progress = progress or (lambda stage, done, total: None)
    seen: dict[str, set[str]] = {section: set() for section, *_ in LISTINGS}
    source_types = services._source_types({})
    for section, list_operation, key, _, _, _ in LISTINGS:
        try:
            summaries = list(_pages(client, list_operation, key, AwsAccountId=account_id))
        except (ClientError, BotoCoreError) as error:
            report.failed_sections.append(section)
            report.rejected.append({"path": section, "reason": f"listing failed: {_error(error)}"})
            continue
        if section == "Analyses":  # ListAnalyses also lists deleted analyses (restorable for a while)
            summaries = [s for s in summaries if s.get("Status") != "DELETED"]
        report.listed[section] = len(summaries)
        items: list[tuple[str, str, Any]] = []
        for index, summary in enumerate(summaries):
            path = f"{section}[{summary.get('Arn', index)}]"
            seen[section].add(summary["Arn"])
            try:
                items.append((section, path, _describe(client, section, account_id, summary, report)))
            except (ClientError, BotoCoreError) as error:
                report.rejected.append({"path": path, "reason": _error(error)})
            progress(section, index + 1, len(summaries))
            if len(items) >= services.BATCH:
                _import(items, actor, source_types, report)
                items = []
        _import(items, actor, source_types, report)
    report.deleted = _reconcile(account_id=account_id, region=region, seen=seen, report=report, actor=actor)
    return report


def _import(items: list[tuple[str, str, Any]], actor: Any, source_types: dict[str, str], report: SyncReport) -> None:
    if not items:
        return
    for item in services.items_import(items=items, actor=actor, via=ChangeSource.IMPORT, source_types=source_types):
        if item.outcome == "rejected":
            report.rejected.append({"path": item.path, "reason": item.reason})
        else:
            setattr(report, item.outcome, getattr(report, item.outcome) + 1)


def _reconcile(*, account_id: str, region: str, seen: dict[str, set[str]], report: SyncReport, actor: Any) -> int:
    deleted = 0
    for section, kind in SECTION_KINDS.items():
        if section in report.failed_sections:
            continue
        prefix = f"arn:aws:quicksight:{region}:{account_id}:{KIND_RESOURCES[kind]}/"
        gone = (
            Asset.objects.filter(kind=kind, external_id__startswith=prefix)
            .exclude(status=AssetStatus.DELETED)
            .exclude(external_id__in=[arn_ref(arn)[1] for arn in seen[section]])
        )
        for asset in gone.iterator():
            with transaction.atomic():
                catalog_services.asset_delete(asset=asset, actor=actor, source=ChangeSource.IMPORT)
            deleted += 1
    return deleted


def connector_sync(
    *, connector: QuickSightConnector, client: Any = None, progress: Progress | None = None
) -> SyncReport:
    """Runs a sync for a stored connector and remembers when and with what result."""
    client = client or quicksight_client(region=connector.region)
    report = quicksight_sync(client=client, account_id=connector.account_id, region=connector.region, progress=progress)
    connector.last_synced_at = timezone.now()
    connector.last_report = report.as_dict()
    connector.save(update_fields=["last_synced_at", "last_report", "updated_at"])
    return report


def asset_describe(*, connector: QuickSightConnector, kind: str, arn: str, client: Any = None) -> str:
    """Describes one asset (after a native event that carried only its id) and imports it; returns the outcome."""
    client = client or quicksight_client(region=connector.region)
    section = next(s for s, k in SECTION_KINDS.items() if k == kind)
    _, _, _, id_key, _, _ = next(listing for listing in LISTINGS if listing[0] == section)
    summary = {"Arn": arn, id_key: arn.rsplit("/", 1)[-1]}
    try:
        item = _describe(client, section, connector.account_id, summary, SyncReport())
    except ClientError as error:
        if error.response["Error"].get("Code") == "ResourceNotFoundException":
            return "not found upstream"
        raise
    [result] = services.items_import(
        items=[(section, f"{section}[{arn}]", item)],
        actor=None,
        via=ChangeSource.EVENT,
        source_types=services._source_types({}),
    )
    return result.outcome if not result.reason else f"{result.outcome}: {result.reason}"
