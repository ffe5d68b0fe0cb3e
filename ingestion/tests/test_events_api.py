import gzip
import json

import pytest
from rest_framework.test import APIClient

from catalog.models import Asset, FolderMembership
from ingestion.models import ChangeEvent
from lineage.models import Edge

from .conftest import ACCOUNT, arn, cloudtrail, native

pytestmark = pytest.mark.django_db


def post(api, body):
    return api.post("/api/v1/events/", body, format="json")


def statuses(admin_api, response) -> list[str]:
    """The status each event of an answered request reached once applied, as the events API shows it."""
    assert response.status_code == 202, response.json()
    return [admin_api.get(f"/api/v1/ingestion/events/{e['id']}/").json()["status"] for e in response.json()["events"]]


def reasons(admin_api, response) -> list[str]:
    return [admin_api.get(f"/api/v1/ingestion/events/{e['id']}/").json()["reason"] for e in response.json()["events"]]


def open_edges(target: Asset, kind: str) -> list[Edge]:
    return list(Edge.objects.filter(target=target, kind=kind, valid_to__isnull=True).select_related("source"))


def create_analysis(event_id: str, *, camel: bool, template: str = "tmpl-1", time: str = "2026-03-01T10:00:00Z"):
    if camel:  # as CloudTrail writes request parameters
        params = {
            "awsAccountId": ACCOUNT,
            "analysisId": "sales-acme",
            "name": "Acme sales",
            "sourceEntity": {
                "sourceTemplate": {
                    "arn": arn("template", template),
                    "dataSetReferences": [{"dataSetPlaceholder": "sales", "dataSetArn": arn("dataset", "acme-sales")}],
                }
            },
        }
    else:  # as the API reference spells them
        params = {
            "AwsAccountId": ACCOUNT,
            "AnalysisId": "sales-acme",
            "Name": "Acme sales",
            "SourceEntity": {
                "SourceTemplate": {
                    "Arn": arn("template", template),
                    "DataSetReferences": [{"DataSetPlaceholder": "sales", "DataSetArn": arn("dataset", "acme-sales")}],
                }
            },
        }
    return cloudtrail("CreateAnalysis", params, event_id=event_id, time=time)


@pytest.mark.parametrize("camel", [True, False], ids=["lowerCamelCase", "PascalCase"])
def test_source_entity_of_a_cloudtrail_record_becomes_template_lineage_at_the_event_time(events_api, admin_api, camel):
    # when
    response = post(events_api, create_analysis("ct-1", camel=camel))
    # then it is accepted at once and applied
    assert response.json()["events"][0]["status"] == "accepted"
    assert statuses(admin_api, response) == ["applied"]
    analysis = Asset.objects.get(kind="analysis", external_id=arn("analysis", "sales-acme"))
    assert analysis.name == "Acme sales"
    [created_from] = open_edges(analysis, "created_from")
    assert created_from.source.external_id == arn("template", "tmpl-1")
    assert created_from.source.kind == "template"
    assert created_from.valid_from.isoformat() == "2026-03-01T10:00:00+00:00"
    assert created_from.recorded_via == "event"
    [uses] = open_edges(analysis, "uses_dataset")
    assert uses.source.external_id == arn("dataset", "acme-sales")


def test_without_postgresql_events_and_imports_say_what_to_set_and_store_nothing(events_api, admin_api, monkeypatch):
    from django.db import connection

    # given an installation on the embedded SQLite default (the statements ingestion uses are PostgreSQL's)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    # when a change event and an import arrive
    event = post(events_api, create_analysis("ct-sqlite", camel=True))
    imported = admin_api.post("/api/v1/imports/", {"DataSets": []}, format="json")
    monkeypatch.undo()
    # then both are refused with what to do, and nothing was stored
    assert event.status_code == 503 and "set DATABASE_URL=postgres://" in event.json()["detail"]
    assert imported.status_code == 503 and "need PostgreSQL" in imported.json()["detail"]
    assert not ChangeEvent.objects.exists() and not Asset.objects.exists()


