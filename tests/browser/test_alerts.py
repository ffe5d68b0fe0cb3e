"""Alerts on a dashboard in headless Chromium: the panel of a cell, text cells refused, the keyboard path through a
visual's bell, and the pane (edit, history, test now, turn off)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from alerts import services as alert_services
from alerts.models import Alert
from catalog import datasets
from catalog import services as catalog
from catalog.visuals import cell_key
from lineage.services import edge_upsert

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

SALES_SQL = """
SELECT range AS id,
       ['East', 'North', 'South', 'West'][range % 4 + 1] AS region,
       ['claims', 'sales'][(range // 4) % 2 + 1] AS dept,
       CAST((range % 50) * 1.5 AS DECIMAL(12, 2)) AS amount,
       'batch-' || (range % 3) AS batch
FROM range(400)
"""
EAST_SALES = cell_key("Amount", {"region": "East", "dept": "sales"})


@pytest.fixture
def board(django_user_model, settings, tmp_path):
    """Ana's dashboard of amounts by region and department (a DuckDB-generated Parquet file, uploaded and refreshed),
    with a table of text values beside it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    ana = django_user_model.objects.create_user(username="ana", password=PASSWORD, email="ana@example.com")
    path = tmp_path / "sales.parquet"
    duckdb.sql(f"COPY ({SALES_SQL}) TO '{path}' (FORMAT parquet)")
    dataset = datasets.dataset_create(
        actor=ana, name="Sales", upload=SimpleUploadedFile("sales.parquet", path.read_bytes()), owner=ana
    )
    dataset.refresh_from_db()
    pivot = datasets.visual_save(
        actor=ana,
        dataset=dataset,
        name="Amount by region",
        owner=ana,
        spec={
            "type": "pivot",
            "rows": ["region"],
            "columns": ["dept"],
            "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}],
        },
    )
    batches = datasets.visual_save(
        actor=ana,
        dataset=dataset,
        name="Last batch",
        owner=ana,
        spec={"type": "table", "rows": ["region"], "measures": [{"field": "batch", "agg": "max", "label": "Batch"}]},
    )
    dashboard = catalog.asset_create(actor=ana, kind="dashboard", name="Sales overview", owner=ana)
    for visual in (pivot, batches):
        edge_upsert(source=dashboard, target=visual.asset, kind="contains", actor=ana)
    return {"owner": ana, "dataset": dataset, "pivot": pivot, "batches": batches, "dashboard": dashboard}


def test_text_cells_cannot_have_alerts_and_the_bell_leads_the_keyboard_to_the_numbers(page: Page, sign_in, board):
    sign_in("ana")
    page.goto(f"/assets/{board['dashboard'].pk}/")
    batches = page.locator(f"#visual-{board['batches'].asset_id}")
    pivot = page.locator(f"#visual-{board['pivot'].asset_id}")
    expect(pivot.locator("table")).to_be_visible()

    # a text cell says it cannot have an alert
    batches.locator("td[data-key]").first.click()
    drawer = page.get_by_role("complementary", name="Alerts")
    expect(drawer.get_by_role("alert")).to_have_text("Only numeric cells can have alerts; this cell has no number.")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()

    # the bell of a visual says what to do and makes its numbers reachable with Tab; Enter opens the panel
    bell = pivot.get_by_role("button", name="Set an alert on a cell")
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    expect(pivot.locator("[data-alert-hint]")).to_be_visible()
    cell = pivot.locator(f"td[data-key='{EAST_SALES}']")
    cell.focus()
    page.keyboard.press("Enter")
    expect(drawer.get_by_role("heading", name="New alert")).to_be_focused()
    expect(drawer.locator("[data-alert-dimensions]")).to_contain_text("region")
    expect(drawer.locator("[data-alert-dimensions]")).to_contain_text("East")
    expect(drawer.locator("[data-alert-value]")).to_have_text(cell.inner_text())

    # the tolerance is asked only for "is equal to"
    tolerance = drawer.get_by_label("Tolerance")
    expect(tolerance).to_be_hidden()
    drawer.get_by_label("Alert me when the value").select_option(label="is equal to")
    expect(tolerance).to_be_visible()

    # the preview button shows the backtest and saves nothing
    drawer.get_by_label("Threshold", exact=True).fill(cell.inner_text().replace(",", ""))
    drawer.get_by_role("button", name="Preview").click()
    expect(drawer.locator("[data-alert-backtest]")).to_have_text(
        "This alert would have fired 1 time in the last 1 refresh of the dataset."
    )
    assert not Alert.objects.exists()

    # a refused form comes back into the panel with its error, which takes focus
    drawer.get_by_label("Threshold", exact=True).fill("")
    drawer.get_by_role("button", name="Save alert").click()
    expect(drawer.locator("[data-form-errors]")).to_be_focused()
    expect(drawer.locator("[data-form-errors]")).to_contain_text("Enter the threshold the value is compared with.")
    assert not Alert.objects.exists()

    # closing the panel returns focus to the cell
    drawer.get_by_role("button", name="Close the alerts panel").click()
    expect(cell).to_be_focused()


def test_the_pane_manages_my_alerts(page: Page, sign_in, board):
    alert = alert_services.alert_create(
        owner=board["owner"],
        visual=board["pivot"],
        cell_key=EAST_SALES,
        condition="above",
        threshold=Decimal("1"),
        name="East sales",
    )
    alert_services.alerts_evaluate_dataset(dataset_id=board["dataset"].pk)
    sign_in("ana")
    page.goto(f"/assets/{board['dashboard'].pk}/")
    expect(page.locator(f"#visual-{board['pivot'].asset_id} table")).to_be_visible()

    # the dashboard's bell opens the pane: the alert with its state, last value and metering
    page.locator("[data-alert-opener]").click()
    drawer = page.get_by_role("complementary", name="Alerts")
    expect(drawer.get_by_role("heading", name="Your alerts")).to_be_focused()
    item = drawer.locator(f"[data-alert-id='{alert.pk}']")
    expect(item).to_contain_text("East sales")
    expect(item.locator("[data-alert-state]")).to_have_text("Breached")
    expect(drawer.locator("[data-alert-usage]")).to_contain_text("1 evaluation ($0.0005)")

    # test now shows the email it would send
    item.get_by_role("button", name="Test now").click()
    expect(drawer.locator("[data-alert-email-subject]")).to_have_text("Alert: East sales — Amount is above 1")
    drawer.get_by_role("link", name="Your alerts").click()

    # the history has the evaluation in a table and a chart
    drawer.locator(f"[data-alert-id='{alert.pk}']").get_by_role("link", name="History").click()
    expect(drawer.locator("table[data-alert-evaluations] tbody tr")).to_have_count(1)
    expect(drawer.locator("canvas[data-alert-chart]")).to_have_attribute("data-drawn", "true")
    drawer.get_by_role("link", name="Your alerts").click()

    # editing changes the threshold
    drawer.locator(f"[data-alert-id='{alert.pk}']").get_by_role("link", name="Edit").click()
    drawer.get_by_label("Threshold", exact=True).fill("2500")
    drawer.get_by_role("button", name="Save changes").click()
    expect(drawer.locator("[data-alert-message]")).to_have_text("Saved.")
    alert.refresh_from_db()
    assert alert.threshold == Decimal("2500")

    # turning it off shows in the pane
    drawer.get_by_role("button", name="Turn off").click()
    expect(drawer.locator("[data-alert-message]")).to_have_text("“East sales” is off.")
    expect(drawer.locator(f"[data-alert-id='{alert.pk}'] [data-alert-status]")).to_have_text("Disabled")
