from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from catalog import services
from catalog.tests.factories import BusinessUnitFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

CHARTS_JS = """
() => Object.fromEntries([...document.querySelectorAll("canvas[data-chart]")].map((canvas) => {
  const chart = Chart.getChart(canvas);
  return [canvas.dataset.chart, chart && {
    type: chart.config.type,
    labels: chart.data.labels,
    counts: chart.data.datasets[0].data,
    drawn: canvas.width > 0 && canvas.height > 0,
  }];
}))
"""


def test_reports_page_draws_a_chart_per_report(page: Page, sign_in, django_user_model):
    # given assets in two business units, by two owners, of two kinds
    django_user_model.objects.create_user(username="admin", password=PASSWORD, is_staff=True)
    ana = django_user_model.objects.create_user(username="ana", password=PASSWORD)
    bob = django_user_model.objects.create_user(username="bob", password=PASSWORD)
    healthcare = BusinessUnitFactory(name="Healthcare", slug="healthcare")
    education = BusinessUnitFactory(name="Education", slug="education")
    for name in ("Claims", "Members", "Providers"):
        services.asset_create(actor=ana, kind="dataset", name=name, owner=ana, business_unit=healthcare)
    services.asset_create(actor=bob, kind="dashboard", name="Enrolment", owner=bob, business_unit=education)

    # when an administrator opens the reports page
    sign_in("admin")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    page.wait_for_load_state("load")  # the chart scripts run at the end of the page

    # then each canvas holds a Chart.js chart of the data
    charts = page.evaluate(CHARTS_JS)
    assert charts == {
        "chart-data-by-business-unit": {
            "type": "bar",
            "labels": ["Healthcare", "Education"],
            "counts": [3, 1],
            "drawn": True,
        },
        "chart-data-by-owner": {"type": "bar", "labels": ["ana", "bob"], "counts": [3, 1], "drawn": True},
        "chart-data-by-kind": {"type": "bar", "labels": ["Dataset", "Dashboard"], "counts": [3, 1], "drawn": True},
    }
    expect(page.get_by_role("link", name="Download CSV: Assets by owner")).to_have_attribute(
        "href", "/api/v1/reports/by-owner/?format=csv"
    )
    never_viewed = page.get_by_role("region", name="Assets never viewed")
    expect(never_viewed.get_by_role("row")).to_have_count(5)  # a header and four assets

    # and the stale table follows the days field
    page.get_by_label("Not updated for (days)").fill("0")
    page.get_by_role("button", name="Show").click()
    stale = page.get_by_role("region", name="Assets not updated for 0 days")
    expect(stale.get_by_role("link", name="Claims")).to_be_visible()
    expect(stale.get_by_role("link", name="Download CSV: stale assets")).to_have_attribute(
        "href", "/api/v1/reports/stale/?format=csv&days=0"
    )
    csv = page.request.get("/api/v1/reports/stale/?format=csv&days=0")
    assert csv.ok
    assert csv.text().splitlines()[0] == "id,name,kind,owner,business unit,updated at,last viewed at"
    assert len(csv.text().splitlines()) == 5
