"""Writes of alerts: create/change, evaluate in batches (one visual query per visual, reader rules and data
version), breach episodes, the email outbox and direct-query schedules."""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.utils import timezone

from access.choices import AuditAction, AuditSource
from access.permissions import asset_viewers
from access.services import AuditEntry, audit_record_many
from catalog import datasets as catalog_data
from catalog import visuals
from catalog.models import Dataset, Snapshot, Visual
from catalog.security import data_access
from config.db import rows_update
from config.errors import DomainError
from lineage.models import Edge

from .choices import PAUSE_AFTER_FAILURES, Condition, NotificationKind, NotificationStatus, Period, State, Status
from .evaluation import Outcome, evaluate, may_notify
from .models import Alert, AlertSchedule, Episode, Evaluation, Notification

MAX_SEND_ATTEMPTS = 20


NO_ACCESS = (
    "Its owner can no longer see this visual or its dataset: nothing was evaluated. Ask for access again, or delete "
    "the alert."
)


class TransientEvaluationError(Exception):
    """A visual query failed in a way worth retrying (timeout, source unreachable)."""


# ---------------------------------------------------------------------------------------------------------------
# Evaluating a spec for a reader at a data version


@dataclass(frozen=True)
class DataVersion:
    label: str  # "snapshot:12" or "direct:2026-01-01T18:37:00+00:00"
    as_of: datetime
    snapshot: Snapshot | None = None


def current_version(dataset: Dataset) -> DataVersion:
    if dataset.import_mode == Dataset.ImportMode.SPICE:
        snapshot = dataset.current_snapshot
        if snapshot is None:
            raise DomainError("the dataset has no data yet: its first refresh has not succeeded", status_code=409)
        return DataVersion(f"snapshot:{snapshot.pk}", snapshot.created_at, snapshot)
    now = timezone.now()
    return DataVersion(f"direct:{now.isoformat(timespec='seconds')}", now)


def version_from_label(dataset: Dataset, label: str) -> DataVersion:
    if label.startswith("snapshot:"):
        snapshot = Snapshot.objects.filter(pk=int(label.split(":", 1)[1]), dataset=dataset).first()
        if snapshot is None:
            raise DomainError(f"dataset {dataset.pk} has no {label}")
        return DataVersion(label, snapshot.created_at, snapshot)
    return DataVersion(label, timezone.now())


def _columns(dataset: Dataset) -> dict[str, str]:
    return dict(dataset.asset.columns.values_list("name", "data_type"))


def evaluate_spec(*, spec: dict[str, Any], dataset: Dataset, user, version: DataVersion) -> visuals.VisualResult:
    """The whole visual for this reader (their row and column rules) at this data version."""
    access = data_access(user=user, dataset=dataset)
    parsed = visuals.validate_spec(spec, columns=_columns(dataset), hidden_columns=access.hidden_columns)
    try:
        return catalog_data.spec_evaluate(spec=parsed, dataset=dataset, access=access, snapshot=version.snapshot)
    except visuals.EvaluationError as error:
        if error.status_code == 504:
            raise TransientEvaluationError(error.message) from error
        raise


# ---------------------------------------------------------------------------------------------------------------
# Creating and changing alerts


def _may_create(owner: AbstractBaseUser) -> None:
    if settings.CARTOGRAPH_ALERTS_REQUIRE_PERMISSION and not owner.has_perm("alerts.create_alerts"):
        raise DomainError(
            "You may not create alerts; ask an administrator to add you to a group that may.", status_code=403
        )


def cell_of(*, visual: Visual, owner, key: str) -> tuple[visuals.Cell, visuals.VisualResult, DataVersion]:
    """The cell the reader clicked, in the visual as they see it now; refuses non-numeric and unknown cells."""
    version = current_version(visual.dataset)
    result = evaluate_spec(spec=visual.spec, dataset=visual.dataset, user=owner, version=version)
    cell = visuals.find_cell(result, key)
    if cell is None:
        raise DomainError("the visual has no such cell (it may have changed); click the cell again", field="cell_key")
    if cell.value is None or isinstance(cell.value, bool) or not isinstance(cell.value, int | float | Decimal):
        raise DomainError("only numeric cells can have alerts; this cell has no number", field="cell_key")
    return cell, result, version


