import pytest

from catalog.models import Domain

pytestmark = pytest.mark.django_db


def test_reference_data_is_readable_by_users_and_written_by_staff(api, staff, analyst, claims):
    api.force_authenticate(analyst)
    assert [d["slug"] for d in api.get("/api/v1/domains/").json()] == ["claims"]
    refused = api.post("/api/v1/business-units/", {"name": "Retail", "slug": "retail"}, format="json")
    assert refused.status_code == 403
    assert "staff" in refused.json()["detail"]

    api.force_authenticate(staff)
    created = api.post("/api/v1/business-units/", {"name": "Retail", "slug": "retail"}, format="json")
    assert created.status_code == 201
    customer = api.post(
        "/api/v1/customers/", {"name": "Shop", "slug": "shop", "business_unit": "retail"}, format="json"
    )
    assert customer.status_code == 201
    assert api.get("/api/v1/customers/shop/").json()["business_unit"] == "retail"
    duplicate = api.post("/api/v1/business-units/", {"name": "Retail", "slug": "retail"}, format="json")
    assert duplicate.status_code == 400
    bad_slug = api.post("/api/v1/tags/", {"name": "x", "slug": "has spaces"}, format="json")
    assert bad_slug.status_code == 400
    assert "slug" in bad_slug.json()["detail"]


def test_domain_in_use_cannot_be_deleted(api, staff, claim_product):
    api.force_authenticate(staff)
    response = api.delete("/api/v1/domains/claims/")
    assert response.status_code == 400
    assert Domain.objects.filter(slug="claims").exists()


def test_me(api, analyst):
    api.force_authenticate(analyst)
    assert api.get("/api/v1/me/").json() == {
        "id": analyst.pk,
        "username": "ana",
        "is_staff": False,
        "groups": ["analysts"],
    }


def test_schema_and_docs_are_served_without_a_cdn(api, staff, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/assets/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
