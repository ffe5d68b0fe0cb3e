import pytest
from django.contrib.auth.models import Group

from access.services import grant_set
from catalog import services
from catalog.tests.factories import BusinessUnitFactory, DomainFactory, UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(username="stella", is_staff=True)


@pytest.fixture
def claims(db):
    """A Claims domain owned by claims-owners; an analyst group with a view grant on it."""
    owners = Group.objects.create(name="claims-owners")
    domain = DomainFactory(name="Claims", slug="claims", owner_group=owners)
    return domain


@pytest.fixture
def owner(claims):
    user = UserFactory(username="olga")
    user.groups.add(claims.owner_group)
    return user


@pytest.fixture
def analyst(claims):
    group = Group.objects.create(name="analysts")
    grant_set(group=group, permission="view", domain=claims, actor=None)
    user = UserFactory(username="ana")
    user.groups.add(group)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory(username="otto")


@pytest.fixture
def healthcare(db):
    return BusinessUnitFactory(name="Healthcare", slug="healthcare")


@pytest.fixture
def claim_product(claims, owner, healthcare):
    return services.asset_create(
        actor=owner,
        kind="data_product",
        name="Claim",
        external_id="urn:product:claim",
        description="Every insurance claim with its amounts and loss dates",
        domain=claims,
        owner=owner,
        business_unit=healthcare,
        tags=["gold", "finance"],
        columns=[
            {"name": "claim_id", "data_type": "bigint", "nullable": False},
            {"name": "cust_nbr", "data_type": "varchar"},
            {"name": "claim_amount", "data_type": "numeric"},
        ],
    )


@pytest.fixture
def secret_asset(db, staff):
    """An asset nobody but staff may see: no domain, no owner, no grants."""
    return services.asset_create(
        actor=staff, kind="dashboard", name="Secret merger dashboard", description="claim forecasts for the merger"
    )