def _check_settings(*, spec: dict, condition: str, period: str, threshold: Any, tolerance: Any) -> None:
    if condition not in Condition.values:
        raise DomainError(f"{condition!r} is not a condition; use above, below or equal", field="condition")
    if period not in Period.values:
        raise DomainError(f"{period!r} is not a period; use fixed, latest or latest_complete", field="period")
    if period != Period.FIXED and not spec.get("date"):
        raise DomainError("the visual has no date field, so the alert can only track the clicked cell", field="period")
    if tolerance is not None and condition != Condition.EQUAL:
        raise DomainError("a tolerance only applies to 'is equal to'", field="tolerance")
    if tolerance is not None and Decimal(str(tolerance)) < 0:
        raise DomainError("the tolerance cannot be negative", field="tolerance")
    Decimal(str(threshold))


@transaction.atomic
def alert_create(
    *,
    owner,
    visual: Visual,
    cell_key: str,
    condition: str,
    threshold: Decimal,
    name: str = "",
    tolerance: Decimal | None = None,
    frequency: str = "daily",
    notify_no_data: bool = False,
    period: str = Period.FIXED,
) -> Alert:
    """An alert on one numeric cell the owner can see now; the visual's spec is captured as it is."""
    _may_create(owner)
    _check_settings(spec=visual.spec, condition=condition, period=period, threshold=threshold, tolerance=tolerance)
    cell, _, _ = cell_of(visual=visual, owner=owner, key=cell_key)
    measure, dims, totals, _ = visuals.parse_cell_key(cell.key)
    date_field = (visual.spec.get("date") or {}).get("field")
    if period != Period.FIXED and date_field not in dims:
        raise DomainError(
            f"this cell adds up every {date_field}; pick a cell of one period to track the latest period",
            field="period",
        )
    alert = Alert(
        owner=owner,
        name=(name or visual.asset.name).strip()[:300],
        visual=visual.asset,
        dataset=visual.dataset,
        spec=visual.spec,
        cell_key=cell.key,
        measure=measure,
        dimensions={**dims, **({"totals": list(totals)} if totals else {})},
        condition=condition,
        threshold=Decimal(str(threshold)),
        tolerance=Decimal(str(tolerance)) if tolerance is not None else None,
        frequency=frequency,
        notify_no_data=notify_no_data,
        period=period,
    )
    alert.full_clean()
    alert.save()
    if visual.dataset.import_mode == Dataset.ImportMode.DIRECT:
        alert_schedule_ensure(dataset=visual.dataset)
    return alert


ALERT_FIELDS = {"name", "condition", "threshold", "tolerance", "frequency", "notify_no_data", "period", "status"}


@transaction.atomic
def alert_delete(*, alert: Alert) -> None:
    """Deletes the alert with its evaluations, episodes and unsent emails."""
    alert.delete()


@transaction.atomic
def alert_update(*, alert: Alert, **fields: Any) -> Alert:
    unknown = set(fields) - ALERT_FIELDS
    if unknown:
        raise DomainError(f"cannot change {', '.join(sorted(unknown))} of an alert", field=sorted(unknown)[0])
    if "status" in fields and fields["status"] not in (Status.ACTIVE, Status.DISABLED):
        raise DomainError("an alert can be active or disabled", field="status")
    merged = {
        "condition": alert.condition,
        "period": alert.period,
        "threshold": alert.threshold,
        "tolerance": alert.tolerance,
        **fields,
    }
    _check_settings(
        spec=alert.spec,
        condition=merged["condition"],
        period=merged["period"],
        threshold=merged["threshold"],
        tolerance=merged["tolerance"],
    )
    for name, value in fields.items():
        setattr(alert, name, value)
    if fields.get("status") == Status.ACTIVE:
        alert.consecutive_failures = 0
        alert.status_reason = ""
    alert.full_clean()
    alert.save()
    return alert


