"""Bulk imports and received change events are processed by a real Celery worker on the Redis broker; the API shows
an import's progress and report, and each event's status once the worker has applied it."""

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from catalog.models import Asset
from catalog.tests.factories import UserFactory
from ingestion import services
from ingestion.models import ChangeEvent
from ingestion.tests import bundles
from ingestion.tests.conftest import ACCOUNT, arn, cloudtrail

from .processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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


def test_events_are_answered_at_once_and_applied_by_the_worker(redis_worker, api):
    # given an event source, and no apply task flagged as queued by an earlier run
    assert not settings.INGESTION_APPLY_INLINE
    cache.delete(services.APPLY_FLAG)
    _, token = services.event_source_create(name="EventBridge", kind="quicksight", actor=None)
    sender = APIClient()
    sender.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    api.force_authenticate(UserFactory(username="watcher", is_staff=True))
    create = cloudtrail(
        "CreateDashboard",
        {
            "awsAccountId": ACCOUNT,
            "dashboardId": "d1",
            "name": "Revenue",
            "sourceEntity": {"sourceTemplate": {"arn": arn("template", "t1"), "dataSetReferences": []}},
        },
        event_id="w1",
        time="2026-03-01T10:00:00Z",
    )
    publish = cloudtrail(
        "UpdateDashboardPublishedVersion",
        {"awsAccountId": ACCOUNT, "dashboardId": "d1", "versionNumber": 3},
        event_id="w2",
        time="2026-03-01T10:05:00Z",
    )
    # when both arrive in one request, the newer first, and the create is delivered again
    response = sender.post("/api/v1/events/", [publish, create], format="json")
    again = sender.post("/api/v1/events/", create, format="json")
    # then they are answered at once, and the worker applies them in event-time order
    assert response.status_code == 202
    assert [e["status"] for e in response.json()["events"]] == ["accepted", "accepted"]
    assert again.json()["events"][0]["status"] == "duplicate"
    urls = [f"/api/v1/ingestion/events/{e['id']}/" for e in response.json()["events"]]
    wait_for(
        lambda: all(api.get(url).json()["status"] != "pending" for url in urls),
        timeout=60,
        what="the worker to apply the events",
    )
    assert [api.get(url).json()["status"] for url in urls] == ["applied", "applied"]
    dashboard = Asset.objects.get(kind="dashboard", external_id=arn("dashboard", "d1"))
    assert (dashboard.name, dashboard.attributes["published_version"]) == ("Revenue", 3)
    assert not ChangeEvent.objects.filter(status="pending").exists()