def test_a_second_delivery_of_an_event_is_stored_as_a_duplicate_and_changes_nothing(events_api, admin_api):
    first = post(events_api, create_analysis("ct-1", camel=True))
    analysis = Asset.objects.get(kind="analysis")
    history_before = analysis.history.count()
    # when delivered again, and twice within one batch
    response = post(events_api, create_analysis("ct-1", camel=True))
    batch = post(events_api, [create_analysis("ct-2", camel=True), create_analysis("ct-2", camel=True)])
    # then
    assert response.json()["events"][0]["status"] == "duplicate"
    assert statuses(admin_api, response) == ["duplicate"]
    assert reasons(admin_api, response) == [f"already received as event {first.json()['events'][0]['id']}"]
    assert [e["status"] for e in batch.json()["events"]] == ["accepted", "duplicate"]
    assert statuses(admin_api, batch) == ["applied", "duplicate"]
    assert analysis.history.count() == history_before
    assert Edge.objects.count() == 2
    assert [e.duplicate_of.status for e in ChangeEvent.objects.filter(status="duplicate")] == ["applied"] * 2


def test_an_update_repoints_to_the_new_template_and_a_late_older_update_does_not_regress_it(events_api, admin_api):
    post(events_api, create_analysis("ct-1", camel=True, template="tmpl-1", time="2026-03-01T10:00:00Z"))
    newer = create_analysis("ct-3", camel=True, template="tmpl-3", time="2026-03-03T10:00:00Z")
    newer["detail"]["eventName"] = "UpdateAnalysis"
    older = create_analysis("ct-2", camel=True, template="tmpl-2", time="2026-03-02T10:00:00Z")
    older["detail"]["eventName"] = "UpdateAnalysis"
    older["detail"]["requestParameters"]["name"] = "Old name"
    # when the newer update arrives before the older one
    response = post(events_api, newer)
    late = post(events_api, older)
    # then
    assert statuses(admin_api, response) + statuses(admin_api, late) == ["applied", "stale"]
    analysis = Asset.objects.get(kind="analysis")
    assert analysis.name == "Acme sales"
    [current] = open_edges(analysis, "created_from")
    assert current.source.external_id == arn("template", "tmpl-3")
    ended = Edge.objects.get(target=analysis, kind="created_from", source__external_id=arn("template", "tmpl-1"))
    assert ended.valid_to.isoformat() == "2026-03-03T10:00:00+00:00"
    assert not Edge.objects.filter(source__external_id=arn("template", "tmpl-2")).exists()


def test_delete_is_soft_and_a_late_create_does_not_bring_the_asset_back(events_api, admin_api):
    create = cloudtrail(
        "CreateDashboard",
        {
            "awsAccountId": ACCOUNT,
            "dashboardId": "d1",
            "name": "Revenue",
            "sourceEntity": {"sourceTemplate": {"arn": arn("template", "t1"), "dataSetReferences": []}},
        },
        event_id="c1",
        time="2026-03-01T10:00:00Z",
    )
    delete = cloudtrail(
        "DeleteDashboard", {"awsAccountId": ACCOUNT, "dashboardId": "d1"}, event_id="d1", time="2026-03-02T10:00:00Z"
    )
    post(events_api, [create, delete])
    dashboard = Asset.objects.get(kind="dashboard")
    assert dashboard.status == "deleted"
    assert dashboard.history.first().history_source == "event"
    # when the create is delivered again under another id, late
    late = {**create, "id": "eb-late", "detail": {**create["detail"], "eventID": "c1-again"}}
    assert statuses(admin_api, post(events_api, late)) == ["stale"]
    dashboard.refresh_from_db()
    assert dashboard.status == "deleted"


