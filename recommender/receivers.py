"""The recommender subscribes to catalog events: new data of a product refreshes its sample, profile and
recommendations (in a Celery task; the task is idempotent, so a duplicate delivery changes nothing)."""

from __future__ import annotations


def profile_after_refresh(sender, dataset_id: int, snapshot_id: int, **kwargs) -> None:
    from .tasks import sample_refresh_task

    sample_refresh_task.delay(dataset_id=dataset_id, version=f"snapshot:{snapshot_id}")
