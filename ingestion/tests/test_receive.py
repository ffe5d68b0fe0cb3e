"""The WSGI application (config.wsgi) serves the receiving endpoints straight from their views, and answers bad
requests to them the same way the rest of the API does."""

import gzip
import io
import json

import requests
from django.test import override_settings

from ingestion.models import ChangeEvent

from .conftest import cloudtrail


def created_dashboard(event_id: str) -> dict:
    return cloudtrail(
        "CreateDashboard",
        {"awsAccountId": "123456789012", "dashboardId": f"d-{event_id}", "name": f"Dashboard {event_id}"},
        event_id=event_id,
    )


def test_the_receiving_endpoints_skip_the_middleware_and_everything_else_keeps_it(app_server, quicksight_source):
    token = quicksight_source[1]
    received = requests.post(
        f"{app_server}/api/v1/events/",
        json=created_dashboard("e1"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert received.status_code == 202, received.text
    assert received.json()["events"][0]["status"] == "accepted"
    assert ChangeEvent.objects.get(pk=received.json()["events"][0]["id"]).event_type == "CreateDashboard"
    # the clickjacking middleware answers every request that passes through the stack; this one did not
    assert "X-Frame-Options" not in received.headers
    assert int(received.headers["Content-Length"]) == len(received.content)
    other = requests.get(f"{app_server}/api/v1/imports/", timeout=30)
    assert other.status_code in (401, 403)
    assert other.headers["X-Frame-Options"] == "DENY"


def test_a_batch_and_gzip_through_the_direct_route(app_server, quicksight_source):
    body = gzip.compress(json.dumps({"Records": [created_dashboard("b1")["detail"], {"eventName": 3}]}).encode())
    response = requests.post(
        f"{app_server}/api/v1/events/",
        data=body,
        headers={
            "Authorization": f"Bearer {quicksight_source[1]}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
        timeout=30,
    )
    assert response.status_code == 202, response.text
    assert response.json()["counts"] == {"accepted": 1, "duplicate": 0, "rejected": 1, "unknown": 0}


BAD_REQUESTS = [
    ("GET", "/api/v1/lineage", {}, None, 405, "GET is not allowed here; POST events"),
    ("POST", "/api/v1/events/", {}, b"{}", 401, "send the event source's token"),
    ("POST", "/api/v1/events/", {"Authorization": "Bearer a b"}, b"{}", 401, "use one header"),
    ("POST", "/api/v1/events/", {"Authorization": "Bearer cgi_nope"}, b"{}", 401, "the token is not valid"),
    ("POST", "/api/v1/lineage", {"Authorization": "Bearer {qs}"}, b"{}", 403, "belongs to a quicksight source"),
    ("POST", "/api/v1/events/", {"Authorization": "Bearer {qs}"}, b"", 400, "body: the body is empty"),
    ("POST", "/api/v1/events/", {"Authorization": "Bearer {qs}"}, b"{nope", 400, "body: not valid JSON"),
    ("POST", "/api/v1/events/", {"Authorization": "Bearer {qs}"}, b"[]", 400, "body: the batch is empty"),
    ("POST", "/api/v1/events/", {"Authorization": "Bearer {qs}"}, b"7", 400, "body: send an event object"),
    (
        "POST",
        "/api/v1/events/",
        {"Authorization": "Bearer {qs}", "Content-Encoding": "br"},
        b"{}",
        400,
        "body: Content-Encoding 'br' is not supported",
    ),
    ("POST", "/api/v1/events/", {"Authorization": "Bearer {qs}", "Host": "evil.example"}, b"{}", 400, "rejected"),
]


def test_bad_requests_get_a_4xx_that_says_what_is_wrong_and_store_nothing(app_server, quicksight_source):
    # one server for all the cases (each test of this module starts one on a fresh database)
    for method, path, headers, body, status, message in BAD_REQUESTS:
        case = f"{method} {path} {headers} {body!r}"
        headers = {name: value.replace("{qs}", quicksight_source[1]) for name, value in headers.items()}
        response = requests.request(method, f"{app_server}{path}", headers=headers, data=body, timeout=30)
        assert response.status_code == status, (case, response.text)
        assert message in response.json()["detail"], (case, response.text)
        if status == 401:
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="event sources"', case
        if status == 405:
            assert response.headers["Allow"] == "POST", case
    assert not ChangeEvent.objects.exists()


def test_a_body_over_the_upload_limit_is_a_413(app_server, quicksight_source):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = requests.post(
            f"{app_server}/api/v1/events/",
            data=json.dumps([created_dashboard(f"x{i}") for i in range(20)]),
            headers={"Authorization": f"Bearer {quicksight_source[1]}", "Content-Type": "application/json"},
            timeout=30,
        )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not ChangeEvent.objects.exists()


def test_with_https_required_a_plain_http_post_is_left_to_the_middleware_which_redirects_it():
    from ingestion.receive import Handler

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/events/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b"{}"),
        "CONTENT_LENGTH": "2",
        "CONTENT_TYPE": "application/json",
    }
    answered = []
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = Handler()(environ, lambda status, headers: answered.append((status, dict(headers))))
        response.close()
    status, headers = answered[0]
    assert status.startswith("301")
    assert headers["Location"] == "https://127.0.0.1/api/v1/events/"
