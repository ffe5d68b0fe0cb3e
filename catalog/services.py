"""Writes to the catalog. Every change goes through here so that it is validated, atomic and in history."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from config.errors import DomainError

from .choices import KINDS_WITH_COLUMNS, AssetKind, AssetStatus, ChangeSource
from .models import HISTORY_RECORDS, Asset, AssetView, Column, FolderMembership, Tag

# Fields of Asset a caller may set directly (tags and columns are handled apart).
ASSET_FIELDS = (
    "name",
    "description",
    "owner",
    "owner_group",
    "domain",
    "business_unit",
    "customer",
    "product_line",
    "environment",
    "version",
    "status",
    "attributes",
)
COLUMN_FIELDS = ("data_type", "description", "position", "nullable")


def _stamp(instance: Any, *, actor: AbstractBaseUser | None, source: str) -> None:
    """Tells django-simple-history who made the change and where it came from."""
    instance._history_user = actor if actor is not None and actor.is_authenticated else None
    instance._history_source = source


def _record(instance: Any, history_type: str) -> None:
    """Writes one history entry after a save and m2m changes made with history paused, so it holds both."""
    HISTORY_RECORDS[type(instance)].create_historical_record(instance, history_type)


def tags_resolve(*, names: Iterable[str]) -> list[Tag]:
    """Tag rows for the given names, created when new; names are trimmed and compared by slug."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        if len(name) > 100:
            raise DomainError(f"tag {name[:20]!r}... is longer than 100 characters", field="tags")
        slug = slugify(name)
        if not slug:
            raise DomainError(f"tag {name!r} has no letters or digits", field="tags")
        wanted.setdefault(slug, name)
    existing = {t.slug: t for t in Tag.objects.filter(slug__in=wanted)}
    missing = [Tag(name=name, slug=slug) for slug, name in wanted.items() if slug not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.slug: t for t in Tag.objects.filter(slug__in=wanted)}
    return [existing[slug] for slug in wanted]


def _validate_asset(asset: Asset) -> None:
    if asset.customer_id and asset.business_unit_id is None and asset.customer.business_unit_id:
        asset.business_unit_id = asset.customer.business_unit_id
    asset.full_clean(exclude=["search_vector", "tags"], validate_unique=True, validate_constraints=True)


