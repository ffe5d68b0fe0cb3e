"""Sharing requests: asked for a group, decided by the domain's data owners, expiring, extended and revoked; states
and transitions enforced, every step in history, notified by email and in the app."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from access import services
from access.models import AccessRequest, AuditEvent, Grant, Notification
from catalog.models import Asset

pytestmark = pytest.mark.django_db


def ask(api, world, user=None, **body):
    api.force_authenticate(user or world.analyst)
    payload = {"asset": world.dataset.asset_id, "group": "analysts", "justification": "Quarterly revenue review"}
    payload.update(body)
    return api.post("/api/v1/access-requests/", payload, format="json")


def sees(user, asset) -> bool:
    if hasattr(user, "_cartograph_group_ids"):
        del user._cartograph_group_ids
    return Asset.objects.visible_to(user).filter(pk=asset.pk).exists()


def test_a_request_notifies_the_data_owners_by_email_and_in_the_app(api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(api, world, duration_days=30)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["asset_name"] == "Orders" and body["requester"] == "ana"
    assert [step["to_status"] for step in body["history"]] == ["pending"]
    assert [m.to for m in mail.outbox] == [["olga@example.com"]]
    assert "Quarterly revenue review" in mail.outbox[0].body
    assert f"/access/requests/{body['id']}/" in mail.outbox[0].body
    assert Notification.objects.get(user=world.owner).request_id == body["id"]


def test_approval_gives_the_group_a_view_grant_and_rejection_needs_a_reason(api, world):
    created = ask(api, world, duration_days=30).json()
    api.force_authenticate(world.owner)
    refused = api.post(f"/api/v1/access-requests/{created['id']}/reject/", {}, format="json")
    assert refused.status_code == 400 and "comment" in refused.json()["detail"]
    approved = api.post(f"/api/v1/access-requests/{created['id']}/approve/", {"comment": "ok for Q3"}, format="json")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["status"] == "approved" and body["decided_by"] == "olga" and body["expires_at"]
    assert [s["to_status"] for s in body["history"]] == ["pending", "approved"]
    assert Grant.objects.filter(group=world.analysts, asset=world.dataset.asset, permission="view").exists()
    assert sees(world.analyst, world.dataset.asset)
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "request.create",
        "request.approve",
        "grant.set",
    }


def test_transitions_are_enforced(api, world):
    created = ask(api, world).json()
    api.force_authenticate(world.analyst)
    assert api.post(f"/api/v1/access-requests/{created['id']}/withdraw/").status_code == 200
    api.force_authenticate(world.owner)
    refused = api.post(f"/api/v1/access-requests/{created['id']}/approve/", {}, format="json")
    assert refused.status_code == 409
    assert "withdrawn request cannot become approved" in refused.json()["detail"]
    assert not Grant.objects.filter(group=world.analysts).exists()
    refused = api.post(f"/api/v1/access-requests/{created['id']}/extend/", {"days": 5}, format="json")
    assert refused.status_code == 409


def test_only_data_owners_decide_and_only_the_requester_withdraws(api, world):
    created = ask(api, world).json()
    api.force_authenticate(world.analyst)
    assert api.post(f"/api/v1/access-requests/{created['id']}/approve/", {}, format="json").status_code == 403
    api.force_authenticate(world.outsider)  # neither requester nor owner: the request does not exist for them
    assert api.post(f"/api/v1/access-requests/{created['id']}/approve/", {}, format="json").status_code == 404
    assert api.get(f"/api/v1/access-requests/{created['id']}/").status_code == 404
    api.force_authenticate(world.owner)
    assert api.post(f"/api/v1/access-requests/{created['id']}/withdraw/").status_code == 403


def test_requests_are_checked(api, world):
    assert ask(api, world, group="sales-owners").status_code == 400  # not the requester's group
    not_there = ask(api, world, group="no-such-group")
    assert not_there.status_code == 400 and "group" in not_there.json()
    assert ask(api, world, justification="   ").status_code == 400
    assert ask(api, world, duration_days=0).status_code == 400
    secret = ask(api, world, asset=world.secret.pk)  # not requestable: no owners; its name must not show
    assert secret.status_code == 404 and "Secret" not in secret.content.decode()
    assert ask(api, world, asset="abc").status_code == 400
    assert ask(api, world).status_code == 201
    again = ask(api, world)
    assert again.status_code == 400 and "open request" in again.json()["detail"]
    owner_asks = ask(api, world, user=world.owner, group="sales-owners")
    assert owner_asks.status_code == 400 and "already has access" in owner_asks.json()["detail"]


def test_lists_by_box(api, world):
    created = ask(api, world).json()
    api.force_authenticate(world.owner)
    assert [r["id"] for r in api.get("/api/v1/access-requests/?box=inbox").json()["results"]] == [created["id"]]
    assert api.get("/api/v1/access-requests/?box=mine").json()["results"] == []
    api.force_authenticate(world.outsider)
    assert api.get("/api/v1/access-requests/").json()["results"] == []
    assert api.get("/api/v1/access-requests/?box=everything").status_code == 400
    assert api.get("/api/v1/access-requests/?status=open").status_code == 400


def test_expiry_sweep_reminds_then_expires_and_removes_the_grant(api, world, django_capture_on_commit_callbacks):
    created = ask(api, world, duration_days=10).json()
    api.force_authenticate(world.owner)
    api.post(f"/api/v1/access-requests/{created['id']}/approve/", {}, format="json")
    access_request = AccessRequest.objects.get(pk=created["id"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.access_requests_sweep(now=timezone.now() + timedelta(days=8)) == {"expired": 0, "reminded": 1}
        assert services.access_requests_sweep(now=timezone.now() + timedelta(days=8)) == {"expired": 0, "reminded": 0}
    assert [m.to for m in mail.outbox] == [["ana@example.com"]] and "ends on" in mail.outbox[0].body
    assert sees(world.analyst, world.dataset.asset)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.access_requests_sweep(now=timezone.now() + timedelta(days=11)) == {"expired": 1, "reminded": 0}
    access_request.refresh_from_db()
    assert access_request.status == "expired" and access_request.grant_id is None
    assert not sees(world.analyst, world.dataset.asset)
    assert AuditEvent.objects.filter(action="request.expire", source="task").count() == 1
    assert AuditEvent.objects.filter(action="grant.revoke", source="task").count() == 1


def test_extend_and_revoke(api, world):
    created = ask(api, world, duration_days=10).json()
    api.force_authenticate(world.owner)
    approved = api.post(f"/api/v1/access-requests/{created['id']}/approve/", {}, format="json").json()
    extended = api.post(f"/api/v1/access-requests/{created['id']}/extend/", {"days": 20}, format="json")
    assert extended.status_code == 200
    assert extended.json()["expires_at"] > approved["expires_at"]
    assert api.post(f"/api/v1/access-requests/{created['id']}/extend/", {"days": "x"}, format="json").status_code == 400
    revoked = api.post(f"/api/v1/access-requests/{created['id']}/revoke/", {"comment": "project ended"}, format="json")
    assert revoked.json()["status"] == "revoked"
    assert [s["action"] for s in revoked.json()["history"]] == [
        "request.create",
        "request.approve",
        "request.extend",
        "request.revoke",
    ]
    assert not sees(world.analyst, world.dataset.asset)


def test_a_grant_given_otherwise_outlives_the_request(api, world):
    created = ask(api, world).json()
    services.grant_set(group=world.analysts, permission="edit", asset=world.dataset.asset, actor=world.staff)
    api.force_authenticate(world.owner)
    api.post(f"/api/v1/access-requests/{created['id']}/approve/", {}, format="json")
    api.post(f"/api/v1/access-requests/{created['id']}/revoke/", {}, format="json")
    assert Grant.objects.filter(group=world.analysts, asset=world.dataset.asset, permission="edit").exists()


def test_notifications_api_lists_and_marks_read(api, world):
    ask(api, world)
    api.force_authenticate(world.owner)
    rows = api.get("/api/v1/notifications/").json()["results"]
    assert len(rows) == 1 and rows[0]["read"] is False
    assert api.post("/api/v1/notifications/read/", {"ids": ["x"]}, format="json").status_code == 400
    assert api.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked_read": 1}
    assert api.get("/api/v1/notifications/").json()["results"][0]["read"] is True


def test_the_sweep_runs_from_celery_beat(settings, world):
    from celery import current_app

    current_app.loader.import_default_modules()  # what a worker does at start: autodiscovers every app's tasks
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-access-requests"]
    assert entry["task"] in current_app.tasks
    assert current_app.tasks[entry["task"]].delay().get() == {"expired": 0, "reminded": 0}


def test_request_list_reads_in_a_fixed_number_of_queries(api, world, django_assert_max_num_queries):
    groups = [world.analysts, *(Group.objects.create(name=f"team-{index}") for index in range(4))]
    world.analyst.groups.add(*groups)
    analyst = type(world.analyst).objects.get(pk=world.analyst.pk)  # group ids are memoised per user object
    for group in groups:
        services.access_request_create(requester=analyst, group=group, asset=world.dataset.asset, justification="x")
    api.force_authenticate(world.owner)
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/access-requests/?box=inbox").json()["results"]) == 5
