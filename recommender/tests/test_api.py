"""The recommender's API through its public endpoints: what each reader sees, strict input, feedback, relationships,
the enriched view and refresh runs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from access.services import grant_set
from catalog.datasets import column_rule_create
from catalog.tests.factories import UserFactory
from recommender import services
from recommender.choices import View
from recommender.models import Recommendation, Relationship

pytestmark = pytest.mark.django_db


@pytest.fixture
def mesh_size():
    return (200, 30, 300)


@pytest.fixture
def computed(mesh):
    services.recommendations_compute(asset=mesh["customer"])
    return mesh


def _url(asset, tail="recommendations/"):
    return f"/api/v1/assets/{asset.pk}/{tail}"


def _user_seeing(mesh, *slugs, name="viewer"):
    group = Group.objects.create(name=f"{name}-group")
    for slug in slugs:
        grant_set(group=group, permission="view", actor=None, asset=mesh[slug])
    user = UserFactory(username=name)
    user.groups.add(group)
    return user


def test_a_reader_sees_the_candidates_they_may_see_and_only_the_names_of_those_they_could_request(
    computed, customer_reader, api
):
    api.force_authenticate(customer_reader)
    response = api.get(_url(computed["customer"]))
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    visible = [r for r in results if not r["requestable"]]
    requestable = [r for r in results if r["requestable"]]
    assert {r["candidate"]["name"] for r in visible} == {"Claim", "SalesOpportunity"}
    assert all(r["score"] > 0 and r["pairs"] for r in visible)
    # Policy and Encounter are recommended but hidden from this reader: their names, nothing of their data
    assert {r["candidate"]["name"] for r in requestable} == {"Encounter", "Policy"}
    for item in requestable:
        assert set(item) == {"id", "candidate", "requestable"}
        assert item["id"] is None
        assert set(item["candidate"]) == {"id", "name", "kind", "domain"}
    # requestable ones come after the ranked ones
    assert results.index(requestable[0]) == len(visible)


def test_the_enriched_view_is_shown_only_to_readers_who_see_the_products_it_went_through(computed, api):
    sees_all_but_sales = _user_seeing(computed, "customer", "encounter", name="nadia")
    api.force_authenticate(sees_all_but_sales)
    results = api.get(_url(computed["customer"])).json()["results"]
    # without SalesOpportunity, Encounter is only known from the plain view: below the threshold, not listed
    assert "Encounter" not in [r["candidate"]["name"] for r in results]
    below = api.get(_url(computed["customer"]), {"include_below": "true"}).json()["results"]
    encounter = next(r for r in below if r["candidate"]["name"] == "Encounter")
    assert encounter["view"] == "plain" and encounter["recommended"] is False
    assert set(encounter["views"]) == {"plain"}
    assert encounter["enrichment"] is None

    sees_all = _user_seeing(computed, "customer", "encounter", "sales-opportunity", name="omar")
    api.force_authenticate(sees_all)
    results = api.get(_url(computed["customer"])).json()["results"]
    encounter = next(r for r in results if r["candidate"]["name"] == "Encounter")
    assert encounter["view"] == "enriched"
    assert encounter["enrichment"]["rows_gained"] > 0
    assert encounter["enrichment"]["examples"]


def test_values_are_not_shown_to_a_reader_restricted_by_column_rules(computed, api):
    reader = _user_seeing(computed, "customer", "encounter", "sales-opportunity", name="rita")
    hidden = Group.objects.create(name="no-contact-details")
    reader.groups.add(hidden)
    column_rule_create(dataset=computed["customer"].dataset, column="Email", group=hidden)
    api.force_authenticate(reader)
    results = api.get(_url(computed["customer"])).json()["results"]
    encounter = next(r for r in results if r["candidate"]["name"] == "Encounter")
    assert all(p["left"] != "Email" for p in encounter["pairs"])
    assert all(not p["examples"] for p in encounter["pairs"])
    assert encounter["enrichment"]["examples"] == []
    assert all(not o["examples"] for o in encounter["overlap"])


def test_recommendations_of_an_asset_the_reader_may_not_see_are_a_404(computed, customer_reader, api):
    api.force_authenticate(customer_reader)
    assert api.get(_url(computed["encounter"])).status_code == 404
    assert api.post(_url(computed["encounter"], "recommendations/refresh/")).status_code == 404
    assert api.get(_url(computed["encounter"], "enriched-view/")).status_code == 404
    api.force_authenticate(None)
    assert api.get(_url(computed["customer"])).status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "maybe"}, "status"), ({"include_below": "perhaps"}, "include_below"), ({"sort": "score"}, "sort")],
)
def test_bad_query_parameters_are_a_400_naming_them(computed, api, params, field):
    api.force_authenticate(computed.staff)
    response = api.get(_url(computed["customer"]), params)
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()["detail"].startswith(field)


def test_accepting_a_recommendation_records_a_relationship(computed, api):
    owner = computed.owners["customer"]
    grant_set(group=Group.objects.create(name="see-claims"), permission="view", actor=None, asset=computed["claim"])
    owner.groups.add(Group.objects.get(name="see-claims"))
    row = Recommendation.objects.get(asset=computed["customer"], candidate=computed["claim"], view=View.PLAIN)
    api.force_authenticate(owner)
    response = api.post(f"/api/v1/recommendations/{row.pk}/feedback/", {"action": "accept", "name": "hasClaim"})
    assert response.status_code == 200, response.json()
    relationship = Relationship.objects.get(pk=response.json()["relationship"])
    assert (relationship.name, relationship.source) == ("hasClaim", "recommendation")
    assert relationship.key_columns == [{"from": "Customer_ID", "to": "Cust_Nbr"}]
    assert response.json()["status"] == "accepted"
    # the relationship is now in the graph the reader sees
    listed = api.get("/api/v1/relationships/", {"asset": computed["claim"].pk}).json()["results"]
    assert [r["name"] for r in listed] == ["hasClaim"]
    # an accepted candidate leaves the open list and is in the accepted one
    names = [r["candidate"]["name"] for r in api.get(_url(computed["customer"])).json()["results"]]
    assert "Claim" not in names
    accepted = api.get(_url(computed["customer"]), {"status": "accepted"}).json()["results"]
    assert [r["candidate"]["name"] for r in accepted] == ["Claim"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "action"), ({"action": "maybe"}, "action"), ({"action": "accept", "name": "has claim!"}, "name")],
)
def test_bad_feedback_is_a_400(computed, api, body, field):
    row = Recommendation.objects.filter(asset=computed["customer"]).first()
    api.force_authenticate(computed.staff)
    response = api.post(f"/api/v1/recommendations/{row.pk}/feedback/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_feedback_on_a_candidate_the_reader_may_not_see_is_a_404(computed, customer_reader, api):
    row = Recommendation.objects.get(asset=computed["customer"], candidate=computed["encounter"], view=View.ENRICHED)
    api.force_authenticate(customer_reader)
    assert api.post(f"/api/v1/recommendations/{row.pk}/feedback/", {"action": "dismiss"}).status_code == 404
    assert api.post("/api/v1/recommendations/abc/feedback/", {"action": "dismiss"}).status_code == 404


def test_relationships_are_stated_checked_changed_and_removed(mesh, api):
    owner = mesh.owners["claim"]
    grant_set(group=owner.groups.first(), permission="view", actor=None, asset=mesh["policy"])
    api.force_authenticate(owner)
    body = {
        "name": "onPolicy",
        "from_asset": mesh["claim"].pk,
        "to_asset": mesh["policy"].pk,
        "key_columns": [{"from": "Policy_ID", "to": "Policy_ID"}],
        "attribute_mappings": [],
    }
    created = api.post("/api/v1/relationships/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["source"] == "user" and created.json()["created_by"] == owner.username
    again = api.post("/api/v1/relationships/", body, format="json")
    assert again.status_code == 400 and "already has a relationship" in again.json()["detail"]

    bad_column = {**body, "name": "onPolicy2", "key_columns": [{"from": "Policy_Nbr", "to": "Policy_ID"}]}
    response = api.post("/api/v1/relationships/", bad_column, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "key_columns: item 0: Claim has no column 'Policy_Nbr'"
    missing_key = api.post("/api/v1/relationships/", {**body, "key_columns": []}, format="json")
    assert missing_key.status_code == 400 and "key_columns" in missing_key.json()
    wrong_shape = api.post("/api/v1/relationships/", {**body, "key_columns": [{"from": "Policy_ID"}]}, format="json")
    assert wrong_shape.status_code == 400 and "key_columns" in wrong_shape.json()
    bad_name = api.post("/api/v1/relationships/", {**body, "name": "on policy"}, format="json")
    assert bad_name.status_code == 400 and "name" in bad_name.json()
    # a product the user may not see reads as one that does not exist
    hidden = api.post("/api/v1/relationships/", {**body, "to_asset": mesh["encounter"].pk}, format="json")
    gone = api.post("/api/v1/relationships/", {**body, "to_asset": 999_999}, format="json")
    assert hidden.status_code == gone.status_code == 400
    assert hidden.json()["to_asset"][0].replace(str(mesh["encounter"].pk), "N") == gone.json()["to_asset"][0].replace(
        "999999", "N"
    )
    assert "that you may see" in hidden.json()["detail"]

    pk = created.json()["id"]
    changed = api.patch(f"/api/v1/relationships/{pk}/", {"description": "Each claim is on one policy."}, format="json")
    assert changed.status_code == 200 and changed.json()["description"] == "Each claim is on one policy."
    fixed = api.patch(f"/api/v1/relationships/{pk}/", {"to_asset": mesh["customer"].pk}, format="json")
    assert fixed.status_code == 400 and "to_asset" in fixed.json()

    # someone who sees both products but may edit neither cannot change it
    viewer = _user_seeing(mesh, "claim", "policy", name="victor")
    api.force_authenticate(viewer)
    assert [r["id"] for r in api.get("/api/v1/relationships/").json()["results"]] == [pk]
    assert api.delete(f"/api/v1/relationships/{pk}/").status_code == 403
    # someone who sees only one end does not see it at all
    api.force_authenticate(_user_seeing(mesh, "claim", name="una"))
    assert api.get("/api/v1/relationships/").json()["results"] == []
    assert api.get(f"/api/v1/relationships/{pk}/").status_code == 404
    api.force_authenticate(owner)
    assert api.get("/api/v1/relationships/", {"asset": "x"}).status_code == 400
    assert api.delete(f"/api/v1/relationships/{pk}/").status_code == 204
    assert not Relationship.objects.filter(pk=pk).exists()


def test_the_enriched_view_preview_counts_what_each_relationship_added(mesh, api):
    api.force_authenticate(mesh.staff)
    response = api.get(_url(mesh["customer"], "enriched-view/"), {"hops": 1})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["plain_rows"] == 200
    assert data["enriched_rows"] == data["plain_rows"] + data["added_rows"]
    assert data["added_rows"] > 0
    attributes = {a["attribute"]: a for a in data["additions"]}
    assert set(attributes) == {"Email", "Phone"}
    assert attributes["Email"]["relationship"]["name"] == "hasSalesOpportunity"
    assert attributes["Email"]["via"]["name"] == "SalesOpportunity"
    assert sum(a["rows_added"] for a in data["additions"]) == data["added_rows"]
    assert 0 < len(data["examples"]) <= 10 and len(data["examples"][0]) == len(data["columns"])
    assert api.get(_url(mesh["customer"], "enriched-view/"), {"hops": 0}).json()["added_rows"] == 0
    for bad in ("9", "-1", "one"):
        response = api.get(_url(mesh["customer"], "enriched-view/"), {"hops": bad})
        assert response.status_code == 400 and "hops" in response.json()
    assert api.get(_url(mesh["customer"], "enriched-view/"), {"hop": 1}).status_code == 400

    # a reader who may not see SalesOpportunity gets the plain data only
    api.force_authenticate(_user_seeing(mesh, "customer", name="paula"))
    data = api.get(_url(mesh["customer"], "enriched-view/")).json()
    assert data["added_rows"] == 0 and data["additions"] == [] and data["via"] == []


def test_refresh_queues_a_run_whose_progress_is_visible(mesh, api, django_capture_on_commit_callbacks):
    api.force_authenticate(mesh.owners["customer"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(_url(mesh["customer"], "recommendations/refresh/"))
    assert response.status_code == 202, response.json()
    run = response.json()
    status = api.get(f"/api/v1/recommendation-runs/{run['id']}/").json()
    assert status["status"] == "succeeded", status
    assert status["done"] == status["total"] > 0 and status["progress"] == 1.0
    listed = api.get(_url(mesh["customer"])).json()
    assert listed["run"]["id"] == run["id"]
    # a refresh of an asset without data says why
    api.force_authenticate(mesh.staff)
    from catalog import services as catalog_services

    empty = catalog_services.asset_create(actor=mesh.staff, kind="data_product", name="Empty")
    response = api.post(_url(empty, "recommendations/refresh/"))
    assert response.status_code == 409 and "no data yet" in response.json()["detail"]
    dashboard = catalog_services.asset_create(actor=mesh.staff, kind="dashboard", name="Board")
    assert api.post(_url(dashboard, "recommendations/refresh/")).status_code == 400
    # someone else's run is not theirs to read
    api.force_authenticate(_user_seeing(mesh, "claim", name="ivan"))
    assert api.get(f"/api/v1/recommendation-runs/{run['id']}/").status_code == 404


def test_only_editors_of_one_of_the_products_accept_or_dismiss(computed, customer_reader, api):
    row = Recommendation.objects.get(asset=computed["customer"], candidate=computed["claim"], view=View.PLAIN)
    api.force_authenticate(customer_reader)
    response = api.post(f"/api/v1/recommendations/{row.pk}/feedback/", {"action": "dismiss"})
    assert response.status_code == 403 and "edit neither" in response.json()["detail"]
    row.refresh_from_db()
    assert row.status == "open"


def test_the_list_reads_a_fixed_number_of_queries(computed, customer_reader, api, django_assert_max_num_queries):
    api.force_authenticate(customer_reader)
    with django_assert_max_num_queries(16):
        response = api.get(_url(computed["customer"]), {"include_below": "true"})
    assert len(response.json()["results"]) >= 4
