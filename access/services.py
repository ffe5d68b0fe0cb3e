"""Writes to access: grants of view or edit to groups, sharing requests and their decisions, the audit of data
reads and access changes, in-app notifications, and group memberships from single sign-on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from config.errors import DomainError

from .choices import REQUEST_TRANSITIONS, REQUESTABLE_KINDS, AuditAction, AuditSource, Permission, RequestStatus
from .models import AccessRequest, AccessRequestEvent, AuditEvent, Grant, Notification
from .permissions import decider_group_id, group_visibility_q, may_decide, user_group_ids

# How long before an approved grant expires its requester is reminded.
EXPIRY_REMINDER = timedelta(days=3)
MAX_DURATION_DAYS = 3650


# --- audit -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One audit row to write in bulk (`audit_record_many`)."""

    user: Any
    action: str
    source: str
    asset_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _actor(user) -> tuple[int | None, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user.pk, user.get_username()


def _event(entry: AuditEntry) -> AuditEvent:
    if entry.action not in AuditAction.values:
        raise ValueError(f"{entry.action!r} is not an audit action")
    if entry.source not in AuditSource.values:
        raise ValueError(f"{entry.source!r} is not an audit source")
    actor_id, actor_name = _actor(entry.user)
    return AuditEvent(
        actor_id=actor_id,
        actor_name=actor_name,
        source=entry.source,
        action=entry.action,
        asset_id=entry.asset_id,
        detail=entry.detail,
    )


def audit_record(
    *, user, action: str, source: str, asset=None, asset_id: int | None = None, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Appends one audit row: `user` read the data of `asset` (or changed access) through `source`."""
    entry = AuditEntry(
        user=user,
        action=action,
        source=source,
        asset_id=asset.pk if asset is not None else asset_id,
        detail=detail or {},
    )
    event = _event(entry)
    event.save()
    return event


def audit_record_many(*, entries: Iterable[AuditEntry]) -> int:
    """Appends many audit rows in one INSERT (alert evaluation reads data for many readers at once)."""
    events = [_event(entry) for entry in entries]
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)


# --- grants ------------------------------------------------------------------------------------------------------


def _grant_detail(grant: Grant) -> dict[str, Any]:
    return {
        "grant": grant.pk,
        "group": grant.group.name,
        "permission": grant.permission,
        "domain": grant.domain.slug if grant.domain_id else None,
    }


@transaction.atomic
def grant_set(
    *,
    group: Group,
    permission: str,
    actor: AbstractBaseUser | None,
    domain=None,
    asset=None,
    source: str = AuditSource.SYSTEM,
) -> Grant:
    """Gives `group` view or edit on one domain or one asset; an existing grant on the same target is changed.
    Recorded in the audit."""
    if (domain is None) == (asset is None):
        raise DomainError("a grant is on exactly one domain or one asset", field="domain")
    if permission not in Permission.values:
        raise DomainError(f"{permission!r} is not a permission; use view or edit", field="permission")
    grant, created = Grant.objects.select_for_update().get_or_create(
        group=group, domain=domain, asset=asset, defaults={"permission": permission, "created_by": actor}
    )
    changed = created
    if grant.permission != permission:
        grant.permission = permission
        grant.full_clean()
        grant.save(update_fields=["permission", "updated_at"])
        changed = True
    if changed:
        audit_record(
            user=actor,
            action=AuditAction.GRANT_SET,
            source=source,
            asset_id=grant.asset_id,
            detail=_grant_detail(grant),
        )
    return grant


@transaction.atomic
def grant_revoke(*, grant: Grant, actor: AbstractBaseUser | None, source: str = AuditSource.SYSTEM) -> None:
    """Removes the grant; recorded in the audit."""
    audit_record(
        user=actor, action=AuditAction.GRANT_REVOKE, source=source, asset_id=grant.asset_id, detail=_grant_detail(grant)
    )
    grant.delete()


# --- notifications -----------------------------------------------------------------------------------------------


def _notify(*, users: Iterable, text: str, request: AccessRequest | None, subject: str) -> list[Notification]:
    """In-app notifications to each user, and an email to each after the transaction commits."""
    from .tasks import notifications_email_task

    link = reverse("access-request-detail-page", args=[request.pk]) if request is not None else ""
    notifications = Notification.objects.bulk_create(
        Notification(user=user, text=text[:500], link=link, request=request)
        for user in {u.pk: u for u in users}.values()
    )
    ids = [n.pk for n in notifications]
    if ids:
        transaction.on_commit(lambda: notifications_email_task.delay(ids, subject))
    return notifications


def notifications_email(*, notification_ids: list[int], subject: str) -> int:
    """Emails each notification to its user (those with an address); returns how many were sent."""
    from django.core.mail import send_mail

    sent = 0
    for notification in Notification.objects.filter(pk__in=notification_ids).select_related("user"):
        if not notification.user.email:
            continue
        url = f"{settings.CARTOGRAPH_SITE_URL.rstrip('/')}{notification.link}" if notification.link else ""
        body = f"{notification.text}\n\n{url}\n" if url else f"{notification.text}\n"
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.user.email])
    return sent


@transaction.atomic
def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Marks the user's notifications (all, or the given ones) read; returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    now = timezone.now()
    return unread.update(read_at=now, updated_at=now)


# --- sharing requests ----------------------------------------------------------------------------------------------


def request_deciders(asset) -> list:
    """The people who decide on access to the asset: members of its domain's owning group (else of its owning group,
    else its personal owner)."""
    user_model = get_user_model()
    group_id = decider_group_id(asset)
    if group_id is not None:
        return list(user_model.objects.filter(groups__id=group_id, is_active=True).order_by("username"))
    return [asset.owner] if asset.owner_id else []


def _step(
    access_request: AccessRequest,
    *,
    actor,
    action: str,
    to_status: str,
    comment: str,
    source: str,
    from_status: str | None = None,
) -> None:
    AccessRequestEvent.objects.create(
        request=access_request,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=access_request.status if from_status is None else from_status,
        to_status=to_status,
        comment=comment,
    )
    audit_record(
        user=actor,
        action=action,
        source=source,
        asset_id=access_request.asset_id,
        detail={"request": access_request.pk, "group": access_request.group.name, "to": to_status},
    )


def _check_move(access_request: AccessRequest, to_status: str) -> None:
    if to_status not in REQUEST_TRANSITIONS[access_request.status]:
        raise DomainError(
            f"a {access_request.status} request cannot become {to_status}",
            field="status",
            status_code=409,
        )


def _locked(access_request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("asset__domain", "group", "requester")
        .get(pk=access_request.pk)
    )


def _check_decider(actor, access_request: AccessRequest) -> None:
    if not may_decide(actor, access_request.asset):
        raise DomainError(
            "only the data owners of the asset's domain decide on this request", field="request", status_code=403
        )


def _clean_text(value: str, *, name: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(f"say why in a {name}", field=name)
    if len(value) > 5000:
        raise DomainError(f"keep the {name} under 5000 characters", field=name)
    return value


def _check_days(days: int | None, *, name: str) -> None:
    if days is not None and not 1 <= days <= MAX_DURATION_DAYS:
        raise DomainError(f"give a number of days from 1 to {MAX_DURATION_DAYS}", field=name)


@transaction.atomic
def access_request_create(
    *,
    requester,
    group: Group,
    asset,
    justification: str,
    duration_days: int | None = None,
    source: str = AuditSource.API,
) -> AccessRequest:
    """Asks that `group` (one of the requester's groups) be given view access to a data product, dataset or dashboard;
    its data owners are notified in the app and by email."""
    justification = _clean_text(justification, name="justification", required=True)
    _check_days(duration_days, name="duration_days")
    if group.pk not in user_group_ids(requester):
        raise DomainError(
            f"you are not a member of {group.name!r}; request access for one of your groups", field="group"
        )
    if asset.kind not in REQUESTABLE_KINDS or asset.status == "deleted":
        raise DomainError("access is requested for a data product, dataset or dashboard", field="asset")
    deciders = request_deciders(asset)
    if not deciders:
        raise DomainError("nobody owns this asset yet, so nobody can decide; ask an administrator", field="asset")
    from catalog.models import Asset

    if Asset.objects.filter(group_visibility_q(group.pk), pk=asset.pk).exists():
        raise DomainError(f"{group.name!r} already has access to this asset", field="group")
    access_request = AccessRequest(
        requester=requester, group=group, asset=asset, justification=justification, duration_days=duration_days
    )
    access_request.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            access_request.save()
    except IntegrityError:
        raise DomainError(
            f"{group.name!r} already has an open request for this asset; wait for its decision", field="group"
        ) from None
    _step(
        access_request,
        actor=requester,
        action=AuditAction.REQUEST_CREATE,
        to_status=RequestStatus.PENDING,
        comment=justification,
        source=source,
        from_status="",
    )
    _notify(
        users=deciders,
        text=f"{requester.get_username()} asks access to {asset.name} for {group.name}: {justification}",
        request=access_request,
        subject=f"Access request: {asset.name}",
    )
    return access_request


@transaction.atomic
def access_request_approve(
    *, access_request: AccessRequest, actor, comment: str = "", source: str = AuditSource.API
) -> AccessRequest:
    """Approves a pending request: the group gets a view grant on the asset, until the requested duration ends."""
    access_request = _locked(access_request)
    _check_decider(actor, access_request)
    _check_move(access_request, RequestStatus.APPROVED)
    comment = _clean_text(comment, name="comment", required=False)
    existing = Grant.objects.filter(group=access_request.group, asset=access_request.asset).first()
    if existing is None:
        # only a grant this request created ends with it; a grant given otherwise is left alone
        access_request.grant = grant_set(
            group=access_request.group,
            permission=Permission.VIEW,
            asset=access_request.asset,
            actor=actor,
            source=source,
        )
    now = timezone.now()
    _step(
        access_request,
        actor=actor,
        action=AuditAction.REQUEST_APPROVE,
        to_status="approved",
        comment=comment,
        source=source,
    )
    access_request.status = RequestStatus.APPROVED
    access_request.decided_by, access_request.decided_at, access_request.decision_comment = actor, now, comment
    if access_request.duration_days:
        access_request.expires_at = now + timedelta(days=access_request.duration_days)
    access_request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_comment", "expires_at", "grant", "updated_at"]
    )
    until = f" until {access_request.expires_at:%Y-%m-%d}" if access_request.expires_at else ""
    _notify(
        users=[access_request.requester],
        text=f"{access_request.group.name} may now see {access_request.asset.name}{until}. {comment}".strip(),
        request=access_request,
        subject=f"Access approved: {access_request.asset.name}",
    )
    return access_request


@transaction.atomic
def access_request_reject(
    *, access_request: AccessRequest, actor, comment: str, source: str = AuditSource.API
) -> AccessRequest:
    """Rejects a pending request; the comment (required) tells the requester why."""
    access_request = _locked(access_request)
    _check_decider(actor, access_request)
    _check_move(access_request, RequestStatus.REJECTED)
    comment = _clean_text(comment, name="comment", required=True)
    _step(
        access_request,
        actor=actor,
        action=AuditAction.REQUEST_REJECT,
        to_status="rejected",
        comment=comment,
        source=source,
    )
    access_request.status = RequestStatus.REJECTED
    access_request.decided_by, access_request.decided_at = actor, timezone.now()
    access_request.decision_comment = comment
    access_request.save(update_fields=["status", "decided_by", "decided_at", "decision_comment", "updated_at"])
    _notify(
        users=[access_request.requester],
        text=f"Your request for {access_request.asset.name} was rejected: {comment}",
        request=access_request,
        subject=f"Access rejected: {access_request.asset.name}",
    )
    return access_request


@transaction.atomic
def access_request_withdraw(*, access_request: AccessRequest, actor, source: str = AuditSource.API) -> AccessRequest:
    """The requester takes back a pending request."""
    access_request = _locked(access_request)
    if access_request.requester_id != actor.pk:
        raise DomainError("only the requester withdraws a request", field="request", status_code=403)
    _check_move(access_request, RequestStatus.WITHDRAWN)
    _step(
        access_request,
        actor=actor,
        action=AuditAction.REQUEST_WITHDRAW,
        to_status="withdrawn",
        comment="",
        source=source,
    )
    access_request.status = RequestStatus.WITHDRAWN
    access_request.save(update_fields=["status", "updated_at"])
    return access_request


def _end_grant(access_request: AccessRequest, *, actor, source: str) -> None:
    if access_request.grant_id is not None:
        grant = Grant.objects.select_for_update().filter(pk=access_request.grant_id).first()
        if grant is not None:
            grant_revoke(grant=grant, actor=actor, source=source)
        access_request.grant = None


@transaction.atomic
def access_request_revoke(
    *, access_request: AccessRequest, actor, comment: str = "", source: str = AuditSource.API
) -> AccessRequest:
    """Ends an approved request's access before it expires."""
    access_request = _locked(access_request)
    _check_decider(actor, access_request)
    _check_move(access_request, RequestStatus.REVOKED)
    comment = _clean_text(comment, name="comment", required=False)
    _step(
        access_request,
        actor=actor,
        action=AuditAction.REQUEST_REVOKE,
        to_status="revoked",
        comment=comment,
        source=source,
    )
    _end_grant(access_request, actor=actor, source=source)
    access_request.status = RequestStatus.REVOKED
    access_request.save(update_fields=["status", "grant", "updated_at"])
    _notify(
        users=[access_request.requester],
        text=f"Access of {access_request.group.name} to {access_request.asset.name} was revoked. {comment}".strip(),
        request=access_request,
        subject=f"Access revoked: {access_request.asset.name}",
    )
    return access_request


@transaction.atomic
def access_request_extend(
    *, access_request: AccessRequest, actor, days: int, comment: str = "", source: str = AuditSource.API
) -> AccessRequest:
    """Pushes an approved, expiring request's end `days` further (from now if that is later)."""
    access_request = _locked(access_request)
    _check_decider(actor, access_request)
    if access_request.status != RequestStatus.APPROVED:
        raise DomainError(f"a {access_request.status} request cannot be extended", field="status", status_code=409)
    if access_request.expires_at is None:
        raise DomainError("this access does not expire, so there is nothing to extend", field="days", status_code=409)
    _check_days(days, name="days")
    comment = _clean_text(comment, name="comment", required=False)
    start = max(access_request.expires_at, timezone.now())
    access_request.expires_at = start + timedelta(days=days)
    access_request.reminder_sent_at = None
    _step(
        access_request,
        actor=actor,
        action=AuditAction.REQUEST_EXTEND,
        to_status="approved",
        comment=comment or f"extended by {days} days to {access_request.expires_at:%Y-%m-%d}",
        source=source,
    )
    access_request.save(update_fields=["expires_at", "reminder_sent_at", "updated_at"])
    return access_request


def access_requests_sweep(*, now: datetime | None = None, batch: int = 100) -> dict[str, int]:
    """Expires approved requests whose time is up (their grants end) and reminds requesters whose access ends within
    EXPIRY_REMINDER. Bounded batches under skip-locked row locks, so concurrent sweeps do not collide; safe to rerun."""
    now = now or timezone.now()
    expired = reminded = 0
    while True:
        with transaction.atomic():
            due = list(
                AccessRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("asset", "group", "requester")
                .filter(status=RequestStatus.APPROVED, expires_at__lte=now)
                .order_by("expires_at", "id")[:batch]
            )
            for access_request in due:
                _step(
                    access_request,
                    actor=None,
                    action=AuditAction.REQUEST_EXPIRE,
                    to_status="expired",
                    comment="",
                    source=AuditSource.TASK,
                )
                _end_grant(access_request, actor=None, source=AuditSource.TASK)
                access_request.status = RequestStatus.EXPIRED
                access_request.save(update_fields=["status", "grant", "updated_at"])
                _notify(
                    users=[access_request.requester],
                    text=f"Access of {access_request.group.name} to {access_request.asset.name} has expired.",
                    request=access_request,
                    subject=f"Access expired: {access_request.asset.name}",
                )
            expired += len(due)
        if len(due) < batch:
            break
    while True:
        with transaction.atomic():
            soon = list(
                AccessRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("asset", "group", "requester")
                .filter(
                    status=RequestStatus.APPROVED,
                    reminder_sent_at__isnull=True,
                    expires_at__gt=now,
                    expires_at__lte=now + EXPIRY_REMINDER,
                )
                .order_by("expires_at", "id")[:batch]
            )
            for access_request in soon:
                _notify(
                    users=[access_request.requester],
                    text=(
                        f"Access of {access_request.group.name} to {access_request.asset.name} ends on "
                        f"{access_request.expires_at:%Y-%m-%d %H:%M} UTC; ask its owners to extend it if you still "
                        "need it."
                    ),
                    request=access_request,
                    subject=f"Access ends soon: {access_request.asset.name}",
                )
            AccessRequest.objects.filter(pk__in=[r.pk for r in soon]).update(reminder_sent_at=now, updated_at=now)
            reminded += len(soon)
        if len(soon) < batch:
            break
    return {"expired": expired, "reminded": reminded}


# --- single sign-on ----------------------------------------------------------------------------------------------


@transaction.atomic
def user_groups_sync(
    *, user, claim_groups: Iterable[str], group_map: dict[str, str] | None = None, source: str = AuditSource.UI
) -> dict[str, list[str]]:
    """Makes the user's group memberships match the identity provider's group claim, at each sign-in.

    With `group_map` (identity-provider group -> Cartograph group), only the mapped Cartograph groups are managed:
    memberships of other groups are left alone. Without it, claim groups map to Cartograph groups of the same name
    (created when missing) and the claim is the whole truth: the user leaves every group the claim does not name.
    """
    claim = {str(name).strip() for name in claim_groups if str(name).strip()}
    if group_map:
        wanted_names = {group_map[name] for name in claim if name in group_map}
        managed_names = set(group_map.values())
    else:
        wanted_names = claim
        managed_names = None
    wanted = {name: Group.objects.get_or_create(name=name[:150])[0] for name in sorted(wanted_names)}
    current = {group.name: group for group in user.groups.all()}
    to_add = [group for name, group in wanted.items() if name not in current]
    to_remove = [
        group
        for name, group in current.items()
        if name not in wanted and (managed_names is None or name in managed_names)
    ]
    if to_add:
        user.groups.add(*to_add)
    if to_remove:
        user.groups.remove(*to_remove)
    if hasattr(user, "_cartograph_group_ids"):
        del user._cartograph_group_ids
    changes = {"added": sorted(g.name for g in to_add), "removed": sorted(g.name for g in to_remove)}
    audit_record(user=user, action=AuditAction.SIGN_IN_SSO, source=source, detail=changes)
    return changes
