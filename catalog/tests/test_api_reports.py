import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import services
from catalog.models import Asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def report_rows(staff, claims, owner, healthcare, claim_product, secret_asset):
    old = services.asset_create(actor=staff, kind="analysis", name="Old analysis", domain=claims, owner=owner)
    long_ago = timezone.now() - timedelta(days=200)
    Asset.objects.filter(pk=old.pk).update(updated_at=long_ago, created_at=long_ago)
    services.asset_view_record(asset_id=claim_product.pk, user_id=owner.pk, viewed_at=timezone.now())
    return old


def report(api, name, query=""):
    response = api.get(f"/api/v1/reports/{name}/?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_report_list(api, staff):
    api.force_authenticate(staff)
    names = [r["name"] for r in api.get("/api/v1/reports/").json()]
    assert names == ["by-business-unit", "by-owner", "by-kind", "created", "stale", "never-viewed"]


def test_grouped_reports_count_visible_assets(api, staff, analyst, report_rows):
    api.force_authenticate(staff)
    assert sorted(report(api, "by-kind")["rows"]) == [["Analysis", 1], ["Dashboard", 1], ["Data product", 1]]
    assert sorted(report(api, "by-owner")["rows"]) == [["(no owner)", 1], ["olga", 2]]
    assert sorted(report(api, "by-business-unit")["rows"]) == [["(no business unit)", 2], ["Healthcare", 1]]

    api.force_authenticate(analyst)  # the secret dashboard is not counted for the analyst
    assert sorted(report(api, "by-kind")["rows"]) == [["Analysis", 1], ["Data product", 1]]
    assert sorted(report(api, "by-owner")["rows"]) == [["olga", 2]]


def test_stale_and_never_viewed(api, analyst, report_rows):
    api.force_authenticate(analyst)
    stale = report(api, "stale", "days=90")
    assert stale["total"] == 1
    assert stale["rows"][0][1] == "Old analysis"
    assert report(api, "stale", "days=365")["total"] == 0
    never = report(api, "never-viewed")
    assert [row[1] for row in never["rows"]] == ["Old analysis"]


def test_created_in_a_range(api, staff, report_rows):
    api.force_authenticate(staff)
    today = timezone.localdate()
    body = report(api, "created", f"from={today - timedelta(days=7)}&to={today}")
    assert body["total"] == 2
    assert body["rows"] == [[today.isoformat(), 2]]
    old = report(api, "created", f"from={today - timedelta(days=365)}&to={today - timedelta(days=100)}")
    assert old["total"] == 1


def test_csv_export_streams_every_row(api, staff, report_rows):
    api.force_authenticate(staff)
    response = api.get("/api/v1/reports/never-viewed/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "name", "kind", "owner", "business unit", "updated at", "last viewed at"]
    assert sorted(r[1] for r in rows[1:]) == ["Old analysis", "Secret merger dashboard"]
    grouped = api.get("/api/v1/reports/by-kind/?format=csv")
    assert b"".join(grouped.streaming_content).decode().splitlines()[0] == "kind,assets"


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/v1/reports/nope/", 404, "nope"),
        ("/api/v1/reports/stale/?days=abc", 400, "days"),
        ("/api/v1/reports/stale/?days=-1", 400, "days"),
        ("/api/v1/reports/created/?from=2024-13-01", 400, "from"),
        ("/api/v1/reports/created/?from=2024-05-01&to=2024-01-01", 400, "to"),
        ("/api/v1/reports/by-kind/?format=xlsx", 400, "format"),
        ("/api/v1/reports/by-kind/?colour=red", 400, "colour"),
    ],
)
def test_bad_report_input(api, staff, url, status, field):
    api.force_authenticate(staff)
    response = api.get(url)
    assert response.status_code == status, response.content
    assert field in response.json()["detail"]
