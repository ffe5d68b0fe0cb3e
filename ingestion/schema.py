"""The OpenAPI description of the receiving endpoints (ingestion/receive.py). They are plain Django views, which
drf-spectacular does not see, so this postprocessing hook adds them to the generated schema."""

from __future__ import annotations

from typing import Any

from .choices import EventAnswer
from .receive import RECEIVING, events_view, openlineage_view

_REF = "#/components/schemas/"
_ERROR = {"description": "what is wrong", "content": {"application/json": {"schema": {"$ref": _REF + "Problem"}}}}

COMPONENTS: dict[str, dict[str, Any]] = {
    "EventAnswerEnum": {
        "type": "string",
        "enum": list(EventAnswer.values),
        "description": "\n".join(f"* `{value}` - {label}" for value, label in EventAnswer.choices),
    },
    "EventReceived": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "description": "the stored event; its status shows once it is applied"},
            "event_key": {"type": "string"},
            "status": {"$ref": _REF + "EventAnswerEnum"},
            "reason": {"type": "string"},
        },
        "required": ["id", "event_key", "status", "reason"],
    },
    "EventsReceived": {
        "type": "object",
        "properties": {
            "received": {"type": "integer"},
            "counts": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "events per answer",
            },
            "events": {"type": "array", "items": {"$ref": _REF + "EventReceived"}},
        },
        "required": ["received", "counts", "events"],
    },
    "OpenLineageResult": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "description": "the stored event; its status shows once it is applied"},
            "status": {"$ref": _REF + "EventAnswerEnum"},
        },
        "required": ["id", "status"],
    },
    "Problem": {
        "type": "object",
        "properties": {"detail": {"type": "string", "description": "what is wrong and what to do"}},
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "required": ["detail"],
    },
}


def _operation(view, *, operation_id: str, tag: str, status: str, answer: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "description": " ".join(view.__doc__.split()),
            "tags": [tag],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}},
            },
            "security": [{"eventSourceToken": []}],
            "responses": {
                status: {"description": "", "content": {"application/json": {"schema": {"$ref": _REF + answer}}}},
                "400": _ERROR,
                "401": _ERROR,
                "403": _ERROR,
                "413": _ERROR,
                "503": _ERROR,
            },
        }
    }


def receiving_endpoints(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: adds `POST /api/v1/events/` and `POST /api/v1/lineage`."""
    paths = {
        events_view: _operation(
            events_view, operation_id="events_create", tag="events", status="202", answer="EventsReceived"
        ),
        openlineage_view: _operation(
            openlineage_view, operation_id="lineage_create", tag="lineage", status="201", answer="OpenLineageResult"
        ),
    }
    for path, view in RECEIVING.items():
        result.setdefault("paths", {})[path] = paths[view]
    components = result.setdefault("components", {})
    for name, schema in COMPONENTS.items():
        components.setdefault("schemas", {}).setdefault(name, schema)
    components.setdefault("securitySchemes", {})["eventSourceToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "an event source token (issued on the ingestion page)",
    }
    result["paths"] = dict(sorted(result["paths"].items()))
    return result
