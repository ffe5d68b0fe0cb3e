"""Celery entry points of the recommender: thin, they load by id and call one service."""

from __future__ import annotations

from celery import shared_task

from catalog.models import Dataset

from . import services


@shared_task(ignore_result=True)
def sample_refresh_task(*, dataset_id: int, version: str | None = None) -> None:
    """New data of a dataset: a new sample and profile of its asset, then the pairs that involve it again."""
    dataset = Dataset.objects.filter(pk=dataset_id).select_related("asset").first()
    if dataset is None or dataset.asset.kind not in services.PRODUCT_KINDS:
        return
    services.recommendations_after_data_change(asset=dataset.asset)


@shared_task(ignore_result=True)
def recommendation_run_task(*, run_id: int) -> None:
    services.recommendation_run_execute(run_id=run_id)


@shared_task(ignore_result=True)
def recommendations_others_task(*, changed_id: int, full_ids: list[int], partial_ids: list[int]) -> None:
    """A chunk of the products to match again after new data of `changed_id` (fanned out over the workers)."""
    services.recommendations_others(changed_id=changed_id, full_ids=full_ids, partial_ids=partial_ids)