def alert_schedule_ensure(*, dataset: Dataset, interval: str = AlertSchedule.Interval.DAILY) -> AlertSchedule:
    """A direct dataset's alert schedule: by default daily at a random minute between 18:00 and 08:00 local time."""
    schedule = AlertSchedule.objects.filter(dataset=dataset).first()
    if schedule:
        return schedule
    minute = (18 * 60 + random.randrange(14 * 60)) % 1440
    zone = dataset.refresh_time_zone or "UTC"
    return AlertSchedule.objects.create(
        dataset=dataset,
        interval=interval,
        minute_of_day=minute,
        time_zone=zone,
        next_run_at=next_alert_run(interval=interval, minute_of_day=minute, time_zone=zone, after=timezone.now()),
    )


def next_alert_run(*, interval: str, minute_of_day: int, time_zone: str, after: datetime) -> datetime:
    """The next run after `after`: daily at minute_of_day local time (DST-aware), or hourly at that minute."""
    zone = ZoneInfo(time_zone)
    local = after.astimezone(zone)
    if interval == AlertSchedule.Interval.HOURLY:
        candidate = local.replace(minute=minute_of_day % 60, second=0, microsecond=0)
        if candidate <= local:
            candidate += timedelta(hours=1)
        return candidate.astimezone(ZoneInfo("UTC"))
    day = local.date()
    for offset in range(3):
        moment = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=offset)
        # wall-clock minute of that local day (datetime arithmetic on aware values keeps wall time)
        candidate = moment.replace(hour=minute_of_day // 60, minute=minute_of_day % 60)
        if candidate > local:
            return candidate.astimezone(ZoneInfo("UTC"))
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------------------------
# Evaluating in batches


def _access_key(user, dataset: Dataset) -> tuple:
    access = data_access(user=user, dataset=dataset)
    return (tuple(sorted(access.hidden_columns)), access.row_filters)


def _dashboard_link(alert: Alert, key: str, *, holders: dict[int, int | None] | None = None) -> str:
    """The page that shows the alert's visual, with the cell highlighted. `holders` (visual -> the dashboard or
    analysis that contains it) saves the lookup when it was made for a whole batch."""
    base = settings.CARTOGRAPH_SITE_URL.rstrip("/")
    if alert.visual_id is None:
        return f"{base}/assets/{alert.dataset.asset_id}/"
    if holders is None:
        holders = _holders([alert.visual_id])
    page = holders.get(alert.visual_id) or alert.visual_id
    return f"{base}/assets/{page}/?highlight={quote(key, safe='')}#visual-{alert.visual_id}"


def _holders(visual_ids: list[int]) -> dict[int, int | None]:
    """Per visual, the first asset that contains it now (by edge id), or None."""
    holders: dict[int, int | None] = dict.fromkeys(visual_ids)
    edges = (
        Edge.objects.filter(target_id__in=visual_ids, kind="contains", valid_to__isnull=True)
        .order_by("-id")
        .values_list("target_id", "source_id")
    )
    for visual_id, source_id in edges:  # the lowest id comes last and wins
        holders[visual_id] = source_id
    return holders


def plain_number(value: Decimal | None) -> str:
    """200, 0.5, -12.25: a Decimal as people write it (no exponent, no trailing zeros)."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


RECENT_BREACHES = 5


def _recent_breaches(alert_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Per alert, its latest breached evaluations (newest first), for many alerts in one query."""
    rows = (
        Evaluation.objects.filter(alert_id__in=alert_ids, state=State.BREACHED)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("alert_id")], order_by=[F("evaluated_at").desc(), F("id").desc()])
        )
        .filter(rank__lte=RECENT_BREACHES)
        .order_by("alert_id", "rank")
        .values_list("alert_id", "evaluated_at", "value")
    )
    recent: dict[int, list[dict[str, Any]]] = {alert_id: [] for alert_id in alert_ids}
    for alert_id, evaluated_at, value in rows:
        recent[alert_id].append({"evaluated_at": evaluated_at, "value": value})
    return recent


