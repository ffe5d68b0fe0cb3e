import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Asset, Column, FolderMembership
from ingestion.models import JoinEvidence
from lineage.models import ColumnEdge, Edge

from . import bundles
from .conftest import arn

pytestmark = pytest.mark.django_db


def run_import(api, bundle, capture):
    with capture(execute=True):
        response = api.post("/api/v1/imports/", bundle, format="json")
    assert response.status_code == 202, response.json()
    return api.get(f"/api/v1/imports/{response.json()['id']}/").json()


def sources_of(target: Asset, kind: str) -> set[str]:
    return set(
        Edge.objects.filter(target=target, kind=kind, valid_to__isnull=True).values_list(
            "source__external_id", flat=True
        )
    )


def test_a_bundle_imports_assets_lineage_columns_joins_and_placeholders(admin_api, django_capture_on_commit_callbacks):
    # when
    job = run_import(admin_api, bundles.bundle(), django_capture_on_commit_callbacks)
    # then
    assert job["status"] == "succeeded"
    assert (job["total"], job["processed"], job["progress"]) == (8, 8, 1.0)
    assert (job["created"], job["updated"], job["unchanged"], job["rejected"]) == (7, 0, 0, 1)
    assert job["report"]["rejected"] == [{"path": "Dashboards[1]", "reason": "Dashboards[1].Name: is missing or empty"}]
    assert "DataSets[1]" in job["report"]["created"]

    source = Asset.objects.get(kind="data_source")
    assert source.attributes == {
        "arn": bundles.SOURCE,
        "type": "postgresql",
        "host": "db.internal",
        "database": "sales",
    }
    orders = Asset.objects.get(kind="dataset", external_id=arn("dataset", "orders"))
    assert orders.attributes["import_mode"] == "spice"
    assert list(orders.columns.values_list("name", flat=True)) == ["order_id", "customer_id", "amount", "region"]
    assert sources_of(orders, "reads_from") == {
        bundles.SOURCE,
        f"{bundles.SOURCE}/public.orders",
        f"{bundles.SOURCE}/public.customers",
    }
    [join] = JoinEvidence.objects.all()
    assert (join.left.name, join.right.name, join.join_type) == ("public.orders", "public.customers", "LEFT")
    assert join.column_pairs == [["customer_id", "id"]]
    assert join.dataset == orders

    revenue = Asset.objects.get(kind="dataset", external_id=arn("dataset", "revenue"))
    assert revenue.attributes["sql"].startswith("SELECT c.region")
    assert sources_of(revenue, "reads_from") == {
        bundles.SOURCE,
        f"{bundles.SOURCE}/public.orders",
        f"{bundles.SOURCE}/public.customers",
    }
    column_lineage = set(
        ColumnEdge.objects.filter(target__asset=revenue).values_list(
            "source__asset__name", "source__name", "target__name"
        )
    )
    assert column_lineage == {("public.customers", "region", "region"), ("public.orders", "amount", "revenue")}

    template = Asset.objects.get(kind="template")
    assert template.version == 2
    assert template.attributes["dataset_configurations"] == [
        {
            "placeholder": "orders",
            "columns": [{"name": "region", "data_type": "string"}, {"name": "amount", "data_type": "decimal"}],
        }
    ]
    assert sources_of(template, "template_of") == {arn("analysis", "sales-ref")}
    analysis = Asset.objects.get(kind="analysis")
    assert analysis.name == "Sales reference"
    assert analysis.attributes["sheets"] == ["Overview"]
    dashboard = Asset.objects.get(kind="dashboard")
    assert sources_of(dashboard, "created_from") == {arn("template", "sales")}
    assert sources_of(dashboard, "uses_dataset") == {arn("dataset", "revenue")}
    assert dashboard.attributes["published_version"] == 4
    assert FolderMembership.objects.filter(folder__kind="folder", asset=dashboard).exists()
    assert dashboard.history.first().history_source == "import"


