"""Facet links of the search page, built from the current query string (pure: no database access).

Each facet value links to the same search with that value switched on or off, so the page works as plain links
and HTMX only makes the swap faster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

# The facet filters of the search page: the AssetFilter parameter, its heading, and whether several values combine.
FACETS: tuple[tuple[str, str, bool], ...] = (
    ("kind", "Kind", True),
    ("owner", "Owner", False),
    ("business_unit", "Business unit", False),
    ("tag", "Tag", False),
)


@dataclass
class FacetValue:
    label: str
    count: int
    url: str
    selected: bool


@dataclass
class FacetGroup:
    name: str
    title: str
    values: list[FacetValue] = field(default_factory=list)


@dataclass
class ActiveFilter:
    name: str
    title: str
    label: str
    remove_url: str


def toggle_url(params: QueryDict, name: str, value: str, *, multiple: bool) -> str:
    """The query string with `value` of `name` switched on or off; the page number is dropped."""
    query = params.copy()
    query.pop("page", None)
    values = query.getlist(name)
    if value in values:
        values = [v for v in values if v != value]
    elif multiple:
        values = [*values, value]
    else:
        values = [value]
    query.setlist(name, values)
    return "?" + query.urlencode()


def facet_groups(params: QueryDict, facets: dict[str, list[dict[str, Any]]]) -> list[FacetGroup]:
    groups = []
    for name, title, multiple in FACETS:
        selected = set(params.getlist(name))
        group = FacetGroup(name=name, title=title)
        for row in facets.get(name, []):
            value = str(row["value"])
            group.values.append(
                FacetValue(
                    label=str(row["label"]),
                    count=row["count"],
                    url=toggle_url(params, name, value, multiple=multiple),
                    selected=value in selected,
                )
            )
        groups.append(group)
    return groups


def active_filters(params: QueryDict, facets: dict[str, list[dict[str, Any]]]) -> list[ActiveFilter]:
    """The facet filters in the query string, each with a link that removes it (labels from the facets if known)."""
    result = []
    for name, title, multiple in FACETS:
        labels = {str(row["value"]): str(row["label"]) for row in facets.get(name, [])}
        for value in params.getlist(name):
            if value:
                result.append(
                    ActiveFilter(
                        name=name,
                        title=title,
                        label=labels.get(value, value),
                        remove_url=toggle_url(params, name, value, multiple=multiple),
                    )
                )
    return result