def display_number(value: float | None) -> str:
    """A value as the dashboard shows it: thousands separators, two decimals unless it is whole (1,800; 437.39)."""
    if value is None:
        return ""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def render_email(
    alert: Alert,
    outcome: Outcome,
    *,
    kind: str,
    as_of: datetime | None,
    reason: str = "",
    recent: list[dict[str, Any]] | None = None,
    holders: dict[int, int | None] | None = None,
) -> dict:
    """Subject and bodies of an alert's email. `recent` and `holders` are given when a batch looked them up."""
    if recent is None:
        recent = _recent_breaches([alert.pk])[alert.pk]
    context = {
        "alert": alert,
        "kind": kind,
        "value": display_number(outcome.value),
        "period": outcome.period,
        "condition": Condition(alert.condition).label,
        "threshold": plain_number(alert.threshold),
        "tolerance": plain_number(alert.tolerance),
        "dimensions": [(k, "(blank)" if v is None else v) for k, v in alert.dimensions.items() if k != "totals"],
        "filters": alert.spec.get("filters", []),
        "recent": recent,
        "as_of": as_of,
        "link": _dashboard_link(alert, outcome.key, holders=holders),
        "reason": reason,
    }
    subjects = {
        NotificationKind.BREACH: (
            f"Alert: {alert.name} — {alert.measure} {context['condition']} {context['threshold']}"
        ),
        NotificationKind.NO_DATA: f"Alert: {alert.name} — no data",
        NotificationKind.PAUSED: f"Alert paused: {alert.name}",
    }
    return {
        "subject": subjects[kind][:300],
        "body_text": render_to_string("alerts/email.txt", context),
        "body_html": render_to_string("alerts/email.html", context),
    }


@dataclass(frozen=True)
class _Email:
    alert: Alert
    evaluation: Evaluation
    outcome: Outcome
    kind: str
    reason: str = ""


ALERT_STATE_FIELDS = [
    "state",
    "last_evaluated_at",
    "consecutive_failures",
    "status_reason",
    "status",
    "last_value",
    "last_notified_at",
    "updated_at",
]


def _apply(items: list[tuple[Alert, Outcome | None, str]], version: DataVersion, now: datetime) -> int:
    """Records one evaluation per alert and moves each alert's state, episodes and outbox, in a fixed number of
    queries for the whole batch (the caller holds the alerts' row locks); returns how many emails were queued."""
    done = set(
        Evaluation.objects.filter(
            alert_id__in=[alert.pk for alert, _, _ in items], dataset_version=version.label
        ).values_list("alert_id", flat=True)
    )
    items = [item for item in items if item[0].pk not in done]  # evaluated at this version already (redelivered)
    if not items:
        return 0
    evaluations = Evaluation.objects.bulk_create(
        Evaluation(
            alert=alert,
            dataset_version=version.label,
            data_as_of=version.as_of,
            evaluated_at=now,
            value=outcome.value if outcome else None,
            state=State.ERROR if outcome is None else outcome.state,
            period=outcome.period if outcome else "",
            error=error[:2000],
        )
        for alert, outcome, error in items
    )
    audit_record_many(
        entries=[
            AuditEntry(
                user=alert.owner,
                action=AuditAction.ALERT_EVALUATE,
                source=AuditSource.TASK,
                asset_id=alert.visual_id or alert.dataset.asset_id,
                detail={"alert": alert.pk, "dataset_version": version.label},
            )
            for alert, _, _ in items
        ]
    )
    open_episodes = {
        episode.alert_id: episode
        for episode in Episode.objects.filter(alert_id__in=[alert.pk for alert, _, _ in items], closed_at__isnull=True)
    }
    opened: list[Episode] = []
    closed: list[int] = []
    emails: list[_Email] = []
    for (alert, outcome, error), evaluation in zip(items, evaluations, strict=True):
        state = evaluation.state
        alert.state, alert.last_evaluated_at = state, now
        if outcome is None:
            alert.consecutive_failures += 1
            alert.status_reason = error[:2000]
            if alert.consecutive_failures >= PAUSE_AFTER_FAILURES:
                alert.status = Status.PAUSED
                failed = Outcome(State.ERROR, None, alert.cell_key)
                emails.append(_Email(alert, evaluation, failed, NotificationKind.PAUSED, error))
            continue
        alert.consecutive_failures = 0
        alert.status_reason = ""
        alert.last_value = outcome.value
        open_episode = open_episodes.get(alert.pk)
        if state == State.BREACHED:
            if open_episode is None:
                opened.append(Episode(alert=alert, opened_at=now))
                alert.last_notified_at = None
            if may_notify(last_notified_at=alert.last_notified_at, frequency=alert.frequency, now=now):
                emails.append(_Email(alert, evaluation, outcome, NotificationKind.BREACH))
                alert.last_notified_at = now
        elif state == State.OK and open_episode is not None:
            closed.append(open_episode.pk)
            alert.last_notified_at = None
        elif (
            state == State.NO_DATA
            and alert.notify_no_data
            and may_notify(last_notified_at=alert.last_notified_at, frequency=alert.frequency, now=now)
        ):
            emails.append(_Email(alert, evaluation, outcome, NotificationKind.NO_DATA))
            alert.last_notified_at = now
    Episode.objects.bulk_create(opened)
    if closed:
        Episode.objects.filter(pk__in=closed).update(closed_at=now, updated_at=timezone.now())
    _notify(emails, version)
    stamp = timezone.now()
    for alert, _, _ in items:
        alert.updated_at = stamp
    _alerts_save_state([alert for alert, _, _ in items])
    return len(emails)


