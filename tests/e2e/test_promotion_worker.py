"""An approved promotion is executed by a real Celery worker on the Redis broker (QuickSight stubbed with botocore's
Stubber); the API shows its steps finishing and the copies land in the target folder."""

import pytest

from catalog.models import Asset
from promotions.tests import stubs
from promotions.tests.world import bi_world

from .processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_approved_promotion_is_run_by_the_worker(redis_worker, api, settings):
    settings.CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY = "promotions.tests.stubs.client_factory"
    settings.CARTOGRAPH_PROMOTIONS_POLL_SECONDS = 0
    world = bi_world()
    api.force_authenticate(world["ben"])
    mapping = {str(world["assets"]["warehouse"].pk): f"{stubs.ACCOUNT}:datasource/warehouse-staging"}
    body = {"asset": world["assets"]["dashboard"].pk, "target": world["folders"]["staging"].pk}
    promotion = api.post("/api/v1/promotions/", {**body, "data_source_mappings": mapping}, format="json").json()
    url = f"/api/v1/promotions/{promotion['id']}/"
    assert api.post(f"{url}approve/").status_code == 200
    client, stubber = stubs.new_client()
    stubs.promote_dashboard_to_staging(stubber)
    stubs.prepare(client)
    with stubber:
        queued = api.post(f"{url}execute/")
        assert queued.status_code == 202
        assert queued.json()["status"] in ("queued", "running", "succeeded")
        wait_for(lambda: api.get(url).json()["status"] == "succeeded", timeout=60, what="the worker to promote")
        stubber.assert_no_pending_responses()
    detail = api.get(url).json()
    assert detail["progress"] == {"done": 7, "total": 7}
    staging = world["folders"]["staging"]
    assert sorted(Asset.objects.filter(folder_memberships__folder=staging).values_list("name", flat=True)) == [
        "Sales",
        "Sales analysis",
        "Sales dashboard",
        "Sales template",
    ]
