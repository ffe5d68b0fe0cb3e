"""Writes and reads of where data lives: sources, datasets, refreshes into snapshots, rules, visuals, previews."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError

from . import connectors, services, visuals
from .choices import AssetKind, ChangeSource
from .models import Asset, ColumnRule, Dataset, DataSource, RefreshRun, RowRule, Snapshot, Visual
from .security import DataAccess, data_access
from .signals import dataset_refreshed

# ---------------------------------------------------------------------------------------------------------------
# Sources


def _key() -> str:
    return settings.CARTOGRAPH_ENCRYPTION_KEY


def source_settings(source: DataSource) -> connectors.PostgresSettings:
    return connectors.PostgresSettings(
        host=source.host,
        port=source.port,
        database=source.database,
        user=source.username,
        password=connectors.secret_decrypt(source.password_encrypted, key=_key()),
        ssl_mode=source.ssl_mode,
    )


@transaction.atomic
def data_source_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    type: str,
    host: str = "",
    port: int = 5432,
    database: str = "",
    username: str = "",
    password: str = "",
    ssl_mode: str = "prefer",
    external_id: str = "",
    **asset_fields: Any,
) -> DataSource:
    """A data source asset with its connection settings; the password is stored encrypted, never in clear."""
    asset = services.asset_create(
        actor=actor,
        kind=AssetKind.DATA_SOURCE,
        name=name,
        external_id=external_id,
        attributes={"type": "postgresql" if type == "postgresql" else "file", "host": host, "database": database},
        **asset_fields,
    )
    source = DataSource(
        asset=asset,
        type=type,
        host=host,
        port=port,
        database=database,
        username=username,
        password_encrypted=connectors.secret_encrypt(password, key=_key()) if password else "",
        ssl_mode=ssl_mode,
    )
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def data_source_update(*, source: DataSource, actor: AbstractBaseUser | None, **fields: Any) -> DataSource:
    """Changes connection settings; `password` replaces the stored one ("" keeps it, None clears it)."""
    password = fields.pop("password", "")
    allowed = {"host", "port", "database", "username", "ssl_mode"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(f"unknown field(s): {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(source, name, value)
    if password is None:
        source.password_encrypted = ""
    elif password:
        source.password_encrypted = connectors.secret_encrypt(password, key=_key())
    source.full_clean()
    source.save()
    return source


# ---------------------------------------------------------------------------------------------------------------
# Datasets


def _relation(dataset: Dataset):
    return connectors.relation_sql(table=dataset.table_name, query=dataset.sql_query)


def next_refresh(*, interval: str, time_zone: str, after: datetime) -> datetime | None:
    """The next scheduled refresh after `after`: on the hour, at 00:00 local time, or Monday 00:00 local time."""
    if interval == Dataset.Interval.NONE:
        return None
    zone = ZoneInfo(time_zone)
    local = after.astimezone(zone)
    if interval == Dataset.Interval.HOURLY:
        return (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(ZoneInfo("UTC"))
    day = local.date() + timedelta(days=1)
    if interval == Dataset.Interval.WEEKLY:
        day = local.date() + timedelta(days=7 - local.weekday())
    # midnight in the local zone, whatever the UTC offset that day (DST changes it)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(
            f"{name!r} is not an IANA time zone (e.g. Europe/London)", field="refresh_time_zone"
        ) from None


@transaction.atomic
def dataset_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    source: DataSource | None = None,
    table_name: str = "",
    sql_query: str = "",
    upload: UploadedFile | None = None,
    file_format: str = "",
    csv_delimiter: str = "",
    csv_encoding: str = "",
    import_mode: str = Dataset.ImportMode.SPICE,
    refresh_interval: str = Dataset.Interval.NONE,
    refresh_time_zone: str = "UTC",
    statement_timeout_ms: int = 30_000,
    row_limit: int = 100_000,
    external_id: str = "",
    asset: Asset | None = None,
    **asset_fields: Any,
) -> Dataset:
    """A dataset on a source (table or query) or an uploaded file. SPICE datasets get a first refresh queued;
    direct datasets read their columns from the source now. With `asset`, the data settings are attached to an
    existing dataset or data product asset instead of a new dataset asset."""
    if (source is None) == (upload is None):
        raise DomainError("give either a source (with a table or query) or an uploaded file", field="source")
    _check_zone(refresh_time_zone)
    if upload is not None:
        if upload.size > settings.CARTOGRAPH_UPLOAD_MAX_BYTES:
            raise DomainError(
                f"the file is {upload.size:,} bytes; the limit is {settings.CARTOGRAPH_UPLOAD_MAX_BYTES:,}",
                field="upload",
            )
        suffix = Path(upload.name or "").suffix.lower().lstrip(".")
        file_format = file_format or suffix
        if file_format not in connectors.FILE_FORMATS:
            raise DomainError("upload a .csv or .parquet file (or say file_format)", field="file_format")
        if import_mode != Dataset.ImportMode.SPICE:
            raise DomainError("an uploaded file can only be a SPICE dataset", field="import_mode")
        upload.seek(0)
        head = upload.read(256 * 1024)
        upload.seek(max(upload.size - 8, 0))
        tail = upload.read(8)
        upload.seek(0)
        connectors.file_check(head, tail, file_format=file_format)
    else:
        if source.type != DataSource.Type.POSTGRESQL:
            raise DomainError("datasets on a file source are made by uploading a file", field="source")
        _relation(Dataset(table_name=table_name, sql_query=sql_query))  # validates table / query
    if asset is None:
        asset = services.asset_create(
            actor=actor,
            kind=AssetKind.DATASET,
            name=name,
            external_id=external_id,
            attributes={"import_mode": import_mode},
            **asset_fields,
        )
    elif asset.kind not in (AssetKind.DATASET, AssetKind.DATA_PRODUCT) or Dataset.objects.filter(asset=asset).exists():
        raise DomainError(f"asset {asset.pk} cannot take data settings (a {asset.kind}, or it has them)", field="asset")
    dataset = Dataset(
        asset=asset,
        source=source,
        table_name=table_name,
        sql_query=sql_query,
        file_format=file_format,
        csv_delimiter=csv_delimiter,
        csv_encoding=csv_encoding,
        import_mode=import_mode,
        refresh_interval=refresh_interval,
        refresh_time_zone=refresh_time_zone,
        next_refresh_at=next_refresh(interval=refresh_interval, time_zone=refresh_time_zone, after=timezone.now()),
        statement_timeout_ms=statement_timeout_ms,
        row_limit=row_limit,
    )
    if upload is not None:
        dataset.upload.save(f"{uuid.uuid4().hex}.{file_format}", upload, save=False)
    dataset.full_clean()
    dataset.save()
    if import_mode == Dataset.ImportMode.DIRECT:
        columns = connectors.postgres_columns(source_settings(source), _relation(dataset))
        services.columns_replace(
            asset=asset,
            columns=[{"name": n, "data_type": t, "position": i} for i, (n, t) in enumerate(columns)],
            actor=actor,
            source=ChangeSource.SYSTEM,
        )
    else:
        dataset_refresh_request(dataset=dataset, actor=actor, trigger=RefreshRun.Trigger.CREATED)
    return dataset


@transaction.atomic
def dataset_update(*, dataset: Dataset, actor: AbstractBaseUser | None, **fields: Any) -> Dataset:
    """Changes the schedule and limits of a dataset (what it reads is fixed: make a new dataset for that)."""
    allowed = {"refresh_interval", "refresh_time_zone", "statement_timeout_ms", "row_limit"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(f"cannot change {', '.join(sorted(unknown))} of a dataset", field=sorted(unknown)[0])
    if "refresh_time_zone" in fields:
        _check_zone(fields["refresh_time_zone"])
    for name, value in fields.items():
        setattr(dataset, name, value)
    dataset.next_refresh_at = next_refresh(
        interval=dataset.refresh_interval, time_zone=dataset.refresh_time_zone, after=timezone.now()
    )
    dataset.full_clean()
    dataset.save()
    return dataset


def dataset_refresh_request(
    *, dataset: Dataset, actor: AbstractBaseUser | None, trigger: str = RefreshRun.Trigger.MANUAL
) -> RefreshRun:
    """Queues a refresh (idempotent: a refresh already queued or running is returned instead)."""
    from .tasks import dataset_refresh_task

    if dataset.import_mode != Dataset.ImportMode.SPICE:
        raise DomainError(
            "a direct-query dataset is read when used; only SPICE datasets are refreshed", field="import_mode"
        )
    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        active = dataset.refreshes.filter(status__in=[RefreshRun.Status.QUEUED, RefreshRun.Status.RUNNING]).first()
        if active:
            return active
        run = RefreshRun.objects.create(
            dataset=dataset,
            trigger=trigger,
            requested_by=actor if actor is not None and actor.is_authenticated else None,
        )
        transaction.on_commit(lambda: dataset_refresh_task.delay(refresh_id=run.pk))
    return run


def _snapshot_path(dataset: Dataset) -> Path:
    relative = Path("snapshots") / str(dataset.pk) / f"{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"
    return relative


def dataset_refresh_run(*, refresh_id: int) -> RefreshRun | None:
    """Runs one queued refresh: reads the data into a new Parquet snapshot, updates the columns (schema changes go
    into history), and makes the snapshot current. A failure keeps the last good snapshot and records why.
    Safe to run twice: only a queued refresh is claimed."""
    with transaction.atomic():
        run = (
            RefreshRun.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=refresh_id, status=RefreshRun.Status.QUEUED)
            .select_related("dataset__source", "dataset__asset")
            .first()
        )
        if run is None:
            return None
        run.status = RefreshRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at", "updated_at"])
    dataset = run.dataset
    relative = _snapshot_path(dataset)
    dest = Path(settings.MEDIA_ROOT) / relative
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        if dataset.source_id:
            extract = connectors.postgres_extract(
                source_settings(dataset.source),
                _relation(dataset),
                dest,
                statement_timeout_ms=settings.CARTOGRAPH_REFRESH_TIMEOUT_MS,
            )
        else:
            extract = connectors.file_extract(
                Path(dataset.upload.path),
                dest,
                file_format=dataset.file_format,
                delimiter=dataset.csv_delimiter,
                encoding=dataset.csv_encoding,
            )
    except DomainError as error:
        return _refresh_failed(run, error.message)
    except Exception as error:
        return _refresh_failed(run, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            dataset=dataset,
            path=str(relative),
            rows=extract.rows,
            bytes=extract.bytes,
            columns=[{"name": c.name, "data_type": c.data_type, "nullable": c.nullable} for c in extract.columns],
        )
        services.columns_replace(
            asset=dataset.asset,
            columns=[
                {"name": c.name, "data_type": c.data_type, "nullable": c.nullable, "position": i}
                for i, c in enumerate(extract.columns)
            ],
            actor=None,
            source=ChangeSource.SYSTEM,
        )
        services.asset_update(
            asset=dataset.asset,
            actor=None,
            source=ChangeSource.SYSTEM,
            attributes={**dataset.asset.attributes, "row_count": extract.rows},
        )
        Dataset.objects.filter(pk=dataset.pk).update(current_snapshot=snapshot, updated_at=timezone.now())
        run.status = RefreshRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.rows, run.bytes, run.snapshot = extract.rows, extract.bytes, snapshot
        run.save(update_fields=["status", "finished_at", "rows", "bytes", "snapshot", "updated_at"])
        transaction.on_commit(
            lambda: dataset_refreshed.send(
                sender=Dataset, dataset_id=dataset.pk, snapshot_id=snapshot.pk, refresh_id=run.pk
            )
        )
    return run


def _refresh_failed(run: RefreshRun, message: str) -> RefreshRun:
    run.status = RefreshRun.Status.FAILED
    run.finished_at = timezone.now()
    run.error = message[:2000] or "the refresh failed"
    run.save(update_fields=["status", "finished_at", "error", "updated_at"])
    return run


def datasets_refresh_due(*, now: datetime | None = None, batch: int = 100) -> list[int]:
    """Queues a refresh for every dataset whose schedule is due (claimed with SKIP LOCKED, so several beat or
    worker processes never double-queue) and moves each schedule to its next time. Returns the refresh ids."""
    now = now or timezone.now()
    queued = []
    with transaction.atomic():
        due = list(
            Dataset.objects.select_for_update(skip_locked=True)
            .filter(next_refresh_at__lte=now, import_mode=Dataset.ImportMode.SPICE)
            .order_by("next_refresh_at", "id")[:batch]
        )
        for dataset in due:
            run = dataset_refresh_request(dataset=dataset, actor=None, trigger=RefreshRun.Trigger.SCHEDULE)
            queued.append(run.pk)
            dataset.next_refresh_at = next_refresh(
                interval=dataset.refresh_interval, time_zone=dataset.refresh_time_zone, after=now
            )
            dataset.save(update_fields=["next_refresh_at", "updated_at"])
    return queued


# ---------------------------------------------------------------------------------------------------------------
# Rules


def _check_column(dataset: Dataset, column: str) -> None:
    if not dataset.asset.columns.filter(name=column).exists():
        names = ", ".join(dataset.asset.columns.values_list("name", flat=True)[:30])
        raise DomainError(f"the dataset has no column {column!r}; its columns are: {names}", field="column")


def _rule_audit(*, action: str, dataset: Dataset, rule: RowRule | ColumnRule, actor, source: str) -> None:
    from access.services import audit_record

    detail = {
        "rule": rule.pk,
        "kind": "row" if isinstance(rule, RowRule) else "column",
        "column": rule.column,
        "group": rule.group.name if rule.group_id else None,
    }
    if isinstance(rule, RowRule):
        detail.update(user_attribute=rule.user_attribute, allowed_values=rule.allowed_values)
    audit_record(user=actor, action=action, source=source, asset_id=dataset.asset_id, detail=detail)


@transaction.atomic
def row_rule_create(
    *,
    dataset: Dataset,
    column: str,
    group: Group | None = None,
    user_attribute: str = "",
    allowed_values: list[Any] | None = None,
    actor: AbstractBaseUser | None = None,
    source: str = "system",
) -> RowRule:
    """Adds a row rule (recorded in the access audit)."""
    _check_column(dataset, column)
    if (group is None) == (not user_attribute):
        raise DomainError("a row rule is for a group (with allowed values) or for a user attribute", field="group")
    if group is not None and not allowed_values:
        raise DomainError("list the values the group may see", field="allowed_values")
    rule = RowRule(
        dataset=dataset,
        column=column,
        group=group,
        user_attribute=user_attribute,
        allowed_values=list(allowed_values or []),
    )
    rule.full_clean()
    rule.save()
    _rule_audit(action="rule.set", dataset=dataset, rule=rule, actor=actor, source=source)
    return rule


@transaction.atomic
def column_rule_create(
    *, dataset: Dataset, column: str, group: Group, actor: AbstractBaseUser | None = None, source: str = "system"
) -> ColumnRule:
    """Hides a column from a group (recorded in the access audit when the rule is new)."""
    _check_column(dataset, column)
    rule, created = ColumnRule.objects.get_or_create(dataset=dataset, column=column, group=group)
    if created:
        _rule_audit(action="rule.set", dataset=dataset, rule=rule, actor=actor, source=source)
    return rule


@transaction.atomic
def rule_delete(
    *, dataset: Dataset, kind: str, rule_id: int, actor: AbstractBaseUser | None = None, source: str = "system"
) -> bool:
    """Removes a row or column rule of the dataset (recorded in the access audit); False when there is none."""
    rules = dataset.row_rules if kind == "row" else dataset.column_rules
    rule = rules.select_related("group").filter(pk=rule_id).first()
    if rule is None:
        return False
    _rule_audit(action="rule.delete", dataset=dataset, rule=rule, actor=actor, source=source)
    rule.delete()
    return True


# ---------------------------------------------------------------------------------------------------------------
# Reading data


def _columns(dataset: Dataset) -> dict[str, str]:
    return dict(dataset.asset.columns.order_by("position", "id").values_list("name", "data_type"))


@dataclass
class Preview:
    columns: list[str]
    rows: list[list[Any]]
    hidden_columns: list[str]
    restricted: bool
    snapshot_id: int | None


def dataset_preview(*, user, dataset: Dataset, limit: int = 100) -> Preview:
    """The first rows the reader may see, without the columns hidden from them."""
    access = data_access(user=user, dataset=dataset)
    names = [n for n in _columns(dataset) if n not in access.hidden_columns]
    if dataset.import_mode == Dataset.ImportMode.SPICE:
        snapshot = dataset.current_snapshot
        if snapshot is None:
            raise DomainError("the dataset has no data yet: its first refresh has not succeeded", status_code=409)
        _, rows = connectors.parquet_rows(
            Path(settings.MEDIA_ROOT) / snapshot.path, columns=names, row_filters=access.row_filters, limit=limit
        )
        snapshot_id = snapshot.pk
    else:
        rows = _direct_rows(dataset, names, access, limit)
        snapshot_id = None
    return Preview(
        columns=names,
        rows=[list(row) for row in rows],
        hidden_columns=sorted(access.hidden_columns),
        restricted=access.restricted,
        snapshot_id=snapshot_id,
    )


def _direct_rows(dataset: Dataset, names: list[str], access: DataAccess, limit: int) -> list[tuple]:
    from psycopg import sql

    where, params = [], []
    for column, allowed in access.row_filters:
        if not allowed:
            where.append(sql.SQL("FALSE"))
            continue
        where.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
        params.append(list(allowed))
    query = sql.SQL("SELECT {} FROM {} AS q").format(
        sql.SQL(", ").join(sql.Identifier(n) for n in names) if names else sql.SQL("NULL"), _relation(dataset)
    )
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    query += sql.SQL(" LIMIT {}").format(sql.Literal(min(limit, dataset.row_limit)))
    _, rows = connectors.postgres_query(
        source_settings(dataset.source),
        query,
        params,
        statement_timeout_ms=dataset.statement_timeout_ms,
        limit=limit,
    )
    return rows


@transaction.atomic
def visual_save(
    *,
    actor: AbstractBaseUser | None,
    dataset: Dataset,
    spec: Any,
    asset: Asset | None = None,
    name: str = "",
    **asset_fields: Any,
) -> Visual:
    """Creates a visual asset (or changes the spec of one) after checking the spec against the dataset's columns."""
    parsed = visuals.validate_spec(spec, columns=_columns(dataset))
    normal = parsed.as_dict()
    if asset is None:
        asset = services.asset_create(
            actor=actor,
            kind=AssetKind.VISUAL,
            name=name or "Untitled visual",
            attributes={"visual_type": parsed.type},
            **asset_fields,
        )
        return Visual.objects.create(asset=asset, dataset=dataset, spec=normal)
    visual = Visual.objects.select_for_update().get(asset=asset)
    visual.dataset, visual.spec = dataset, normal
    visual.save(update_fields=["dataset", "spec", "updated_at"])
    services.asset_update(asset=asset, actor=actor, attributes={**asset.attributes, "visual_type": parsed.type})
    return visual