def _alerts_save_state(alerts: list[Alert]) -> None:
    """Saves ALERT_STATE_FIELDS of many alerts in one statement."""
    rows_update(alerts, ALERT_STATE_FIELDS)


def _notify(emails: list[_Email], version: DataVersion) -> None:
    """Writes the emails into the outbox (owners without an address get none), with one lookup of recent breaches
    and of the dashboards holding the visuals for all of them."""
    emails = [email for email in emails if email.alert.owner.email]
    if not emails:
        return
    recent = _recent_breaches([email.alert.pk for email in emails])
    holders = _holders(sorted({email.alert.visual_id for email in emails if email.alert.visual_id is not None}))
    due = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            alert=email.alert,
            evaluation=email.evaluation,
            kind=email.kind,
            to_email=email.alert.owner.email,
            next_attempt_at=due,
            **render_email(
                email.alert,
                email.outcome,
                kind=email.kind,
                as_of=version.as_of,
                reason=email.reason,
                recent=recent[email.alert.pk],
                holders=holders,
            ),
        )
        for email in emails
    )


@dataclass
class BatchReport:
    evaluated: int = 0
    visual_queries: int = 0
    notifications: int = 0


def alerts_evaluate_dataset(
    *, dataset_id: int, version_label: str | None = None, batch: int = 2000, final_attempt: bool = True
) -> BatchReport:
    """Evaluates every active alert of a dataset at one data version, claimed in bounded batches with
    SKIP LOCKED; one visual query serves all alerts that share a spec and reader rules. Safe to rerun."""
    dataset = (
        Dataset.objects.select_related("asset", "source", "current_snapshot")
        .prefetch_related("column_rules", "row_rules")
        .filter(pk=dataset_id)
        .first()
    )
    report = BatchReport()
    if dataset is None:
        return report
    version = version_from_label(dataset, version_label) if version_label else current_version(dataset)
    results: dict[tuple, visuals.VisualResult | str] = {}
    while True:
        with transaction.atomic():
            evaluated = Evaluation.objects.filter(alert=OuterRef("pk"), dataset_version=version.label)
            claimed = list(
                Alert.objects.select_for_update(skip_locked=True)
                .filter(dataset=dataset, status=Status.ACTIVE)
                .exclude(Exists(evaluated))
                .order_by("id")[:batch]
            )
            if not claimed:
                return report
            now = timezone.now()
            # each owner once per batch; with the groups and attributes that decide which rules apply to them when
            # the dataset has rules (the dataset was read with its rules)
            users = get_user_model().objects.prefetch_related("groups")
            if dataset.column_rules.all() or dataset.row_rules.all():
                users = users.prefetch_related("attributes")
            owners = users.in_bulk({alert.owner_id for alert in claimed})
            # an owner who lost access to the visual (or, once it is deleted, to the dataset) gets no value
            viewers = asset_viewers(list({alert.visual_id or dataset.asset_id for alert in claimed}))
            readers: dict[int, tuple] = {}  # owner -> reader rules
            items: list[tuple[Alert, Outcome | None, str]] = []
            for alert in claimed:
                alert.dataset, alert.owner = dataset, owners[alert.owner_id]
                subject = viewers.get(alert.visual_id or dataset.asset_id)
                if subject is None or not subject.include(alert.owner):
                    items.append((alert, None, NO_ACCESS))
                    continue
                if alert.owner_id not in readers:
                    readers[alert.owner_id] = _access_key(alert.owner, dataset)
                spec_key = json.dumps(alert.spec, sort_keys=True)
                group = (spec_key, readers[alert.owner_id])
                if group not in results:
                    report.visual_queries += 1
                    try:
                        results[group] = evaluate_spec(
                            spec=alert.spec, dataset=dataset, user=alert.owner, version=version
                        )
                    except TransientEvaluationError as error:
                        if not final_attempt:
                            raise
                        results[group] = error.args[0] if error.args else "the query timed out"
                    except DomainError as error:
                        results[group] = error.message
                result = results[group]
                if isinstance(result, str):
                    items.append((alert, None, result))
                    continue
                outcome = evaluate(
                    result=result,
                    key=alert.cell_key,
                    period=alert.period,
                    spec=alert.spec,
                    condition=alert.condition,
                    threshold=alert.threshold,
                    tolerance=alert.tolerance,
                    now=now,
                )
                items.append((alert, outcome, ""))
            report.notifications += _apply(items, version, now)
            report.evaluated += len(items)
            if report.notifications:
                from .tasks import notifications_send_task

                transaction.on_commit(lambda: notifications_send_task.delay())


