"""The access audit: data reads and access changes are recorded with the person and source, rows are append-only,
and the audit API filters, pages and exports."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.utils import DatabaseError

from access.models import AuditEvent
from access.services import audit_record, grant_revoke, grant_set
from alerts import services as alert_services
from catalog import datasets

pytestmark = pytest.mark.django_db


def test_api_preview_and_visual_data_are_recorded_with_user_and_source(api, world):
    api.force_authenticate(world.owner)
    assert api.get(f"/api/v1/datasets/{world.dataset.asset_id}/preview/?limit=5").status_code == 200
    spec = {"type": "table", "rows": ["region"], "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}]}
    visual = datasets.visual_save(
        actor=world.owner, dataset=world.dataset, spec=spec, name="By region", owner=world.owner
    )
    assert api.get(f"/api/v1/visuals/{visual.asset_id}/data/").status_code == 200

    events = list(AuditEvent.objects.order_by("id").filter(action__startswith="data."))
    assert [(e.action, e.source, e.actor_name, e.asset_id) for e in events] == [
        ("data.preview", "api", "olga", world.dataset.asset_id),
        ("data.visual", "api", "olga", visual.asset_id),
    ]
    assert events[0].detail == {"rows": 5, "restricted": False}


def test_ui_preview_is_recorded_with_source_ui(client, world):
    client.force_login(world.owner)
    response = client.get(f"/assets/{world.dataset.asset_id}/preview/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="data.preview")
    assert (event.source, event.actor_id) == ("ui", world.owner.pk)


def test_a_refused_read_is_not_recorded_as_a_read(api, world):
    api.force_authenticate(world.outsider)
    assert api.get(f"/api/v1/datasets/{world.dataset.asset_id}/preview/").status_code == 404
    assert not AuditEvent.objects.filter(action="data.preview").exists()


def test_csv_exports_are_recorded(api, world):
    api.force_authenticate(world.owner)
    response = api.get("/api/v1/reports/by-kind/?format=csv")
    b"".join(response.streaming_content)
    impact = api.get(f"/api/v1/assets/{world.dataset.asset_id}/impact/?format=csv")
    assert impact.status_code == 200
    exports = list(AuditEvent.objects.filter(action="data.export").order_by("id"))
    assert [e.detail.get("report") or e.detail.get("export") for e in exports] == ["by-kind", "impact"]
    assert exports[1].asset_id == world.dataset.asset_id


def test_alert_evaluations_are_recorded_in_bulk_for_each_owner(world, django_assert_max_num_queries):
    spec = {"type": "table", "rows": ["region"], "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}]}
    visual = datasets.visual_save(
        actor=world.owner, dataset=world.dataset, spec=spec, name="By region", owner=world.owner
    )
    key = '{"m":"Amount","d":[["region","North"]]}'
    for _ in range(3):
        alert_services.alert_create(
            owner=world.owner, visual=visual, cell_key=key, condition="above", threshold=Decimal("1")
        )
    report = alert_services.alerts_evaluate_dataset(dataset_id=world.dataset.pk)
    assert report.evaluated == 3
    events = AuditEvent.objects.filter(action="alert.evaluate")
    assert events.count() == 3
    assert {(e.source, e.actor_name, e.asset_id) for e in events} == {("task", "olga", visual.asset_id)}


def test_grant_changes_are_recorded(world):
    grant = grant_set(
        group=world.analysts, permission="view", asset=world.dataset.asset, actor=world.staff, source="api"
    )
    grant_set(group=world.analysts, permission="view", asset=world.dataset.asset, actor=world.staff, source="api")
    grant_revoke(grant=grant, actor=world.staff, source="ui")
    events = list(AuditEvent.objects.filter(action__startswith="grant.").order_by("id"))
    assert [(e.action, e.source, e.actor_name) for e in events] == [
        ("grant.set", "api", "root"),  # setting the same grant again changes nothing and is not recorded
        ("grant.revoke", "ui", "root"),
    ]
    assert events[0].detail["group"] == "analysts"


def test_rule_changes_are_recorded(api, world):
    # given the dataset's owner
    api.force_authenticate(world.owner)
    base = f"/api/v1/datasets/{world.dataset.asset_id}"
    # when she adds a row rule and a column rule, and removes the row rule
    row = api.post(
        f"{base}/row-rules/", {"column": "region", "group": "analysts", "allowed_values": ["North"]}, format="json"
    )
    column = api.post(f"{base}/column-rules/", {"column": "margin", "group": "analysts"}, format="json")
    assert row.status_code == 201 and column.status_code == 201, (row.content, column.content)
    assert api.delete(f"{base}/row-rules/{row.json()['id']}/").status_code == 204
    # then each change is in the audit, with who, where and what
    events = list(AuditEvent.objects.filter(action__startswith="rule.").order_by("id"))
    assert [(e.action, e.source, e.actor_name, e.detail["kind"], e.detail["column"]) for e in events] == [
        ("rule.set", "api", "olga", "row", "region"),
        ("rule.set", "api", "olga", "column", "margin"),
        ("rule.delete", "api", "olga", "row", "region"),
    ]
    assert events[0].detail["allowed_values"] == ["North"] and events[0].asset_id == world.dataset.asset_id


def test_audit_rows_cannot_be_changed_or_deleted_through_the_application(world):
    event = audit_record(user=world.owner, action="data.preview", source="api", asset=world.dataset.asset)
    event.detail = {"forged": True}
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).update(detail={})
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize(
    "statement", ["UPDATE access_auditevent SET actor_name = 'x'", "DELETE FROM access_auditevent"]
)
def test_the_database_refuses_update_and_delete_of_audit_rows(world, statement):
    audit_record(user=world.owner, action="data.preview", source="api", asset=world.dataset.asset)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.filter(actor_name="olga").count() == 1


def test_deleting_a_user_keeps_their_audit_rows(world):
    audit_record(user=world.outsider, action="data.preview", source="ui", asset=world.dataset.asset)
    with connection.cursor() as cursor:  # no foreign key ties the audit row to the user: the delete goes through
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [world.outsider.pk])
    event = AuditEvent.objects.get(actor_name="otto")
    assert event.actor_id == world.outsider.pk


def _some_events(world):
    audit_record(user=world.owner, action="data.preview", source="api", asset=world.dataset.asset)
    audit_record(user=world.analyst, action="data.visual", source="ui", asset=world.dataset.asset)
    audit_record(user=world.staff, action="data.preview", source="api", asset=world.secret)


def test_audit_api_is_for_staff_and_domain_owners_only(api, world):
    _some_events(world)
    api.force_authenticate(world.analyst)
    refused = api.get("/api/v1/audit/")
    assert refused.status_code == 403 and "domain" in refused.json()["detail"]
    api.force_authenticate(world.staff)
    assert len(api.get("/api/v1/audit/").json()["results"]) == 3
    api.force_authenticate(world.owner)
    rows = api.get("/api/v1/audit/").json()["results"]
    assert {r["asset"] for r in rows} == {world.dataset.asset_id}  # not the secret board outside the domain


def test_audit_api_filters_pages_and_rejects_bad_input(api, world):
    _some_events(world)
    api.force_authenticate(world.staff)
    assert [r["user"] for r in api.get("/api/v1/audit/?user=ana").json()["results"]] == ["ana"]
    assert len(api.get(f"/api/v1/audit/?asset={world.secret.pk}").json()["results"]) == 1
    assert len(api.get("/api/v1/audit/?action=data.preview").json()["results"]) == 2
    assert len(api.get("/api/v1/audit/?since=2000-01-01&until=2999-01-01").json()["results"]) == 3
    assert api.get("/api/v1/audit/?until=2000-01-01").json()["results"] == []
    first = api.get("/api/v1/audit/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1
    for bad in ("since=yesterday", "action=data.steal", "asset=x", "colour=red", "format=xml", "page_size=0"):
        response = api.get(f"/api/v1/audit/?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["detail"], bad


def test_audit_csv_export_has_every_matching_row(api, world):
    _some_events(world)
    api.force_authenticate(world.staff)
    response = api.get("/api/v1/audit/?format=csv&action=data.preview")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "at", "user", "source", "action", "asset", "detail"]
    assert sorted(r[2] for r in rows[1:]) == ["olga", "root"]


def test_audit_api_has_no_way_to_change_rows(api, world):
    _some_events(world)
    event = AuditEvent.objects.first()
    api.force_authenticate(world.staff)
    assert api.post("/api/v1/audit/", {}, format="json").status_code == 405
    assert api.delete(f"/api/v1/audit/{event.pk}/").status_code in (404, 405)


def test_grant_changes_in_the_admin_are_recorded(client, world):
    client.force_login(world.staff)
    world.staff.is_superuser = True
    world.staff.save(update_fields=["is_superuser"])
    added = client.post(
        "/admin/access/grant/add/",
        {"group": world.analysts.pk, "permission": "view", "domain": world.domain.pk, "asset": ""},
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    grant = world.analysts.grants.get()
    deleted = client.post(f"/admin/access/grant/{grant.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert list(AuditEvent.objects.filter(source="ui").order_by("id").values_list("action", "actor_name")) == [
        ("grant.set", "root"),
        ("grant.revoke", "root"),
    ]


def test_audit_admin_is_read_only(client, world):
    event = audit_record(user=world.owner, action="data.preview", source="api", asset=world.dataset.asset)
    world.staff.is_superuser = True
    world.staff.save(update_fields=["is_superuser"])
    client.force_login(world.staff)
    assert client.get("/admin/access/auditevent/").status_code == 200
    assert client.get("/admin/access/auditevent/add/").status_code == 403
    assert client.post(f"/admin/access/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_list_reads_in_a_fixed_number_of_queries(api, world, django_assert_max_num_queries):
    for _ in range(30):
        audit_record(user=world.owner, action="data.preview", source="api", asset=world.dataset.asset)
    api.force_authenticate(world.owner)
    with django_assert_max_num_queries(4):  # groups, owned domains, the page (twice for a domain owner: none here)
        assert len(api.get("/api/v1/audit/?page_size=50").json()["results"]) == 30
