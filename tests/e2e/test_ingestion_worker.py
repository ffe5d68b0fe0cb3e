"""A bulk import is run by a real Celery worker on the Redis broker; the API shows its progress and report."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from catalog.models import Asset
from catalog.tests.factories import UserFactory
from config.celery_app import app
from ingestion.tests import bundles

from .processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_worker():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def test_an_import_is_queued_and_run_by_the_worker(redis_worker, api):
    api.force_authenticate(UserFactory(username="importer", is_staff=True))
    response = api.post("/api/v1/imports/", bundles.bundle(), format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    job_url = f"/api/v1/imports/{response.json()['id']}/"

    wait_for(lambda: api.get(job_url).json()["status"] == "succeeded", timeout=60, what="the worker to run the import")
    job = api.get(job_url).json()
    assert (job["processed"], job["created"], job["rejected"]) == (8, 7, 1)
    assert job["report"]["rejected"][0]["path"] == "Dashboards[1]"
    assert Asset.objects.filter(kind="dashboard", name="Acme sales").exists()
