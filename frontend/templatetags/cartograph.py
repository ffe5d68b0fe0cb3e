"""Template filters of the web UI for values the catalog stores in raw form (history values, choice codes)."""

from __future__ import annotations

import json
from typing import Any

from django import template

from catalog.choices import AssetKind, AssetStatus, ChangeSource, Environment

register = template.Library()

_CHOICES = {
    "kind": dict(AssetKind.choices),
    "status": dict(AssetStatus.choices),
    "environment": dict(Environment.choices),
    "source": dict(ChangeSource.choices),
}


@register.filter
def change_value(value: Any) -> str:
    """One side of a history change as text: empty for nothing, yes/no, lists joined, mappings as compact JSON."""
    if value is None or value == "" or value == {} or value == []:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


@register.filter
def change_display(value: Any, field: str) -> str:
    """A history value shown for people: choice codes by their label (`prod` → `Production`), else as text."""
    if isinstance(value, str) and field in _CHOICES:
        return _CHOICES[field].get(value, value)
    return change_value(value)


@register.filter
def is_structured(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple))


@register.filter
def field_label(name: str) -> str:
    """`business_unit` → `Business unit`."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def choice_label(value: str, choices: str) -> str:
    """The human label of a stored choice code, e.g. `{{ "api"|choice_label:"source" }}` → `API`."""
    if not isinstance(value, str):
        return value
    return _CHOICES.get(choices, {}).get(value, value)


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
