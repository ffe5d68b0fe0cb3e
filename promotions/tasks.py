"""Background work of promotions: applying an approved plan (each step's progress is saved as it goes)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def promotion_execute_task(*, promotion_id: int) -> str | None:
    """Applies one queued promotion; a duplicate delivery finds it no longer queued and does nothing."""
    promotion = services.promotion_execute(promotion_id=promotion_id)
    return promotion.status if promotion else None