def spec_evaluate(
    *, spec: visuals.VisualSpec, dataset: Dataset, access: DataAccess, snapshot: Snapshot | None
) -> visuals.VisualResult:
    """Evaluates a validated spec with the reader's rules: DuckDB over `snapshot`, or pushed down to the source of a
    direct dataset (snapshot None), with the dataset's timeout and row limit."""
    if snapshot is not None:
        return visuals.evaluate_parquet(
            spec,
            Path(settings.MEDIA_ROOT) / snapshot.path,
            row_filters=access.row_filters,
            hidden_columns=access.hidden_columns,
            timeout_ms=settings.CARTOGRAPH_VISUAL_TIMEOUT_MS,
        )
    with source_settings(dataset.source).connect(statement_timeout_ms=dataset.statement_timeout_ms) as conn:
        return visuals.evaluate_postgresql(
            spec,
            conn,
            _relation(dataset).as_string(conn),
            statement_timeout_ms=dataset.statement_timeout_ms,
            max_rows=dataset.row_limit,
            row_filters=access.row_filters,
            hidden_columns=access.hidden_columns,
        )


def visual_data(*, user, visual: Visual) -> dict[str, Any]:
    """Evaluates the visual for the reader, with their row and column rules applied."""
    dataset = visual.dataset
    access = data_access(user=user, dataset=dataset)
    spec = visuals.validate_spec(visual.spec, columns=_columns(dataset), hidden_columns=access.hidden_columns)
    if dataset.import_mode == Dataset.ImportMode.SPICE:
        snapshot = dataset.current_snapshot
        if snapshot is None:
            raise DomainError("the dataset has no data yet: its first refresh has not succeeded", status_code=409)
        result = spec_evaluate(spec=spec, dataset=dataset, access=access, snapshot=snapshot)
        version = {"snapshot_id": snapshot.pk, "refreshed_at": snapshot.created_at.isoformat()}
    else:
        result = spec_evaluate(spec=spec, dataset=dataset, access=access, snapshot=None)
        version = {"snapshot_id": None, "refreshed_at": timezone.now().isoformat()}
    return {
        "visual": visual.asset_id,
        "dataset": dataset.asset_id,
        "restricted": access.restricted,
        **version,
        **visuals.to_json(result),
    }
