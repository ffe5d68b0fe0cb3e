"""Writes of ingestion: event sources and tokens, receiving events, applying plans, bulk imports.

Every change to assets, columns, folders and edges goes through the catalog's and lineage's services; this module
decides what to change (comparing first, so unchanged input writes nothing) and records what it did.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

from catalog.choices import KINDS_WITH_COLUMNS, ChangeSource
from catalog.models import Asset
from config.db import rows_update
from config.errors import DomainError

from .changes import AssetChange, Membership, ParseError, Plan, Ref
from .choices import EventAnswer, EventFormat, EventStatus, ImportStatus, ItemOutcome
from .events import envelope_key_fallback, envelope_plan, envelope_read
from .models import (
    AssetEventState,
    ChangeEvent,
    EventSource,
    ImportedItem,
    ImportJob,
    JoinEvidence,
    MembershipEventState,
)
from .quicksight import UnknownEvent, arn_id, fingerprint
from .signals import join_observed

TOKEN_PREFIX = "cgi_"

# ---------------------------------------------------------------------------------------------------------------
# Event sources


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def event_source_create(*, name: str, kind: str, actor: AbstractBaseUser | None) -> tuple[EventSource, str]:
    """Creates a source and returns it with its token; the token is not stored and cannot be shown again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    source = EventSource(
        name=name.strip(),
        kind=kind,
        token_hash=token_hash(token),
        token_hint=token[:10],
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    source.full_clean()
    source.save()
    return source, token


@transaction.atomic
def event_source_rotate(*, source: EventSource) -> str:
    """Issues a new token for the source; the old one stops working at once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    source.token_hash = token_hash(token)
    source.token_hint = token[:10]
    source.save(update_fields=["token_hash", "token_hint", "updated_at"])
    _source_cache_clear()
    return token


@transaction.atomic
def event_source_set_active(*, source: EventSource, active: bool) -> EventSource:
    source.is_active = active
    source.save(update_fields=["is_active", "updated_at"])
    _source_cache_clear()
    return source


# Sources by token hash, for a few seconds: every event request authenticates, and the source rarely changes.
# A rotated or deactivated token is dropped here at once and from other processes within SOURCE_CACHE_SECONDS.
SOURCE_CACHE_SECONDS = 5.0
SOURCE_CACHE_SIZE = 256
_source_cache: dict[str, tuple[float, EventSource | None]] = {}
_source_cache_lock = threading.Lock()


def _source_cache_clear() -> None:
    with _source_cache_lock:
        _source_cache.clear()


def _source_by_hash(digest: str) -> EventSource | None:
    now = time.monotonic()
    hit = _source_cache.get(digest)
    if hit is not None and hit[0] > now:
        return hit[1]
    source = EventSource.objects.filter(token_hash=digest).first()
    with _source_cache_lock:
        if len(_source_cache) >= SOURCE_CACHE_SIZE:
            _source_cache.clear()
        _source_cache[digest] = (now + SOURCE_CACHE_SECONDS, source)
    return source


def event_source_authenticate(*, token: str, kind: str) -> EventSource:
    """The active source of `kind` holding this token, else a 401 (unknown token) or 403 (other endpoint)."""
    source = _source_by_hash(token_hash(token))
    if source is None or not source.is_active:
        raise DomainError("the token is not valid; ask an administrator for an event source token", status_code=401)
    if source.kind != kind:
        raise DomainError(
            f"this token belongs to a {source.kind} source; it cannot send {kind} events", status_code=403
        )
    now = timezone.now()
    if source.last_used_at is None or (now - source.last_used_at).total_seconds() > 60:
        source.last_used_at = now  # the cached copy too, so the next requests do not write again
        EventSource.objects.filter(pk=source.pk).update(last_used_at=now)  # at most once a minute: no hot row
    return source


# ---------------------------------------------------------------------------------------------------------------
# Applying plans


@dataclass
class ApplyResult:
    created: set[int] = field(default_factory=set)
    updated: set[int] = field(default_factory=set)
    stale: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first: int | None = None  # the asset the input was about

    @property
    def asset_ids(self) -> list[int]:
        return sorted(self.created | self.updated)

    def outcome_of(self, asset_id: int | None) -> str:
        if asset_id in self.created:
            return ItemOutcome.CREATED
        if self.created or self.updated:
            return ItemOutcome.UPDATED
        return ItemOutcome.UNCHANGED


def _placeholder_name(ref: Ref) -> str:
    kind, external_id = ref
    if kind == "data_product" and "/" in external_id:
        return external_id.rsplit("/", 1)[-1][:300]
    return arn_id(external_id)[:300] or external_id[:300]


def _fetch(refs: Iterable[Ref]) -> dict[Ref, Asset]:
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, external_id in refs:
        by_kind[kind].add(external_id)
    if not by_kind:
        return {}
    q = Q()
    for kind, ids in by_kind.items():
        q |= Q(kind=kind, external_id__in=ids)
    return {(a.kind, a.external_id): a for a in Asset.objects.filter(q)}


def _refs_of(plan: Plan) -> set[Ref]:
    refs: set[Ref] = set()
    for change in plan.assets:
        refs.add(change.ref)
        for sources in [*change.incoming.values(), *change.incoming_add.values()]:
            refs.update(sources)
    for link in plan.column_links:
        refs.update((link.source, link.target))
    for membership in plan.memberships:
        refs.update((membership.folder, membership.member))
    for join in plan.joins:
        refs.update((join.dataset, join.left, join.right))
    return refs


def _attribute_update(asset: Asset | None, change: AssetChange) -> dict[str, Any]:
    current = dict(asset.attributes) if asset is not None else {}
    given = change.attributes or {}
    merged = dict(current)
    for key, value in given.items():
        if key == "aliases" and isinstance(value, list):
            merged[key] = sorted(set(current.get("aliases", [])) | set(value))
        else:
            merged[key] = value
    return merged


def _columns_target(asset: Asset | None, change: AssetChange, current: list[dict[str, Any]]) -> list | None:
    """The schema to write, or None when the asset's columns already are what the change asks."""
    if change.columns is None or change.ref[0] not in KINDS_WITH_COLUMNS:
        return None
    if change.merge_columns:
        have = {c["name"] for c in current}
        extra = [c for c in change.columns if c["name"] not in have]
        if not extra:
            return None
        return [*[{"name": c["name"], "data_type": c["data_type"]} for c in current], *extra]
    wanted = [(c["name"], c.get("data_type", "")) for c in change.columns]
    if wanted == [(c["name"], c["data_type"]) for c in current]:
        return None
    return [{"name": name, "data_type": data_type} for name, data_type in wanted]


def _validation_message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    return " ".join(error.messages)


@transaction.atomic
def plan_apply(*, plan: Plan, actor: AbstractBaseUser | None, via: str, at: datetime | None = None) -> ApplyResult:
    """Carries out a plan; unchanged assets are not written, and a change older than the asset's newest applied
    event is skipped (listed in `stale`) so late deliveries never regress state. Raises DomainError on bad input."""
    from .bulk import plans_apply_bulk

    at = at or plan.at
    result = ApplyResult(notes=list(plan.notes))
    applied = list(plan.assets)
    memberships = list(plan.memberships)
    if at is not None:
        existing = _fetch({c.ref for c in plan.assets} | _membership_refs(plan.memberships))
        # events for the same asset arriving together are applied one after the other (locks taken in id order,
        # so two events never wait for each other crosswise), each seeing the other's event time
        changed = [existing[c.ref].pk for c in plan.assets if c.ref in existing]
        _lock(asset_ids=changed)
        states = dict(AssetEventState.objects.filter(asset_id__in=changed).values_list("asset_id", "last_event_at"))
        applied = []
        for change in plan.assets:
            asset = existing.get(change.ref)
            if asset is not None and asset.pk in states and states[asset.pk] > at:
                result.stale.append(f"{change.ref[1]} changed at {states[asset.pk].isoformat()}, after this event")
            else:
                applied.append(change)
        memberships, stale = _memberships_fresh(
            plan.memberships, at=at, assets=existing, states=_membership_states(plan.memberships, existing)
        )
        result.stale += stale
    # what stale changes would have touched is left alone
    stale_refs = {c.ref for c in plan.assets} - {c.ref for c in applied}
    live = Plan(
        at=plan.at,
        assets=applied,
        column_links=[link for link in plan.column_links if link.target not in stale_refs],
        memberships=[m for m in memberships if not {m.folder, m.member} & stale_refs],
        joins=[join for join in plan.joins if join.dataset not in stale_refs],
        exact_folders=[ref for ref in plan.exact_folders if ref not in stale_refs],
    )
    done = plans_apply_bulk(plans=[live], actor=actor, via=via, at=at)
    result.notes += done.notes
    result.created = {done.ids[ref] for ref in done.created}
    result.updated = {done.ids[ref] for ref in done.changed if ref in done.ids} - result.created
    if applied and applied[0].ref in done.ids:
        result.first = done.ids[applied[0].ref]
    if at is not None:
        _states_advance_many(newest={done.ids[c.ref]: at for c in applied if c.ref in done.ids})
        _membership_states_advance(newest=_membership_times([live], done.ids))
    return result


def _membership_refs(memberships: Iterable[Membership]) -> set[Ref]:
    return {ref for m in memberships for ref in (m.folder, m.member)}


def _membership_states(memberships: list[Membership], assets: dict[Ref, Asset]) -> dict[tuple[int, int], datetime]:
    """The newest applied event time of each of these (catalogued) folder memberships."""
    pairs = {
        (assets[m.folder].pk, assets[m.member].pk) for m in memberships if m.folder in assets and m.member in assets
    }
    if not pairs:
        return {}
    rows = MembershipEventState.objects.filter(
        folder_id__in={f for f, _ in pairs}, member_id__in={m for _, m in pairs}
    ).values_list("folder_id", "member_id", "last_event_at")
    return {(folder, member): at for folder, member, at in rows if (folder, member) in pairs}


def _memberships_fresh(
    memberships: list[Membership],
    *,
    at: datetime,
    assets: dict[Ref, Asset],
    states: dict[tuple[int, int], datetime],
) -> tuple[list[Membership], list[str]]:
    """The memberships an event of time `at` may still change, and why each of the others is stale."""
    fresh: list[Membership] = []
    stale: list[str] = []
    for m in memberships:
        folder, member = assets.get(m.folder), assets.get(m.member)
        newest = states.get((folder.pk, member.pk)) if folder is not None and member is not None else None
        if newest is not None and newest > at:
            stale.append(f"{m.member[1]} in {m.folder[1]} changed at {newest.isoformat()}, after this event")
        else:
            fresh.append(m)
    return fresh, stale


def _membership_times(plans: list[Plan], ids: dict[Ref, int]) -> dict[tuple[int, int], datetime]:
    """(folder id, member id) -> the newest event time among the plans' memberships."""
    newest: dict[tuple[int, int], datetime] = {}
    for plan in plans:
        for m in plan.memberships if plan.at is not None else []:
            if m.folder in ids and m.member in ids:
                pair = (ids[m.folder], ids[m.member])
                if pair not in newest or newest[pair] < plan.at:
                    newest[pair] = plan.at
    return newest


def _membership_states_advance(*, newest: dict[tuple[int, int], datetime]) -> None:
    """Remembers each membership's newest applied event time (never moving a newer time back)."""
    if not newest:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ingestion_membershipeventstate (folder_id, member_id, last_event_at, created_at, updated_at)
            SELECT u.f, u.m, u.at, now(), now()
            FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS u(f, m, at)
            ON CONFLICT (folder_id, member_id) DO UPDATE
            SET last_event_at = GREATEST(ingestion_membershipeventstate.last_event_at, EXCLUDED.last_event_at),
                updated_at = now()
            """,
            [[f for f, _ in newest], [m for _, m in newest], list(newest.values())],
        )


def _lock(*, asset_ids: list[int]) -> None:
    """Row locks on these assets until the transaction ends."""
    if asset_ids:
        list(Asset.objects.select_for_update().filter(pk__in=sorted(asset_ids)).order_by("pk").values_list("pk"))


def _joins_apply(*, plan: Plan, assets: dict[Ref, Asset], at: datetime | None) -> None:
    seen_at = at or timezone.now()
    for join in plan.joins:
        evidence, created = JoinEvidence.objects.get_or_create(
            dataset=assets[join.dataset],
            left=assets[join.left],
            right=assets[join.right],
            on_clause=join.on_clause,
            defaults={"join_type": join.join_type, "column_pairs": join.column_pairs, "last_seen_at": seen_at},
        )
        if not created and evidence.last_seen_at < seen_at:
            evidence.last_seen_at = seen_at
            evidence.join_type = join.join_type
            evidence.column_pairs = join.column_pairs
            evidence.save(update_fields=["last_seen_at", "join_type", "column_pairs", "updated_at"])
        elif not created:
            continue  # seen before, and not later than now: nothing new to tell
        join_observed.send(sender=JoinEvidence, evidence=evidence)


# ---------------------------------------------------------------------------------------------------------------
# Change events: received in the request (checked and stored), applied by the apply task

APPLY_BATCH = 500  # events claimed per transaction: rounds cost per batch, so fewer larger batches are cheaper
APPLY_FLAG = "ingestion:events-apply-queued"
APPLY_FLAG_SECONDS = 30
ENQUEUE_CHECK_SECONDS = 0.05
APPLY_LOCK_ID = 7_204_117  # the advisory lock held while applying events


@dataclass
class Received:
    """What the receiving endpoint answers for one event (`status` is an EventAnswer)."""

    id: int
    event_key: str
    status: str
    reason: str = ""


@dataclass
class _Incoming:
    key: str
    fmt: str
    event_type: str
    at: datetime | None
    status: str
    reason: str
    payload: Any


def _describe_enqueue(refs: list[Ref]) -> bool:
    """Asks the QuickSight connector (when one is set up for the asset's account and region) to describe it."""
    from .models import QuickSightConnector
    from .quicksight import ARN_RE

    queued = False
    for kind, arn in refs:
        match = ARN_RE.match(arn)
        if match is None:
            continue
        connector = QuickSightConnector.objects.filter(
            account_id=match["account"], region=match["region"], is_active=True
        ).first()
        if connector is None:
            continue
        from .tasks import quicksight_describe_task

        transaction.on_commit(
            lambda c=connector.pk, k=kind, a=arn: quicksight_describe_task.delay(connector_id=c, kind=k, arn=a)
        )
        queued = True
    return queued


def _quicksight_incoming(payload: Any) -> _Incoming:
    """Classifies one QuickSight event and reads its plan (pure), so a malformed one is answered as such at once."""
    try:
        envelope = envelope_read(payload)
    except ParseError as error:
        key = envelope_key_fallback(payload)
        return _Incoming(key, EventFormat.UNKNOWN, "", None, EventStatus.REJECTED, str(error), payload)
    status, reason = EventStatus.PENDING, ""
    try:
        envelope_plan(envelope)
    except UnknownEvent as error:
        status, reason = EventStatus.UNKNOWN, str(error)
    except ParseError as error:
        status, reason = EventStatus.REJECTED, str(error)
    return _Incoming(envelope.key, envelope.format, envelope.event_type, envelope.at, status, reason, payload)


_ANSWERS = {
    EventStatus.PENDING: EventAnswer.ACCEPTED,
    EventStatus.REJECTED: EventAnswer.REJECTED,
    EventStatus.UNKNOWN: EventAnswer.UNKNOWN,
}


def _events_store(*, source: EventSource | None, incoming: list[_Incoming]) -> list[Received]:
    """Stores the events with one INSERT; an event whose key was received before (or earlier in the same batch) is
    stored as a `duplicate` row pointing at the first, and changes nothing."""
    rows = [
        {
            "k": row.key[:300],
            "f": row.fmt,
            "t": row.event_type[:200],
            "at": row.at.isoformat() if row.at is not None else None,
            "st": row.status,
            "r": row.reason[:5000],
            "p": row.payload,
        }
        for row in incoming
    ]
    with connection.cursor() as cursor:
        # one statement, one parameter: the rows travel as a JSON array (cheaper to send than typed arrays)
        cursor.execute(
            """
            INSERT INTO ingestion_changeevent
                (source_id, event_key, format, event_type, event_time, status, reason, payload, asset_ids,
                 created_at, updated_at)
            SELECT %s, u.k, u.f, u.t, u.at, u.st, u.r, u.p, '[]'::jsonb, now(), now()
            FROM ROWS FROM (
                jsonb_to_recordset(%s::jsonb) AS (k text, f text, t text, at timestamptz, st text, r text, p jsonb)
            ) WITH ORDINALITY AS u(k, f, t, at, st, r, p, n)
            ORDER BY u.n
            ON CONFLICT (event_key) WHERE NOT (status = 'duplicate') DO NOTHING
            RETURNING id, event_key
            """,
            [source.pk if source is not None else None, json.dumps(rows)],
        )
        stored = {key: pk for pk, key in cursor.fetchall()}
    answers: list[Received | None] = []
    firsts: set[str] = set()
    repeated: list[int] = []
    for index, row in enumerate(incoming):
        key = row.key[:300]
        if key in stored and key not in firsts:
            firsts.add(key)
            answers.append(Received(stored[key], key, _ANSWERS[EventStatus(row.status)], row.reason))
        else:
            answers.append(None)
            repeated.append(index)
    if repeated:
        keys = {incoming[i].key[:300] for i in repeated}
        originals = dict(
            ChangeEvent.objects.filter(event_key__in=keys)
            .exclude(status=EventStatus.DUPLICATE)
            .values_list("event_key", "pk")
        )
        duplicates = ChangeEvent.objects.bulk_create(
            [
                ChangeEvent(
                    source=source,
                    event_key=incoming[i].key[:300],
                    format=incoming[i].fmt,
                    event_type=incoming[i].event_type[:200],
                    event_time=incoming[i].at,
                    status=EventStatus.DUPLICATE,
                    reason=f"already received as event {originals.get(incoming[i].key[:300], '?')}",
                    payload=incoming[i].payload,
                    duplicate_of_id=originals.get(incoming[i].key[:300]),
                )
                for i in repeated
            ]
        )
        for i, duplicate in zip(repeated, duplicates, strict=True):
            answers[i] = Received(duplicate.pk, duplicate.event_key, EventAnswer.DUPLICATE, duplicate.reason)
    if any(row.status == EventStatus.PENDING for row in incoming if row.key[:300] in firsts):
        events_apply_schedule()
    return [answer for answer in answers if answer is not None]


def require_postgresql() -> None:
    """Ingestion stores and applies events and imports with set-based PostgreSQL statements; on the embedded SQLite
    default it says so (503) instead of failing half-way."""
    if connection.vendor != "postgresql":
        raise DomainError(
            "change events, OpenLineage events and imports need PostgreSQL; this installation runs on the embedded "
            "SQLite default: set DATABASE_URL=postgres://user:pass@host:5432/cartograph and migrate",
            status_code=503,
        )


def events_receive(*, source: EventSource | None, payloads: list[Any]) -> list[Received]:
    """Checks and stores a batch of QuickSight events (EventBridge events or CloudTrail records) and schedules
    their application. A malformed event is stored as rejected with the reason and does not stop the rest.

    No transaction is opened: the events are stored by one statement (duplicates, rare, by a second), which keeps
    the request to one round trip to the database."""
    require_postgresql()
    return _events_store(source=source, incoming=[_quicksight_incoming(payload) for payload in payloads])


def event_receive(*, source: EventSource | None, payload: Any) -> Received:
    """Checks and stores one QuickSight event; see `events_receive`."""
    return events_receive(source=source, payloads=[payload])[0]


def openlineage_receive(*, source: EventSource | None, event: Any) -> Received:
    """Checks and stores one OpenLineage event (keyed by a digest of its body, so a retry is a duplicate) and
    schedules its application. An invalid event is stored as rejected and raised as a DomainError naming the
    wrong field."""
    from .openlineage import openlineage_plan

    require_postgresql()
    key = "ol:" + fingerprint(event)
    try:
        fmt, event_type, plan = openlineage_plan(event)
    except ParseError as error:
        failure = DomainError(error.message, field=error.path or None)
        reason = f"{failure.field}: {failure.message}" if failure.field else failure.message
        _events_store(
            source=source,
            incoming=[_Incoming(key, EventFormat.UNKNOWN, "", None, EventStatus.REJECTED, reason, event)],
        )
        raise failure from None
    [answer] = _events_store(
        source=source, incoming=[_Incoming(key, fmt, event_type, plan.at, EventStatus.PENDING, "", event)]
    )
    return answer


def events_apply_schedule() -> None:
    """Has the pending events applied: at once when INGESTION_APPLY_INLINE is set (tests), else by the apply task
    after the commit, queued only when none is queued already (the beat sweep catches anything left over)."""
    if settings.INGESTION_APPLY_INLINE:
        events_apply_pending()
    else:
        transaction.on_commit(_apply_enqueue)


_enqueue_checked_at = 0.0


def _apply_enqueue(*, force: bool = False) -> None:
    """Queues the apply task, to start INGESTION_APPLY_DELAY_SECONDS later, unless one is queued already (a flag in
    the cache, cleared when the run starts): under load each run then takes the events of that interval as one
    batch. Within one process the flag is asked at most every ENQUEUE_CHECK_SECONDS: under load the next request
    asks again, and the beat sweep applies whatever the last burst left."""
    global _enqueue_checked_at
    from .tasks import events_apply_task

    now = time.monotonic()
    if not force and now - _enqueue_checked_at < ENQUEUE_CHECK_SECONDS:
        return
    _enqueue_checked_at = now
    try:
        first = cache.add(APPLY_FLAG, "1", timeout=APPLY_FLAG_SECONDS)
    except RedisError:  # without the flag, queue anyway: applying twice at once is safe, only wasteful
        first = True
    if first:
        events_apply_task.apply_async(countdown=settings.INGESTION_APPLY_DELAY_SECONDS)


def events_apply_pending(*, seconds: float = 10.0, batch: int = APPLY_BATCH, wait: bool = True) -> int:
    """Applies pending events batch by batch, for at most `seconds` (then queues itself again, so that other tasks
    get the worker in between); returns how many events it marked."""
    with contextlib.suppress(RedisError):
        cache.delete(APPLY_FLAG)  # events stored from now on queue a new run
    deadline = time.monotonic() + seconds
    total = 0
    while True:
        done = events_apply(limit=batch, wait=wait)
        if done < 0:
            # another applier is at work; look again after it, for events stored after its last claim
            from .tasks import events_apply_task

            events_apply_task.apply_async(countdown=1)
            return total
        total += done
        if done < batch:
            return total
        if time.monotonic() > deadline:
            _apply_enqueue(force=True)
            return total


def _event_plan(event: ChangeEvent) -> Plan:
    if event.format in (EventFormat.CLOUDTRAIL, EventFormat.QUICKSIGHT):
        return envelope_plan(envelope_read(event.payload))
    from .openlineage import openlineage_plan

    return openlineage_plan(event.payload)[2]


def _event_refuse(event: ChangeEvent, error: Exception) -> None:
    """Marks the event with why it was not applied."""
    if isinstance(error, UnknownEvent):
        event.status, event.reason = EventStatus.UNKNOWN, str(error)
        return
    event.status = EventStatus.REJECTED
    if isinstance(error, DomainError):
        event.reason = f"{error.field}: {error.message}" if error.field else error.message
    elif isinstance(error, ValidationError):
        event.reason = _validation_message(error)
    elif isinstance(error, IntegrityError):
        event.reason = f"conflicts with what is stored: {str(error).splitlines()[0]}"[:5000]
    else:
        event.reason = str(error)[:5000]


def _event_outcome(event: ChangeEvent, plan: Plan, *, asset_ids: list[int], stale: list[str], notes: list[str]) -> None:
    if plan.describe and _describe_enqueue(plan.describe):
        notes = [*notes, "a describe of the asset was queued"]
    event.status = EventStatus.STALE if stale and not asset_ids else EventStatus.APPLIED
    event.reason = "; ".join([*stale, *notes])[:5000]
    event.asset_ids = asset_ids


def _event_apply(event: ChangeEvent, plan: Plan) -> None:
    """Applies one claimed event on its own, in a savepoint, and records the outcome on it (not saved here)."""
    try:
        for attempt in range(3):
            try:
                with transaction.atomic():
                    result = plan_apply(plan=plan, actor=None, via=ChangeSource.EVENT)
                break
            except IntegrityError:
                # another writer created one of the same assets meanwhile: they exist now, apply again
                if attempt == 2:
                    raise
    except (UnknownEvent, ParseError, DomainError, ValidationError, IntegrityError) as error:
        _event_refuse(event, error)
        return
    _event_outcome(event, plan, asset_ids=result.asset_ids, stale=result.stale, notes=result.notes)


def _touched(plan: Plan) -> set[Hashable]:
    """What a plan changes: the assets whose state it sets (those it only points at are merely created when
    missing), and each folder membership it adds or takes out as a (folder, member) pair, so that events about
    different members of one folder need not wait for each other."""
    keys: set[Hashable] = {change.ref for change in plan.assets}
    keys.update((m.folder, m.member) for m in plan.memberships)
    keys.update(plan.exact_folders)
    keys.update(join.dataset for join in plan.joins)
    keys.update(link.target for link in plan.column_links)
    return keys


def event_rounds(plans: list[tuple[Any, Plan]]) -> list[list[tuple[Any, Plan]]]:
    """Groups plans (in event-time order) into rounds that can be applied together: a plan goes into the round
    after the last one holding a plan that changes any of the same things, so each asset (and membership) still
    sees its changes in event-time order. A plan that sets a folder's whole member list also comes after every
    membership change of that folder, and they after it. Pure."""
    rounds: list[list[tuple[Any, Plan]]] = []
    last: dict[Hashable, int] = {}
    last_change: dict[Hashable, Any] = {}  # what the plan in that round did to the key
    last_member_change: dict[Ref, int] = {}  # folder -> the last round changing one of its memberships
    for item in plans:
        plan = item[1]
        touched = _touched(plan)
        changes = _changes_by_key(plan)
        # the same change again (a job's START and COMPLETE describe the same datasets) may share the round of
        # the one before it: written once or twice, the asset ends the same
        after = [
            last[key] + (key not in changes or last_change.get(key) != changes[key]) for key in touched if key in last
        ]
        after += [last[m.folder] + 1 for m in plan.memberships if m.folder in last]
        after += [last_member_change[ref] + 1 for ref in plan.exact_folders if ref in last_member_change]
        index = max(after, default=0)
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(item)
        for key in touched:
            last[key] = index
            last_change[key] = changes.get(key)
        for m in plan.memberships:
            last_member_change[m.folder] = max(last_member_change.get(m.folder, -1), index)
    return rounds


def _changes_by_key(plan: Plan) -> dict[Hashable, Any]:
    """What a plan does to each asset it describes, when that is all it does to it (a change compared whole);
    assets it also touches otherwise (joins, memberships, a whole folder) are left out: they always wait."""
    other: set[Hashable] = {join.dataset for join in plan.joins} | set(plan.exact_folders)
    links: dict[Ref, list[Any]] = defaultdict(list)
    for link in plan.column_links:
        links[link.target].append(link)
    return {c.ref: (c, links.get(c.ref, [])) for c in plan.assets if c.ref not in other}


def _round_apply(round_: list[tuple[ChangeEvent, Plan]]) -> bool:
    """Applies a round of events together (set-based), with the same stale check as `plan_apply` for each; False
    (with nothing written) when any part is refused, so that the caller applies them one by one."""
    from .bulk import plans_apply_bulk

    refs: set[Ref] = set()
    for _, plan in round_:
        refs |= _refs_of(plan)
    existing = _fetch(refs)  # every asset the round names, handed on to the writer below
    changed = [existing[ref].pk for ref in {c.ref for _, plan in round_ for c in plan.assets} if ref in existing]
    _lock(asset_ids=changed)
    states = dict(AssetEventState.objects.filter(asset_id__in=changed).values_list("asset_id", "last_event_at"))
    pair_states = _membership_states([m for _, plan in round_ for m in plan.memberships], existing)
    lives: list[tuple[ChangeEvent, Plan, Plan, list[str]]] = []
    for event, plan in round_:
        stale: list[str] = []
        applied = []
        for change in plan.assets:
            asset = existing.get(change.ref)
            if plan.at is not None and asset is not None and asset.pk in states and states[asset.pk] > plan.at:
                stale.append(f"{change.ref[1]} changed at {states[asset.pk].isoformat()}, after this event")
            else:
                applied.append(change)
        memberships = plan.memberships
        if plan.at is not None:
            memberships, late = _memberships_fresh(memberships, at=plan.at, assets=existing, states=pair_states)
            stale += late
        stale_refs = {c.ref for c in plan.assets} - {c.ref for c in applied}
        live = Plan(
            at=plan.at,
            assets=applied,
            column_links=[link for link in plan.column_links if link.target not in stale_refs],
            memberships=[m for m in memberships if not {m.folder, m.member} & stale_refs],
            joins=[join for join in plan.joins if join.dataset not in stale_refs],
            exact_folders=[ref for ref in plan.exact_folders if ref not in stale_refs],
        )
        lives.append((event, plan, live, stale))
    try:
        with transaction.atomic():
            done = plans_apply_bulk(
                plans=[live for _, _, live, _ in lives], actor=None, via=ChangeSource.EVENT, assets=dict(existing)
            )
            newest: dict[int, datetime] = {}
            for _, _, live, _ in lives:
                if live.at is None:
                    continue
                for change in live.assets:
                    pk = done.ids.get(change.ref)
                    if pk is not None and (pk not in newest or newest[pk] < live.at):
                        newest[pk] = live.at
            _states_advance_many(newest=newest)
            _membership_states_advance(newest=_membership_times([live for _, _, live, _ in lives], done.ids))
    except (DomainError, ValidationError, IntegrityError, ParseError):
        return False
    touched_refs = done.created | done.changed
    for event, plan, live, stale in lives:
        asset_ids = sorted({done.ids[ref] for ref in _refs_of(live) & touched_refs if ref in done.ids})
        deleted = {change.ref[1] for change in live.assets if change.delete}
        notes = [*plan.notes, *[note for note in done.notes if any(name in note for name in deleted)]]
        _event_outcome(event, plan, asset_ids=asset_ids, stale=stale, notes=notes)
    return True


def _states_advance_many(*, newest: dict[int, datetime]) -> None:
    """Remembers each asset's newest applied event time (never moving a newer time back)."""
    if not newest:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ingestion_asseteventstate (asset_id, last_event_at, created_at, updated_at)
            SELECT u.asset_id, u.at, now(), now() FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(asset_id, at)
            ON CONFLICT (asset_id) DO UPDATE
            SET last_event_at = GREATEST(ingestion_asseteventstate.last_event_at, EXCLUDED.last_event_at),
                updated_at = now()
            """,
            [list(newest), list(newest.values())],
        )


@transaction.atomic
def events_apply(*, limit: int = APPLY_BATCH, wait: bool = True) -> int:
    """Claims up to `limit` pending events (oldest event time first), applies them and marks each applied, stale,
    rejected (with the reason) or unknown.

    Events are applied in rounds (see `event_rounds`), each round set-based in one go; a round that is refused is
    applied again event by event, so that only the faulty event is rejected. An event older than what an asset
    already shows is marked stale, so a late delivery never regresses state. Returns how many events were
    claimed, or -1 without `wait` when another applier is at work (it will apply them)."""
    with connection.cursor() as cursor:
        # one applier at a time: events are then applied in event-time order across batches, and two appliers never
        # lock the same assets crosswise
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPLY_LOCK_ID])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [APPLY_LOCK_ID])
            if not cursor.fetchone()[0]:
                return -1
    events = list(
        ChangeEvent.objects.select_for_update(skip_locked=True)
        .filter(status=EventStatus.PENDING)
        .order_by("event_time", "id")[:limit]
    )
    plans: list[tuple[ChangeEvent, Plan]] = []
    for event in events:
        try:
            plans.append((event, _event_plan(event)))
        except (UnknownEvent, ParseError) as error:
            _event_refuse(event, error)
    for round_ in event_rounds(plans):
        if len(round_) == 1 or not _round_apply(round_):
            for event, plan in round_:
                _event_apply(event, plan)
    now = timezone.now()
    for event in events:
        event.updated_at = now
    rows_update(events, ["status", "reason", "asset_ids", "updated_at"])
    return len(events)


# ---------------------------------------------------------------------------------------------------------------
# Bulk imports

# Bundle sections in the order they are applied: what others point at comes first.
SECTIONS = ("DataSources", "DataSets", "Analyses", "Templates", "Dashboards", "Folders")
REPORT_LIST_CAP = 1000
BATCH = 500


def bundle_check(bundle: Any) -> int:
    """Checks the bundle's outline (sections that are lists) and returns how many items it holds."""
    if not isinstance(bundle, dict):
        raise DomainError(
            f"the bundle must be a JSON object with any of the sections {', '.join(SECTIONS)}", field="bundle"
        )
    unknown = sorted(set(bundle) - set(SECTIONS))
    if unknown:
        raise DomainError(
            f"unknown section {unknown[0]!r}; the sections are {', '.join(SECTIONS)}", field=f"bundle.{unknown[0]}"
        )
    total = 0
    for section, items in bundle.items():
        if not isinstance(items, list):
            raise DomainError("must be a list of Describe* outputs", field=f"bundle.{section}")
        total += len(items)
    if total == 0:
        raise DomainError("the bundle holds no items", field="bundle")
    return total


@transaction.atomic
def import_create(*, actor: AbstractBaseUser | None, bundle: Any) -> ImportJob:
    """Stores the bundle and queues its import (run by Celery after the commit)."""
    from .tasks import import_run_task

    require_postgresql()
    total = bundle_check(bundle)
    job = ImportJob(total=total, created_by=actor if actor is not None and actor.is_authenticated else None)
    job.bundle.save("bundle.json", ContentFile(json.dumps(bundle).encode()), save=False)
    job.save()
    transaction.on_commit(lambda: import_run_task.delay(job_id=job.pk))
    return job


def _item_plan(section: str, item: Any, path: str, source_types: dict[str, str]) -> Plan:
    from . import quicksight as qs

    if section == "DataSources":
        return qs.data_source_plan(item, path=path)
    if section == "DataSets":
        return qs.data_set_plan(item, path=path, source_types=source_types)
    if section == "Templates":
        return qs.template_plan(item, path=path)
    if section == "Analyses":
        return qs.analysis_plan(item, path=path)
    if section == "Dashboards":
        return qs.dashboard_plan(item, path=path)
    return qs.folder_plan(item, path=path)


def _source_types(bundle: dict[str, Any]) -> dict[str, str]:
    from .changes import ci_get
    from .quicksight import SOURCE_TYPES

    types = {
        arn: attributes.get("type", "")
        for arn, attributes in Asset.objects.filter(kind="data_source").values_list("external_id", "attributes")
        if isinstance(attributes, dict)
    }
    for item in bundle.get("DataSources") or []:
        obj = ci_get(item, "DataSource") or item
        if isinstance(obj, dict) and isinstance(ci_get(obj, "Arn"), str):
            types[ci_get(obj, "Arn")] = SOURCE_TYPES.get(str(ci_get(obj, "Type") or "").upper(), "other")
    return types


@dataclass
class ItemReport:
    outcome: str
    path: str
    reason: str = ""


def items_import(
    *,
    items: list[tuple[str, str, Any]],
    actor: AbstractBaseUser | None,
    via: str,
    source_types: dict[str, str],
) -> list[ItemReport]:
    """Imports (section, path, Describe* output) items; an item whose output is unchanged since it was last
    imported is skipped without a write. Each item is applied in its own savepoint: one bad item stops nothing."""
    parsed: list[tuple[str, Plan | None, str, str]] = []  # path, plan, fingerprint, error
    for section, path, item in items:
        try:
            plan = _item_plan(section, item, path, source_types)
            parsed.append((path, plan, fingerprint(item), ""))
        except ParseError as error:
            parsed.append((path, None, "", str(error)))
    refs = [plan.assets[0].ref for _, plan, _, _ in parsed if plan is not None and plan.assets]
    fetched = _fetch(refs)
    states = {s.asset_id: s for s in ImportedItem.objects.filter(asset_id__in=[a.pk for a in fetched.values()])}
    known = {
        ref: (states[a.pk].fingerprint, states[a.pk].imported_at, a.updated_at)
        for ref, a in fetched.items()
        if a.pk in states
    }
    reports: list[ItemReport] = []
    fingerprints: dict[int, str] = {}
    todo: list[tuple[str, Plan, str]] = []
    for path, plan, digest, error in parsed:
        if plan is None:
            reports.append(ItemReport(ItemOutcome.REJECTED, path, error))
            continue
        seen = known.get(plan.assets[0].ref)
        if seen is not None and seen[0] == digest and seen[2] <= seen[1]:
            reports.append(ItemReport(ItemOutcome.UNCHANGED, path))
            continue
        todo.append((path, plan, digest))
    if len(todo) > 1 and _bulk_apply(todo, actor=actor, via=via, reports=reports, fingerprints=fingerprints):
        todo = []
    for path, plan, digest in todo:
        try:
            with transaction.atomic():
                result = plan_apply(plan=plan, actor=actor, via=via)
        except ParseError as error:
            reports.append(ItemReport(ItemOutcome.REJECTED, path, str(error)))
            continue
        except DomainError as error:
            where = f"{path}: {error.field}: " if error.field else f"{path}: "
            reports.append(ItemReport(ItemOutcome.REJECTED, path, where + error.message))
            continue
        except ValidationError as error:
            reports.append(ItemReport(ItemOutcome.REJECTED, path, f"{path}: {_validation_message(error)}"))
            continue
        if result.first is not None:
            fingerprints[result.first] = digest
        reports.append(ItemReport(result.outcome_of(result.first), path, "; ".join(result.notes)[:500]))
    if fingerprints:
        now = timezone.now()
        ImportedItem.objects.bulk_create(
            [ImportedItem(asset_id=pk, fingerprint=fp, imported_at=now) for pk, fp in fingerprints.items()],
            update_conflicts=True,
            unique_fields=["asset"],
            update_fields=["fingerprint", "imported_at", "updated_at"],
        )
    return reports


def _bulk_apply(
    todo: list[tuple[str, Plan, str]],
    *,
    actor: AbstractBaseUser | None,
    via: str,
    reports: list[ItemReport],
    fingerprints: dict[int, str],
) -> bool:
    """Applies the items together (set-based); False when any part is refused, so that the caller applies them one
    by one and reports the item at fault."""
    from .bulk import plans_apply_bulk

    try:
        with transaction.atomic():
            result = plans_apply_bulk(plans=[plan for _, plan, _ in todo], actor=actor, via=via)
    except (DomainError, ValidationError, IntegrityError, ParseError):
        return False
    for path, plan, digest in todo:
        primary = plan.assets[0].ref
        if primary in result.created:
            outcome = ItemOutcome.CREATED
        elif any(change.ref in result.changed for change in plan.assets):
            outcome = ItemOutcome.UPDATED
        else:
            outcome = ItemOutcome.UNCHANGED
        fingerprints[result.ids[primary]] = digest
        reports.append(ItemReport(outcome, path, "; ".join(plan.notes)[:500]))
    return True


def _report_add(report: dict[str, Any], items: list[ItemReport]) -> None:
    for item in items:
        if item.outcome == ItemOutcome.REJECTED:
            report.setdefault("rejected", []).append({"path": item.path, "reason": item.reason})
        elif item.outcome in (ItemOutcome.CREATED, ItemOutcome.UPDATED):
            listed = report.setdefault(item.outcome, [])
            if len(listed) < REPORT_LIST_CAP:
                listed.append(item.path)
        if item.reason and item.outcome != ItemOutcome.REJECTED:
            notes = report.setdefault("notes", [])
            if len(notes) < REPORT_LIST_CAP:
                notes.append({"path": item.path, "note": item.reason})


def import_run(*, job_id: int) -> ImportJob | None:
    """Runs a queued import in batches, saving progress after each so the API and UI can show it."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status != ImportStatus.QUEUED:
            return job
        job.status = ImportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at", "updated_at"])
    try:
        with job.bundle.open("rb") as handle:
            bundle = json.loads(handle.read())
        bundle_check(bundle)
        source_types = _source_types(bundle)
        items = [
            (section, f"{section}[{index}]", item)
            for section in SECTIONS
            for index, item in enumerate(bundle.get(section) or [])
        ]
        report: dict[str, Any] = {}
        counts = dict.fromkeys(ItemOutcome.values, 0)
        for start in range(0, len(items), BATCH):
            reports = items_import(
                items=items[start : start + BATCH],
                actor=job.created_by,
                via=ChangeSource.IMPORT,
                source_types=source_types,
            )
            for item in reports:
                counts[item.outcome] += 1
            _report_add(report, reports)
            ImportJob.objects.filter(pk=job.pk).update(
                processed=min(start + BATCH, len(items)), updated_at=timezone.now(), **counts
            )
        report["more"] = {
            outcome: max(0, counts[outcome] - REPORT_LIST_CAP) for outcome in (ItemOutcome.CREATED, ItemOutcome.UPDATED)
        }
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.SUCCEEDED, report=report, finished_at=timezone.now(), updated_at=timezone.now()
        )
    except (OSError, ValueError, DomainError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, error=message[:5000], finished_at=timezone.now(), updated_at=timezone.now()
        )
    job.refresh_from_db()
    return job
