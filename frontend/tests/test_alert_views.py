"""Alerts in the web UI: the panel of a dashboard cell, the backtest before saving, and managing alerts (Django test
client)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts import services as alert_services
from alerts.models import Alert, Evaluation
from catalog import datasets
from catalog import services as catalog
from catalog.visuals import cell_key
from lineage.services import edge_upsert

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

SALES = """Category,Segment,Ship Mode,Region,Order Date,Profit,Label
Auto,Online,First Class,East,2024-01-05,400.00,a
Auto,Online,First Class,West,2024-02-05,37.39,b
Auto,Online,Standard,East,2024-01-10,437.39,c
Auto,Retail,First Class,East,2024-02-11,70,d
Toys,Online,First Class,East,2024-01-20,5.5,e
Toys,Online,First Class,North,2024-01-21,1000,f
"""
HTMX = {"HTTP_HX_REQUEST": "true"}
CELL = cell_key("Profit", {"Category": "Auto", "Segment": "Online", "Ship Mode": "First Class"})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


class Board:
    """Ana's sales dataset (an uploaded CSV, refreshed), a pivot of profit by category and segment across ship modes
    (East and West only), a table of labels, and a dashboard holding both."""

    def __init__(self, owner, capture) -> None:
        self.owner, self.capture = owner, capture
        with capture(execute=True):
            self.dataset = datasets.dataset_create(
                actor=owner, name="Sales", upload=SimpleUploadedFile("sales.csv", SALES.encode()), owner=owner
            )
        self.dataset.refresh_from_db()
        self.pivot = datasets.visual_save(
            actor=owner,
            dataset=self.dataset,
            name="Profit by segment",
            owner=owner,
            spec={
                "type": "pivot",
                "rows": ["Category", "Segment"],
                "columns": ["Ship Mode"],
                "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}],
                "filters": [{"field": "Region", "op": "in", "value": ["East", "West"]}],
                "totals": {"rows": True, "columns": True, "grand": True},
            },
        )
        self.labels = datasets.visual_save(
            actor=owner,
            dataset=self.dataset,
            name="Last labels",
            owner=owner,
            spec={
                "type": "table",
                "rows": ["Category"],
                "measures": [{"field": "Label", "agg": "max", "label": "Last"}],
            },
        )
        self.dashboard = catalog.asset_create(actor=owner, kind="dashboard", name="Sales overview", owner=owner)
        for visual in (self.pivot, self.labels):
            edge_upsert(source=self.dashboard, target=visual.asset, kind="contains", actor=owner)

    def refresh(self, csv_text: str) -> None:
        """Replaces the uploaded file's content and refreshes the dataset (alerts are not evaluated)."""
        Path(self.dataset.upload.path).write_text(csv_text)
        with self.capture(execute=False):
            run = datasets.dataset_refresh_request(dataset=self.dataset, actor=self.owner)
        assert datasets.dataset_refresh_run(refresh_id=run.pk).status == "succeeded"
        self.dataset.refresh_from_db()

    def alert(self, **fields) -> Alert:
        values = {"visual": self.pivot, "cell_key": CELL, "condition": "above", "threshold": Decimal("1000")}
        return alert_services.alert_create(owner=self.owner, **{**values, **fields})


@pytest.fixture
def board(ana, media, django_capture_on_commit_callbacks):
    ana.email = "ana@example.com"
    ana.save(update_fields=["email"])
    return Board(ana, django_capture_on_commit_callbacks)


def new_url(board: Board, visual=None) -> str:
    return reverse("alert-new", args=[(visual or board.pivot).asset_id])


def form_data(**fields) -> dict[str, str]:
    data = {
        "key": CELL,
        "name": "",
        "condition": "above",
        "threshold": "1000",
        "tolerance": "0.005",
        "frequency": "daily",
        "notify_no_data": "no",
    }
    data.update(fields)
    return data