def test_template_alias_published_version_and_folder_membership_events(events_api, admin_api):
    events = [
        cloudtrail(
            "CreateTemplate",
            {
                "awsAccountId": ACCOUNT,
                "templateId": "t1",
                "name": "Sales v1",
                "sourceEntity": {"sourceAnalysis": {"arn": arn("analysis", "ref"), "dataSetReferences": []}},
            },
            event_id="e1",
            time="2026-03-01T10:00:00Z",
        ),
        cloudtrail(
            "CreateTemplateAlias",
            {"awsAccountId": ACCOUNT, "templateId": "t1", "aliasName": "prod", "templateVersionNumber": 1},
            event_id="e2",
            time="2026-03-01T10:01:00Z",
        ),
        cloudtrail(
            "CreateDashboard",
            {
                "AwsAccountId": ACCOUNT,
                "DashboardId": "d1",
                "Name": "Revenue",
                "SourceEntity": {"SourceTemplate": {"Arn": arn("template", "t1"), "DataSetReferences": []}},
            },
            event_id="e3",
            time="2026-03-01T10:02:00Z",
        ),
        cloudtrail(
            "UpdateDashboardPublishedVersion",
            {"awsAccountId": ACCOUNT, "dashboardId": "d1", "versionNumber": 3},
            event_id="e4",
            time="2026-03-01T10:03:00Z",
        ),
        cloudtrail(
            "CreateFolder",
            {"awsAccountId": ACCOUNT, "folderId": "f1", "name": "Production", "folderType": "SHARED"},
            event_id="e5",
            time="2026-03-01T10:04:00Z",
        ),
        cloudtrail(
            "CreateFolderMembership",
            {"awsAccountId": ACCOUNT, "folderId": "f1", "memberId": "d1", "memberType": "DASHBOARD"},
            event_id="e6",
            time="2026-03-01T10:05:00Z",
        ),
    ]
    response = post(events_api, events)
    assert statuses(admin_api, response) == ["applied"] * 6, response.json()
    template = Asset.objects.get(kind="template")
    assert template.attributes["aliases"] == ["prod"]
    assert template.attributes["source_analysis"] == arn("analysis", "ref")
    assert open_edges(template, "template_of")[0].source.kind == "analysis"
    dashboard = Asset.objects.get(kind="dashboard")
    assert dashboard.attributes["published_version"] == 3
    assert dashboard.attributes["source_template"] == arn("template", "t1")
    folder = Asset.objects.get(kind="folder")
    assert FolderMembership.objects.filter(folder=folder, asset=dashboard).exists()
    # when the membership is deleted
    remove = cloudtrail(
        "DeleteFolderMembership",
        {"awsAccountId": ACCOUNT, "folderId": "f1", "memberId": "d1", "memberType": "DASHBOARD"},
        event_id="e7",
        time="2026-03-01T10:06:00Z",
    )
    post(events_api, remove)
    assert not FolderMembership.objects.filter(folder=folder, asset=dashboard).exists()


def membership(verb: str, folder: str, member: str, *, event_id: str, time: str) -> dict:
    return cloudtrail(
        f"{verb}FolderMembership",
        {"awsAccountId": ACCOUNT, "folderId": folder, "memberId": member, "memberType": "DASHBOARD"},
        event_id=event_id,
        time=time,
    )


def member_of(folder: str, member: str) -> bool:
    return FolderMembership.objects.filter(
        folder__external_id=arn("folder", folder), asset__external_id=arn("dashboard", member)
    ).exists()