def alert_schedules_run_due(*, now: datetime | None = None, batch: int = 100) -> list[tuple[int, str]]:
    """Direct datasets whose alert time has come: returns (dataset id, version) to evaluate, schedules moved on."""
    now = now or timezone.now()
    due = []
    with transaction.atomic():
        for schedule in AlertSchedule.objects.select_for_update(skip_locked=True).filter(next_run_at__lte=now)[:batch]:
            due.append((schedule.dataset_id, f"direct:{schedule.next_run_at.isoformat(timespec='minutes')}"))
            schedule.next_run_at = next_alert_run(
                interval=schedule.interval,
                minute_of_day=schedule.minute_of_day,
                time_zone=schedule.time_zone,
                after=now,
            )
            schedule.save(update_fields=["next_run_at", "updated_at"])
    return due


# ---------------------------------------------------------------------------------------------------------------
# The outbox


def _outbox_claim(*, batch: int, now: datetime) -> list[Notification]:
    """Claims due emails under a lease (SKIP LOCKED), so two workers, or two beats' sweeps, never take the same one."""
    lease = timedelta(seconds=settings.CARTOGRAPH_OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
                | Q(status=NotificationStatus.SENDING, lease_until__lt=now)
            )
            .order_by("next_attempt_at", "id")[:batch]
        )
        for note in claimed:
            note.status, note.lease_until, note.attempts = NotificationStatus.SENDING, now + lease, note.attempts + 1
            note.updated_at = now
        Notification.objects.bulk_update(claimed, ["status", "lease_until", "attempts", "updated_at"])
    return claimed


def _email_message(note: Notification, smtp) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=note.subject,
        body=note.body_text,
        to=[note.to_email],
        headers={"Message-ID": note.message_id},
        connection=smtp,
    )
    message.attach_alternative(note.body_html, "text/html")
    return message


def notifications_send_due(*, batch: int = 50, now: datetime | None = None) -> int:
    """Sends due emails from the outbox over one SMTP connection per batch.

    Each email is marked sent as soon as the server has accepted it, so a worker that dies mid-batch leaves only
    the emails it had not yet handed over; their lease expires and another worker sends them. An email whose
    acceptance and "sent" mark were split by the crash (the milliseconds between the server's 250 reply and our
    commit) is sent again with the same Message-ID, which mail stores use to drop the copy. A failed send is retried
    with backoff: an SMTP outage delays emails, never loses them."""
    now = now or timezone.now()
    claimed = _outbox_claim(batch=batch, now=now)
    sent = 0
    smtp = None
    for note in claimed:
        try:
            if smtp is None:
                smtp = get_connection(fail_silently=False)
                smtp.open()
            _email_message(note, smtp).send()
        except Exception as error:  # any failure of the mail server: retry later, never lose the email
            if smtp is not None:
                with contextlib.suppress(Exception):
                    smtp.close()
                smtp = None
            backoff = min(timedelta(seconds=30) * 2 ** (note.attempts - 1), timedelta(hours=1))
            status = NotificationStatus.FAILED if note.attempts >= MAX_SEND_ATTEMPTS else NotificationStatus.PENDING
            Notification.objects.filter(pk=note.pk).update(
                status=status,
                next_attempt_at=timezone.now() + backoff,
                lease_until=None,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                updated_at=timezone.now(),
            )
            continue
        Notification.objects.filter(pk=note.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.SENT, sent_at=timezone.now(), lease_until=None, updated_at=timezone.now()
        )
        sent += 1
    if smtp is not None:
        with contextlib.suppress(Exception):
            smtp.close()
    return sent


