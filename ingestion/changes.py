"""What an event, a Describe* output or an OpenLineage event asks of the catalog, as plain data.

Parsers turn their input into a `Plan`; `services.plan_apply` carries a plan out through the catalog's and
lineage's services. Keeping the two apart lets every parser be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Assets are named by (kind, external_id) until they are resolved to rows.
Ref = tuple[str, str]


class ParseError(ValueError):
    """The input is malformed; `path` says where (e.g. `detail.requestParameters.dashboardId`)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


@dataclass
class AssetChange:
    """Create or update (or, with `delete`, soft-delete) one asset.

    `incoming` makes the open edges of each listed kind into this asset exactly the given sources (others end);
    kinds not listed are left alone. `columns`, when given, is the asset's whole schema.
    """

    ref: Ref
    name: str = ""
    delete: bool = False
    attributes: dict[str, Any] | None = None
    version: int | None = None
    columns: list[dict[str, Any]] | None = None
    incoming: dict[str, list[Ref]] = field(default_factory=dict)
    # only the given attribute keys are changed, others kept (events carry part of the state)
    merge_attributes: bool = False
    # `columns` are added to the schema, none removed (tables seen through several datasets' queries)
    merge_columns: bool = False
    # edges into this asset that are added, never ended (OpenLineage events each tell part of the story)
    incoming_add: dict[str, list[Ref]] = field(default_factory=dict)
    tags: list[str] | None = None  # set on creation only
    description: str = ""  # set on creation only


@dataclass
class ColumnLink:
    """Column-level lineage: `target` column of one asset is computed from `source` column of another."""

    source: Ref
    source_column: str
    target: Ref
    target_column: str
    transformation: str = "DIRECT"
    subtype: str = ""


@dataclass
class Membership:
    folder: Ref
    member: Ref
    remove: bool = False


@dataclass
class Join:
    """A join seen inside a dataset between two assets, with the equal column pairs of its ON clause."""

    dataset: Ref
    left: Ref
    right: Ref
    join_type: str
    on_clause: str
    column_pairs: list[list[str]]


@dataclass
class Plan:
    """Everything one input asks for; `at` is when it happened (event time), None for "now"."""

    at: datetime | None = None
    assets: list[AssetChange] = field(default_factory=list)
    column_links: list[ColumnLink] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)
    describe: list[Ref] = field(default_factory=list)
    # folders whose members are exactly those in `memberships` (others are taken out)
    exact_folders: list[Ref] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def extend(self, other: Plan) -> None:
        self.assets += other.assets
        self.column_links += other.column_links
        self.memberships += other.memberships
        self.joins += other.joins
        self.describe += other.describe
        self.exact_folders += other.exact_folders
        self.notes += other.notes


def ci_get(data: Any, *names: str, default: Any = None) -> Any:
    """`data[name]` for the first of `names` present, compared case-insensitively.

    CloudTrail writes request parameters in lowerCamelCase (`sourceEntity`), the API reference and Describe* outputs
    in PascalCase (`SourceEntity`); both spellings are accepted everywhere.
    """
    if not isinstance(data, dict):
        return default
    for name in names:
        if name in data:
            return data[name]
    lowered = {str(key).lower(): value for key, value in data.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return default


def ci_path(data: Any, path: str, default: Any = None) -> Any:
    """`ci_get` along a dotted path: `ci_path(d, "SourceEntity.SourceTemplate.Arn")`."""
    for part in path.split("."):
        data = ci_get(data, part)
        if data is None:
            return default
    return data
