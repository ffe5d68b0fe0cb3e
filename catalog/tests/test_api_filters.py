from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import services
from catalog.models import Asset
from catalog.tests.factories import BusinessUnitFactory, CustomerFactory, ProductLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_rows(staff, claims, owner, healthcare):
    education = BusinessUnitFactory(name="Education", slug="education")
    acme = CustomerFactory(name="Acme", slug="acme", business_unit=healthcare)
    line = ProductLineFactory(name="Benchmarks", slug="benchmarks")
    folder = services.asset_create(actor=staff, kind="folder", name="prod", environment="prod")
    rows = {
        "dash": services.asset_create(
            actor=staff,
            kind="dashboard",
            name="Acme claims",
            customer=acme,
            product_line=line,
            environment="prod",
            owner=owner,
            tags=["gold"],
            domain=claims,
        ),
        "ds": services.asset_create(
            actor=staff, kind="dataset", name="Enrolment", business_unit=education, environment="dev", tags=["pii"]
        ),
        "old": services.asset_create(actor=staff, kind="analysis", name="Old analysis", business_unit=healthcare),
        "folder": folder,
    }
    services.folder_membership_add(folder=folder, asset=rows["dash"], actor=staff)
    long_ago = timezone.now() - timedelta(days=400)
    Asset.objects.filter(pk=rows["old"].pk).update(updated_at=long_ago, created_at=long_ago)
    services.asset_view_record(asset_id=rows["dash"].pk, user_id=owner.pk, viewed_at=timezone.now())
    return rows


def names(api, query):
    response = api.get(f"/api/v1/assets/?{query}")
    assert response.status_code == 200, response.content
    return sorted(a["name"] for a in response.json()["results"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=dashboard", ["Acme claims"]),
        ("kind=dashboard&kind=dataset", ["Acme claims", "Enrolment"]),
        ("owner=olga", ["Acme claims"]),
        ("domain=claims", ["Acme claims"]),
        ("business_unit=education", ["Enrolment"]),
        ("business_unit=healthcare", ["Acme claims", "Old analysis"]),  # the customer's unit is inherited
        ("customer=acme", ["Acme claims"]),
        ("product_line=benchmarks", ["Acme claims"]),
        ("environment=dev", ["Enrolment"]),
        ("tag=pii", ["Enrolment"]),
        ("stale_days=365", ["Old analysis"]),
        ("never_viewed=false", ["Acme claims"]),
        ("status=active&kind=analysis", ["Old analysis"]),
    ],
)
def test_filters(api, staff, catalog_rows, query, expected):
    api.force_authenticate(staff)
    assert names(api, query) == expected


def test_folder_and_date_filters(api, staff, catalog_rows):
    api.force_authenticate(staff)
    assert names(api, f"folder={catalog_rows['folder'].pk}") == ["Acme claims"]
    cutoff = (timezone.now() - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    assert names(api, f"updated_before={cutoff}") == ["Old analysis"]
    assert "Old analysis" not in names(api, f"created_after={cutoff}")
    assert "Old analysis" in names(api, "never_viewed=true")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=spaceship", "kind"),
        ("owner=nobody", "owner"),
        ("domain=nowhere", "domain"),
        ("created_after=yesterday", "created_after"),
        ("stale_days=-3", "stale_days"),
        ("never_viewed=perhaps", "never_viewed"),
        ("ordering=password", "ordering"),
        ("knd=dataset", "knd"),
        ("page_size=abc", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=100000", "page_size"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_bad_filter_values_are_400_naming_the_field(api, staff, catalog_rows, query, field):
    api.force_authenticate(staff)
    response = api.get(f"/api/v1/assets/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]


def test_ordering(api, staff, catalog_rows):
    api.force_authenticate(staff)
    listed = api.get("/api/v1/assets/?ordering=-view_count&kind=dashboard&kind=dataset").json()["results"]
    assert listed[0]["name"] == "Acme claims"
    listed = api.get("/api/v1/assets/?ordering=name").json()["results"]
    assert [a["name"] for a in listed] == sorted(a["name"] for a in listed)
