from __future__ import annotations

import types
from decimal import Decimal

import duckdb
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from catalog import datasets, tasks
from catalog import services as catalog
from lineage.services import edge_upsert

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

ROWS = 100_000
# amounts in quarters (one with a cent more, so sums have decimals), some of them negative
SALES_SQL = f"""
SELECT range AS id,
       ['East', 'North', 'South', 'West'][range % 4 + 1] AS region,
       ['claims', 'sales', 'support'][range % 3 + 1] AS dept,
       ['store', 'web'][(range // 4) % 2 + 1] AS channel,
       CAST((range % 1000) * 1.25 - 300 + (range % 7) + CASE WHEN range = 0 THEN 0.01 ELSE 0 END
            AS DECIMAL(12, 2)) AS amount
FROM range({ROWS})
"""
BODY_ROWS = """(selector) => [...document.querySelectorAll(selector + " tbody tr")].map((row) =>
  [...row.cells].map((cell) => cell.textContent))"""


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def sales(django_user_model, media, tmp_path):
    """100,000 sales rows (a Parquet file made with DuckDB), uploaded and refreshed; a dashboard with a table of the
    amount by region and a pivot of the amount by region and department across channels."""
    admin = django_user_model.objects.create_user(username="admin", password=PASSWORD, is_staff=True)
    path = tmp_path / "sales.parquet"
    duckdb.sql(f"COPY ({SALES_SQL}) TO '{path}' (FORMAT parquet)")
    dataset = datasets.dataset_create(
        actor=admin, name="Sales", upload=SimpleUploadedFile("sales.parquet", path.read_bytes()), owner=admin
    )  # the first refresh runs when the dataset is committed (Celery runs tasks eagerly in the tests)
    dataset.refresh_from_db()
    assert dataset.current_snapshot is not None and dataset.current_snapshot.rows == ROWS
    table = datasets.visual_save(
        actor=admin,
        dataset=dataset,
        name="Amount by region",
        owner=admin,
        spec={
            "type": "table",
            "rows": ["region"],
            "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}, {"agg": "count", "label": "Sales"}],
            "totals": {"rows": True, "grand": True},
        },
    )
    pivot = datasets.visual_save(
        actor=admin,
        dataset=dataset,
        name="Amount by region, department and channel",
        owner=admin,
        spec={
            "type": "pivot",
            "rows": ["region", "dept"],
            "columns": ["channel"],
            "measures": [{"field": "amount", "agg": "sum", "label": "Amount"}],
            "totals": {"rows": True, "columns": True, "grand": True},
        },
    )
    dashboard = catalog.asset_create(actor=admin, kind="dashboard", name="Sales overview", owner=admin)
    for visual in (table, pivot):
        edge_upsert(source=dashboard, target=visual.asset, kind="contains", actor=admin)
    return {"path": path, "dataset": dataset, "table": table, "pivot": pivot, "dashboard": dashboard}