def test_a_join_seen_in_a_dataset_becomes_an_observed_relationship(admin_api, django_capture_on_commit_callbacks):
    from recommender.models import Relationship

    # when a dataset joining orders to customers is imported, twice
    run_import(admin_api, bundles.bundle(), django_capture_on_commit_callbacks)
    run_import(admin_api, bundles.bundle(), django_capture_on_commit_callbacks)
    # then the knowledge graph holds the join once, as observed, with the ON clause's columns
    relationship = Relationship.objects.get()
    assert (relationship.from_asset.name, relationship.to_asset.name) == ("public.orders", "public.customers")
    assert relationship.key_columns == [{"from": "customer_id", "to": "id"}]
    assert (relationship.source, relationship.observations) == ("observed", 1)


def test_importing_the_same_bundle_twice_changes_nothing(admin_api, django_capture_on_commit_callbacks):
    run_import(admin_api, bundles.bundle(), django_capture_on_commit_callbacks)
    counts = (Asset.objects.count(), Edge.objects.count(), ColumnEdge.objects.count(), Column.objects.count())
    history = Asset.history.count()
    # when
    job = run_import(admin_api, bundles.bundle(), django_capture_on_commit_callbacks)
    # then
    assert (job["created"], job["updated"], job["unchanged"], job["rejected"]) == (0, 0, 7, 1)
    assert (Asset.objects.count(), Edge.objects.count(), ColumnEdge.objects.count(), Column.objects.count()) == counts
    assert Asset.history.count() == history


def test_a_changed_item_is_updated_and_upstream_changes_end_old_edges(admin_api, django_capture_on_commit_callbacks):
    run_import(admin_api, bundles.bundle(), django_capture_on_commit_callbacks)
    changed = bundles.dashboard(name="Acme sales (new)")
    changed["Dashboard"]["Version"]["DataSetArns"] = [arn("dataset", "orders")]
    # when
    job = run_import(admin_api, {"Dashboards": [changed]}, django_capture_on_commit_callbacks)
    # then
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 1, 0)
    dashboard = Asset.objects.get(kind="dashboard")
    assert dashboard.name == "Acme sales (new)"
    assert sources_of(dashboard, "uses_dataset") == {arn("dataset", "orders")}
    assert Edge.objects.get(target=dashboard, source__external_id=arn("dataset", "revenue")).valid_to is not None


def test_an_unparseable_custom_sql_is_noted_and_the_dataset_still_imports(
    admin_api, django_capture_on_commit_callbacks
):
    dataset = bundles.sql_dataset()
    dataset["DataSet"]["PhysicalTableMap"]["pt-sql"]["CustomSql"]["SqlQuery"] = "SELEC region FROM"
    job = run_import(admin_api, {"DataSets": [dataset]}, django_capture_on_commit_callbacks)
    assert job["created"] == 1
    assert "not parsed" in job["report"]["notes"][0]["note"]


def test_a_bundle_file_can_be_uploaded(admin_api, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("bundle.json", json.dumps(bundles.bundle()).encode(), "application/json")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/imports/", {"bundle": upload}, format="multipart")
    assert response.status_code == 202
    assert admin_api.get(f"/api/v1/imports/{response.json()['id']}/").json()["created"] == 7


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ([1, 2], "bundle: the bundle must be a JSON object"),
        ({"Dashbords": []}, "bundle.Dashbords: unknown section 'Dashbords'"),
        ({"Dashboards": {}}, "bundle.Dashboards: must be a list"),
        ({"Dashboards": []}, "bundle: the bundle holds no items"),
    ],
)
def test_a_malformed_bundle_is_a_400(admin_api, bundle, message):
    response = admin_api.post("/api/v1/imports/", bundle, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)


def test_imports_are_listed_newest_first(admin_api, django_capture_on_commit_callbacks):
    first = run_import(admin_api, {"DataSources": [bundles.data_source()]}, django_capture_on_commit_callbacks)
    second = run_import(admin_api, {"DataSources": [bundles.data_source()]}, django_capture_on_commit_callbacks)
    listed = admin_api.get("/api/v1/imports/").json()["results"]
    assert [job["id"] for job in listed] == [second["id"], first["id"]]
    assert "report" not in listed[0]
