"""Executing approved promotions against QuickSight (botocore's Stubber), rolling back, and the catalog copies."""

import pytest
from botocore.stub import ANY

from catalog import services as catalog
from catalog.models import Asset, FolderMembership
from lineage.models import Edge
from promotions import services
from promotions.models import PromotedCopy, Promotion

from . import stubs
from .stubs import ACCOUNT

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(api, bi, staging_mapping):
    def make(target="staging", mapping=None, **extra):
        api.force_authenticate(bi["ben"])
        body = {
            "asset": bi["assets"]["dashboard"].pk,
            "target": bi["folders"][target].pk,
            "data_source_mappings": staging_mapping if mapping is None else mapping,
            **extra,
        }
        promotion = api.post("/api/v1/promotions/", body, format="json").json()
        assert api.post(f"/api/v1/promotions/{promotion['id']}/approve/").status_code == 200
        return promotion["id"]

    return make


@pytest.fixture
def execute(api, django_capture_on_commit_callbacks):
    """Asks for execution through the API and runs the task queued on commit (eagerly, as the test settings say)."""

    def run(promotion_id):
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(f"/api/v1/promotions/{promotion_id}/execute/")

    return run


@pytest.fixture
def stubbed(settings):
    settings.CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY = "promotions.tests.stubs.client_factory"
    client, stubber = stubs.new_client()
    stubs.prepare(client)
    with stubber:
        yield stubber
    stubs._prepared.clear()


def test_execute_applies_steps_in_order_waits_for_creation_and_catalogues_copies(api, bi, approved, stubbed, execute):
    # given an approved plan and QuickSight answering every call of it
    promotion_id = approved()
    stubs.promote_dashboard_to_staging(stubbed)
    # when (the Celery task runs eagerly in the tests)
    response = execute(promotion_id)
    # then
    assert response.status_code == 202, response.content
    stubbed.assert_no_pending_responses()
    body = api.get(f"/api/v1/promotions/{promotion_id}/").json()
    assert body["status"] == "succeeded"
    assert body["progress"] == {"done": 7, "total": 7}
    assert [s["status"] for s in body["steps"]] == ["skipped"] + ["done"] * 7
    staging = bi["folders"]["staging"]
    copies = Asset.objects.filter(folder_memberships__folder=staging).order_by("kind")
    assert sorted((c.kind, c.external_id) for c in copies) == [
        ("analysis", f"{ACCOUNT}:analysis/sales-analysis--staging"),
        ("dashboard", f"{ACCOUNT}:dashboard/sales-dashboard--staging"),
        ("dataset", f"{ACCOUNT}:dataset/sales--staging"),
        ("template", f"{ACCOUNT}:template/sales-template--staging"),
    ]
    assert {c.environment for c in copies} == {"staging"}
    dashboard_copy = copies.get(kind="dashboard")
    assert dashboard_copy.history.latest().history_change_reason == f"promotion {promotion_id}"
    history = api.get(f"/api/v1/assets/{dashboard_copy.pk}/history/").json()
    assert f"promotion {promotion_id}" in [entry["reason"] for entry in history]
    # the source's lineage is repeated between the copies
    assert Edge.objects.filter(target=dashboard_copy, kind="created_from", source__kind="template").get().source == (
        copies.get(kind="template")
    )
    assert PromotedCopy.objects.filter(promotion_id=promotion_id).count() == 4
    # and each copy points back at what it was promoted from
    assert Edge.objects.filter(target=dashboard_copy, kind="promoted_from").get().source == bi["assets"]["dashboard"]
    assert Edge.objects.filter(kind="promoted_from", target__in=copies).count() == 4
    states = api.get(f"/api/v1/assets/{bi['assets']['dashboard'].pk}/environments/").json()
    assert [(s["folder_name"], s["state"]) for s in states] == [("Staging", "same")]


def test_a_failed_step_rolls_back_what_was_created(api, bi, approved, stubbed, execute):
    promotion_id = approved()
    stubs.created(stubbed, "dataset", f"{ACCOUNT}:dataset/sales--staging")
    stubs.created(stubbed, "analysis", f"{ACCOUNT}:analysis/sales-analysis--staging")
    stubs.created(stubbed, "template", f"{ACCOUNT}:template/sales-template--staging", describe_status="CREATION_FAILED")
    # undone last first: the failed template (its Create call went through), the analysis, then the dataset
    stubs.deleted(stubbed, "template", f"{ACCOUNT}:template/sales-template--staging")
    stubs.deleted(stubbed, "analysis", f"{ACCOUNT}:analysis/sales-analysis--staging")
    stubs.deleted(stubbed, "dataset", f"{ACCOUNT}:dataset/sales--staging")
    execute(promotion_id)
    stubbed.assert_no_pending_responses()
    body = api.get(f"/api/v1/promotions/{promotion_id}/").json()
    assert body["status"] == "failed"
    assert "CREATION_FAILED" in body["error"]
    assert [s["status"] for s in body["steps"]] == ["skipped", "rolled_back", "rolled_back", "failed"] + ["pending"] * 4
    assert not Asset.objects.filter(folder_memberships__folder=bi["folders"]["staging"]).exists()


def test_a_refused_call_fails_the_step_with_quicksight_s_message(api, bi, approved, stubbed, execute):
    promotion_id = approved()
    stubs.failed(stubbed, "create_data_set", "AccessDeniedException", "not authorised")
    execute(promotion_id)
    body = api.get(f"/api/v1/promotions/{promotion_id}/").json()
    assert body["status"] == "failed"
    assert body["steps"][1]["error"] == "create_data_set: AccessDeniedException: not authorised"