def test_dashboard_renders_sortable_tables_over_100000_rows(page: Page, sign_in, sales):
    by_region = duckdb.sql(
        f"SELECT region, sum(amount) FROM '{sales['path']}' GROUP BY region ORDER BY sum(amount) DESC"
    ).fetchall()
    ((grand,),) = duckdb.sql(f"SELECT sum(amount) FROM '{sales['path']}'").fetchall()
    assert isinstance(grand, Decimal)
    table = f"#visual-{sales['table'].asset_id}"
    pivot = f"#visual-{sales['pivot'].asset_id}"

    # when the dashboard is opened, each visual loads on its own
    sign_in("admin")
    page.goto(f"/assets/{sales['dashboard'].pk}/")
    expect(page.locator(f"{table} table")).to_be_visible()
    expect(page.locator(f"{pivot} table")).to_be_visible()
    timing = page.evaluate(
        """() => ({
          page: Math.round(performance.now()),
          fragments: performance.getEntriesByType("resource").filter((entry) => entry.name.includes("/fragment/"))
            .map((entry) => Math.round(entry.duration)),
        })"""
    )
    print(
        f"\ndashboard of two visuals over {ROWS:,} rows: both shown after {timing['page']} ms; fragments (ms):",
        timing["fragments"],
    )

    # then the table has the four regions and a total row, numbers formatted
    rows = page.evaluate(BODY_ROWS, table)
    assert [row[0] for row in rows] == ["East", "North", "South", "West"]
    assert [row[2] for row in rows] == [f"{ROWS // 4:,}"] * 4
    expect(page.locator(f"{table} tfoot td.is-grand").first).to_have_text(f"{grand:,.2f}")
    # and the pivot's grand total (the total row by the total column) is DuckDB's sum, formatted
    expect(page.locator(f"{pivot} tfoot td.is-grand")).to_have_text(f"{grand:,.2f}")
    expect(page.locator(f"{pivot} thead")).to_contain_text("store")
    expect(page.locator(f"{pivot} tbody th[data-level='0']")).to_have_count(4)  # a region spans its departments
    assert page.locator(f"{table} td[data-key]").first.get_attribute("data-key").startswith('{"m":"Amount"')

    # when the amount header of the table is clicked, the rows are sorted by it (largest first), totals last
    amount = page.locator(table).get_by_role("button", name="Amount")
    amount.click()
    expect(page.locator(f"{table} th[aria-sort='descending']")).to_have_text("Amount")
    rows = page.evaluate(BODY_ROWS, table)
    assert [row[0] for row in rows] == [region for region, _ in by_region]
    assert [row[1] for row in rows] == [f"{total:,.2f}" for _, total in by_region]
    expect(page.locator(f"{table} tfoot tr")).to_have_count(1)
    amount.click()
    expect(page.locator(f"{table} th[aria-sort='ascending']")).to_have_text("Amount")
    assert [row[0] for row in page.evaluate(BODY_ROWS, table)] == [region for region, _ in reversed(by_region)]

    # and sorting the pivot by its total column reorders the rows, each region spanning its rows again
    page.locator(pivot).get_by_role("button", name="Amount (Total)").click()
    expect(page.locator(f"{pivot} th[aria-sort='descending']")).to_have_count(1)
    totals = page.evaluate(
        f"""() => [...document.querySelectorAll("{pivot} tbody td.is-total")].map((cell) =>
          Number(cell.dataset.value))"""
    )
    assert len(totals) == 12 and totals == sorted(totals, reverse=True)
    spans = page.evaluate(
        f"""() => [...document.querySelectorAll("{pivot} tbody th[data-level='0']")].map((cell) => cell.rowSpan)"""
    )
    assert sum(spans) == 12
    expect(page.locator(f"{pivot} tfoot td.is-grand")).to_have_text(f"{grand:,.2f}")


def test_refresh_now_shows_the_refresh_until_it_succeeds(page: Page, sign_in, sales, monkeypatch):
    # given a worker that has not picked the refresh up yet
    queued: list[int] = []
    monkeypatch.setattr(
        tasks, "dataset_refresh_task", types.SimpleNamespace(delay=lambda **kw: queued.append(kw["refresh_id"]))
    )
    dataset = sales["dataset"]
    sign_in("admin")
    page.goto(f"/assets/{dataset.asset_id}/")
    data = page.get_by_role("region", name="Data")
    expect(data.locator("[data-snapshot-rows]")).to_have_text(f"{ROWS:,}")
    expect(data.get_by_role("cell", name="East").first).to_be_visible()  # the preview

    # when the owner asks for a refresh, it shows as queued
    data.get_by_role("button", name="Refresh now").click()
    status = page.locator("#refresh-status-region")
    expect(status.locator("[data-refresh-status]")).to_have_attribute("data-refresh-status", "queued")
    expect(status.locator("[aria-current='step']")).to_have_text("Queued")
    assert len(queued) == 1

    # then, once a worker has run it, the page finds out by itself
    datasets.dataset_refresh_run(refresh_id=queued[0])
    expect(status.locator("[aria-current='step']")).to_have_text("Succeeded")
    expect(status).to_contain_text(f"{ROWS:,} rows")
    history = page.locator("#refresh-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("Succeeded")
    expect(history.first).to_contain_text("Manual by admin")
