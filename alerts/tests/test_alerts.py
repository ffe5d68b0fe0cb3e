from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from alerts import services
from alerts.evaluation import judge, period_start
from alerts.models import Alert, AlertSchedule, Evaluation, Notification
from catalog import datasets
from catalog.models import RowRule
from catalog.tests.factories import UserFactory

from .conftest import AUTO_ONLINE, SALES

pytestmark = pytest.mark.django_db


def make_alert(shop, **fields):
    values = {"visual": shop.pivot, "cell_key": AUTO_ONLINE, "condition": "above", "threshold": Decimal("200")}
    values.update(fields)
    return services.alert_create(owner=shop.owner, **values)


def evaluate(shop):
    return services.alerts_evaluate_dataset(dataset_id=shop.dataset.pk)


def test_an_alert_captures_its_cell_and_spec(shop):
    alert = make_alert(shop)
    assert alert.measure == "Profit" and alert.dimensions == {"Category": "Auto", "Segment": "Online"}
    assert alert.spec == shop.pivot.spec and alert.name == "Profit pivot"
    datasets.visual_save(
        actor=shop.owner,
        dataset=shop.dataset,
        asset=shop.pivot.asset,
        spec={**shop.pivot.spec, "rows": ["Segment"], "columns": ["Category"]},
    )
    alert.refresh_from_db()
    assert alert.spec["rows"] == ["Category"]  # editing the visual does not change the alert


def test_non_numeric_and_unknown_cells_are_refused(shop):
    with pytest.raises(services.DomainError, match="no such cell"):
        make_alert(shop, cell_key='{"m":"Profit","d":[["Category","Boats"],["Segment","Online"]]}')
    labels = datasets.visual_save(
        actor=shop.owner,
        dataset=shop.dataset,
        name="Labels",
        spec={"type": "table", "rows": ["Category"], "measures": [{"field": "Label", "agg": "max", "label": "Last"}]},
    )
    with pytest.raises(services.DomainError, match="only numeric cells"):
        make_alert(shop, visual=labels, cell_key='{"m":"Last","d":[["Category","Auto"]]}')
    with pytest.raises(services.DomainError, match="no date field"):
        make_alert(shop, period="latest")
    with pytest.raises(services.DomainError, match="tolerance"):
        make_alert(shop, tolerance=Decimal("1"))


def test_breach_emails_once_per_window_and_episode(shop):
    alert = make_alert(shop, frequency="daily")
    report = evaluate(shop)
    assert report.evaluated == 1 and report.notifications == 0
    alert.refresh_from_db()
    assert alert.state == "ok" and alert.last_value == 140.0

    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100", "Auto,Online,2024-01-05,300"))
    assert evaluate(shop).notifications == 1
    assert services.notifications_send_due() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "Profit is above 200" in message.subject
    assert "Profit is 340, which is above 200" in message.body
    assert "Category = Auto" in message.body and "Segment = Online" in message.body
    assert "highlight=%7B%22m%22" in message.body and f"#visual-{shop.pivot.asset_id}" in message.body
    html = message.alternatives[0][0]
    assert "View dashboard" in html
    assert message.extra_headers["Message-ID"].startswith("<alert-notification-")

    # still breached at a new data version within 24 h: no second email
    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100", "Auto,Online,2024-01-05,310"))
    assert evaluate(shop).notifications == 0
    # back to normal closes the episode; a new breach opens another and emails at once
    shop.refresh(SALES)
    evaluate(shop)
    assert alert.episodes.filter(closed_at__isnull=False).count() == 1
    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100", "Auto,Online,2024-01-05,320"))
    assert evaluate(shop).notifications == 1
    assert alert.episodes.count() == 2
    assert list(alert.evaluations.values_list("state", flat=True)) == ["breached", "ok", "breached", "breached", "ok"]


def test_as_frequently_as_possible_emails_every_breached_evaluation(shop):
    make_alert(shop, frequency="always", threshold=Decimal("10"))
    assert evaluate(shop).notifications == 1
    shop.refresh(SALES + "Auto,Online,2024-03-01,1,e\n")
    assert evaluate(shop).notifications == 1


