from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page, expect

from ingestion import services
from ingestion.models import ImportJob
from ingestion.tests import bundles

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_an_administrator_issues_a_token_and_sees_events_and_import_progress(
    page: Page, sign_in, django_user_model, tmp_path
):
    admin = django_user_model.objects.create_user(username="admin", password=PASSWORD, is_staff=True)
    # given a stored event of each outcome
    source, _ = services.event_source_create(name="EventBridge prod", kind="quicksight", actor=admin)
    services.event_receive(source=source, payload={"id": "x", "source": "aws.quicksight", "detail": {}})
    # and an import queued but not yet run (the worker picks it up while the page is open)
    job = ImportJob(total=8, created_by=admin)
    job.bundle.save("bundle.json", ContentFile(json.dumps(bundles.bundle()).encode()), save=False)
    job.save()

    # when the administrator opens the ingestion page
    sign_in("admin")
    page.get_by_role("link", name="Ingestion").click()
    expect(page.get_by_role("heading", level=1, name="Ingestion")).to_be_visible()

    # then the rejected event is listed with its reason
    rejected = page.locator("[data-event-status=rejected]")
    expect(rejected).to_contain_text("time: must be an ISO 8601 time")

    # and the queued import shows its progress, then its report once the worker has run it (HTMX polling)
    row = page.locator(f"[data-import='{job.pk}']")
    expect(row).to_have_attribute("data-import-status", "queued")
    services.import_run(job_id=job.pk)
    expect(row).to_have_attribute("data-import-status", "succeeded", timeout=15_000)
    expect(row.locator("[data-import-counts]")).to_contain_text(
        "8 of 8 items: 7 created, 0 updated, 0 unchanged, 1 rejected"
    )
    row.get_by_text("Rejected items (1)").click()
    expect(row).to_contain_text("Dashboards[1].Name: is missing or empty")

    # when a new OpenLineage source is added, its token is shown once
    page.get_by_label("Name").fill("Airflow")
    page.get_by_label("Sends").select_option("openlineage")
    page.get_by_role("button", name="Add source").click()
    token = page.locator("[data-token]").inner_text()
    assert token.startswith("cgi_")
    expect(page.locator("[data-new-token]")).to_contain_text("/api/v1/lineage")
    assert services.event_source_authenticate(token=token, kind="openlineage").name == "Airflow"

    # and an uploaded bundle is imported
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"DataSources": [bundles.data_source()]}))
    page.get_by_label("Bundle of QuickSight Describe* outputs (JSON)").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status").filter(has_text="is queued: 1 items")).to_be_visible()
    newest = ImportJob.objects.order_by("-id").first()
    expect(page.locator(f"[data-import='{newest.pk}']")).to_have_attribute(
        "data-import-status", "succeeded", timeout=15_000
    )


def test_the_ingestion_page_is_for_administrators_only(page: Page, sign_in, django_user_model):
    django_user_model.objects.create_user(username="ana", password=PASSWORD)
    sign_in("ana")
    expect(page.get_by_role("link", name="Ingestion")).to_have_count(0)
    response = page.goto("/ingestion/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1, name="Ingestion")).to_have_count(0)
