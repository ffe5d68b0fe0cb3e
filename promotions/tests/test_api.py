"""Planning, approving and downloading promotions through the public API."""

import pytest

from catalog import services as catalog
from catalog.tests.factories import UserFactory
from lineage.services import edge_upsert
from promotions.models import EnvironmentPolicy, Promotion

from .stubs import ACCOUNT

pytestmark = pytest.mark.django_db


def plan(api, bi, target="staging", **extra):
    body = {"asset": bi["assets"]["dashboard"].pk, "target": bi["folders"][target].pk, **extra}
    return api.post("/api/v1/promotions/", body, format="json")


def test_plan_lists_ordered_steps_and_changes_nothing(api, bi, staging_mapping):
    # given
    api.force_authenticate(bi["ben"])
    # when
    response = plan(api, bi, data_source_mappings=staging_mapping)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "planned" and body["approvable"] is True
    assert [(s["name"], s["action"]) for s in body["steps"][:5]] == [
        ("Warehouse", "map"),
        ("Sales", "create"),
        ("Sales analysis", "create"),
        ("Sales template", "create"),
        ("Sales dashboard", "create"),
    ]
    assert body["steps"][4]["target_arn"] == f"{ACCOUNT}:dashboard/sales-dashboard--staging"
    assert body["progress"] == {"done": 0, "total": 7}
    assert not catalog.Asset.objects.filter(external_id__endswith="--staging").exists()


def test_dry_run_reports_a_missing_mapping_as_a_conflict_and_stores_nothing(api, bi):
    api.force_authenticate(bi["ben"])
    response = plan(api, bi, dry_run=True)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] is None and body["dry_run"] is True and body["approvable"] is False
    assert [c["kind"] for c in body["conflicts"]] == ["missing_mapping"]
    assert Promotion.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"asset": 999_999}, "asset", "no asset has id 999999"),
        ({"target": "dev"}, "target", "the target equals the source"),
        ({"target": "self"}, "target", "not a folder"),
        ({"data_source_mappings": {}}, "data_source_mappings", "missing data source mapping: 'Warehouse'"),
        ({"data_source_mappings": {"1": "not-an-arn"}}, "data_source_mappings", "not a data source of this plan"),
        ({"renames": {"abc": "x"}}, "renames", "'abc' is not an asset id"),
        ({"include_dependencies": "maybe"}, "include_dependencies", "valid boolean"),
    ],
)
def test_bad_input_is_a_400_that_says_which(api, bi, staging_mapping, change, field, words):
    api.force_authenticate(bi["ben"])
    body = {
        "asset": bi["assets"]["dashboard"].pk,
        "target": bi["folders"]["staging"].pk,
        "data_source_mappings": staging_mapping,
    }
    if change.get("target") == "dev":
        change = {"target": bi["folders"]["dev"].pk}
    elif change.get("target") == "self":
        change = {"target": bi["assets"]["sales"].pk}
    body.update(change)
    response = api.post("/api/v1/promotions/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert words in response.json()["detail"]


def test_a_dependency_cycle_is_a_400_naming_it(api, bi, staging_mapping):
    a = bi["assets"]
    # lineage may store cycles: here the analysis is also created from its own template
    edge_upsert(source=a["template"], target=a["analysis"], kind="created_from", actor=bi["ben"])
    api.force_authenticate(bi["ben"])
    response = plan(api, bi, data_source_mappings=staging_mapping)
    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"asset: the dependencies form a cycle: Sales template (template {a['template'].pk}) → "
        f"Sales analysis (analysis {a['analysis'].pk}) → Sales template (template {a['template'].pk})"
    )
    assert Promotion.objects.count() == 0


def test_a_user_who_may_not_edit_the_source_cannot_plan_and_hidden_assets_do_not_leak(api, bi, staging_mapping):
    api.force_authenticate(bi["cora"])
    refused = plan(api, bi, data_source_mappings=staging_mapping)
    assert refused.status_code == 403
    api.force_authenticate(UserFactory(username="eve"))
    hidden = plan(api, bi, data_source_mappings=staging_mapping)
    assert hidden.status_code == 400
    assert hidden.json()["detail"] == f"asset: no asset has id {bi['assets']['dashboard'].pk}, or you may not see it"
    assert api.get("/api/v1/promotions/").json()["results"] == []


