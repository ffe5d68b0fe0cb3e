"""A small insurance mesh like the demo's: Customer, Claim, Policy, Encounter and SalesOpportunity products, each
with sample data made by the demo's own generator (fewer rows), attached and refreshed as a user would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files import File

from access.services import grant_set
from catalog import services as catalog_services
from catalog.datasets import dataset_create, dataset_refresh_run
from catalog.management.commands.seed_demo import samples_write
from catalog.models import Asset, RefreshRun
from catalog.tests.factories import DomainFactory, UserFactory
from recommender import services

PRODUCTS = {
    "customer": ("Customer", "customer"),
    "claim": ("Claim", "claims"),
    "policy": ("Policy", "policy"),
    "encounter": ("Encounter", "clinical"),
    "sales-opportunity": ("SalesOpportunity", "sales"),
}


@dataclass
class Mesh:
    products: dict[str, Asset]
    owners: dict[str, object]
    staff: object
    has_opportunity: object

    def __getitem__(self, slug: str) -> Asset:
        return self.products[slug]


def attach(asset: Asset, path: Path, actor) -> None:
    with path.open("rb") as handle:
        dataset = dataset_create(actor=actor, name=asset.name, asset=asset, upload=File(handle, name=path.name))
    # in a test whose transactions commit, the queued refresh has already run (eager Celery) when this returns
    queued = dataset.refreshes.filter(status=RefreshRun.Status.QUEUED).first()
    if queued is not None:
        dataset_refresh_run(refresh_id=queued.pk)
    run = dataset.refreshes.get()
    assert run.snapshot is not None, run.error


@pytest.fixture
def mesh_size() -> tuple[int, int, int]:
    """Customers, prospects and encounters of the sample data (a test module may ask for less)."""
    return (600, 80, 800)


@pytest.fixture
def mesh(db, tmp_path, mesh_size) -> Mesh:
    """Five products in five domains, each owned by its own group, with data; Customer hasSalesOpportunity."""
    return mesh_build(tmp_path, mesh_size)


def mesh_build(tmp_path: Path, mesh_size: tuple[int, int, int]) -> Mesh:
    customers, prospects, encounters = mesh_size
    files = samples_write(tmp_path, customers=customers, prospects=prospects, encounters=encounters)
    staff = UserFactory(username="stella", is_staff=True)
    products, owners = {}, {}
    for slug, (name, domain_slug) in PRODUCTS.items():
        group = Group.objects.create(name=f"{domain_slug}-owners")
        domain = DomainFactory(name=domain_slug.title(), slug=domain_slug, owner_group=group)
        owner = UserFactory(username=f"{domain_slug}-owner")
        owner.groups.add(group)
        owners[slug] = owner
        products[slug] = catalog_services.asset_create(
            actor=owner, kind="data_product", name=name, external_id=f"urn:product:{slug}", domain=domain, owner=owner
        )
        attach(products[slug], files[slug], owner)
    for asset in products.values():
        services.sample_refresh(asset=asset)
    relationship = services.relationship_create(
        actor=owners["customer"],
        name="hasSalesOpportunity",
        from_asset=products["customer"],
        to_asset=products["sales-opportunity"],
        key_columns=[{"from": "Customer_ID", "to": "Customer_ID"}],
        attribute_mappings=[{"from": "Email", "to": "Contact_Email"}, {"from": "Phone", "to": "Contact_Phone"}],
    )
    return Mesh(products=products, owners=owners, staff=staff, has_opportunity=relationship)


@pytest.fixture
def customer_reader(mesh):
    """Someone who may see Customer, Claim and SalesOpportunity, but not Encounter or Policy."""
    group = Group.objects.create(name="customer-analysts")
    for slug in ("customer", "claim", "sales-opportunity"):
        grant_set(group=group, permission="view", actor=None, asset=mesh[slug])
    user = UserFactory(username="carla")
    user.groups.add(group)
    return user
