"""A real Celery worker on the Redis broker computes recommendations and refreshes profiles when data changes."""

from __future__ import annotations

import pytest

from catalog.datasets import dataset_refresh_request
from catalog.models import Dataset
from recommender.models import DataSample, Recommendation, RecommendationRun
from recommender.tests.conftest import Mesh, mesh_build

from .processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mesh(transactional_db, tmp_path) -> Mesh:
    """Built before the worker starts (its refreshes run eagerly), so the worker only gets what the test sends."""
    return mesh_build(tmp_path, (200, 30, 300))


def test_the_worker_computes_a_queued_run_and_profiles_new_data(mesh, redis_worker, api):
    customer, claim = mesh["customer"], mesh["claim"]
    api.force_authenticate(mesh.owners["customer"])
    response = api.post(f"/api/v1/assets/{customer.pk}/recommendations/refresh/")
    assert response.status_code == 202, response.json()
    run_id = response.json()["id"]
    # asking again while it is queued or running returns the same run
    again = api.post(f"/api/v1/assets/{customer.pk}/recommendations/refresh/").json()["id"]
    assert again == run_id

    def finished() -> bool:
        return RecommendationRun.objects.get(pk=run_id).status in ("succeeded", "failed")

    wait_for(finished, timeout=120, what="the worker to finish the recommendation run")
    status = api.get(f"/api/v1/recommendation-runs/{run_id}/").json()
    assert status["status"] == "succeeded", status
    assert status["done"] == status["total"] > 0
    assert Recommendation.objects.filter(
        asset=customer, candidate=mesh["encounter"], view="enriched", recommended=True
    ).exists()

    # new data of Claim: the refresh and then the recommender's task run on the worker
    before = DataSample.objects.get(asset=claim).data_version
    dataset_refresh_request(dataset=Dataset.objects.get(asset=claim), actor=None)

    def profiled() -> bool:
        current = Dataset.objects.get(asset=claim).current_snapshot_id
        sample = DataSample.objects.get(asset=claim)
        return sample.data_version != before and sample.snapshot_id == current

    wait_for(profiled, timeout=120, what="the worker to profile Claim's new data")
    claim_rows = Recommendation.objects.filter(asset=customer, candidate=claim, view="plain").get()
    wait_for(
        lambda: (
            Recommendation.objects.get(pk=claim_rows.pk).candidate_version
            == DataSample.objects.get(asset=claim).data_version
        ),
        timeout=120,
        what="Customer → Claim to be matched on Claim's new data",
    )
