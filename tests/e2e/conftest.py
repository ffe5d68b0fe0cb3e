"""Fixtures of the end-to-end tests."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery_app import app


@pytest.fixture
def redis_worker():
    """A Celery worker on the Redis broker, in a thread of this process: while it runs, tasks are queued on Redis and
    run by it, not eagerly. Ask for it after the fixtures whose setup should still run tasks eagerly."""
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            yield
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