def test_a_late_folder_membership_event_does_not_undo_a_newer_one(events_api, admin_api):
    added = post(events_api, membership("Create", "f1", "d1", event_id="m1", time="2026-03-01T10:00:00Z"))
    removed = post(events_api, membership("Delete", "f1", "d1", event_id="m2", time="2026-03-01T10:10:00Z"))
    assert statuses(admin_api, added) + statuses(admin_api, removed) == ["applied", "applied"]
    assert not member_of("f1", "d1")
    # an add that happened before the removal, delivered after it, does not bring the member back
    late_add = post(events_api, membership("Create", "f1", "d1", event_id="m3", time="2026-03-01T10:05:00Z"))
    assert statuses(admin_api, late_add) == ["stale"]
    assert reasons(admin_api, late_add)[0].endswith("changed at 2026-03-01T10:10:00+00:00, after this event")
    assert not member_of("f1", "d1")
    # added again later; a removal from before that, delivered late, does not take it out
    again = post(events_api, membership("Create", "f1", "d1", event_id="m4", time="2026-03-01T10:20:00Z"))
    late_remove = post(events_api, membership("Delete", "f1", "d1", event_id="m5", time="2026-03-01T10:15:00Z"))
    assert statuses(admin_api, again) + statuses(admin_api, late_remove) == ["applied", "stale"]
    assert member_of("f1", "d1")
    # other members of the same folder are not held back by this member's newer event
    other = post(events_api, membership("Create", "f1", "d2", event_id="m6", time="2026-03-01T10:01:00Z"))
    assert statuses(admin_api, other) == ["applied"]
    assert member_of("f1", "d2")


def test_late_membership_events_in_one_batch_are_refused_one_by_one(events_api, admin_api):
    post(events_api, membership("Delete", "f1", "d1", event_id="n1", time="2026-03-01T10:10:00Z"))
    post(events_api, membership("Create", "f2", "d1", event_id="n2", time="2026-03-01T09:00:00Z"))
    post(events_api, membership("Delete", "f2", "d1", event_id="n3", time="2026-03-01T09:30:00Z"))
    # one request, applied together in one round: two folders, one of the events late
    batch = post(
        events_api,
        [
            membership("Create", "f1", "d1", event_id="n4", time="2026-03-01T10:05:00Z"),
            membership("Create", "f2", "d1", event_id="n5", time="2026-03-01T09:45:00Z"),
        ],
    )
    assert statuses(admin_api, batch) == ["stale", "applied"]
    assert not member_of("f1", "d1")
    assert member_of("f2", "d1")


def test_native_events_match_on_the_detail_type_whatever_the_product_is_called(events_api, admin_api):
    dashboard = arn("dashboard", "6fdbc328")
    events = [
        native(
            "QuickSight Dashboard Creation Successful",
            {"dashboardId": "6fdbc328", "versionNumber": 1},
            event_id="n1",
            resources=[dashboard],
            time="2026-03-01T10:00:00Z",
        ),
        native(
            "Amazon Quick Sight Dashboard Published Version Updated",
            {"dashboardId": "6fdbc328", "versionNumber": 2},
            event_id="n2",
            resources=[dashboard],
            time="2026-03-01T11:00:00Z",
        ),
        native(
            "AWS Quick Sight Dashboard Deleted",
            {"dashboardId": "6fdbc328"},
            event_id="n3",
            resources=[],
            time="2026-03-01T12:00:00Z",
        ),
        native(
            "QuickSight Theme Creation Successful",
            {"themeId": "x"},
            event_id="n4",
            resources=[],
            time="2026-03-01T12:00:00Z",
        ),
    ]
    response = post(events_api, events)
    assert [e["status"] for e in response.json()["events"]] == ["accepted"] * 3 + ["unknown"]
    assert statuses(admin_api, response) == ["applied", "applied", "applied", "unknown"]
    asset = Asset.objects.get(kind="dashboard", external_id=dashboard)
    assert asset.name == "6fdbc328"  # only the id is known until the asset is described
    assert asset.attributes["published_version"] == 2
    assert asset.status == "deleted"


def test_unknown_event_types_are_stored_and_shown_not_errors(events_api, admin_api):
    describe = cloudtrail("DescribeDashboard", {"awsAccountId": ACCOUNT, "dashboardId": "d1"}, event_id="x1")
    other = {
        "id": "o1",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-03-01T10:00:00Z",
        "detail": {},
    }
    response = post(events_api, [describe, other])
    assert response.status_code == 202
    assert [e["status"] for e in response.json()["events"]] == ["unknown", "unknown"]
    listed = admin_api.get("/api/v1/ingestion/events/?status=unknown").json()["results"]
    assert {e["event_type"] for e in listed} == {"DescribeDashboard", "Object Created"}


