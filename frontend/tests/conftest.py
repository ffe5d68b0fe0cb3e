from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from access.services import grant_set
from catalog import services
from catalog.tests.factories import BusinessUnitFactory

PASSWORD = "a-long-test-password"


@pytest.fixture
def ana(django_user_model):
    """An analyst in no group: she sees only what she owns."""
    return django_user_model.objects.create_user(username="ana", password=PASSWORD)


@pytest.fixture
def signed_in(client, ana):
    client.force_login(ana)
    return client


@pytest.fixture
def catalog_data(ana, django_user_model):
    """Ana's assets, a folder tree, and one restricted asset owned by the finance group (with a grant to auditors)."""
    fiona = django_user_model.objects.create_user(username="fiona", password=PASSWORD)
    finance = Group.objects.create(name="finance")
    auditors = Group.objects.create(name="auditors")
    healthcare = BusinessUnitFactory(name="Healthcare", slug="healthcare")
    treasury = BusinessUnitFactory(name="Treasury", slug="treasury")
    ledger = services.asset_create(
        actor=ana,
        kind="dataset",
        name="Claims ledger",
        description="Every claim, one row each.",
        owner=ana,
        business_unit=healthcare,
        tags=["claims", "gold"],
        columns=[{"name": "claim_id", "data_type": "bigint"}, {"name": "amount", "data_type": "numeric"}],
    )
    dashboard = services.asset_create(actor=ana, kind="dashboard", name="Claims ledger overview", owner=ana)
    root = services.asset_create(actor=ana, kind="folder", name="Shared", owner=ana)
    child = services.asset_create(actor=ana, kind="folder", name="Claims team", owner=ana)
    services.folder_membership_add(folder=root, asset=child, actor=ana)
    services.folder_membership_add(folder=child, asset=ledger, actor=ana)
    secret = services.asset_create(
        actor=fiona,
        kind="dataset",
        name="Payroll ledger",
        owner=fiona,
        owner_group=finance,
        business_unit=treasury,
        tags=["payroll-secret"],
    )
    grant_set(group=auditors, permission="view", actor=fiona, asset=secret)
    return {
        "ledger": ledger,
        "dashboard": dashboard,
        "root": root,
        "child": child,
        "secret": secret,
        "fiona": fiona,
        "auditors": auditors,
    }