def test_a_redelivered_evaluation_does_nothing_twice(shop):
    make_alert(shop, threshold=Decimal("10"))
    version = f"snapshot:{shop.dataset.current_snapshot_id}"
    first = services.alerts_evaluate_dataset(dataset_id=shop.dataset.pk, version_label=version)
    second = services.alerts_evaluate_dataset(dataset_id=shop.dataset.pk, version_label=version)
    assert (first.evaluated, second.evaluated) == (1, 0)
    assert Evaluation.objects.count() == 1 and Notification.objects.count() == 1


def test_one_visual_query_serves_every_alert_on_the_visual(shop):
    for threshold in range(30):
        make_alert(shop, threshold=Decimal(threshold))
    other = UserFactory(username="bob", email="bob@example.com")
    services.alert_create(
        owner=other, visual=shop.pivot, cell_key=AUTO_ONLINE, condition="below", threshold=Decimal("1")
    )
    report = evaluate(shop)
    assert report.evaluated == 31
    assert report.visual_queries == 1  # both owners see the same data: one query
    assert report.notifications == 30  # thresholds 0..29 are all below 140; bob's "below 1" holds


def test_totals_are_cells_too(shop):
    alert = make_alert(shop, cell_key='{"m":"Profit","d":[],"t":["Category","Segment"]}', threshold=Decimal("214"))
    evaluate(shop)
    alert.refresh_from_db()
    assert alert.last_value == 215.0 and alert.state == "breached"


def test_no_data_is_its_own_state(shop):
    alert = make_alert(shop, notify_no_data=True)
    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100,a\nAuto,Online,2024-02-10,40,b\n", ""))
    report = evaluate(shop)
    alert.refresh_from_db()
    assert alert.state == "no_data" and report.notifications == 1
    services.notifications_send_due()
    assert "no data" in mail.outbox[0].subject


def test_equality_uses_the_tolerance():
    assert judge(value=140.004, condition="equal", threshold=Decimal("140"), tolerance=None) == "breached"
    assert judge(value=140.01, condition="equal", threshold=Decimal("140"), tolerance=None) == "ok"
    assert judge(value=141, condition="equal", threshold=Decimal("140"), tolerance=Decimal("1")) == "breached"
    assert judge(value=None, condition="above", threshold=Decimal("1"), tolerance=None) == "no_data"
    assert judge(value=2, condition="below", threshold=Decimal("3"), tolerance=None) == "breached"


def test_latest_and_latest_complete_periods(shop):
    key = '{"m":"Profit","d":[["Category","Auto"],["Order Date","2024-01-01"]],"g":"month"}'
    fixed = make_alert(shop, visual=shop.monthly, cell_key=key, threshold=Decimal("1000"))
    latest = make_alert(shop, visual=shop.monthly, cell_key=key, threshold=Decimal("1000"), period="latest")
    complete = make_alert(shop, visual=shop.monthly, cell_key=key, threshold=Decimal("1000"), period="latest_complete")
    this_month = timezone.now().date().replace(day=1)
    shop.refresh(SALES + f"Auto,Online,{this_month.isoformat()},7,z\n")
    evaluate(shop)
    for alert in (fixed, latest, complete):
        alert.refresh_from_db()
    assert fixed.last_value == 100.0  # January, as clicked
    assert latest.last_value == 7.0  # this (partial) month
    assert complete.last_value == 110.0  # February: the latest complete month
    assert complete.evaluations.first().period == "2024-02-01"


def test_period_start_honours_week_start():
    wednesday = datetime(2024, 5, 8).date()
    assert period_start(wednesday, "week", "monday").isoformat() == "2024-05-06"
    assert period_start(wednesday, "week", "sunday").isoformat() == "2024-05-05"
    assert period_start(wednesday, "quarter").isoformat() == "2024-04-01"


def test_an_alert_never_reveals_what_its_owner_may_not_see(shop):
    group = Group.objects.create(name="retail-only")
    shop.owner.groups.add(group)
    alert = make_alert(shop, threshold=Decimal("10"), notify_no_data=True, frequency="always")
    RowRule.objects.create(dataset=shop.dataset, column="Segment", group=group, allowed_values=["Retail"])
    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100", "Auto,Online,2024-01-05,900"))
    evaluate(shop)
    alert.refresh_from_db()
    # the owner may now see only Retail rows: the Online cell is no data for her, its value is never shown
    assert alert.state == "no_data" and alert.last_value is None
    assert alert.evaluations.first().value is None
    services.notifications_send_due()
    assert "no data" in mail.outbox[-1].subject
    assert "940" not in mail.outbox[-1].body and "900" not in mail.outbox[-1].body