def test_a_malformed_event_is_rejected_with_its_reason_and_the_rest_of_the_batch_applies(events_api, admin_api):
    bad = cloudtrail("CreateDashboard", {"awsAccountId": ACCOUNT, "name": "No id"}, event_id="b1")
    no_time = {"id": "b2", "source": "aws.quicksight", "detail-type": "QuickSight Dashboard Deleted", "detail": {}}
    good = cloudtrail("DeleteDashboard", {"awsAccountId": ACCOUNT, "dashboardId": "zzz"}, event_id="g1")
    response = post(events_api, [bad, no_time, good])
    events = response.json()["events"]
    assert [e["status"] for e in events] == ["rejected", "rejected", "accepted"]
    assert events[0]["reason"] == "detail.requestParameters.dashboardId: is missing"
    assert events[1]["reason"].startswith("time: must be an ISO 8601 time")
    assert response.json()["counts"] == {"accepted": 1, "duplicate": 0, "rejected": 2, "unknown": 0}
    assert statuses(admin_api, response) == ["rejected", "rejected", "applied"]
    assert reasons(admin_api, response)[0] == "detail.requestParameters.dashboardId: is missing"


def test_a_single_malformed_event_is_a_400_naming_the_field_and_is_stored_as_rejected(events_api, admin_api):
    bad = cloudtrail("UpdateDashboard", {"awsAccountId": ACCOUNT, "name": "No id"}, event_id="b1")
    response = post(events_api, bad)
    assert response.status_code == 400
    assert response.json()["detail"] == "detail.requestParameters.dashboardId: is missing"
    stored = admin_api.get(f"/api/v1/ingestion/events/{response.json()['id']}/").json()
    assert (stored["status"], stored["event_key"]) == ("rejected", "ct:b1")


def test_gzip_bodies_are_accepted(events_api, admin_api):
    body = gzip.compress(json.dumps(create_analysis("gz1", camel=True)).encode())
    response = events_api.generic(
        "POST", "/api/v1/events/", body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert statuses(admin_api, response) == ["applied"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body: not valid JSON"),
        (b"[]", "body: the batch is empty"),
        (b"42", "body: send an event object"),
    ],
)
def test_malformed_bodies_are_a_400_saying_what_is_wrong(events_api, body, message):
    response = events_api.generic("POST", "/api/v1/events/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)


def test_each_source_authenticates_with_its_own_token(quicksight_source, lineage_source):
    anonymous = APIClient()
    assert anonymous.post("/api/v1/events/", {}, format="json").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer cgi_not-a-token")
    response = wrong.post("/api/v1/events/", {}, format="json")
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]
    other_kind = APIClient()
    other_kind.credentials(HTTP_AUTHORIZATION=f"Bearer {lineage_source[1]}")
    response = other_kind.post("/api/v1/events/", {}, format="json")
    assert response.status_code == 403
    assert "openlineage" in response.json()["detail"]


def test_a_rotated_token_stops_working(events_api, quicksight_source, admin_api):
    source, _ = quicksight_source
    response = admin_api.post(f"/api/v1/event-sources/{source.pk}/rotate/")
    assert response.status_code == 200
    assert response.json()["token"].startswith("cgi_")
    assert post(events_api, create_analysis("r1", camel=True)).status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    assert post(fresh, create_analysis("r1", camel=True)).status_code == 202


def test_only_administrators_see_events_and_sources(quicksight_source, db):
    from catalog.tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(username="ana"))
    assert client.get("/api/v1/ingestion/events/").status_code == 403
    assert client.get("/api/v1/event-sources/").status_code == 403
    assert client.post("/api/v1/imports/", {"DataSources": []}, format="json").status_code == 403
