"""Shared test setup: the suite runs against the real PostgreSQL and Redis and says clearly when they are down."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


def _reachable(url: str, default_port: int) -> tuple[bool, str]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return True, f"{host}:{port}"
    except OSError as error:
        return False, f"{host}:{port} ({error})"


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    problems = []
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        problems.append(f"the tests need PostgreSQL but DATABASE_URL points at {db['ENGINE']}")
    else:
        ok, where = _reachable(f"postgres://{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}", 5432)
        if not ok:
            problems.append(f"PostgreSQL is not reachable at {where}; start it or set DATABASE_URL")
    ok, where = _reachable(settings.REDIS_URL, 6379)
    if not ok:
        problems.append(f"Redis is not reachable at {where}; start it or set REDIS_URL")
    if problems:
        pytest.exit("Cannot run the tests: " + "; ".join(problems), returncode=3)


@pytest.fixture
def api(client):
    """A DRF test client."""
    from rest_framework.test import APIClient

    return APIClient()