def test_a_removed_column_is_an_error_naming_it_and_four_failures_pause(shop):
    alert = make_alert(shop)
    for i in range(4):
        shop.refresh(SALES.replace("Profit", "Margin") + f"Auto,Online,2024-03-0{i + 1},1,x\n")
        evaluate(shop)
    alert.refresh_from_db()
    assert alert.state == "error" and "Profit" in alert.status_reason
    assert alert.status == "paused" and alert.consecutive_failures == 4
    assert Notification.objects.filter(alert=alert, kind="paused").count() == 1
    shop.refresh(SALES)
    assert evaluate(shop).evaluated == 0  # paused alerts are not evaluated
    services.alert_update(alert=alert, status="active")
    assert evaluate(shop).evaluated == 1


def test_test_now_records_nothing(shop):
    alert = make_alert(shop, threshold=Decimal("10"))
    result = services.alert_test(alert=alert)
    assert result["state"] == "breached" and result["value"] == 140.0
    assert "Profit is 140" in result["email"]["body_text"]
    assert Evaluation.objects.count() == 0 and Notification.objects.count() == 0


def test_preview_backtests_on_refresh_history(shop):
    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100", "Auto,Online,2024-01-05,300"))
    shop.refresh(SALES)
    preview = services.alert_preview(
        owner=shop.owner,
        visual=shop.pivot,
        cell_key=AUTO_ONLINE,
        condition="above",
        threshold=Decimal("200"),
        tolerance=None,
        period="fixed",
    )
    assert preview["value"] == 140.0 and preview["refreshes_checked"] == 3 and preview["would_have_fired"] == 1
    assert preview["dimensions"] == {"Category": "Auto", "Segment": "Online"}


def test_creating_alerts_can_require_a_permission(shop, settings):
    settings.CARTOGRAPH_ALERTS_REQUIRE_PERMISSION = True
    with pytest.raises(services.DomainError, match="may not create alerts"):
        make_alert(shop)
    from django.contrib.auth.models import Permission

    group = Group.objects.create(name="alerters")
    group.permissions.add(Permission.objects.get(codename="create_alerts"))
    shop.owner.groups.add(group)
    owner = type(shop.owner).objects.get(pk=shop.owner.pk)  # a fresh object: permissions are cached per instance
    assert services.alert_create(
        owner=owner, visual=shop.pivot, cell_key=AUTO_ONLINE, condition="above", threshold=Decimal("1")
    ).pk


def test_direct_alert_schedule_is_evening_or_night_and_dst_safe():
    minute_ok = {m for m in range(1440) if m >= 18 * 60 or m < 8 * 60}
    # a daily run at 19:30 London time across the spring change
    before = datetime(2024, 3, 30, 20, 0, tzinfo=UTC)
    first = services.next_alert_run(
        interval="daily", minute_of_day=19 * 60 + 30, time_zone="Europe/London", after=before
    )
    second = services.next_alert_run(
        interval="daily", minute_of_day=19 * 60 + 30, time_zone="Europe/London", after=first
    )
    assert first == datetime(2024, 3, 31, 18, 30, tzinfo=UTC)  # 19:30 BST
    assert second - first == timedelta(days=1)
    hourly = services.next_alert_run(interval="hourly", minute_of_day=7, time_zone="UTC", after=before)
    assert hourly == datetime(2024, 3, 30, 20, 7, tzinfo=UTC)
    assert 19 * 60 + 30 in minute_ok


def test_two_beats_never_double_schedule(shop):
    schedule = AlertSchedule.objects.create(
        dataset=shop.dataset, minute_of_day=19 * 60, time_zone="UTC", next_run_at=timezone.now() - timedelta(minutes=1)
    )
    first = services.alert_schedules_run_due()
    second = services.alert_schedules_run_due()
    assert len(first) == 1 and second == []
    schedule.refresh_from_db()
    assert schedule.next_run_at > timezone.now()


