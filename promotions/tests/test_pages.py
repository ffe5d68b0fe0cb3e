"""The promotion pages: who may plan, what a customer-facing user sees, and each environment's copy state."""

import pytest

from catalog import services as catalog
from catalog.tests.factories import UserFactory
from promotions import services
from promotions.models import Promotion

from . import stubs
from .stubs import ACCOUNT

pytestmark = pytest.mark.django_db


def test_only_editors_may_plan_and_strangers_learn_nothing(client, bi):
    dashboard = bi["assets"]["dashboard"]
    client.force_login(bi["cora"])
    assert client.get(f"/assets/{dashboard.pk}/promote/").status_code == 403
    section = client.get(f"/assets/{dashboard.pk}/environments/").content.decode()
    assert "Request a customer copy" in section and ">Promote<" not in section
    client.force_login(UserFactory(username="eve"))
    assert client.get(f"/assets/{dashboard.pk}/environments/").status_code == 404
    assert client.get(f"/assets/{dashboard.pk}/promote/").status_code == 404


def test_the_form_says_which_mapping_is_missing(client, bi):
    client.force_login(bi["ben"])
    dashboard = bi["assets"]["dashboard"]
    response = client.post(f"/assets/{dashboard.pk}/promote/", {"target": bi["folders"]["staging"].pk})
    assert response.status_code == 400
    assert "missing data source mapping: &#x27;Warehouse&#x27;" in response.content.decode()
    assert Promotion.objects.count() == 0


def test_a_customer_copy_request_from_the_asset_page_opens_its_plan(client, bi):
    client.force_login(bi["cora"])
    dashboard = bi["assets"]["dashboard"]
    response = client.post(
        f"/assets/{dashboard.pk}/customer-copy/", {"customer": "acme", "note": "Acme needs its own copy"}
    )
    promotion = Promotion.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/promotions/{promotion.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Sales dashboard (Acme)" in page and "Acme (production)" in page
    assert ">Approve<" in page  # shown; the service refuses it to cora (she may not change the folder)
    client.post(f"/promotions/{promotion.pk}/approve/")
    promotion.refresh_from_db()
    assert promotion.status == "planned"


def test_the_asset_page_tells_same_behind_and_diverged_copies_apart(client, bi, staging_mapping, settings):
    settings.CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY = "promotions.tests.stubs.client_factory"
    dashboard = bi["assets"]["dashboard"]
    result = services.promotion_plan(
        actor=bi["ben"],
        asset=dashboard,
        target_folder=bi["folders"]["staging"],
        data_source_mappings=staging_mapping,
    )
    services.promotion_approve(promotion=result.promotion, actor=bi["carla"])
    Promotion.objects.filter(pk=result.promotion.pk).update(status="queued")
    client_, stubber = stubs.new_client()
    stubs.promote_dashboard_to_staging(stubber)
    with stubber:
        services.promotion_execute(promotion_id=result.promotion.pk, client=client_)
    client.force_login(bi["ben"])

    def states():
        page = client.get(f"/assets/{dashboard.pk}/environments/").content.decode()
        return [s for s in ("Same version", "Behind", "Diverged") if s in page]

    assert states() == ["Same version"]
    catalog.asset_update(asset=dashboard, actor=bi["ben"], description="New KPI")
    assert states() == ["Behind"]
    copy = catalog.Asset.objects.get(external_id=f"{ACCOUNT}:dashboard/sales-dashboard--staging")
    catalog.asset_update(asset=copy, actor=bi["ben"], name="Sales dashboard (hotfix)")
    assert states() == ["Diverged"]
    origin = client.get(f"/assets/{copy.pk}/environments/").content.decode()
    assert f"promotion {result.promotion.pk}</a>" in origin and "Promoted from" in origin
    # the next plan says so, and will not overwrite it unless asked
    again = services.promotion_plan(
        actor=bi["ben"],
        asset=dashboard,
        target_folder=bi["folders"]["staging"],
        data_source_mappings=staging_mapping,
        dry_run=True,
    )
    assert [(c["kind"], c["name"]) for c in again.conflicts] == [("changed_in_target", "Sales dashboard")]
