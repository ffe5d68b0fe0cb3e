"""A real Celery worker on the Redis broker does the background work the API hands it."""

import pytest

from catalog import services
from catalog.models import Asset, AssetView
from catalog.tests.factories import UserFactory

from .processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_opening_an_asset_is_counted_by_the_worker(redis_worker, api):
    user = UserFactory(username="wendy", is_staff=True)
    asset = services.asset_create(actor=user, kind="dashboard", name="Worker dashboard")
    api.force_authenticate(user)

    assert api.get(f"/api/v1/assets/{asset.pk}/").status_code == 200
    assert api.get(f"/api/v1/assets/{asset.pk}/").status_code == 200

    wait_for(lambda: Asset.objects.get(pk=asset.pk).view_count == 2, timeout=30, what="the worker to record two views")
    assert AssetView.objects.filter(asset=asset, user=user).count() == 2
