"""The governance pages, through the test client: request form, inbox and decision, audit, entitlements, rules."""

import pytest
from django.contrib.auth.models import Group

from access.models import AccessRequest, AuditEvent
from access.services import grant_set
from catalog import datasets

pytestmark = pytest.mark.django_db


def test_request_form_shows_only_the_name_to_someone_who_cannot_see_the_asset(client, world):
    client.force_login(world.analyst)
    page = client.get(f"/assets/{world.dataset.asset_id}/request-access/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Request access to Orders" in html
    assert "orders.csv" not in html and "amount" not in html
    assert client.get(f"/assets/{world.secret.pk}/request-access/").status_code == 404

    sent = client.post(
        f"/assets/{world.dataset.asset_id}/request-access/",
        {"group": "analysts", "justification": "Board pack", "duration_days": "7"},
    )
    assert sent.status_code == 302
    access_request = AccessRequest.objects.get()
    assert (access_request.duration_days, access_request.status) == (7, "pending")
    assert AuditEvent.objects.get(action="request.create").source == "ui"

    bad = client.post(f"/assets/{world.dataset.asset_id}/request-access/", {"group": "analysts", "justification": ""})
    assert bad.status_code == 400


def test_owner_inbox_and_decision(client, world):
    client.force_login(world.analyst)
    client.post(f"/assets/{world.dataset.asset_id}/request-access/", {"group": "analysts", "justification": "why"})
    access_request = AccessRequest.objects.get()

    client.force_login(world.owner)
    home = client.get("/")
    assert b"data-unread-count" in home.content
    inbox = client.get("/access/requests/?box=inbox")
    assert b"Orders" in inbox.content and b"data-inbox-count" in inbox.content
    detail = client.get(f"/access/requests/{access_request.pk}/")
    assert b"Approve" in detail.content
    decided = client.post(f"/access/requests/{access_request.pk}/", {"action": "approve", "comment": "fine"})
    assert decided.status_code == 302
    access_request.refresh_from_db()
    assert access_request.status == "approved"
    again = client.post(f"/access/requests/{access_request.pk}/", {"action": "approve"})
    assert again.status_code == 400 and b"approved request cannot become approved" in again.content

    client.force_login(world.outsider)
    assert client.get(f"/access/requests/{access_request.pk}/").status_code == 404


def test_audit_page_for_owners_and_staff_only(client, world):
    client.force_login(world.owner)
    client.get(f"/assets/{world.dataset.asset_id}/preview/")
    page = client.get("/access/audit/?action=data.preview")
    assert page.status_code == 200 and b"Previewed data" in page.content and b"format=csv" in page.content
    assert client.get("/access/audit/?since=not-a-date").status_code == 400
    client.force_login(world.analyst)
    assert client.get("/access/audit/").status_code == 403


def test_entitlement_pages(client, world):
    grant_set(group=world.analysts, permission="view", asset=world.dataset.asset, actor=world.staff)
    client.force_login(world.analyst)
    page = client.get("/access/entitlements/?group=analysts")
    assert b"analysts sees 1 asset" in page.content and b"view grant on the asset" in page.content
    assert client.get("/access/entitlements/?group=sales-owners").status_code == 404
    assert client.get(f"/assets/{world.dataset.asset_id}/access/").status_code == 403
    client.force_login(world.owner)
    who = client.get(f"/assets/{world.dataset.asset_id}/access/")
    assert who.status_code == 200 and b"ana" in who.content


def test_rules_page_adds_rules_and_shows_their_effect(client, world):
    grant_set(group=world.analysts, permission="view", asset=world.dataset.asset, actor=world.staff)
    Group.objects.create(name="auditors")
    client.force_login(world.owner)
    url = f"/assets/{world.dataset.asset_id}/rules/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"<strong>analysts</strong> sees 300 of 300 rows" in page.content

    added = client.post(
        url, {"kind": "row", "row-column": "region", "row-group": "analysts", "row-allowed_values": "North"}
    )
    assert added.status_code == 302
    client.post(url, {"kind": "column", "col-column": "margin", "col-group": "analysts"})
    html = client.get(url).content.decode()
    assert "<strong>analysts</strong> sees 100 of 300 rows, without margin" in html
    assert "<strong>sales-owners</strong> sees 0 of 300 rows" in html  # no rule names them once rows are ruled

    refused = client.post(url, {"kind": "row", "row-column": "region", "row-group": "analysts"})
    assert refused.status_code == 400 and b"list the values" in refused.content
    rule = world.dataset.row_rules.get()
    client.post(url, {"kind": "delete-row", "rule": str(rule.pk)})
    assert not world.dataset.row_rules.exists()

    client.force_login(world.analyst)
    assert client.get(url).status_code == 403
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404


def test_rules_effect_matches_what_the_group_reads(client, world):
    grant_set(group=world.analysts, permission="view", asset=world.dataset.asset, actor=world.staff)
    datasets.row_rule_create(dataset=world.dataset, column="dept", group=world.analysts, allowed_values=["claims"])
    preview = datasets.dataset_preview(user=world.analyst, dataset=world.dataset, limit=1000)
    client.force_login(world.owner)
    html = client.get(f"/assets/{world.dataset.asset_id}/rules/").content.decode()
    assert f"<strong>analysts</strong> sees {len(preview.rows)} of 300 rows" in html
