"""An alert from click to inbox: set in headless Chromium on a sales dashboard, evaluated by a real Celery worker (on
the Redis broker) after a refresh that breaches it, and emailed through a real SMTP server whose link leads back to the
highlighted cell."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message

import duckdb
import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from alerts.models import Alert, Notification
from alerts.services import display_number
from catalog import datasets
from catalog import services as catalog
from catalog.visuals import cell_key
from config.celery_app import app
from lineage.services import edge_upsert
from tests.conftest import PASSWORD

from .processes import free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROWS = 20_000
# every combination of category, segment and ship mode, with profits in cents (some negative)
SALES_SQL = f"""
SELECT range AS id,
       ['Auto', 'Home', 'Toys'][range % 3 + 1] AS "Category",
       ['Corporate', 'Online', 'Retail'][(range // 3) % 3 + 1] AS "Segment",
       ['First Class', 'Second Class', 'Standard'][(range // 9) % 3 + 1] AS "Ship Mode",
       CAST(((range * 37) % 1000) / 100.0 - 2 AS DECIMAL(12, 2)) AS "Profit"
FROM range({ROWS})
"""
# the same data with one more large sale in the watched cell
BREACHING_SQL = f"""{SALES_SQL}
UNION ALL SELECT {ROWS}, 'Auto', 'Online', 'First Class', CAST(5000 AS DECIMAL(12, 2))
"""
KEY = cell_key("Profit", {"Category": "Auto", "Segment": "Online", "Ship Mode": "First Class"})
WATCHED = """SELECT sum("Profit") FROM '{path}'
WHERE "Category" = 'Auto' AND "Segment" = 'Online' AND "Ship Mode" = 'First Class'"""


class Inbox:
    """An aiosmtpd handler keeping what the server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox(settings):
    """A real SMTP server on a free port, and Django's mail settings pointing at it."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL, settings.EMAIL_TIMEOUT = False, False, 10
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "", ""
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    yield received
    controller.stop()


@pytest.fixture
def redis_worker():
    """A Celery worker on the Redis broker in this process; tasks are queued, not run eagerly, while it runs."""
    assert django_settings.CELERY_BROKER_URL.startswith("redis://")

    def started():
        app.conf.task_always_eager = False
        return start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10)

    try:
        yield started
    finally:
        app.conf.task_always_eager = django_settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def sales(django_user_model, settings, tmp_path, live_server):
    """Ana's sales dashboard: DuckDB-generated orders (a Parquet file), uploaded and refreshed, and a pivot of profit by
    category and segment across ship modes."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CARTOGRAPH_SITE_URL = live_server.url  # where the emails link to
    ana = django_user_model.objects.create_user(username="ana", password=PASSWORD, email="ana@example.com")
    path = tmp_path / "sales.parquet"
    duckdb.sql(f"COPY ({SALES_SQL}) TO '{path}' (FORMAT parquet)")
    dataset = datasets.dataset_create(
        actor=ana, name="Sales", upload=SimpleUploadedFile("sales.parquet", path.read_bytes()), owner=ana
    )  # the first refresh runs when the dataset is committed (tasks run eagerly until the worker starts)
    dataset.refresh_from_db()
    assert dataset.current_snapshot is not None and dataset.current_snapshot.rows == ROWS
    pivot = datasets.visual_save(
        actor=ana,
        dataset=dataset,
        name="Profit by segment and ship mode",
        owner=ana,
        spec={
            "type": "pivot",
            "rows": ["Category", "Segment"],
            "columns": ["Ship Mode"],
            "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}],
            "totals": {"rows": True, "columns": True, "grand": True},
        },
    )
    dashboard = catalog.asset_create(actor=ana, kind="dashboard", name="Sales overview", owner=ana)
    edge_upsert(source=dashboard, target=pivot.asset, kind="contains", actor=ana)
    ((value,),) = duckdb.sql(WATCHED.format(path=path)).fetchall()
    return {
        "owner": ana,
        "dataset": dataset,
        "pivot": pivot,
        "dashboard": dashboard,
        "value": value,
        "site": live_server.url,
    }


def parts_of(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


def test_an_alert_set_in_the_browser_emails_its_owner_after_a_breaching_refresh(
    page: Page, sign_in, sales, inbox, redis_worker
):
    dataset, pivot, dashboard = sales["dataset"], sales["pivot"], sales["dashboard"]
    threshold = int(sales["value"]) + 1000

    # given Ana clicks the profit of Auto, Online, First Class on her dashboard
    sign_in("ana")
    page.goto(f"/assets/{dashboard.pk}/")
    cell = page.locator(f"#visual-{pivot.asset_id} td[data-key='{KEY}']")
    expect(cell).to_have_text(f"{sales['value']:,.2f}")
    cell.click()

    # then the panel shows the measure, its value and the cell's dimension values
    panel = page.get_by_role("complementary", name="Alerts")
    expect(panel.get_by_role("heading", name="New alert")).to_be_focused()
    expect(panel.locator("[data-alert-measure]")).to_have_text("Profit")
    expect(panel.locator("[data-alert-value]")).to_have_text(f"{sales['value']:,.2f}")
    expect(panel.locator("[data-alert-dimensions]")).to_have_text(
        re.compile(r"Category\s*Auto\s*Segment\s*Online\s*Ship Mode\s*First Class")
    )

    # when she asks to be told as soon as it is above the threshold, the backtest runs before she saves
    panel.get_by_label("Alert me when the value").select_option(label="is above")
    panel.get_by_label("Threshold", exact=True).fill(str(threshold))
    panel.get_by_label("Notification frequency").select_option(label="as frequently as possible")
    panel.get_by_label("Name").fill("Auto online first class")
    expect(panel.locator("[data-alert-backtest]")).to_contain_text("would have fired 0 times in the last 1 refresh")
    panel.get_by_role("button", name="Save alert").click()
    expect(panel.locator("[data-alert-saved]")).to_contain_text("“Auto online first class” is on")
    alert = Alert.objects.get()
    assert (alert.cell_key, alert.threshold, alert.frequency) == (KEY, threshold, "always")

    # when new data breaches it and a real worker refreshes the dataset, evaluates the alert and sends the email
    with redis_worker():
        duckdb.sql(f"COPY ({BREACHING_SQL}) TO '{dataset.upload.path}' (FORMAT parquet)")
        datasets.dataset_refresh_request(dataset=dataset, actor=sales["owner"])
        wait_for(lambda: len(inbox.messages) > 0, timeout=90, what="the alert's email to reach the SMTP server")
        wait_for(
            lambda: Notification.objects.filter(alert=alert, status="sent").exists(),
            timeout=30,
            what="the worker to record the email as sent",
        )
    assert dataset.refreshes.order_by("-id").first().status == "succeeded"

    # then the email names the alert, the value and the cell
    [message] = inbox.messages
    new_value = sales["value"] + 5000
    assert message["To"] == "ana@example.com"
    assert str(make_header(decode_header(message["Subject"]))) == (
        f"Alert: Auto online first class — Profit is above {threshold}"
    )
    text = parts_of(message)["text/plain"]
    assert f"Profit is {display_number(float(new_value))}, which is above {threshold}" in text
    for line in ("Category = Auto", "Segment = Online", "Ship Mode = First Class"):
        assert line in text
    alert.refresh_from_db()
    assert alert.state == "breached" and alert.last_value == float(new_value)

    # and its "View dashboard" link opens the dashboard with the cell highlighted
    link = re.search(r"View dashboard: (\S+)", text).group(1)
    assert link.startswith(f"{sales['site']}/assets/{dashboard.pk}/?highlight=")
    assert f'href="{link}"' in parts_of(message)["text/html"].replace("&amp;", "&")
    page.goto(link)
    highlighted = page.locator("td.is-highlighted")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_have_attribute("data-key", KEY)
    expect(highlighted).to_have_text(f"{new_value:,.2f}")
    expect(highlighted).to_be_in_viewport()
