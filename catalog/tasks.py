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