def test_approval_needs_a_second_person_where_the_environment_says_so(api, bi, staging_mapping):
    EnvironmentPolicy.objects.create(environment="staging", second_person_required=True)
    api.force_authenticate(bi["ben"])
    promotion = plan(api, bi, data_source_mappings=staging_mapping).json()
    assert promotion["second_person_required"] is True
    own = api.post(f"/api/v1/promotions/{promotion['id']}/approve/")
    assert own.status_code == 403
    assert "need a second person" in own.json()["detail"]
    api.force_authenticate(bi["carla"])
    approved = api.post(f"/api/v1/promotions/{promotion['id']}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] == "carla"
    again = api.post(f"/api/v1/promotions/{promotion['id']}/approve/")
    assert again.status_code == 409


def test_self_approval_is_fine_where_no_second_person_is_required(api, bi, staging_mapping):
    api.force_authenticate(bi["ben"])
    promotion = plan(api, bi, data_source_mappings=staging_mapping).json()
    assert api.post(f"/api/v1/promotions/{promotion['id']}/approve/").status_code == 200


def test_a_plan_with_blocking_conflicts_cannot_be_approved(api, bi, staging_mapping):
    api.force_authenticate(bi["ben"])
    # something already stands at the ARN the copy would take, made outside promotions
    catalog.asset_create(
        actor=bi["ben"],
        kind="dataset",
        name="Sales (hand-made)",
        external_id=f"{ACCOUNT}:dataset/sales--staging",
        domain=bi["domain"],
        environment="staging",
    )
    promotion = plan(api, bi, data_source_mappings=staging_mapping).json()
    assert [c["kind"] for c in promotion["conflicts"]] == ["changed_in_target"]
    refused = api.post(f"/api/v1/promotions/{promotion['id']}/approve/")
    assert refused.status_code == 409
    assert "blocking conflict" in refused.json()["detail"]
    overwrite = plan(api, bi, data_source_mappings=staging_mapping, overwrite=True).json()
    assert overwrite["approvable"] is True
    assert next(s for s in overwrite["steps"] if s["name"] == "Sales")["action"] == "update"


def test_artefacts_download_as_json(api, bi, staging_mapping):
    api.force_authenticate(bi["ben"])
    promotion = plan(api, bi, data_source_mappings=staging_mapping).json()
    bundle = api.get(f"/api/v1/promotions/{promotion['id']}/bundle/")
    assert bundle.status_code == 200
    assert "attachment" in bundle["Content-Disposition"]
    assert [d["Id"] for d in bundle.json()["Resources"]["Dashboards"]] == ["sales-dashboard--staging"]
    template = api.get(f"/api/v1/promotions/{promotion['id']}/cloudformation/").json()
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert sorted(r["Type"] for r in template["Resources"].values()) == [
        "AWS::QuickSight::Analysis",
        "AWS::QuickSight::Dashboard",
        "AWS::QuickSight::DataSet",
        "AWS::QuickSight::Template",
    ]


def test_list_filters_strictly(api, bi, staging_mapping):
    api.force_authenticate(bi["ben"])
    plan(api, bi, data_source_mappings=staging_mapping)
    assert len(api.get("/api/v1/promotions/", {"environment": "staging"}).json()["results"]) == 1
    assert api.get("/api/v1/promotions/", {"environment": "prod"}).json()["results"] == []
    assert api.get("/api/v1/promotions/", {"status": "nope"}).status_code == 400
    assert api.get("/api/v1/promotions/", {"colour": "red"}).status_code == 400


def test_customer_copy_request_becomes_a_plan_for_a_bi_developer(api, bi):
    # given a customer-facing user who sees the product dashboard
    api.force_authenticate(bi["cora"])
    # when
    response = api.post(
        "/api/v1/promotion-requests/",
        {"asset": bi["assets"]["dashboard"].pk, "customer": "acme", "note": "Acme wants their own filters"},
        format="json",
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "customer_copy" and body["customer"] == "acme" and body["status"] == "planned"
    assert body["target_folder"] == bi["folders"]["acme"].pk
    actions = {s["name"]: s["action"] for s in body["steps"] if s["action"] != "membership"}
    # the copy reuses the product's data source and template, and forks the rest into the customer's folder
    assert actions == {
        "Warehouse": "map",
        "Sales": "create",
        "Sales analysis (Acme)": "create",
        "Sales template": "map",
        "Sales dashboard (Acme)": "create",
    }
    assert api.post(f"/api/v1/promotions/{body['id']}/approve/").status_code == 403
    api.force_authenticate(bi["ben"])
    assert api.post(f"/api/v1/promotions/{body['id']}/approve/").status_code == 200


def test_customer_copy_request_says_what_is_wrong(api, bi):
    api.force_authenticate(bi["cora"])
    no_note = api.post(
        "/api/v1/promotion-requests/", {"asset": bi["assets"]["dashboard"].pk, "customer": "acme", "note": " "}
    )
    assert no_note.status_code == 400 and "note" in no_note.json()
    not_dashboard = api.post(
        "/api/v1/promotion-requests/", {"asset": bi["assets"]["sales"].pk, "customer": "acme", "note": "x"}
    )
    assert not_dashboard.status_code == 400 and "dashboards" in not_dashboard.json()["detail"]
    unknown = api.post(
        "/api/v1/promotion-requests/", {"asset": bi["assets"]["dashboard"].pk, "customer": "nobody", "note": "x"}
    )
    assert unknown.status_code == 400 and "customer" in unknown.json()


def test_staff_set_per_environment_whether_a_second_person_approves(api, bi):
    api.force_authenticate(bi["ben"])
    refused = api.post("/api/v1/environment-policies/", {"environment": "prod", "second_person_required": True})
    assert refused.status_code == 403
    api.force_authenticate(UserFactory(username="root", is_staff=True))
    created = api.post("/api/v1/environment-policies/", {"environment": "prod", "second_person_required": True})
    assert created.status_code == 201
    assert api.post("/api/v1/environment-policies/", {"environment": "moon"}).status_code == 400
    changed = api.patch("/api/v1/environment-policies/prod/", {"second_person_required": False}, format="json")
    assert changed.json()["second_person_required"] is False
    assert EnvironmentPolicy.objects.get(environment="prod").second_person_required is False


def test_listing_promotions_takes_a_fixed_number_of_queries(api, bi, staging_mapping, django_assert_max_num_queries):
    api.force_authenticate(bi["ben"])
    for _ in range(3):
        plan(api, bi, data_source_mappings=staging_mapping)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/promotions/")
    assert len(response.json()["results"]) == 3
