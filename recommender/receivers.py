"""The recommender subscribes to other apps' events: new data of a product refreshes its sample, profile and
recommendations (in a Celery task; the task is idempotent, so a duplicate delivery changes nothing); a join seen in
an imported dataset becomes (or strengthens) an observed relationship of the knowledge graph."""

from __future__ import annotations

import logging

from django.db import transaction

from config.errors import DomainError

logger = logging.getLogger(__name__)


def profile_after_refresh(sender, dataset_id: int, snapshot_id: int, **kwargs) -> None:
    from .tasks import sample_refresh_task

    sample_refresh_task.delay(dataset_id=dataset_id, version=f"snapshot:{snapshot_id}")


def relate_observed_join(sender, evidence, **kwargs) -> None:
    from .services import relationship_observe

    if not evidence.column_pairs:
        return
    keys = [{"from": left, "to": right} for left, right in evidence.column_pairs]
    try:
        with transaction.atomic():  # a refused observation leaves the import's transaction usable
            relationship_observe(
                from_asset=evidence.left, to_asset=evidence.right, key_columns=keys, at=evidence.last_seen_at
            )
    except DomainError as error:
        logger.info("join %s not recorded as a relationship: %s", evidence, error.message)
