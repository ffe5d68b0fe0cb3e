from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(bind=True, ignore_result=True, max_retries=3)
def alerts_evaluate_dataset_task(self, *, dataset_id: int, version: str | None = None) -> None:
    final = self.request.retries >= self.max_retries
    try:
        services.alerts_evaluate_dataset(dataset_id=dataset_id, version_label=version, final_attempt=final)
    except services.TransientEvaluationError as error:
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task(ignore_result=True)
def alert_schedules_due_task() -> None:
    for dataset_id, version in services.alert_schedules_run_due():
        alerts_evaluate_dataset_task.delay(dataset_id=dataset_id, version=version)


@shared_task(ignore_result=True)
def notifications_send_task() -> None:
    services.notifications_send_due(batch=settings.CARTOGRAPH_OUTBOX_BATCH)
