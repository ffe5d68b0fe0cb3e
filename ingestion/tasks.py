from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def events_apply_task() -> None:
    """Applies pending change events (queued when events arrive, and swept by Celery beat); returns at once when
    another applier is at work, rather than holding a worker to wait for it."""
    services.events_apply_pending(wait=False)


@shared_task(ignore_result=True)
def import_run_task(*, job_id: int) -> None:
    services.import_run(job_id=job_id)


@shared_task(bind=True, ignore_result=True, max_retries=3)
def quicksight_describe_task(self, *, connector_id: int, kind: str, arn: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from .connector import asset_describe
    from .models import QuickSightConnector

    connector = QuickSightConnector.objects.filter(pk=connector_id, is_active=True).first()
    if connector is None:
        return
    try:
        asset_describe(connector=connector, kind=kind, arn=arn)
    except (BotoCoreError, ClientError) as error:
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task(ignore_result=True)
def quicksight_sync_all_task() -> None:
    """Syncs every active connector (scheduled by Celery beat)."""
    from .models import QuickSightConnector

    for connector_id in QuickSightConnector.objects.filter(is_active=True).values_list("pk", flat=True):
        quicksight_sync_task.delay(connector_id=connector_id)


@shared_task(ignore_result=True)
def quicksight_sync_task(*, connector_id: int) -> None:
    from .connector import connector_sync
    from .models import QuickSightConnector

    connector = QuickSightConnector.objects.filter(pk=connector_id, is_active=True).first()
    if connector is not None:
        connector_sync(connector=connector)
