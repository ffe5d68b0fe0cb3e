"""The endpoints that receive events: `POST /api/v1/events/` (QuickSight change events) and `POST /api/v1/lineage`
(OpenLineage).

They take one request per event a pipeline or EventBridge sends, so they take most requests by far, and they need
none of the API's machinery: no session, CSRF token, user, content negotiation or pagination; only a source token,
a JSON body and one INSERT. So they are plain Django views, answering errors in the API's shape (`{"detail": ...}`
plus the field), and `Handler` (the WSGI application, see config/wsgi.py) calls them without resolving the URL or
running the middleware stack. That halves the CPU each request costs (README, "Ingestion at scale"). Through
Django's own handler (runserver, the test client) the same views answer the same way.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import DomainError

from . import services
from .choices import EventAnswer, SourceKind
from .models import EventSource

MAX_BATCH = 1000
MAX_INFLATED = 20 * 1024 * 1024
AUTHENTICATE = 'Bearer realm="event sources"'


def _error(error: DomainError) -> JsonResponse:
    response = JsonResponse(error.as_dict(), status=error.status_code)
    if error.status_code == 401:
        response["WWW-Authenticate"] = AUTHENTICATE
    return response


def _source(request: HttpRequest, kind: str) -> EventSource:
    """The active event source of `kind` whose token the request carries (`Authorization: Bearer <token>`)."""
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if not header or header[0].lower() != "bearer":
        raise DomainError("send the event source's token: Authorization: Bearer <token>", status_code=401)
    if len(header) != 2:
        raise DomainError("use one header: Authorization: Bearer <event source token>", status_code=401)
    return services.event_source_authenticate(token=header[1], kind=kind)


def _body_json(request: HttpRequest) -> Any:
    """The request body as JSON, inflated first when it is gzip (Content-Encoding or magic bytes)."""
    body = request.body
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").lower()
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, MAX_INFLATED)
        except (zlib.error, gzip.BadGzipFile, EOFError):
            raise DomainError("the body says it is gzip but is not valid gzip data", field="body") from None
        if inflater.unconsumed_tail:
            raise DomainError(f"the inflated body is larger than {MAX_INFLATED // 1_048_576} MiB", field="body")
    elif encoding not in ("", "identity"):
        raise DomainError(f"Content-Encoding {encoding!r} is not supported; send gzip or plain JSON", field="body")
    if not body:
        raise DomainError("the body is empty; send a JSON event", field="body")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DomainError(f"not valid JSON ({error})", field="body") from None


def _receiving(kind: str) -> Callable[[Callable[[HttpRequest, EventSource], HttpResponse]], Callable]:
    """Makes a receiving view: POST only, the host checked as Django's middleware would, the source authenticated,
    and every refusal answered as JSON with its status."""

    def decorate(answer: Callable[[HttpRequest, EventSource], HttpResponse]) -> Callable:
        @csrf_exempt
        def view(request: HttpRequest) -> HttpResponse:
            if request.method != "POST":
                response = JsonResponse({"detail": f"{request.method} is not allowed here; POST events"}, status=405)
                response["Allow"] = "POST"
                return response
            try:
                request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it on every other request
                return answer(request, _source(request, kind))
            except DomainError as error:
                return _error(error)
            except RequestDataTooBig:
                return _error(DomainError("the body is too large; send fewer events per request", status_code=413))
            except SuspiciousOperation as error:
                return _error(DomainError(f"rejected request: {error}"))

        view.__doc__ = answer.__doc__
        return view

    return decorate


@_receiving(SourceKind.QUICKSIGHT)
def events_view(request: HttpRequest, source: EventSource) -> HttpResponse:
    """Receives QuickSight change events: one EventBridge event, a list of them, or `{"Records": [...]}` of
    CloudTrail records. Each is checked, stored and deduplicated by its id, and answered at once (202): accepted
    (applied shortly; follow it at `/api/v1/ingestion/events/{id}/`), duplicate, rejected with the reason, or
    unknown type. A single malformed event is a 400 naming the wrong field."""
    data = _body_json(request)
    single = False
    if isinstance(data, dict) and isinstance(data.get("Records"), list):
        payloads = data["Records"]
    elif isinstance(data, list):
        payloads = data
    elif isinstance(data, dict):
        payloads, single = [data], True
    else:
        raise DomainError('send an event object, a list of events or {"Records": [...]}', field="body")
    if not payloads:
        raise DomainError("the batch is empty", field="body")
    if len(payloads) > MAX_BATCH:
        raise DomainError(f"at most {MAX_BATCH} events per request; split the batch", field="body")
    answers = services.events_receive(source=source, payloads=payloads)
    if single and answers[0].status == EventAnswer.REJECTED:
        return JsonResponse({"detail": answers[0].reason, "id": answers[0].id}, status=400)
    counts = Counter(answer.status for answer in answers)
    body = {
        "received": len(answers),
        "counts": {value: counts.get(value, 0) for value in EventAnswer.values},
        "events": [asdict(answer) for answer in answers],
    }
    return JsonResponse(body, status=202)


@_receiving(SourceKind.OPENLINEAGE)
def openlineage_view(request: HttpRequest, source: EventSource) -> HttpResponse:
    """The OpenLineage endpoint (RunEvent, DatasetEvent, JobEvent; plain or gzip): checks and stores the event and
    answers 201 like Marquez, also for a retried event (`duplicate`); the event is applied shortly after. An
    invalid event is a 400 naming the wrong field."""
    answer = services.openlineage_receive(source=source, event=_body_json(request))
    return JsonResponse({"id": answer.id, "status": answer.status}, status=201)


# path -> view, as routed in ingestion/api/urls.py under /api/v1/
RECEIVING = {"/api/v1/events/": events_view, "/api/v1/lineage": openlineage_view}


class Handler(WSGIHandler):
    """Django's WSGI handler, except that a request for one of the receiving endpoints goes straight to its view
    (no URL resolution, no middleware: they use neither sessions, CSRF, users nor messages). Everything Django does
    around a request still happens: the request_started / request_finished signals (database connections are
    recycled as usual) and closing the request."""

    def __init__(self) -> None:
        super().__init__()
        self._receiving = {path: convert_exception_to_response(view) for path, view in RECEIVING.items()}

    def get_response(self, request: HttpRequest) -> HttpResponse:
        view = self._receiving.get(request.path_info)
        if view is None or (settings.SECURE_SSL_REDIRECT and not request.is_secure()):
            return super().get_response(request)  # the middleware redirects to https
        response = view(request)
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))  # as CommonMiddleware sets it
        response._resource_closers.append(request.close)
        return response