def text(response) -> str:
    """The page's text with tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace(" ,", ",")


def test_the_panel_of_a_cell_shows_its_measure_value_and_dimensions(signed_in, board):
    response = signed_in.get(new_url(board), {"key": CELL}, **HTMX)

    assert response.status_code == 200
    page = text(response)
    assert "Profit = 437.39" in page  # 400 + 37.39; the equal number of Auto, Online, Standard is another cell
    assert "Category Auto Segment Online Ship Mode First Class" in page
    # the name defaults to the visual's; the threshold to the value as shown; the tolerance to the shown precision
    html = response.content.decode()
    assert 'value="Profit by segment"' in html and 'value="437.39"' in html and 'value="0.005"' in html
    # what the alert captures: the spec and its filters
    assert "Region is one of East, West" in page and "Rows Category, Segment" in page
    for label in ("as frequently as possible", "hourly at most", "daily at most", "weekly at most", "is equal to"):
        assert label in page
    assert 'name="period"' not in html  # the visual has no date field


def test_a_dated_cell_can_track_the_latest_period(signed_in, board):
    monthly = datasets.visual_save(
        actor=board.owner,
        dataset=board.dataset,
        name="Monthly profit",
        owner=board.owner,
        spec={
            "type": "table",
            "rows": ["Category"],
            "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}],
            "date": {"field": "Order Date", "granularity": "month"},
        },
    )
    key = cell_key("Profit", {"Category": "Auto", "Order Date": "2024-01-01"}, granularity="month")

    response = signed_in.get(new_url(board, monthly), {"key": key})

    page = text(response)
    assert response.status_code == 200 and "Order Date 2024-01" in page
    for label in ("the latest period", "the latest complete period", "the clicked cell&#x27;s date (2024-01)"):
        assert label in response.content.decode()


def test_a_non_numeric_cell_cannot_have_an_alert(signed_in, board):
    key = cell_key("Last", {"Category": "Auto"})

    response = signed_in.get(new_url(board, board.labels), {"key": key}, **HTMX)

    assert response.status_code == 400
    assert "Only numeric cells can have alerts" in text(response)
    assert "<form" not in response.content.decode()


def test_an_unknown_cell_and_no_cell_are_messages(signed_in, board):
    gone = cell_key("Profit", {"Category": "Boats", "Segment": "Online", "Ship Mode": "First Class"})
    assert "no such cell" in text(signed_in.get(new_url(board), {"key": gone}, **HTMX))
    assert "Click a number" in text(signed_in.get(new_url(board), **HTMX))
    assert "not a cell key" in text(signed_in.get(new_url(board), {"key": "not a key"}, **HTMX)).lower()


def test_creating_an_alert_from_the_panel(signed_in, board):
    response = signed_in.post(
        new_url(board), form_data(name="Big profit", frequency="hourly", asset=board.dashboard.pk), **HTMX
    )

    assert response.status_code == 200
    alert = Alert.objects.get()
    assert (alert.owner, alert.name, alert.cell_key, alert.visual_id) == (
        board.owner,
        "Big profit",
        CELL,
        board.pivot.asset_id,
    )
    assert (alert.condition, alert.threshold, alert.tolerance, alert.frequency) == (
        "above",
        Decimal("1000"),
        None,
        "hourly",
    )
    assert alert.dimensions == {"Category": "Auto", "Segment": "Online", "Ship Mode": "First Class"}
    assert alert.spec == board.pivot.spec and alert.spec["filters"][0]["field"] == "Region"
    page = text(response)
    assert "Alert saved" in page and "ana@example.com" in page and "Profit is above 1000" in page
    assert "Region is one of East, West" in page  # the captured filters are shown


def test_an_alert_named_after_its_visual_with_equality_and_a_tolerance(signed_in, board):
    response = signed_in.post(new_url(board), form_data(condition="equal", threshold="437.39", tolerance="0.01"))

    alert = Alert.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("alert-edit", args=[alert.pk])
    assert (alert.name, alert.condition, alert.tolerance) == ("Profit by segment", "equal", Decimal("0.01"))


def test_invalid_settings_are_shown_on_the_form(signed_in, board):
    response = signed_in.post(new_url(board), form_data(threshold="lots"), **HTMX)

    assert response.status_code == 400
    assert "Enter the threshold as a number" in text(response) and "Nothing was changed" in text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Alert.objects.exists()


def test_a_refused_alert_is_a_message_never_a_server_error(signed_in, board):
    gone = cell_key("Profit", {"Category": "Boats", "Segment": "Online", "Ship Mode": "First Class"})

    response = signed_in.post(new_url(board), form_data(key=gone), **HTMX)

    assert response.status_code == 400 and "no such cell" in text(response)
    assert not Alert.objects.exists()


def test_a_timeout_reading_the_data_is_a_message_to_try_again(signed_in, board, monkeypatch):
    def timed_out(**kwargs):
        raise alert_services.TransientEvaluationError("canceling statement due to statement timeout")

    monkeypatch.setattr(alert_services, "cell_of", timed_out)

    response = signed_in.get(new_url(board), {"key": CELL}, **HTMX)

    assert response.status_code == 504
    assert "Reading the data took too long (canceling statement due to statement timeout)" in text(response)


def test_creating_alerts_can_need_a_permission(signed_in, board, settings):
    settings.CARTOGRAPH_ALERTS_REQUIRE_PERMISSION = True

    panel = signed_in.get(new_url(board), {"key": CELL}, **HTMX)
    response = signed_in.post(new_url(board), form_data(), **HTMX)

    assert panel.status_code == 200 and "You may not create alerts" in text(panel)
    assert 'name="threshold"' not in panel.content.decode()
    assert response.status_code == 403 and "You may not create alerts; ask an administrator" in text(response)
    assert not Alert.objects.exists()


def test_the_preview_backtests_on_the_refresh_history(signed_in, board):
    # given two refreshes in which the cell was above 1,000, then one in which it was not
    board.refresh(SALES.replace("West,2024-02-05,37.39", "West,2024-02-05,937.39"))
    board.refresh(SALES.replace("West,2024-02-05,37.39", "West,2024-02-05,1037.39"))
    board.refresh(SALES)

    response = signed_in.post(
        reverse("alert-preview", args=[board.pivot.asset_id]), form_data(threshold="1000"), **HTMX
    )

    page = text(response)
    assert response.status_code == 200
    assert "would have fired 2 times in the last 4 refreshes" in page
    assert "evaluations a month" in page
    assert not Alert.objects.exists()  # a preview saves nothing


def test_the_preview_without_javascript_is_a_button_of_the_form(signed_in, board):
    response = signed_in.post(new_url(board), form_data(threshold="100", action="preview"))

    assert response.status_code == 200
    assert "would have fired 1 time in the last 1 refresh" in text(response)
    assert not Alert.objects.exists()


def test_the_pane_lists_my_alerts_on_the_dashboard_with_state_and_metering(signed_in, board):
    mine = board.alert(name="Profit watch", threshold=Decimal("100"))
    alert_services.alerts_evaluate_dataset(dataset_id=board.dataset.pk)

    response = signed_in.get(reverse("alerts"), {"asset": board.dashboard.pk}, **HTMX)

    page = text(response)
    assert response.status_code == 200 and "Profit watch" in page
    assert (
        "Breached" in page and "437.39" in page and "Category = Auto, Segment = Online, Ship Mode = First Class" in page
    )
    assert "This month: 1 evaluation ($0.0005)" in page
    assert f'data-alert-id="{mine.pk}"' in response.content.decode()
    # the full page lists every alert of mine
    assert "Profit watch" in text(signed_in.get(reverse("alerts")))


def test_the_pane_reads_a_fixed_number_of_queries_however_many_alerts(signed_in, board):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(reverse("alerts"), {"asset": board.dashboard.pk}, **HTMX).status_code == 200
        return len(captured)

    board.alert()
    one = queries()
    for threshold in range(5):
        board.alert(threshold=Decimal(threshold), name=f"Alert {threshold}")

    assert queries() == one


def test_editing_an_alert(signed_in, board):
    alert = board.alert()
    url = reverse("alert-edit", args=[alert.pk])
    assert 'value="1000"' in signed_in.get(url, **HTMX).content.decode()

    response = signed_in.post(
        url,
        {"name": "Renamed", "condition": "below", "threshold": "12.5", "frequency": "weekly", "notify_no_data": "yes"},
        **HTMX,
    )

    assert response.status_code == 200 and "Saved." in text(response)
    alert.refresh_from_db()
    assert (alert.name, alert.condition, alert.threshold, alert.frequency, alert.notify_no_data) == (
        "Renamed",
        "below",
        Decimal("12.5"),
        "weekly",
        True,
    )
    refused = signed_in.post(url, {"name": "", "condition": "below", "threshold": "1", "frequency": "daily"}, **HTMX)
    assert refused.status_code == 400 and "Give the alert a name" in text(refused)


def test_turning_an_alert_off_and_on_and_deleting_it(signed_in, board):
    alert = board.alert()

    off = signed_in.post(
        reverse("alert-status", args=[alert.pk]), {"status": "disabled", "asset": board.dashboard.pk}, **HTMX
    )
    alert.refresh_from_db()
    assert alert.status == "disabled" and "is off" in text(off) and "Turn on" in text(off)

    on = signed_in.post(reverse("alert-status", args=[alert.pk]), {"status": "active"})
    alert.refresh_from_db()
    assert alert.status == "active" and on.status_code == 302

    deleted = signed_in.post(reverse("alert-delete", args=[alert.pk]), {"asset": board.dashboard.pk}, **HTMX)
    assert deleted.status_code == 200 and "was deleted" in text(deleted)
    assert not Alert.objects.exists()


def test_a_paused_alert_shows_why(signed_in, board):
    alert = board.alert()
    Alert.objects.filter(pk=alert.pk).update(status="paused", state="error", status_reason="column 'Profit' is gone")

    page = text(signed_in.get(reverse("alerts"), **HTMX))

    assert "Paused after repeated failures" in page and "Paused because: column 'Profit' is gone" in page.replace(
        "&#x27;", "'"
    )
    assert "Turn on" in page


def test_history_shows_evaluations_breaches_and_cost(signed_in, board):
    alert = board.alert(threshold=Decimal("100"))
    alert_services.alerts_evaluate_dataset(dataset_id=board.dataset.pk)
    board.refresh(SALES.replace("West,2024-02-05,37.39", "West,2024-02-05,-937.39"))
    alert_services.alerts_evaluate_dataset(dataset_id=board.dataset.pk)

    response = signed_in.get(reverse("alert-history", args=[alert.pk]), **HTMX)

    page = text(response)
    assert response.status_code == 200
    assert Evaluation.objects.filter(alert=alert).count() == 2
    assert "This month: 2 evaluations ($0.001)" in page
    assert "Breached from" in page and "437.39" in page and "-537.39" in page
    assert f'data-alert-chart="alert-chart-{alert.pk}"' in response.content.decode()
    assert f'id="alert-chart-{alert.pk}"' in response.content.decode()


def test_test_now_shows_the_email_and_records_nothing(signed_in, board):
    alert = board.alert(threshold=Decimal("100"))

    response = signed_in.post(reverse("alert-test", args=[alert.pk]), **HTMX)

    page = text(response)
    assert response.status_code == 200
    assert "This email would be sent to ana@example.com" in page
    assert "Alert: Profit by segment — Profit is above 100" in page and "Profit is 437.39, which is above 100" in page
    assert not Evaluation.objects.exists()


def test_only_the_owner_or_staff_manage_an_alert(client, board, django_user_model):
    alert = board.alert()
    mallory = django_user_model.objects.create_user(username="mallory", password=PASSWORD)
    client.force_login(mallory)

    for name, method in [
        ("alert-edit", "get"),
        ("alert-edit", "post"),
        ("alert-history", "get"),
        ("alert-test", "post"),
        ("alert-status", "post"),
        ("alert-delete", "post"),
    ]:
        response = getattr(client, method)(reverse(name, args=[alert.pk]), {"status": "disabled"})
        assert response.status_code == 404, name
    assert "Profit by segment" not in text(client.get(reverse("alerts")))
    assert client.get(new_url(board), {"key": CELL}).status_code == 404  # she may not see the visual either
    assert Alert.objects.filter(pk=alert.pk, status="active").exists()

    staff = django_user_model.objects.create_user(username="root", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("alert-edit", args=[alert.pk])).status_code == 200


def test_the_dashboard_offers_alerts_on_its_visuals(signed_in, board):
    page = signed_in.get(reverse("asset-detail", args=[board.dashboard.pk])).content.decode()
    fragment = signed_in.get(reverse("visual-fragment", args=[board.pivot.asset_id]), **HTMX).content.decode()

    assert "data-alert-drawer" in page and f"{reverse('alerts')}?asset={board.dashboard.pk}" in page
    assert f'data-alert-url="{new_url(board)}"' in fragment and "data-alert-bell" in fragment


def test_pages_without_htmx_work_on_their_own(signed_in, board):
    alert = board.alert()
    for url in (reverse("alert-edit", args=[alert.pk]), reverse("alert-history", args=[alert.pk]), reverse("alerts")):
        response = signed_in.get(url)
        assert response.status_code == 200 and "<h1" in response.content.decode(), url
    panel = signed_in.get(new_url(board), {"key": CELL})
    assert panel.status_code == 200 and "<html" in panel.content.decode()
