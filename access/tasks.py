"""Background work of access: emails for in-app notifications, and the sweep that expires and reminds."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def notifications_email_task(notification_ids: list[int], subject: str) -> int:
    return services.notifications_email(notification_ids=notification_ids, subject=subject)


@shared_task
def access_requests_sweep_task() -> dict[str, int]:
    return services.access_requests_sweep()
