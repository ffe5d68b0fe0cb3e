"""The shape of `Asset.attributes`, one JSON Schema per kind.

Known keys are typed; unknown keys are rejected so that a typo ("publishd_version") is an error, not silent data.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from .choices import AssetKind

_STR = {"type": "string", "maxLength": 2000}
_INT = {"type": "integer", "minimum": 0}
_STR_LIST = {"type": "array", "items": _STR, "maxItems": 1000}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False}


SCHEMAS: dict[str, dict[str, Any]] = {
    AssetKind.DATA_PRODUCT: _object(
        {
            "output_port": _STR,
            "sla": _STR,
            "update_frequency": _STR,
            "classification": _STR,
            "url": _STR,
            "row_count": _INT,
        }
    ),
    AssetKind.DATA_SOURCE: _object(
        {
            "type": {"type": "string", "enum": ["postgresql", "redshift", "athena", "s3", "file", "mysql", "other"]},
            "host": _STR,
            "database": _STR,
            "arn": _STR,
        }
    ),
    AssetKind.DATASET: _object(
        {
            "import_mode": {"type": "string", "enum": ["spice", "direct"]},
            "row_count": _INT,
            "physical_table": _STR,
            "sql": {"type": "string", "maxLength": 100000},
            "arn": _STR,
        }
    ),
    AssetKind.TEMPLATE: _object(
        {
            "arn": _STR,
            "source_analysis": _STR,
            "aliases": _STR_LIST,
            # QuickSight DataSetConfigurations: each placeholder with the columns a dataset must have to fill it
            "dataset_configurations": {
                "type": "array",
                "maxItems": 100,
                "items": _object(
                    {
                        "placeholder": _STR,
                        "columns": {
                            "type": "array",
                            "maxItems": 2000,
                            "items": _object({"name": _STR, "data_type": _STR}),
                        },
                    }
                ),
            },
        }
    ),
    AssetKind.ANALYSIS: _object({"arn": _STR, "is_reference": {"type": "boolean"}, "sheets": _STR_LIST}),
    AssetKind.DASHBOARD: _object(
        {"arn": _STR, "published_version": _INT, "url": _STR, "sheets": _STR_LIST, "source_template": _STR}
    ),
    AssetKind.VISUAL: _object(
        {"visual_type": {"type": "string", "enum": ["table", "pivot", "bar", "line", "kpi", "pie", "other"]}}
    ),
    AssetKind.FOLDER: _object({"arn": _STR, "folder_type": _STR}),
}

_VALIDATORS = {kind: Draft202012Validator(schema) for kind, schema in SCHEMAS.items()}


def attribute_errors(*, kind: str, attributes: Any) -> list[str]:
    """Messages naming each problem with `attributes` for an asset of `kind`; empty when valid."""
    validator = _VALIDATORS.get(kind)
    if validator is None:
        return [f"unknown kind {kind!r}"]
    messages = []
    for error in sorted(validator.iter_errors(attributes), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "attributes"
        messages.append(f"{where}: {error.message}")
    return messages
