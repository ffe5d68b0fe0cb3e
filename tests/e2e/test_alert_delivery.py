"""Exactly-once email delivery with Cartograph's real background processes: Celery workers and beats started as
separate processes on the Redis broker, sending from the outbox to a real SMTP server (aiosmtpd).

Two beat processes sweep the outbox at the same time and two workers share the work: every email arrives once. A
worker killed with SIGKILL in the middle of an SMTP conversation loses nothing: its lease expires and another worker
sends the email, once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from alerts import services
from alerts.models import Notification
from catalog import datasets
from catalog.tests.factories import UserFactory
from config.celery_app import app

from .processes import PYTHON, free_port, start, stop, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SALES = "Category,Segment,Profit\nAuto,Online,100\nAuto,Retail,70\nToys,Online,5\n"
AUTO_ONLINE = '{"m":"Profit","d":[["Category","Auto"],["Segment","Online"]]}'


class Inbox:
    """An aiosmtpd handler that keeps what it accepted. With `stall_first` set, the first conversation stops after
    RCPT TO until `release` is set, so a test can kill the client mid-send."""

    def __init__(self, *, stall_first: bool = False, delay: float = 0.0) -> None:
        self.messages: list[Message] = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.stall_first = stall_first
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stall_first and not self.stalled.is_set():
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [message["Message-ID"] for message in self.messages]


@pytest.fixture
def smtp():
    started: list[Controller] = []

    def serve(inbox: Inbox) -> int:
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return port

    yield serve
    for controller in started:
        controller.stop()


@pytest.fixture
def outbox(settings, tmp_path):
    """`count` alerts on one breached cell, evaluated: `count` emails waiting in the outbox."""
    settings.MEDIA_ROOT = tmp_path / "media"

    def fill(count: int) -> list[Notification]:
        owner = UserFactory(username="olive", email="olive@example.com")
        dataset = datasets.dataset_create(
            actor=owner, name="Sales", upload=SimpleUploadedFile("sales.csv", SALES.encode())
        )  # refreshed on commit (tasks run eagerly in this process)
        dataset.refresh_from_db()
        spec = {
            "type": "pivot",
            "rows": ["Category"],
            "columns": ["Segment"],
            "measures": [{"field": "Profit", "agg": "sum", "label": "Profit"}],
        }
        pivot = datasets.visual_save(actor=owner, dataset=dataset, spec=spec, name="Profit pivot", owner=owner)
        for n in range(count):
            services.alert_create(
                owner=owner,
                visual=pivot,
                cell_key=AUTO_ONLINE,
                condition="above",
                threshold=Decimal(n),
                name=f"Profit above {n}",
            )
        app.conf.task_always_eager = False  # the send task goes to the broker (and is purged), not run here
        try:
            services.alerts_evaluate_dataset(dataset_id=dataset.pk)
        finally:
            app.conf.task_always_eager = django_settings.CELERY_TASK_ALWAYS_EAGER
        notes = list(Notification.objects.order_by("id"))
        assert len(notes) == count and {note.status for note in notes} == {"pending"}
        return notes

    return fill


class Processes:
    """Celery workers and beats as separate OS processes, with the test database and a real SMTP port."""

    def __init__(self, tmp_path: Path, smtp_port: int, **overrides: str) -> None:
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CARTOGRAPH_VAR_DIR": str(tmp_path / "var"),
            "CARTOGRAPH_OUTBOX_SWEEP_SECONDS": "1",
            "CARTOGRAPH_ALERT_SWEEP_SECONDS": "3600",
            "CARTOGRAPH_REFRESH_SWEEP_SECONDS": "3600",
            **overrides,
        }
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen] = []
        # a clean queue: nothing left over from another test is delivered to these workers
        subprocess.run(
            [PYTHON, "-m", "celery", "-A", "config", "purge", "-f"], env=self.env, capture_output=True, timeout=60
        )

    def worker(self, name: str) -> subprocess.Popen:
        args = [PYTHON, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-n", f"{name}@%h"]
        return self._start([*args, "--loglevel", "INFO", "--without-gossip", "--without-mingle"], name)

    def beat(self, name: str) -> subprocess.Popen:
        schedule = self.tmp_path / f"{name}-schedule"
        args = [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO", "-s", str(schedule)]
        return self._start([*args, "--scheduler", "celery.beat:PersistentScheduler"], name)

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        process = start(args, env=self.env, log=self.tmp_path / f"{name}.log")
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                stop(process)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.tmp_path.glob("*.log"))


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Notification.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_two_beats_and_two_workers_send_every_email_exactly_once(outbox, smtp, tmp_path):
    # given 24 emails waiting, and a mail server slow enough that the sweeps overlap
    notes = outbox(24)
    inbox = Inbox(delay=0.1)
    processes = Processes(tmp_path, smtp(inbox), CARTOGRAPH_OUTBOX_BATCH="4")
    try:
        # when two beats each sweep the outbox every second and two workers take the sweeps
        processes.beat("beat-1")
        processes.beat("beat-2")
        processes.worker("worker-1")
        processes.worker("worker-2")
        wait_for(lambda: statuses() == {"sent": 24}, timeout=90, what="all 24 emails to be sent")
        # a few more sweeps from both beats find nothing left to send
        sweeps = (tmp_path / "beat-1.log").read_text().count("notifications_send_task")
        wait_for(
            lambda: (
                (tmp_path / "beat-1.log").read_text().count("notifications_send_task") >= sweeps + 3
                and (tmp_path / "beat-2.log").read_text().count("notifications_send_task") >= 3
            ),
            timeout=30,
            what="both beats to sweep again",
        )
    except AssertionError:
        print(processes.logs())
        raise
    finally:
        processes.stop_all()

    # then every email arrived exactly once, and both workers did some of the sending
    ids = inbox.message_ids()
    assert len(ids) == 24
    assert sorted(ids) == sorted(note.message_id for note in notes)
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
    logs = {name: (tmp_path / f"{name}.log").read_text() for name in ("worker-1", "worker-2")}
    assert all("notifications_send_task" in log for log in logs.values()), "both workers should take sweeps"


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(outbox, smtp, tmp_path):
    # given one email waiting, and a mail server that stops the first conversation after RCPT TO
    (note,) = outbox(1)
    inbox = Inbox(stall_first=True)
    processes = Processes(tmp_path, smtp(inbox), CARTOGRAPH_OUTBOX_LEASE_SECONDS="4")
    try:
        processes.beat("beat")
        doomed = processes.worker("doomed")
        # when the worker is killed (SIGKILL: no cleanup at all) in the middle of the SMTP conversation
        wait_for(inbox.stalled.is_set, timeout=60, what="the worker to start talking to the mail server")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        inbox.release.set()
        note.refresh_from_db()
        assert note.status == "sending" and note.lease_until is not None  # claimed, not sent, not lost
        assert inbox.message_ids() == []
        # and another worker comes along
        processes.worker("survivor")
        wait_for(lambda: statuses() == {"sent": 1}, timeout=60, what="the survivor to send the email")
        sweeps = (tmp_path / "beat.log").read_text().count("notifications_send_task")
        wait_for(
            lambda: (tmp_path / "beat.log").read_text().count("notifications_send_task") >= sweeps + 3,
            timeout=30,
            what="three more sweeps",
        )
    except AssertionError:
        print(processes.logs())
        raise
    finally:
        processes.stop_all()

    # then the email arrived once, with the Message-ID it was written with, on the second attempt
    assert inbox.message_ids() == [note.message_id]
    note.refresh_from_db()
    assert note.status == "sent" and note.attempts == 2