def test_api_create_list_history_test_and_permissions(api, shop):
    api.force_authenticate(shop.owner)
    bad = api.post(
        "/api/v1/alerts/",
        {"visual": shop.pivot.asset_id, "cell_key": AUTO_ONLINE, "condition": "near", "threshold": "1"},
        format="json",
    )
    assert bad.status_code == 400 and "condition" in bad.json()["detail"]
    made = api.post(
        "/api/v1/alerts/",
        {
            "visual": shop.pivot.asset_id,
            "cell_key": AUTO_ONLINE,
            "condition": "above",
            "threshold": "10",
            "frequency": "hourly",
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    alert_id = made.json()["id"]
    evaluate(shop)
    history = api.get(f"/api/v1/alerts/{alert_id}/history/").json()
    assert [e["state"] for e in history["evaluations"]] == ["breached"]
    assert history["evaluations_this_month"] == 1 and history["projected_cost_usd"] == 0.0005
    tested = api.post(f"/api/v1/alerts/{alert_id}/test/").json()
    assert tested["state"] == "breached"
    assert api.patch(f"/api/v1/alerts/{alert_id}/", {"status": "paused"}, format="json").status_code == 400
    assert (
        api.patch(f"/api/v1/alerts/{alert_id}/", {"status": "disabled"}, format="json").json()["status"] == "disabled"
    )
    stranger = UserFactory(username="mallory")
    api.force_authenticate(stranger)
    assert api.get(f"/api/v1/alerts/{alert_id}/").status_code == 404
    assert api.get("/api/v1/alerts/").json() == []
    hidden = api.post(
        "/api/v1/alerts/",
        {"visual": shop.pivot.asset_id, "cell_key": AUTO_ONLINE, "condition": "above", "threshold": "1"},
        format="json",
    )
    assert hidden.status_code == 404  # she may not see the visual
    api.force_authenticate(shop.owner)
    assert api.delete(f"/api/v1/alerts/{alert_id}/").status_code == 204
    assert not Alert.objects.filter(pk=alert_id).exists()


def test_metering_per_owner_and_dataset(api, shop):
    make_alert(shop)
    make_alert(shop, threshold=Decimal("1"))
    evaluate(shop)
    api.force_authenticate(shop.owner)
    body = api.get("/api/v1/alerts/metering/").json()
    assert body["evaluations"] == 2 and body["cost_usd"] == 0.001
    assert body["by_owner"] == [{"name": "alice", "evaluations": 2, "cost_usd": 0.001}]
    assert body["by_dataset"] == [{"name": "Sales", "evaluations": 2, "cost_usd": 0.001}]
    api.force_authenticate(UserFactory(username="zed"))
    assert api.get("/api/v1/alerts/metering/").json()["evaluations"] == 0


def test_an_owner_who_lost_access_gets_no_value_and_no_email(shop):
    # given Bob sees the pivot through his group's grant, and watches a cell on it
    from access.models import Grant
    from access.services import grant_revoke, grant_set

    bob = UserFactory(username="bob", email="bob@example.com")
    readers = Group.objects.create(name="pivot-readers")
    bob.groups.add(readers)
    grant_set(group=readers, permission="view", actor=shop.owner, asset=shop.pivot.asset)
    alert = services.alert_create(
        owner=bob, visual=shop.pivot, cell_key=AUTO_ONLINE, condition="above", threshold=Decimal("10")
    )
    # when the grant is revoked and the data breaches
    grant_revoke(grant=Grant.objects.get(group=readers), actor=shop.owner)
    mail.outbox.clear()
    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100", "Auto,Online,2024-01-05,900"))
    evaluate(shop)
    services.notifications_send_due()
    # then nothing was evaluated for him: no value stored, no email, and the reason says why
    alert.refresh_from_db()
    evaluation = alert.evaluations.get()
    assert evaluation.state == "error" and evaluation.value is None and alert.last_value is None
    assert "can no longer see" in evaluation.error
    assert not [message for message in mail.outbox if "bob@example.com" in message.to]
    # and with access back, the next version is evaluated as usual
    grant_set(group=readers, permission="view", actor=shop.owner, asset=shop.pivot.asset)
    shop.refresh(SALES.replace("Auto,Online,2024-01-05,100", "Auto,Online,2024-01-05,901"))
    evaluate(shop)
    alert.refresh_from_db()
    assert alert.state == "breached" and alert.last_value == 941.0
