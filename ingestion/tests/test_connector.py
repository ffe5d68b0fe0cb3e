"""The QuickSight connector against botocore's Stubber: every response is validated against the service model."""

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command

from catalog import services as catalog_services
from catalog.models import Asset, FolderMembership
from ingestion import connector
from ingestion.models import QuickSightConnector
from lineage.models import Edge

from . import bundles
from .conftest import ACCOUNT, REGION, arn, native

pytestmark = pytest.mark.django_db
WHEN = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def stubbed(monkeypatch):
    client = boto3.client(
        "quicksight", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    monkeypatch.setattr(connector, "quicksight_client", lambda region: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def account(**params):
    return {"AwsAccountId": ACCOUNT, **params}


def add_full_account(stub: Stubber, *, dataset_error: bool = False) -> None:
    source = bundles.data_source()["DataSource"]
    summary = {k: source[k] for k in ("Arn", "DataSourceId", "Name", "Type", "Status")}
    second = {**summary, "Arn": arn("datasource", "files"), "DataSourceId": "files", "Name": "Files", "Type": "S3"}
    # two pages of data sources
    stub.add_response("list_data_sources", {"DataSources": [summary], "NextToken": "page-2", "Status": 200}, account())
    stub.add_response("list_data_sources", {"DataSources": [second], "Status": 200}, account(NextToken="page-2"))
    stub.add_response("describe_data_source", {"DataSource": source, "Status": 200}, account(DataSourceId="warehouse"))
    stub.add_response("describe_data_source", {"DataSource": second, "Status": 200}, account(DataSourceId="files"))
    datasets = [bundles.joined_dataset()["DataSet"], bundles.sql_dataset()["DataSet"]]
    stub.add_response(
        "list_data_sets",
        {
            "DataSetSummaries": [
                {"Arn": d["Arn"], "DataSetId": d["DataSetId"], "Name": d["Name"], "ImportMode": d["ImportMode"]}
                for d in datasets
            ],
            "Status": 200,
        },
        account(),
    )
    stub.add_response("describe_data_set", {"DataSet": datasets[0], "Status": 200}, account(DataSetId="orders"))
    if dataset_error:
        stub.add_client_error(
            "describe_data_set",
            service_error_code="AccessDeniedException",
            service_message="not allowed",
            http_status_code=401,
            expected_params=account(DataSetId="revenue"),
        )
    else:
        stub.add_response("describe_data_set", {"DataSet": datasets[1], "Status": 200}, account(DataSetId="revenue"))
    analysis = bundles.analysis()["Analysis"]
    stub.add_response(
        "list_analyses",
        {
            "AnalysisSummaryList": [
                {
                    "Arn": analysis["Arn"],
                    "AnalysisId": "sales-ref",
                    "Name": analysis["Name"],
                    "Status": "CREATION_SUCCESSFUL",
                },
                {"Arn": arn("analysis", "binned"), "AnalysisId": "binned", "Name": "Binned", "Status": "DELETED"},
            ],
            "Status": 200,
        },
        account(),
    )
    stub.add_response("describe_analysis", {"Analysis": analysis, "Status": 200}, account(AnalysisId="sales-ref"))
    template = bundles.template()["Template"]
    stub.add_response(
        "list_templates",
        {
            "TemplateSummaryList": [
                {"Arn": template["Arn"], "TemplateId": "sales", "Name": template["Name"], "LatestVersionNumber": 2}
            ],
            "Status": 200,
        },
        account(),
    )
    stub.add_response(
        "list_template_versions",
        {
            "TemplateVersionSummaryList": [
                {"Arn": template["Arn"], "VersionNumber": 1, "CreatedTime": WHEN, "Status": "CREATION_SUCCESSFUL"},
                {"Arn": template["Arn"], "VersionNumber": 2, "CreatedTime": WHEN, "Status": "CREATION_SUCCESSFUL"},
            ],
            "Status": 200,
        },
        account(TemplateId="sales"),
    )
    first = {**template, "Version": {**template["Version"], "VersionNumber": 1}}
    stub.add_response(
        "describe_template", {"Template": first, "Status": 200}, account(TemplateId="sales", VersionNumber=1)
    )
    stub.add_response(
        "describe_template", {"Template": template, "Status": 200}, account(TemplateId="sales", VersionNumber=2)
    )
    dashboard = bundles.dashboard()["Dashboard"]
    stub.add_response(
        "list_dashboards",
        {
            "DashboardSummaryList": [
                {"Arn": dashboard["Arn"], "DashboardId": "acme", "Name": dashboard["Name"], "PublishedVersionNumber": 4}
            ],
            "Status": 200,
        },
        account(),
    )
    stub.add_response("describe_dashboard", {"Dashboard": dashboard, "Status": 200}, account(DashboardId="acme"))
    folder = bundles.folder()
    stub.add_response(
        "list_folders",
        {
            "FolderSummaryList": [
                {"Arn": folder["Folder"]["Arn"], "FolderId": "prod", "Name": "Production", "FolderType": "SHARED"}
            ],
            "Status": 200,
        },
        account(),
    )
    stub.add_response("describe_folder", {"Folder": folder["Folder"], "Status": 200}, account(FolderId="prod"))
    stub.add_response(
        "list_folder_members", {"FolderMemberList": folder["Members"], "Status": 200}, account(FolderId="prod")
    )


def test_sync_lists_describes_imports_and_reconciles_deletions(stubbed):
    # given an asset QuickSight no longer has, and one of another account
    gone = catalog_services.asset_create(
        actor=None, kind="dashboard", name="Old", external_id=arn("dashboard", "old"), source="import"
    )
    other = catalog_services.asset_create(
        actor=None,
        kind="dashboard",
        name="Elsewhere",
        external_id="arn:aws:quicksight:us-east-1:999999999999:dashboard/x",
    )
    add_full_account(stubbed)
    out, err = StringIO(), StringIO()
    # when
    call_command("sync_quicksight", account=ACCOUNT, region=REGION, stdout=out, stderr=err)
    # then
    assert "created 8, updated 0, unchanged 0, deleted 1, rejected 0 (2 template versions read)" in out.getvalue()
    assert "Dashboards: 100%" in err.getvalue()  # the progress bar
    gone.refresh_from_db()
    other.refresh_from_db()
    assert (gone.status, other.status) == ("deleted", "active")
    assert Asset.objects.filter(kind="data_source").count() == 2
    assert not Asset.objects.filter(external_id=arn("analysis", "binned")).exists()
    dashboard = Asset.objects.get(external_id=arn("dashboard", "acme"))
    assert set(Edge.objects.filter(target=dashboard, valid_to__isnull=True).values_list("kind", flat=True)) == {
        "created_from",
        "uses_dataset",
    }
    assert FolderMembership.objects.filter(asset=dashboard, folder__name="Production").exists()
    template = Asset.objects.get(kind="template")
    assert template.version == 2
    stored = QuickSightConnector.objects.get(account_id=ACCOUNT, region=REGION)
    assert stored.last_report["deleted"] == 1


def test_a_second_sync_changes_nothing_and_describe_errors_are_reported(stubbed):
    add_full_account(stubbed)
    call_command("sync_quicksight", account=ACCOUNT, region=REGION, no_progress=True, stdout=StringIO())
    add_full_account(stubbed, dataset_error=True)
    out = StringIO()
    call_command("sync_quicksight", account=ACCOUNT, region=REGION, no_progress=True, stdout=out)
    assert "created 0, updated 0, unchanged 7, deleted 0, rejected 1" in out.getvalue()
    assert "AccessDeniedException: not allowed" in out.getvalue()
    # a dataset that was listed but could not be described is still there upstream: it is not deleted
    assert Asset.objects.get(external_id=arn("dataset", "revenue")).status == "active"


def test_a_native_event_triggers_a_describe_when_a_connector_is_configured(
    stubbed, events_api, admin_api, django_capture_on_commit_callbacks
):
    QuickSightConnector.objects.create(account_id=ACCOUNT, region=REGION)
    dashboard = bundles.dashboard()["Dashboard"]
    stubbed.add_response("describe_dashboard", {"Dashboard": dashboard, "Status": 200}, account(DashboardId="acme"))
    event = native(
        "QuickSight Dashboard Update Successful",
        {"dashboardId": "acme", "versionNumber": 4},
        event_id="n-1",
        resources=[dashboard["Arn"]],
        time="2026-03-01T10:00:00Z",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = events_api.post("/api/v1/events/", event, format="json")
    stored = admin_api.get(f"/api/v1/ingestion/events/{response.json()['events'][0]['id']}/").json()
    assert (stored["status"], stored["reason"]) == ("applied", "a describe of the asset was queued")
    asset = Asset.objects.get(external_id=dashboard["Arn"])
    assert asset.name == "Acme sales"
    assert Edge.objects.filter(target=asset, kind="created_from").exists()


def test_the_client_retries_throttling_adaptively(monkeypatch):
    """Against a local HTTP endpoint that throttles twice (QuickSight's 429 ThrottlingException), then answers."""
    requests_seen = []

    class Throttling(BaseHTTPRequestHandler):
        def do_GET(self):
            requests_seen.append(self.path)
            if len(requests_seen) <= 2:
                body, status, headers = (
                    b'{"Message": "Rate exceeded"}',
                    429,
                    {"x-amzn-ErrorType": "ThrottlingException"},
                )
            else:
                body, status, headers = json.dumps({"DashboardSummaryList": [], "Status": 200}).encode(), 200, {}
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_QUICKSIGHT", f"http://127.0.0.1:{server.server_port}")
    try:
        client = connector.quicksight_client(region=REGION)
        assert client.meta.config.retries["mode"] == "adaptive"
        response = client.list_dashboards(AwsAccountId=ACCOUNT)
    finally:
        server.shutdown()
    assert response["DashboardSummaryList"] == []
    assert len(requests_seen) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [({"account": "12", "region": REGION}, "12-digit"), ({"account": ACCOUNT, "region": "Ireland"}, "region name")],
)
def test_the_command_checks_its_arguments(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("sync_quicksight", **options)


def test_the_scheduled_task_syncs_every_active_connector(stubbed):
    active = QuickSightConnector.objects.create(account_id=ACCOUNT, region=REGION)
    QuickSightConnector.objects.create(account_id="999999999999", region=REGION, is_active=False)
    add_full_account(stubbed)
    # when beat runs the sweep (Celery runs tasks eagerly in the tests)
    from ingestion.tasks import quicksight_sync_all_task

    quicksight_sync_all_task.delay()
    # then only the active connector was synced, with its report kept
    active.refresh_from_db()
    assert active.last_synced_at is not None
    assert active.last_report["created"] == 8
    assert QuickSightConnector.objects.get(account_id="999999999999").last_synced_at is None
