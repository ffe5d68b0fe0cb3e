"""A small governed world: a Sales domain owned by sales-owners, a dataset with data in it, and people around it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import datasets, services
from catalog.tests.factories import DomainFactory, UserFactory

ORDERS = "region,dept,amount,margin\n" + "".join(
    f"{('North', 'South', 'East')[i % 3]},{('claims', 'sales')[i % 2]},{i},{i * 0.1}\n" for i in range(1, 301)
)


@dataclass
class World:
    staff: object
    owner: object  # member of sales-owners: decides on the Sales domain
    analyst: object  # member of analysts, who have no access to Sales yet
    outsider: object  # in no group
    owners: Group
    analysts: Group
    domain: object
    dataset: object  # catalog.Dataset with a snapshot (300 rows)
    secret: object  # an asset nobody but staff sees and nobody can request


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(db, media, django_capture_on_commit_callbacks) -> World:
    staff = UserFactory(username="root", is_staff=True, email="root@example.com")
    owners = Group.objects.create(name="sales-owners")
    analysts = Group.objects.create(name="analysts")
    domain = DomainFactory(name="Sales", slug="sales", owner_group=owners)
    owner = UserFactory(username="olga", email="olga@example.com")
    owner.groups.add(owners)
    analyst = UserFactory(username="ana", email="ana@example.com")
    analyst.groups.add(analysts)
    outsider = UserFactory(username="otto", email="otto@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        dataset = datasets.dataset_create(
            actor=owner,
            name="Orders",
            upload=SimpleUploadedFile("orders.csv", ORDERS.encode()),
            domain=domain,
            owner=owner,
        )
    dataset.refresh_from_db()
    assert dataset.current_snapshot is not None
    secret = services.asset_create(actor=staff, kind="dashboard", name="Secret merger board")
    return World(staff, owner, analyst, outsider, owners, analysts, domain, dataset, secret)