def test_promoting_again_updates_changed_assets_restoring_them_on_failure(
    api, bi, approved, stubbed, settings, execute
):
    first = approved()
    stubs.promote_dashboard_to_staging(stubbed)
    execute(first)
    assert Promotion.objects.get(pk=first).status == "succeeded"
    # the source dashboard moves on: the staging copy is behind
    catalog.asset_update(asset=bi["assets"]["dashboard"], actor=bi["ben"], version=4)
    states = api.get(f"/api/v1/assets/{bi['assets']['dashboard'].pk}/environments/").json()
    assert [s["state"] for s in states] == ["behind"]
    second = approved()
    detail = api.get(f"/api/v1/promotions/{second}/").json()
    actions = {s["name"]: s["action"] for s in detail["steps"]}
    assert actions["Sales dashboard"] == "update" and actions["Sales"] == "unchanged"
    assert {"field": "version", "from": 3, "to": 4} in next(
        s for s in detail["steps"] if s["name"] == "Sales dashboard"
    )["changes"]
    # the update fails after QuickSight made a new version: the previous published version is restored
    client, stubber = stubs.new_client()
    stubs.prepare(client)
    arn = f"{ACCOUNT}:dashboard/sales-dashboard--staging"
    key = {"AwsAccountId": stubs.ACCOUNT_ID, "DashboardId": "sales-dashboard--staging"}
    meta = {"Status": 200, "RequestId": "r"}
    with stubber:
        stubber.add_response(
            "describe_dashboard",
            {"Dashboard": {"Arn": arn, "DashboardId": key["DashboardId"], "Version": {"VersionNumber": 1}}, **meta},
            key,
        )
        stubber.add_response(
            "update_dashboard",
            {
                "Arn": arn,
                "VersionArn": f"{arn}/version/2",
                "DashboardId": key["DashboardId"],
                "CreationStatus": "CREATION_IN_PROGRESS",
                **meta,
            },
            {**key, "Name": "Sales dashboard", "SourceEntity": ANY},
        )
        stubber.add_response(
            "describe_dashboard",
            {
                "Dashboard": {
                    "Arn": arn,
                    "DashboardId": key["DashboardId"],
                    "Version": {"Status": "CREATION_SUCCESSFUL", "VersionNumber": 2},
                },
                **meta,
            },
            key,
        )
        stubber.add_client_error("update_dashboard_published_version", "ThrottlingException", "slow down", 429)
        stubber.add_response(
            "update_dashboard_published_version",
            {"DashboardId": key["DashboardId"], "DashboardArn": arn, **meta},
            {**key, "VersionNumber": 1},
        )
        execute(second)
        stubber.assert_no_pending_responses()
    assert Promotion.objects.get(pk=second).status == "failed"
    assert "ThrottlingException" in Promotion.objects.get(pk=second).error


def test_rollback_of_a_succeeded_promotion_deletes_its_copies(api, bi, approved, stubbed, execute):
    promotion_id = approved()
    stubs.promote_dashboard_to_staging(stubbed)
    execute(promotion_id)
    for member_id, member_type in (
        ("sales-dashboard--staging", "DASHBOARD"),
        ("sales-analysis--staging", "ANALYSIS"),
        ("sales--staging", "DATASET"),
    ):
        stubbed.add_response(
            "delete_folder_membership",
            {"Status": 200, "RequestId": "r"},
            {"AwsAccountId": stubs.ACCOUNT_ID, "FolderId": "staging", "MemberId": member_id, "MemberType": member_type},
        )
    stubbed.add_response("delete_dashboard", {"Status": 200, "RequestId": "r"})
    stubbed.add_response("delete_template", {"Status": 200, "RequestId": "r"})
    stubbed.add_response("delete_analysis", {"Status": 200, "RequestId": "r"})
    stubbed.add_response("delete_data_set", {"Status": 200, "RequestId": "r"})
    promotion = Promotion.objects.get(pk=promotion_id)
    services.promotion_rollback(promotion=promotion, actor=bi["ben"], client=stubbed.client)
    stubbed.assert_no_pending_responses()
    promotion.refresh_from_db()
    assert promotion.status == "rolled_back"
    assert set(
        Asset.objects.filter(folder_memberships__folder=bi["folders"]["staging"]).values_list("status", flat=True)
    ) == {"deleted"}
    assert FolderMembership.objects.filter(folder=bi["folders"]["staging"]).count() == 4
    assert api.get(f"/api/v1/assets/{bi['assets']['dashboard'].pk}/environments/").json() == []


def test_execute_refuses_what_is_not_approved_and_a_duplicate_delivery_does_nothing(api, bi, staging_mapping):
    api.force_authenticate(bi["ben"])
    body = {
        "asset": bi["assets"]["dashboard"].pk,
        "target": bi["folders"]["staging"].pk,
        "data_source_mappings": staging_mapping,
    }
    promotion = api.post("/api/v1/promotions/", body, format="json").json()
    refused = api.post(f"/api/v1/promotions/{promotion['id']}/execute/")
    assert refused.status_code == 409
    assert "only an approved plan runs" in refused.json()["detail"]
    assert services.promotion_execute(promotion_id=promotion["id"]) is None