@transaction.atomic
def asset_create(
    *,
    actor: AbstractBaseUser | None,
    source: str = ChangeSource.API,
    kind: str,
    name: str,
    external_id: str = "",
    tags: Sequence[str] = (),
    columns: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> Asset:
    """Creates an asset (with its tags and columns) and records one history entry for it."""
    unknown = set(fields) - set(ASSET_FIELDS)
    if unknown:
        raise DomainError(f"unknown field(s): {', '.join(sorted(unknown))}")
    asset = Asset(kind=kind, name=name, external_id=external_id or f"cartograph:{uuid.uuid4()}", **fields)
    _validate_asset(asset)
    asset.skip_history_when_saving = True
    asset.save()
    asset.tags.set(tags_resolve(names=tags))
    del asset.skip_history_when_saving
    _stamp(asset, actor=actor, source=source)
    _record(asset, "+")
    if columns:
        columns_replace(asset=asset, columns=columns, actor=actor, source=source)
    else:
        search_index_refresh(asset_ids=[asset.pk])
    return asset


@transaction.atomic
def asset_update(
    *,
    asset: Asset,
    actor: AbstractBaseUser | None,
    source: str = ChangeSource.API,
    tags: Sequence[str] | None = None,
    columns: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> Asset:
    """Changes the given fields (and tags, columns when given); one history entry when anything changed."""
    unknown = set(fields) - set(ASSET_FIELDS)
    if unknown:
        raise DomainError(f"unknown field(s): {', '.join(sorted(unknown))}")
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    changed = [name for name, value in fields.items() if getattr(asset, name) != value]
    for name in changed:
        setattr(asset, name, fields[name])
    tags_changed = False
    if tags is not None:
        new_tags = tags_resolve(names=tags)
        tags_changed = {t.pk for t in new_tags} != set(asset.tags.values_list("pk", flat=True))
        if tags_changed:
            asset.skip_history_when_saving = True
            asset.tags.set(new_tags)
            del asset.skip_history_when_saving
    if changed or tags_changed:
        business_unit_before = asset.business_unit_id
        _validate_asset(asset)
        if asset.business_unit_id != business_unit_before and "business_unit" not in changed:
            changed.append("business_unit")  # filled in from the customer: save it, not only the history entry
        _stamp(asset, actor=actor, source=source)
        asset.save(update_fields=[*changed, "updated_at"])  # post_save records the history entry
    if columns is not None:
        columns_replace(asset=asset, columns=columns, actor=actor, source=source)
    elif changed or tags_changed:
        search_index_refresh(asset_ids=[asset.pk])
    return asset


@transaction.atomic
def asset_delete(*, asset: Asset, actor: AbstractBaseUser | None, source: str = ChangeSource.API) -> Asset:
    """Soft-deletes: the asset stays, with status `deleted`, and its history says who deleted it."""
    if asset.status == AssetStatus.DELETED:
        return asset
    return asset_update(asset=asset, actor=actor, source=source, status=AssetStatus.DELETED)


@transaction.atomic
def asset_upsert(
    *,
    actor: AbstractBaseUser | None,
    source: str,
    kind: str,
    external_id: str,
    name: str,
    tags: Sequence[str] | None = None,
    columns: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> tuple[Asset, bool]:
    """Creates the asset with this (kind, external_id) or updates it; returns (asset, created)."""
    existing = Asset.objects.filter(kind=kind, external_id=external_id).first()
    if existing is None:
        asset = asset_create(
            actor=actor,
            source=source,
            kind=kind,
            external_id=external_id,
            name=name,
            tags=tags or (),
            columns=columns,
            **fields,
        )
        return asset, True
    asset = asset_update(asset=existing, actor=actor, source=source, name=name, tags=tags, columns=columns, **fields)
    return asset, False


@transaction.atomic
def columns_replace(
    *,
    asset: Asset,
    columns: Sequence[dict[str, Any]],
    actor: AbstractBaseUser | None,
    source: str = ChangeSource.API,
) -> list[Column]:
    """Makes the asset's schema exactly `columns` (matched by name): adds, changes and removes column rows.

    Each added, changed or removed column gets its own history entry; unchanged columns get none.
    """
    if asset.kind not in KINDS_WITH_COLUMNS:
        raise DomainError(
            f"a {asset.kind} has no schema; only {', '.join(sorted(KINDS_WITH_COLUMNS))} do", field="columns"
        )
    seen: set[str] = set()
    for index, spec in enumerate(columns):
        name = str(spec.get("name", "")).strip()
        if not name:
            raise DomainError(f"column {index} has no name", field="columns")
        if name in seen:
            raise DomainError(f"column {name!r} appears twice", field="columns")
        seen.add(name)
    current = {c.name: c for c in asset.columns.prefetch_related("tags")}
    result = []
    for index, spec in enumerate(columns):
        name = str(spec["name"]).strip()
        values = {key: spec[key] for key in COLUMN_FIELDS if key in spec}
        values.setdefault("position", index)
        tag_names = spec.get("tags")
        column = current.pop(name, None)
        if column is None:
            column = Column(asset=asset, name=name, **values)
            column.full_clean(exclude=["asset"])
            _stamp(column, actor=actor, source=source)
            column.skip_history_when_saving = True
            column.save()
            column.tags.set(tags_resolve(names=tag_names or ()))
            del column.skip_history_when_saving
            _record(column, "+")
        else:
            changed = [key for key, value in values.items() if getattr(column, key) != value]
            for key in changed:
                setattr(column, key, values[key])
            tags_changed = False
            if tag_names is not None:
                new_tags = tags_resolve(names=tag_names)
                tags_changed = {t.pk for t in new_tags} != {t.pk for t in column.tags.all()}
                if tags_changed:
                    column.skip_history_when_saving = True
                    column.tags.set(new_tags)
                    del column.skip_history_when_saving
            if changed or tags_changed:
                column.full_clean(exclude=["asset"])
                _stamp(column, actor=actor, source=source)
                column.save(update_fields=[*changed, "updated_at"])
        result.append(column)
    for column in current.values():
        _stamp(column, actor=actor, source=source)
        column.delete()
    search_index_refresh(asset_ids=[asset.pk])
    return result


def _folder_ancestors(folder_id: int) -> set[int]:
    """Ids of every folder that (transitively) contains `folder_id`; cycle-safe."""
    seen: set[int] = set()
    frontier = {folder_id}
    while frontier:
        parents = set(FolderMembership.objects.filter(asset_id__in=frontier).values_list("folder_id", flat=True))
        frontier = parents - seen
        seen |= parents
    return seen


@transaction.atomic
def folder_membership_add(
    *, folder: Asset, asset: Asset, actor: AbstractBaseUser | None, source: str = ChangeSource.API
) -> FolderMembership:
    """Puts `asset` in `folder` (idempotent). A folder cannot end up inside itself."""
    if folder.kind != AssetKind.FOLDER:
        raise DomainError(f"asset {folder.pk} is a {folder.kind}, not a folder", field="folder")
    if folder.pk == asset.pk:
        raise DomainError("a folder cannot contain itself", field="asset")
    if asset.kind == AssetKind.FOLDER and asset.pk in _folder_ancestors(folder.pk):
        raise DomainError(
            f"folder {asset.name!r} already contains {folder.name!r}; nesting it there would make a cycle",
            field="asset",
        )
    membership = FolderMembership.objects.filter(folder=folder, asset=asset).first()
    if membership:
        return membership
    membership = FolderMembership(folder=folder, asset=asset)
    _stamp(membership, actor=actor, source=source)
    membership.save()
    return membership


@transaction.atomic
def folder_membership_remove(
    *, folder: Asset, asset: Asset, actor: AbstractBaseUser | None, source: str = ChangeSource.API
) -> bool:
    """Takes `asset` out of `folder`; returns whether it was there."""
    membership = FolderMembership.objects.filter(folder=folder, asset=asset).first()
    if membership is None:
        return False
    _stamp(membership, actor=actor, source=source)
    membership.delete()
    return True


def asset_view_record(*, asset_id: int, user_id: int | None, viewed_at: datetime) -> None:
    """Counts one view: bumps view_count and last_viewed_at (no history entry) and remembers who viewed."""
    with transaction.atomic():
        updated = Asset.objects.filter(pk=asset_id).update(
            view_count=F("view_count") + 1,
            last_viewed_at=viewed_at,
        )
        if updated:
            AssetView.objects.create(asset_id=asset_id, user_id=user_id, viewed_at=viewed_at)


def asset_view_enqueue(*, asset: Asset, user: AbstractBaseUser | None) -> None:
    """Records a view after the response, through Celery, so reading an asset never waits for the write."""
    from django.conf import settings

    from .tasks import asset_view_record_task

    user_id = user.pk if user is not None and user.is_authenticated else None
    viewed_at = timezone.now()
    if settings.CARTOGRAPH_RECORD_VIEWS_ASYNC:
        transaction.on_commit(
            lambda: asset_view_record_task.delay(asset_id=asset.pk, user_id=user_id, viewed_at=viewed_at.isoformat())
        )
    else:
        asset_view_record(asset_id=asset.pk, user_id=user_id, viewed_at=viewed_at)


SEARCH_VECTOR_SQL = """
UPDATE catalog_asset AS a SET search_vector =
    setweight(to_tsvector('simple', coalesce(a.name, '')), 'A')
    || setweight(to_tsvector('english', coalesce(a.name, '')), 'A')
    || setweight(to_tsvector('simple', coalesce((
        SELECT string_agg(t.name, ' ') FROM catalog_asset_tags at JOIN catalog_tag t ON t.id = at.tag_id
        WHERE at.asset_id = a.id), '')), 'B')
    || setweight(to_tsvector('simple', coalesce((
        SELECT string_agg(c.name, ' ') FROM catalog_column c WHERE c.asset_id = a.id), '')), 'C')
    || setweight(to_tsvector('english', left(coalesce(a.description, ''), 100000)), 'D')
WHERE a.id = ANY(%s)
"""


def search_index_refresh(*, asset_ids: Sequence[int]) -> None:
    """Rebuilds the ranked full-text document of these assets (PostgreSQL; SQLite searches without it)."""
    if connection.vendor != "postgresql" or not asset_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_VECTOR_SQL, [list(asset_ids)])


# ---------------------------------------------------------------------------------------------------------------
# Creating many assets at once (bulk imports)


@dataclass
class AssetSpec:
    """One asset for `assets_create_many`: its identity, description, tags and columns (name, data type)."""

    kind: str
    external_id: str
    name: str
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    tags: Sequence[str] = ()
    columns: Sequence[tuple[str, str]] = ()


def _spec_errors(spec: AssetSpec) -> list[tuple[str, str]]:
    """(field, message) for each way the spec breaks the rules `asset_create` and `columns_replace` check."""
    from .attributes import attribute_errors

    errors: list[tuple[str, str]] = []
    if spec.kind not in AssetKind.values:
        errors.append(("kind", f"{spec.kind!r} is not a kind; use one of {', '.join(AssetKind.values)}"))
    if not spec.external_id or len(spec.external_id) > 512:
        errors.append(("external_id", "must be 1 to 512 characters"))
    if not spec.name or len(spec.name) > 300:
        errors.append(("name", "must be 1 to 300 characters"))
    if len(spec.description) > 20000:
        errors.append(("description", "must be at most 20000 characters"))
    if not isinstance(spec.version, int) or spec.version < 0:
        errors.append(("version", "must be a whole number, 0 or more"))
    if not isinstance(spec.attributes, dict):
        errors.append(("attributes", "must be an object"))
    elif spec.kind in AssetKind.values:
        errors += [("attributes", message) for message in attribute_errors(kind=spec.kind, attributes=spec.attributes)]
    if spec.columns and spec.kind not in KINDS_WITH_COLUMNS:
        errors.append(("columns", f"a {spec.kind} has no columns"))
    seen: set[str] = set()
    for index, (name, data_type) in enumerate(spec.columns):
        if not name or len(name) > 300:
            errors.append(("columns", f"column {index} must have a name of 1 to 300 characters"))
        elif name in seen:
            errors.append(("columns", f"column {name!r} appears twice"))
        if len(data_type) > 100:
            errors.append(("columns", f"column {name!r}: the data type must be at most 100 characters"))
        seen.add(name)
    return errors


ASSETS_CREATE_SQL = """
INSERT INTO catalog_asset
    (kind, external_id, name, description, environment, version, status, attributes, created_at, updated_at,
     view_count, search_vector)
SELECT u.kind, u.external_id, u.name, u.description, '', u.version, %(active)s, u.attributes, %(now)s, %(now)s, 0,
    setweight(to_tsvector('simple', u.name), 'A')
    || setweight(to_tsvector('english', u.name), 'A')
    || setweight(to_tsvector('simple', u.tag_text), 'B')
    || setweight(to_tsvector('simple', u.column_text), 'C')
    || setweight(to_tsvector('english', left(u.description, 100000)), 'D')
FROM ROWS FROM (
    jsonb_to_recordset(%(rows)s::jsonb) AS (kind text, external_id text, name text, description text, version int,
                                            attributes jsonb, tag_text text, column_text text)
) WITH ORDINALITY AS u(kind, external_id, name, description, version, attributes, tag_text, column_text, n)
ORDER BY u.n
RETURNING id, kind, external_id
"""

ASSETS_HISTORY_SQL = """
INSERT INTO catalog_historicalasset
    (id, history_source, kind, external_id, name, description, environment, version, status, attributes, created_at,
     history_date, history_change_reason, history_type, business_unit_id, customer_id, domain_id, history_user_id,
     owner_id, owner_group_id, product_line_id)
SELECT id, %(source)s, kind, external_id, name, description, environment, version, status, attributes, created_at,
    %(now)s, NULL, '+', business_unit_id, customer_id, domain_id, %(user)s, owner_id, owner_group_id, product_line_id
FROM catalog_asset WHERE id = ANY(%(ids)s) ORDER BY id
"""

COLUMNS_CREATE_SQL = """
WITH created AS (
    INSERT INTO catalog_column (asset_id, name, data_type, description, position, nullable, created_at, updated_at)
    SELECT u.asset_id, u.name, u.data_type, '', u.position, true, %(now)s, %(now)s
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS u(asset_id bigint, name text, data_type text, position int)
    RETURNING *
)
INSERT INTO catalog_historicalcolumn
    (id, history_source, name, data_type, description, position, nullable, created_at, history_date,
     history_change_reason, history_type, asset_id, history_user_id)
SELECT id, %(source)s, name, data_type, description, position, nullable, created_at, %(now)s, NULL, '+', asset_id,
    %(user)s
FROM created
"""


@transaction.atomic
def assets_create_many(
    *, specs: Sequence[AssetSpec], actor: AbstractBaseUser | None, source: str
) -> dict[tuple[str, str], int]:
    """Creates many new assets with their columns, tags, history rows (one `+` entry per asset and column, as
    `asset_create` records) and search documents, in a few set-based statements; returns their ids by
    (kind, external_id).

    Each spec is checked as `asset_create` checks one asset; a broken spec raises DomainError naming it
    (`assets[3].name`) and nothing is created. An asset that exists already is an IntegrityError: this creates,
    it does not update."""
    if not specs:
        return {}
    for index, spec in enumerate(specs):
        errors = _spec_errors(spec)
        if errors:
            where, message = errors[0]
            raise DomainError(message, field=f"assets[{index}].{where}")
    tags_by_spec = [[t for t in (str(n).strip() for n in spec.tags) if t] for spec in specs]
    tags = {tag.slug: tag for tag in tags_resolve(names={name for names in tags_by_spec for name in names})}
    tags_by_spec = [[slugify(name) for name in names] for names in tags_by_spec]
    now = timezone.now()
    user = actor.pk if actor is not None and actor.is_authenticated else None
    rows = [
        {
            "kind": spec.kind,
            "external_id": spec.external_id,
            "name": spec.name,
            "description": spec.description,
            "version": spec.version,
            "attributes": spec.attributes,
            "tag_text": " ".join(
                tag.name for tag in sorted({tags[name] for name in names if name in tags}, key=lambda t: t.pk)
            ),
            "column_text": " ".join(name for name, _ in spec.columns),
        }
        for spec, names in zip(specs, tags_by_spec, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(ASSETS_CREATE_SQL, {"rows": json.dumps(rows), "now": now, "active": AssetStatus.ACTIVE})
        ids = {(kind, external_id): pk for pk, kind, external_id in cursor.fetchall()}
        cursor.execute(ASSETS_HISTORY_SQL, {"source": source, "now": now, "user": user, "ids": list(ids.values())})
        columns = [
            {"asset_id": ids[(spec.kind, spec.external_id)], "name": name, "data_type": data_type, "position": i}
            for spec in specs
            for i, (name, data_type) in enumerate(spec.columns)
        ]
        if columns:
            cursor.execute(
                COLUMNS_CREATE_SQL, {"rows": json.dumps(columns), "now": now, "source": source, "user": user}
            )
    links = [
        Asset.tags.through(asset_id=ids[(spec.kind, spec.external_id)], tag_id=tags[name].pk)
        for spec, names in zip(specs, tags_by_spec, strict=True)
        for name in dict.fromkeys(names)
        if name in tags
    ]
    if links:
        Asset.tags.through.objects.bulk_create(links, ignore_conflicts=True)
    return ids


BULK_UPDATE_FIELDS = ("name", "description", "attributes", "version", "status")

ASSETS_UPDATE_SQL = """
UPDATE catalog_asset AS a
SET name = u.name, description = u.description, attributes = u.attributes, version = u.version, status = u.status,
    updated_at = %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS u(id bigint, name text, description text, attributes jsonb, version int, status text)
WHERE a.id = u.id
"""

ASSETS_UPDATE_HISTORY_SQL = ASSETS_HISTORY_SQL.replace("NULL, '+'", "NULL, '~'")


@transaction.atomic
def assets_update_many(
    *, changes: Sequence[tuple[Asset, dict[str, Any]]], actor: AbstractBaseUser | None, source: str
) -> list[Asset]:
    """Changes plain fields (name, description, attributes, version, status) of many assets in a few set-based
    statements, with one `~` history entry per changed asset (as `asset_update` records) and fresh search
    documents; returns the assets as they now are. Assets whose given values are what they hold are not written.

    Each change is checked as `asset_update` checks one; a broken one raises DomainError naming it
    (`changes[2].name`) and nothing is changed."""
    if not changes:
        return []
    locked = {
        a.pk: a for a in Asset.objects.select_for_update().filter(pk__in=[a.pk for a, _ in changes]).order_by("pk")
    }
    rows: dict[int, dict[str, Any]] = {}
    for index, (given, fields) in enumerate(changes):
        unknown = set(fields) - set(BULK_UPDATE_FIELDS)
        if unknown:
            raise DomainError(f"unknown field(s): {', '.join(sorted(unknown))}", field=f"changes[{index}]")
        asset = locked.get(given.pk)
        if asset is None:
            raise DomainError("this asset does not exist (any more)", field=f"changes[{index}]")
        changed = {name: value for name, value in fields.items() if getattr(asset, name) != value}
        if not changed:
            continue
        for name, value in changed.items():
            setattr(asset, name, value)
        spec = AssetSpec(
            kind=asset.kind,
            external_id=asset.external_id,
            name=asset.name,
            description=asset.description,
            attributes=asset.attributes,
            version=asset.version,
        )
        errors = _spec_errors(spec)
        if asset.status not in AssetStatus.values:
            errors.append(("status", f"use one of {', '.join(AssetStatus.values)}"))
        if errors:
            where, message = errors[0]
            raise DomainError(message, field=f"changes[{index}].{where}")
        rows[asset.pk] = {name: getattr(asset, name) for name in BULK_UPDATE_FIELDS} | {"id": asset.pk}
    if rows:
        now = timezone.now()
        user = actor.pk if actor is not None and actor.is_authenticated else None
        with connection.cursor() as cursor:
            cursor.execute(ASSETS_UPDATE_SQL, {"rows": json.dumps(list(rows.values())), "now": now})
            cursor.execute(ASSETS_UPDATE_HISTORY_SQL, {"source": source, "now": now, "user": user, "ids": sorted(rows)})
        search_index_refresh(asset_ids=sorted(rows))
        for pk in rows:
            locked[pk].updated_at = now
    return [locked[a.pk] for a, _ in changes]


@transaction.atomic
def columns_create_many(
    *, columns: dict[int, Sequence[tuple[str, str]]], actor: AbstractBaseUser | None, source: str
) -> None:
    """Gives assets that have no columns yet their schema ((name, data type) in order), with one `+` history entry
    per column (as `columns_replace` records) and fresh search documents, in a few set-based statements. A name
    given twice, an asset kind without columns or an asset that has columns already raises DomainError naming it
    (`columns[42]`) and nothing is created."""
    if not columns:
        return
    assets = {a.pk: a for a in Asset.objects.select_for_update().filter(pk__in=list(columns)).order_by("pk")}
    having = set(Column.objects.filter(asset_id__in=list(columns)).values_list("asset_id", flat=True).distinct())
    for asset_id, schema in columns.items():
        asset = assets.get(asset_id)
        if asset is None:
            raise DomainError("this asset does not exist (any more)", field=f"columns[{asset_id}]")
        if asset_id in having:
            raise DomainError("the asset has columns already; replace them instead", field=f"columns[{asset_id}]")
        spec = AssetSpec(kind=asset.kind, external_id=asset.external_id, name=asset.name, columns=tuple(schema))
        errors = [(where, message) for where, message in _spec_errors(spec) if where == "columns"]
        if errors:
            raise DomainError(errors[0][1], field=f"columns[{asset_id}]")
    rows = [
        {"asset_id": asset_id, "name": name, "data_type": data_type, "position": position}
        for asset_id, schema in columns.items()
        for position, (name, data_type) in enumerate(schema)
    ]
    user = actor.pk if actor is not None and actor.is_authenticated else None
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(
                COLUMNS_CREATE_SQL, {"rows": json.dumps(rows), "now": timezone.now(), "source": source, "user": user}
            )
    search_index_refresh(asset_ids=sorted(columns))