# ---------------------------------------------------------------------------------------------------------------
# Before saving, and "test now"


def alert_preview(
    *,
    owner,
    visual: Visual,
    cell_key: str,
    condition: str,
    threshold: Decimal,
    tolerance: Decimal | None,
    period: str,
    history: int = 30,
) -> dict[str, Any]:
    """The cell as the owner sees it, what the alert would have done on the dataset's recent refreshes, and the
    projected number of evaluations per month."""
    _check_settings(spec=visual.spec, condition=condition, period=period, threshold=threshold, tolerance=tolerance)
    cell, _, version = cell_of(visual=visual, owner=owner, key=cell_key)
    dataset = visual.dataset
    fired, checked = 0, 0
    if dataset.import_mode == Dataset.ImportMode.SPICE:
        for snapshot in dataset.snapshots.order_by("-created_at")[:history]:
            past = DataVersion(f"snapshot:{snapshot.pk}", snapshot.created_at, snapshot)
            try:
                result = evaluate_spec(spec=visual.spec, dataset=dataset, user=owner, version=past)
            except (DomainError, TransientEvaluationError):
                continue
            outcome = evaluate(
                result=result,
                key=cell.key,
                period=period,
                spec=visual.spec,
                condition=condition,
                threshold=Decimal(str(threshold)),
                tolerance=Decimal(str(tolerance)) if tolerance is not None else None,
                now=snapshot.created_at,
            )
            checked += 1
            fired += outcome.state == State.BREACHED
    return {
        "value": cell.value,
        "measure": cell.measure,
        "dimensions": visuals.parse_cell_key(cell.key)[1],
        "as_of": version.as_of,
        "would_have_fired": fired,
        "refreshes_checked": checked,
        "evaluations_per_month": projected_evaluations(dataset),
    }


def projected_evaluations(dataset: Dataset) -> int:
    if dataset.import_mode == Dataset.ImportMode.SPICE:
        per_interval = {"hourly": 720, "daily": 30, "weekly": 4}
        if dataset.refresh_interval in per_interval:
            return per_interval[dataset.refresh_interval]
        return dataset.refreshes.filter(status="succeeded", created_at__gte=timezone.now() - timedelta(days=30)).count()
    schedule = AlertSchedule.objects.filter(dataset=dataset).first()
    return 720 if schedule and schedule.interval == AlertSchedule.Interval.HOURLY else 30


def alert_test(*, alert: Alert) -> dict[str, Any]:
    """Evaluates now and shows the email that would be sent; records nothing."""
    version = current_version(alert.dataset)
    try:
        result = evaluate_spec(spec=alert.spec, dataset=alert.dataset, user=alert.owner, version=version)
    except (DomainError, TransientEvaluationError) as error:
        message = getattr(error, "message", None) or str(error)
        return {"state": State.ERROR, "value": None, "error": message, "email": None}
    outcome = evaluate(
        result=result,
        key=alert.cell_key,
        period=alert.period,
        spec=alert.spec,
        condition=alert.condition,
        threshold=alert.threshold,
        tolerance=alert.tolerance,
        now=timezone.now(),
    )
    kind = NotificationKind.NO_DATA if outcome.state == State.NO_DATA else NotificationKind.BREACH
    return {
        "state": outcome.state,
        "value": outcome.value,
        "period": outcome.period,
        "error": "",
        "email": render_email(alert, outcome, kind=kind, as_of=version.as_of),
    }
