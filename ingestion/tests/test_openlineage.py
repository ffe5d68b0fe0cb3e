"""The OpenLineage endpoint, driven by the real `openlineage-python` client over HTTP, and its validation."""

import gzip
import json
import uuid
from datetime import UTC, datetime

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import DatasetEvent, InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpCompression, HttpConfig, HttpTransport
from rest_framework.test import APIClient

from catalog.models import Asset
from ingestion.models import ChangeEvent
from lineage.models import ColumnEdge, Edge

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python"


def client_for(url: str, token: str, *, compression: HttpCompression | None = None) -> OpenLineageClient:
    config = HttpConfig(url=url, auth=ApiKeyTokenProvider({"api_key": token}), compression=compression, timeout=30)
    return OpenLineageClient(transport=HttpTransport(config))


def schema(*names: str) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=name, type="VARCHAR") for name in names]
    )


def run_event(run_id: str, state: RunState = RunState.COMPLETE) -> RunEvent:
    lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            "region": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace="postgres://db:5432",
                        name="sales.public.customers",
                        field="region",
                        transformations=[column_lineage_dataset.Transformation(type="DIRECT", subtype="IDENTITY")],
                    )
                ]
            ),
            "revenue": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace="postgres://db:5432",
                        name="sales.public.orders",
                        field="amount",
                        transformations=[column_lineage_dataset.Transformation(type="DIRECT", subtype="AGGREGATION")],
                    )
                ]
            ),
        }
    )
    return RunEvent(
        eventType=state,
        eventTime=datetime(2026, 3, 1, 12, 0, tzinfo=UTC).isoformat(),
        run=Run(runId=run_id),
        job=Job(namespace="airflow", name="daily.revenue_by_region"),
        producer=PRODUCER,
        inputs=[
            InputDataset(
                namespace="postgres://db:5432", name="sales.public.orders", facets={"schema": schema("id", "amount")}
            ),
            InputDataset(
                namespace="postgres://db:5432", name="sales.public.customers", facets={"schema": schema("id", "region")}
            ),
        ],
        outputs=[
            OutputDataset(
                namespace="postgres://db:5432",
                name="marts.public.revenue",
                facets={"schema": schema("region", "revenue"), "columnLineage": lineage},
            )
        ],
    )


@pytest.fixture
def ol_token(transactional_db):
    from ingestion import services

    return services.event_source_create(name="Airflow", kind="openlineage", actor=None)[1]


@pytest.mark.parametrize("compression", [None, HttpCompression.GZIP], ids=["plain", "gzip"])
def test_the_openlineage_python_client_posts_run_events_that_become_lineage(app_server, ol_token, compression):
    client = client_for(app_server, ol_token, compression=compression)
    run_id = str(uuid.uuid4())
    # when
    client.emit(run_event(run_id, RunState.START))
    client.emit(run_event(run_id, RunState.COMPLETE))
    client.emit(run_event(run_id, RunState.COMPLETE))  # a retry of the same event
    # then
    job = Asset.objects.get(external_id="job:airflow/daily.revenue_by_region")
    assert job.kind == "data_product"
    assert job.tags.filter(name="openlineage-job").exists()
    output = Asset.objects.get(external_id="postgres://db:5432/marts.public.revenue")
    assert list(output.columns.values_list("name", flat=True)) == ["region", "revenue"]
    assert set(Edge.objects.filter(target=job, kind="derived_from").values_list("source__name", flat=True)) == {
        "sales.public.orders",
        "sales.public.customers",
    }
    [produced] = Edge.objects.filter(target=output, kind="derived_from")
    assert produced.source == job
    assert produced.valid_from == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert set(
        ColumnEdge.objects.filter(target__asset=output).values_list(
            "source__asset__name", "source__name", "target__name", "subtype"
        )
    ) == {
        ("sales.public.customers", "region", "region", "IDENTITY"),
        ("sales.public.orders", "amount", "revenue", "AGGREGATION"),
    }
    assert list(ChangeEvent.objects.order_by("id").values_list("status", flat=True)) == [
        "applied",
        "applied",
        "duplicate",
    ]


def test_a_dataset_event_fills_the_dataset_schema(app_server, ol_token):
    client = client_for(app_server, ol_token)
    event = DatasetEvent(
        eventTime="2026-03-01T12:00:00+00:00",
        producer=PRODUCER,
        dataset=InputDataset(namespace="s3://lake", name="raw/events", facets={"schema": schema("ts", "kind")}),
    )
    client.emit(event)
    asset = Asset.objects.get(external_id="s3://lake/raw/events")
    assert list(asset.columns.values_list("name", flat=True)) == ["ts", "kind"]


def test_the_client_fails_loudly_on_a_wrong_token(app_server, ol_token):
    client = client_for(app_server, "cgi_wrong")
    with pytest.raises(requests.HTTPError) as raised:
        client.emit(run_event(str(uuid.uuid4())))
    assert raised.value.response.status_code == 401


def base_event() -> dict:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-03-01T12:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": "job"},
        "inputs": [],
        "outputs": [],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("eventTime"), "eventTime"),
        (lambda e: e.update(eventTime="yesterday"), "eventTime"),
        (lambda e: e["run"].update(runId="not-a-uuid"), "run.runId"),
        (lambda e: e["job"].pop("name"), "job.name"),
        (lambda e: e.update(eventType="DONE"), "eventType"),
        (lambda e: e.update(inputs=[{"namespace": "x"}]), "inputs[0].name"),
        (lambda e: e.pop("producer"), "producer"),
    ],
)
def test_an_invalid_event_is_a_400_naming_the_field(db, change, field):
    from ingestion import services

    token = services.event_source_create(name="OL", kind="openlineage", actor=None)[1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    event = base_event()
    change(event)
    response = api.post("/api/v1/lineage", event, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: "), response.json()
    assert ChangeEvent.objects.get().status == "rejected"


def test_gzip_and_garbage_bodies(db):
    from ingestion import services

    token = services.event_source_create(name="OL", kind="openlineage", actor=None)[1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = gzip.compress(json.dumps(base_event()).encode())
    response = api.generic(
        "POST", "/api/v1/lineage", body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 201
    response = api.generic(
        "POST", "/api/v1/lineage", b"not gzip", content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 400
    assert "not valid gzip" in response.json()["detail"]


def test_concurrent_events_about_the_same_new_datasets_all_apply(app_server, ol_token):
    """Requests racing to create the same assets: the loser applies its event again once the winner committed."""
    from concurrent.futures import ThreadPoolExecutor

    def post(index: int) -> int:
        event = base_event()
        event["job"]["name"] = f"job_{index}"
        event["inputs"] = [{"namespace": "pg", "name": "shared.orders"}, {"namespace": "pg", "name": "shared.items"}]
        event["outputs"] = [{"namespace": "pg", "name": "shared.mart"}]
        response = requests.post(
            f"{app_server}/api/v1/lineage", json=event, headers={"Authorization": f"Bearer {ol_token}"}, timeout=60
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(post, range(12)))
    assert statuses == [201] * 12
    mart = Asset.objects.get(external_id="pg/shared.mart")
    assert Edge.objects.filter(target=mart, kind="derived_from").count() == 12
    assert set(ChangeEvent.objects.values_list("status", flat=True)) == {"applied"}
