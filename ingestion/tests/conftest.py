import pytest
from rest_framework.test import APIClient

from catalog.tests.factories import UserFactory
from ingestion import services

ACCOUNT = "123456789012"
REGION = "eu-west-1"


def arn(resource: str, resource_id: str) -> str:
    return f"arn:aws:quicksight:{REGION}:{ACCOUNT}:{resource}/{resource_id}"


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True)


@pytest.fixture
def admin_api(admin):
    client = APIClient()
    client.force_authenticate(admin)
    return client


@pytest.fixture
def quicksight_source(db):
    source, token = services.event_source_create(name="EventBridge prod", kind="quicksight", actor=None)
    return source, token


@pytest.fixture
def events_api(quicksight_source):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {quicksight_source[1]}")
    return client


@pytest.fixture
def lineage_source(db):
    return services.event_source_create(name="Airflow", kind="openlineage", actor=None)


def cloudtrail(
    name: str, params: dict, *, event_id: str, time: str = "2026-03-01T10:00:00Z", response: dict | None = None
) -> dict:
    """An EventBridge event carrying a CloudTrail record of a QuickSight call, as AWS delivers it."""
    return {
        "version": "0",
        "id": f"eb-{event_id}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.quicksight",
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventTime": time,
            "eventSource": "quicksight.amazonaws.com",
            "eventName": name,
            "awsRegion": REGION,
            "recipientAccountId": ACCOUNT,
            "requestParameters": params,
            "responseElements": response or {},
            "eventID": event_id,
            "eventType": "AwsApiCall",
        },
    }


def native(detail_type: str, detail: dict, *, event_id: str, resources: list[str], time: str) -> dict:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": "aws.quicksight",
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": resources,
        "detail": detail,
    }


@pytest.fixture(autouse=True)
def apply_inline(settings):
    """Events are applied within the receiving request here; tests/e2e applies them with a real Celery worker."""
    settings.INGESTION_APPLY_INLINE = True


@pytest.fixture
def app_server(transactional_db):
    """The production WSGI application (config.wsgi: Django's handler with the receiving endpoints' direct route)
    served over HTTP on a free port, so clients talk to exactly what gunicorn serves."""
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    from config.wsgi import application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(application)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
