"""A small BI world for promotion tests (API, execution and browser)."""

from django.contrib.auth.models import Group

from access.services import grant_set
from catalog import services as catalog
from catalog.tests.factories import BusinessUnitFactory, CustomerFactory, DomainFactory, UserFactory
from lineage.services import edge_upsert

from .stubs import ACCOUNT


def _user(username: str, password: str | None):
    user = UserFactory(username=username)
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def bi_world(*, password: str | None = None) -> dict:
    """A product dashboard in the development folder with what it depends on (Warehouse → Sales → analysis →
    template → dashboard), environment folders, a customer folder, two BI developers and a customer-facing user."""
    bi_group = Group.objects.create(name="bi-developers")
    domain = DomainFactory(name="BI", slug="bi", owner_group=bi_group)
    ben = _user("ben", password)
    carla = _user("carla", password)
    for user in (ben, carla):
        user.groups.add(bi_group)
    success = Group.objects.create(name="customer-success")
    grant_set(group=success, permission="view", domain=domain, actor=None)
    cora = _user("cora", password)
    cora.groups.add(success)
    health = BusinessUnitFactory(name="Healthcare", slug="healthcare")
    acme = CustomerFactory(name="Acme", slug="acme", business_unit=health)

    def asset(kind, name, slug, environment="dev", **fields):
        arn_type = {"data_source": "datasource"}.get(kind, kind)
        return catalog.asset_create(
            actor=ben,
            kind=kind,
            name=name,
            external_id=f"{ACCOUNT}:{arn_type}/{slug}",
            domain=domain,
            environment=environment,
            **fields,
        )

    folders = {
        "dev": asset("folder", "Development", "development"),
        "staging": asset("folder", "Staging", "staging", "staging"),
        "prod": asset("folder", "Production", "production", "prod"),
        "acme": asset("folder", "Acme (production)", "production-acme", "prod", customer=acme),
    }
    a = {
        "warehouse": asset("data_source", "Warehouse", "warehouse", attributes={"type": "postgresql"}),
        "sales": asset(
            "dataset",
            "Sales",
            "sales",
            attributes={"physical_table": "public.sales", "import_mode": "spice"},
            columns=[{"name": "region", "data_type": "varchar"}, {"name": "amount", "data_type": "numeric(12,2)"}],
        ),
        "analysis": asset("analysis", "Sales analysis", "sales-analysis", version=3),
        "template": asset("template", "Sales template", "sales-template", version=3),
        "dashboard": asset("dashboard", "Sales dashboard", "sales-dashboard", version=3),
    }
    for key in a:
        catalog.folder_membership_add(folder=folders["dev"], asset=a[key], actor=ben)
    for source, target, kind in [
        ("warehouse", "sales", "reads_from"),
        ("sales", "analysis", "uses_dataset"),
        ("analysis", "template", "template_of"),
        ("sales", "template", "uses_dataset"),
        ("template", "dashboard", "created_from"),
        ("sales", "dashboard", "uses_dataset"),
    ]:
        edge_upsert(source=a[source], target=a[target], kind=kind, actor=ben)
    return {
        "ben": ben,
        "carla": carla,
        "cora": cora,
        "acme": acme,
        "domain": domain,
        "folders": folders,
        "assets": a,
    }
