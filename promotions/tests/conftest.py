import pytest

from .stubs import ACCOUNT
from .world import bi_world


@pytest.fixture(autouse=True)
def _no_polling_pause(settings):
    settings.CARTOGRAPH_PROMOTIONS_POLL_SECONDS = 0
    settings.CARTOGRAPH_PROMOTIONS_WAIT_SECONDS = 5


@pytest.fixture
def bi(db):
    """The world of tests/world.py: a product dashboard in development with what it depends on, environment folders,
    a customer folder, two BI developers and a customer-facing user."""
    return bi_world()


@pytest.fixture
def staging_mapping(bi):
    return {str(bi["assets"]["warehouse"].pk): f"{ACCOUNT}:datasource/warehouse-staging"}
