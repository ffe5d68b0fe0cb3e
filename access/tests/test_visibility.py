"""The one visibility rule, checked through the API that clients use."""

import pytest
from django.contrib.auth.models import Group

from access.services import grant_set
from catalog import services
from catalog.models import Asset
from catalog.tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    admin = UserFactory(username="root", is_staff=True)
    sales_owners = Group.objects.create(name="sales-owners")
    bi = Group.objects.create(name="bi-developers")
    sales = DomainFactory(name="Sales", slug="sales", owner_group=sales_owners)
    other = DomainFactory(name="Other", slug="other")
    assets = {
        "in_sales": services.asset_create(actor=admin, kind="dataset", name="Pipeline", domain=sales),
        "in_other": services.asset_create(actor=admin, kind="dataset", name="Payroll", domain=other),
        "granted": services.asset_create(actor=admin, kind="dashboard", name="Board pack", domain=other),
        "group_owned": services.asset_create(actor=admin, kind="analysis", name="BI sandbox", owner_group=bi),
        "orphan": services.asset_create(actor=admin, kind="visual", name="Orphan"),
    }
    grant_set(group=bi, permission="view", asset=assets["granted"], actor=admin)
    users = {
        "admin": admin,
        "sales_owner": UserFactory(username="sam"),
        "bi_dev": UserFactory(username="bea"),
        "nobody": UserFactory(username="ned"),
    }
    users["sales_owner"].groups.add(sales_owners)
    users["bi_dev"].groups.add(bi)
    return users, assets, {"sales": sales, "other": other, "bi": bi}


def visible_names(api, user):
    api.force_authenticate(user)
    return sorted(a["name"] for a in api.get("/api/v1/assets/?page_size=500").json()["results"])


def test_each_route_to_visibility(api, world):
    users, assets, _ = world
    assert visible_names(api, users["admin"]) == sorted(a.name for a in assets.values())
    assert visible_names(api, users["sales_owner"]) == ["Pipeline"]
    assert visible_names(api, users["bi_dev"]) == ["BI sandbox", "Board pack"]
    assert visible_names(api, users["nobody"]) == []


def test_personal_ownership_gives_visibility(api, world):
    users, assets, _ = world
    services.asset_update(asset=assets["orphan"], actor=users["admin"], owner=users["nobody"])
    assert visible_names(api, users["nobody"]) == ["Orphan"]


def test_domain_grant_gives_every_asset_of_the_domain(api, world):
    users, _, groups = world
    grant_set(group=groups["bi"], permission="view", domain=groups["other"], actor=users["admin"])
    assert visible_names(api, users["bi_dev"]) == ["BI sandbox", "Board pack", "Payroll"]


def test_view_grant_does_not_allow_edit_but_edit_grant_does(api, world):
    users, assets, groups = world
    api.force_authenticate(users["bi_dev"])
    url = f"/api/v1/assets/{assets['granted'].pk}/"
    assert api.patch(url, {"description": "x"}, format="json").status_code == 403
    grant_set(group=groups["bi"], permission="edit", asset=assets["granted"], actor=users["admin"])
    assert api.patch(url, {"description": "x"}, format="json").status_code == 200


def test_domain_owners_may_edit_their_domain(api, world):
    users, assets, _ = world
    api.force_authenticate(users["sales_owner"])
    response = api.patch(f"/api/v1/assets/{assets['in_sales'].pk}/", {"name": "Pipeline v2"}, format="json")
    assert response.status_code == 200
    created = api.post("/api/v1/assets/", {"kind": "dataset", "name": "Leads", "domain": "sales"}, format="json")
    assert created.status_code == 201


def test_restricted_assets_do_not_leak_through_search_facets_reports_or_folders(api, world):
    users, assets, _ = world
    admin = users["admin"]
    folder = services.asset_create(actor=admin, kind="folder", name="Shared", owner_group=world[2]["bi"])
    services.folder_membership_add(folder=folder, asset=assets["in_other"], actor=admin)
    services.folder_membership_add(folder=folder, asset=assets["granted"], actor=admin)
    api.force_authenticate(users["bi_dev"])

    search = api.get("/api/v1/search/?q=pay").json()
    assert search["count"] == 0 and search["results"] == []
    assert all(f["count"] == 0 for facet in search["facets"].values() for f in facet) or not any(
        search["facets"].values()
    )
    assert [a["name"] for a in api.get(f"/api/v1/folders/{folder.pk}/members/").json()] == ["Board pack"]
    by_kind = api.get("/api/v1/reports/by-kind/").json()
    assert sum(count for _, count in by_kind["rows"]) == 3  # BI sandbox, Board pack, the Shared folder
    csv_text = b"".join(api.get("/api/v1/reports/never-viewed/?format=csv").streaming_content).decode()
    assert "Payroll" not in csv_text and "Board pack" in csv_text
    assert api.get(f"/api/v1/assets/{assets['in_other'].pk}/").status_code == 404
    assert api.get(f"/api/v1/assets/{assets['in_other'].pk}/folders/").status_code == 404
    added = api.post(f"/api/v1/folders/{folder.pk}/members/", {"asset": assets["orphan"].pk}, format="json")
    assert added.status_code in (403, 404)


def test_grants_api_is_staff_only_for_changes(api, world):
    users, assets, _ = world
    api.force_authenticate(users["bi_dev"])
    assert [g["group"] for g in api.get("/api/v1/grants/").json()] == ["bi-developers"]
    refused = api.post("/api/v1/grants/", {"group": "bi-developers", "domain": "other"}, format="json")
    assert refused.status_code == 403

    api.force_authenticate(users["admin"])
    both = api.post(
        "/api/v1/grants/", {"group": "bi-developers", "domain": "other", "asset": assets["orphan"].pk}, format="json"
    )
    assert both.status_code == 400
    assert "domain" in both.json()["detail"]
    created = api.post("/api/v1/grants/", {"group": "bi-developers", "domain": "other"}, format="json")
    assert created.status_code == 201
    assert visible_names(api, users["bi_dev"]) == ["BI sandbox", "Board pack", "Payroll"]
    api.force_authenticate(users["admin"])
    assert api.delete(f"/api/v1/grants/{created.json()['id']}/").status_code == 204
    assert visible_names(api, users["bi_dev"]) == ["BI sandbox", "Board pack"]


def test_visibility_query_is_one_statement_for_lists(world, django_assert_max_num_queries):
    users, _, _ = world
    with django_assert_max_num_queries(3):  # groups, domains, then the list itself
        assert len(list(Asset.objects.visible_to(users["bi_dev"]))) == 2
