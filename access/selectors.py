from __future__ import annotations

from django.db.models import QuerySet

from .models import Grant
from .permissions import sees_everything, user_group_ids


def grant_list(*, user) -> QuerySet[Grant]:
    """Staff see every grant; others see the grants held by their own groups."""
    grants = Grant.objects.select_related("group", "domain", "asset").order_by("group__name", "id")
    if sees_everything(user):
        return grants
    return grants.filter(group_id__in=user_group_ids(user))
