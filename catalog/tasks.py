from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import services


@shared_task(ignore_result=True)
def asset_view_record_task(*, asset_id: int, user_id: int | None, viewed_at: str) -> None:
    when = parse_datetime(viewed_at)
    if when is None:
        return
    services.asset_view_record(asset_id=asset_id, user_id=user_id, viewed_at=when)


@shared_task(ignore_result=True)
def dataset_refresh_task(*, refresh_id: int) -> None:
    from .datasets import dataset_refresh_run

    dataset_refresh_run(refresh_id=refresh_id)


@shared_task(ignore_result=True)
def datasets_refresh_due_task() -> None:
    from .datasets import datasets_refresh_due

    datasets_refresh_due()
