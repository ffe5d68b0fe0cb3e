import pytest
from django.contrib.auth.models import Group

from access.services import grant_set
from catalog import services as catalog
from catalog.tests.factories import BusinessUnitFactory, CustomerFactory, DomainFactory, UserFactory
from lineage.services import edge_upsert


@pytest.fixture
def org(db):
    """A small BI organisation: source → dataset → reference analysis → template → customer dashboards → visuals."""
    admin = UserFactory(username="admin", is_staff=True)
    bi = Group.objects.create(name="bi")
    bi_domain = DomainFactory(name="BI", slug="bi", owner_group=bi)
    health = BusinessUnitFactory(name="Healthcare", slug="healthcare")
    acme = CustomerFactory(name="Acme", slug="acme", business_unit=health)
    globex = CustomerFactory(name="Globex", slug="globex", business_unit=health)
    owner = UserFactory(username="olga", email="olga@example.com")
    owner.groups.add(bi)

    def asset(kind, name, **fields):
        fields.setdefault("domain", bi_domain)
        return catalog.asset_create(actor=admin, kind=kind, name=name, **fields)

    a = {
        "source": asset("data_source", "Warehouse"),
        "sales": asset(
            "dataset",
            "Sales",
            columns=[{"name": "region", "data_type": "varchar"}, {"name": "amount", "data_type": "numeric"}],
        ),
        "analysis": asset("analysis", "Sales reference", attributes={"is_reference": True}, owner=owner, version=1),
        "template": asset("template", "Sales template v1", version=1),
        "acme_sales": asset(
            "dataset",
            "Acme sales",
            customer=acme,
            columns=[{"name": "region", "data_type": "varchar"}, {"name": "amount", "data_type": "numeric"}],
        ),
        "globex_sales": asset(
            "dataset", "Globex sales", customer=globex, columns=[{"name": "region", "data_type": "varchar"}]
        ),
        "acme_dash": asset("dashboard", "Acme sales dashboard", customer=acme, owner=owner),
        "globex_dash": asset("dashboard", "Globex sales dashboard", customer=globex),
        "acme_visual": asset("visual", "Revenue table", customer=acme),
    }
    e = [
        ("source", "sales", "reads_from"),
        ("source", "acme_sales", "reads_from"),
        ("source", "globex_sales", "reads_from"),
        ("sales", "analysis", "uses_dataset"),
        ("analysis", "template", "template_of"),
        ("sales", "template", "uses_dataset"),
        ("template", "acme_dash", "created_from"),
        ("template", "globex_dash", "created_from"),
        ("acme_sales", "acme_dash", "uses_dataset"),
        ("globex_sales", "globex_dash", "uses_dataset"),
        ("acme_dash", "acme_visual", "contains"),
    ]
    for source, target, kind in e:
        edge_upsert(source=a[source], target=a[target], kind=kind, actor=admin)
    # an analyst who sees the BI domain but not Globex's assets (moved to a private domain)
    private = DomainFactory(name="Private", slug="private")
    for key in ("globex_dash", "globex_sales"):
        catalog.asset_update(asset=a[key], actor=admin, domain=private)
    analysts = Group.objects.create(name="analysts")
    grant_set(group=analysts, permission="view", domain=bi_domain, actor=admin)
    analyst = UserFactory(username="ana")
    analyst.groups.add(analysts)
    return {
        "admin": admin,
        "owner": owner,
        "analyst": analyst,
        "assets": a,
        "customers": {"acme": acme, "globex": globex},
    }
