"""EventBridge / CloudTrail envelopes: what an incoming event is, its id, its time and its plan.

Pure: a dict in, an `Envelope` out. The id (`key`) is what deduplicates deliveries: a CloudTrail record keeps its
`eventID` whether it arrives through EventBridge or elsewhere, so that id is preferred for CloudTrail records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from .changes import ParseError, Plan, ci_get
from .choices import EventFormat
from .cloudtrail import cloudtrail_plan
from .quicksight import UnknownEvent, native_plan

CLOUDTRAIL_DETAIL_TYPES = ("aws api call via cloudtrail", "aws service event via cloudtrail")


@dataclass
class Envelope:
    key: str
    format: str
    event_type: str
    at: datetime | None
    body: dict[str, Any]


def _time(value: Any, path: str) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ParseError("must be an ISO 8601 time with a zone, e.g. 2026-01-31T12:00:00Z", path=path)
    return parsed


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def envelope_read(payload: Any) -> Envelope:
    """Classifies one event; raises ParseError (with the envelope, for storing) when it is malformed."""
    if not isinstance(payload, dict):
        raise ParseError("each event must be a JSON object")
    detail_type = str(ci_get(payload, "detail-type") or "")
    source = str(ci_get(payload, "source") or "")
    event_id = ci_get(payload, "id")
    if detail_type.lower() in CLOUDTRAIL_DETAIL_TYPES:
        record = ci_get(payload, "detail")
        if not isinstance(record, dict):
            raise ParseError("must be the CloudTrail record (an object)", path="detail")
        key = ci_get(record, "eventID") or event_id
        if not isinstance(key, str) or not key:
            raise ParseError("is missing (and so is the event id)", path="detail.eventID")
        at = _time(ci_get(record, "eventTime") or ci_get(payload, "time"), "detail.eventTime")
        return Envelope(f"ct:{key}", EventFormat.CLOUDTRAIL, str(ci_get(record, "eventName") or ""), at, record)
    if "eventName" in payload and "eventID" in payload:  # a CloudTrail record delivered on its own
        at = _time(ci_get(payload, "eventTime"), "eventTime")
        return Envelope(f"ct:{payload['eventID']}", EventFormat.CLOUDTRAIL, str(payload["eventName"]), at, payload)
    if not isinstance(event_id, str) or not event_id:
        raise ParseError("is missing: every EventBridge event has an id", path="id")
    at = _time(ci_get(payload, "time"), "time")
    if source == "aws.quicksight":
        return Envelope(f"eb:{event_id}", EventFormat.QUICKSIGHT, detail_type[:200], at, payload)
    return Envelope(f"eb:{event_id}", EventFormat.UNKNOWN, (detail_type or source)[:200], at, payload)


def envelope_key_fallback(payload: Any) -> str:
    """A key for a malformed event, so that its rejection is stored once per distinct payload."""
    event_id = ci_get(payload, "id") if isinstance(payload, dict) else None
    return f"eb:{event_id}" if isinstance(event_id, str) and event_id else f"raw:{_digest(payload)}"


def envelope_plan(envelope: Envelope) -> Plan:
    """The plan of a classified event; raises UnknownEvent for types that change nothing."""
    assert envelope.at is not None
    if envelope.format == EventFormat.CLOUDTRAIL:
        return cloudtrail_plan(envelope.body, at=envelope.at)
    if envelope.format == EventFormat.QUICKSIGHT:
        return native_plan(envelope.body, at=envelope.at)
    raise UnknownEvent(f"events from source {ci_get(envelope.body, 'source')!r} are not QuickSight events")
