"""Alerts subscribe to catalog events: a successful SPICE refresh evaluates every alert on that dataset."""

from __future__ import annotations


def evaluate_after_refresh(sender, dataset_id: int, snapshot_id: int, **kwargs) -> None:
    from .tasks import alerts_evaluate_dataset_task

    alerts_evaluate_dataset_task.delay(dataset_id=dataset_id, version=f"snapshot:{snapshot_id}")
