"""The outbox against a real SMTP conversation (aiosmtpd), including an outage."""

import socket
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from alerts import services
from alerts.models import Notification

from .conftest import AUTO_ONLINE

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    return settings


def test_an_smtp_outage_delays_the_email_and_never_loses_it(shop, smtp_settings):
    services.alert_create(
        owner=shop.owner, visual=shop.pivot, cell_key=AUTO_ONLINE, condition="above", threshold=Decimal("10")
    )
    services.alerts_evaluate_dataset(dataset_id=shop.dataset.pk)
    note = Notification.objects.get()

    # the mail server is down: nothing is sent, the email waits with the reason and a later attempt time
    assert services.notifications_send_due() == 0
    note.refresh_from_db()
    assert note.status == "pending" and note.attempts == 1 and "Connection" in note.last_error
    assert note.next_attempt_at > timezone.now()
    assert services.notifications_send_due() == 0  # not due yet

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_settings.EMAIL_PORT)
    controller.start()
    try:
        assert services.notifications_send_due(now=timezone.now() + timedelta(minutes=5)) == 1
        assert services.notifications_send_due(now=timezone.now() + timedelta(hours=2)) == 0  # sent once
    finally:
        controller.stop()
    note.refresh_from_db()
    assert note.status == "sent" and note.attempts == 2
    [message] = inbox.messages
    assert message["To"] == "alice@example.com"
    assert message["Message-ID"] == note.message_id
    assert str(make_header(decode_header(message["Subject"]))) == "Alert: Profit pivot — Profit is above 10"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert "Profit is 140, which is above 10" in parts["text/plain"]
    assert "View dashboard" in parts["text/html"]


def test_a_claimed_email_is_not_sent_twice_until_its_lease_expires(shop, smtp_settings):
    services.alert_create(
        owner=shop.owner, visual=shop.pivot, cell_key=AUTO_ONLINE, condition="above", threshold=Decimal("10")
    )
    services.alerts_evaluate_dataset(dataset_id=shop.dataset.pk)
    # a worker claimed it and died before finishing
    Notification.objects.update(status="sending", lease_until=timezone.now() + timedelta(minutes=5), attempts=1)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_settings.EMAIL_PORT)
    controller.start()
    try:
        assert services.notifications_send_due() == 0  # another worker leaves it alone while the lease holds
        assert services.notifications_send_due(now=timezone.now() + timedelta(minutes=6)) == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert Notification.objects.get().status == "sent"
