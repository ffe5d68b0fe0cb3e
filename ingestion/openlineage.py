"""OpenLineage events (spec 2-0-x) → plans: RunEvent, DatasetEvent and JobEvent.

Datasets and jobs become assets named by namespace + name; inputs → job → outputs become `derived_from` edges; the
`schema` facet fills a dataset's columns and the `columnLineage` facet becomes column-level edges. The catalog has
no job kind, so a job is a data product tagged `openlineage-job` with the external id `job:<namespace>/<name>`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from .changes import AssetChange, ColumnLink, ParseError, Plan, Ref
from .choices import EventFormat

RUN_EVENT_TYPES = {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}
DATASET_KIND = "data_product"
JOB_TAG = "openlineage-job"
DATASET_TAG = "openlineage"


def _string(data: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ParseError("is required and must be a non-empty string", path=f"{path}{key}")
    return value


def _object(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ParseError("must be an object", path=path)
    return data


def event_format(event: Any) -> str:
    """Which of the three OpenLineage event types this is (RunEvent has a run, DatasetEvent a dataset)."""
    event = _object(event, "event")
    if "run" in event:
        return EventFormat.OPENLINEAGE_RUN
    if "dataset" in event:
        return EventFormat.OPENLINEAGE_DATASET
    if "job" in event:
        return EventFormat.OPENLINEAGE_JOB
    raise ParseError("is required: an OpenLineage event has a run (RunEvent), a dataset or a job", path="run")


def event_time(event: dict[str, Any]) -> datetime:
    raw = _string(event, "eventTime", "")
    parsed = parse_datetime(raw)
    if parsed is None or parsed.tzinfo is None:
        raise ParseError("must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T12:00:00Z", path="eventTime")
    return parsed


def dataset_ref(namespace: str, name: str) -> Ref:
    return DATASET_KIND, f"{namespace}/{name}"[:512]


def job_ref(namespace: str, name: str) -> Ref:
    return DATASET_KIND, f"job:{namespace}/{name}"[:512]


def _schema_columns(facets: dict[str, Any], path: str) -> list[dict[str, Any]] | None:
    schema = facets.get("schema")
    if schema is None:
        return None
    fields = _object(schema, f"{path}.schema").get("fields")
    if not isinstance(fields, list):
        raise ParseError("must be a list", path=f"{path}.schema.fields")
    columns = []
    seen = set()
    for index, item in enumerate(fields):
        item = _object(item, f"{path}.schema.fields[{index}]")
        name = _string(item, "name", f"{path}.schema.fields[{index}].")
        if name in seen:
            continue
        seen.add(name)
        column = {"name": name[:300], "data_type": str(item.get("type") or "")[:100]}
        columns.append(column)
    return columns


def _dataset_change(dataset: Any, path: str, extra_columns: dict[Ref, list[str]]) -> AssetChange:
    dataset = _object(dataset, path)
    namespace = _string(dataset, "namespace", f"{path}.")
    name = _string(dataset, "name", f"{path}.")
    facets = dataset.get("facets") or {}
    facets = _object(facets, f"{path}.facets")
    ref = dataset_ref(namespace, name)
    columns = _schema_columns(facets, f"{path}.facets")
    change = AssetChange(
        ref=ref, name=name[:300], tags=[DATASET_TAG], description=f"OpenLineage dataset in {namespace}"[:20000]
    )
    if columns is not None:
        change.columns = columns
    return change


def run_plan(event: dict[str, Any]) -> Plan:
    """A RunEvent or JobEvent: the job, its inputs and outputs, the edges between them and column lineage."""
    at = event_time(event)
    _string(event, "producer", "")
    _string(event, "schemaURL", "")
    is_run = "run" in event
    if is_run:
        run = _object(event["run"], "run")
        run_id = _string(run, "runId", "run.")
        try:
            uuid.UUID(run_id)
        except ValueError:
            raise ParseError("must be a UUID", path="run.runId") from None
        event_type = event.get("eventType")
        if event_type is not None and event_type not in RUN_EVENT_TYPES:
            raise ParseError(f"must be one of {', '.join(sorted(RUN_EVENT_TYPES))}", path="eventType")
    job = _object(event.get("job"), "job")
    job_namespace = _string(job, "namespace", "job.")
    job_name = _string(job, "name", "job.")
    plan = Plan(at=at)
    job_asset = job_ref(job_namespace, job_name)
    extra: dict[Ref, list[str]] = {}
    inputs = event.get("inputs") or []
    outputs = event.get("outputs") or []
    if not isinstance(inputs, list):
        raise ParseError("must be a list", path="inputs")
    if not isinstance(outputs, list):
        raise ParseError("must be a list", path="outputs")
    input_changes = [_dataset_change(d, f"inputs[{i}]", extra) for i, d in enumerate(inputs)]
    output_changes = [_dataset_change(d, f"outputs[{i}]", extra) for i, d in enumerate(outputs)]
    plan.assets.append(
        AssetChange(
            ref=job_asset,
            name=job_name[:300],
            tags=[JOB_TAG],
            description=f"OpenLineage job in {job_namespace}"[:20000],
            incoming_add={"derived_from": [c.ref for c in input_changes if c.ref != job_asset]},
        )
    )
    plan.assets += input_changes
    wanted_columns: dict[Ref, list[str]] = {}
    for index, (raw, change) in enumerate(zip(outputs, output_changes, strict=True)):
        change.incoming_add = {"derived_from": [job_asset]}
        plan.assets.append(change)
        lineage = ((raw.get("facets") or {}).get("columnLineage")) if isinstance(raw, dict) else None
        if lineage is None:
            continue
        path = f"outputs[{index}].facets.columnLineage"
        fields = _object(lineage, path).get("fields")
        fields = _object(fields, f"{path}.fields")
        for target_column, spec in fields.items():
            spec = _object(spec, f"{path}.fields.{target_column}")
            input_fields = spec.get("inputFields")
            if not isinstance(input_fields, list):
                raise ParseError("must be a list", path=f"{path}.fields.{target_column}.inputFields")
            wanted_columns.setdefault(change.ref, []).append(target_column)
            for position, source in enumerate(input_fields):
                where = f"{path}.fields.{target_column}.inputFields[{position}]"
                source = _object(source, where)
                source_ref = dataset_ref(
                    _string(source, "namespace", f"{where}."), _string(source, "name", f"{where}.")
                )
                source_column = _string(source, "field", f"{where}.")
                transformations = source.get("transformations") or []
                first = transformations[0] if isinstance(transformations, list) and transformations else {}
                kind = str((first or {}).get("type") or spec.get("transformationType") or "DIRECT").upper()
                if kind not in ("DIRECT", "INDIRECT"):
                    raise ParseError("must be DIRECT or INDIRECT", path=f"{where}.transformations[0].type")
                wanted_columns.setdefault(source_ref, []).append(source_column)
                if source_ref == change.ref and source_column == target_column:
                    continue
                plan.column_links.append(
                    ColumnLink(
                        source=source_ref,
                        source_column=source_column[:300],
                        target=change.ref,
                        target_column=target_column[:300],
                        transformation=kind,
                        subtype=str((first or {}).get("subtype") or "")[:40],
                    )
                )
    # columns named by column lineage but missing from a schema facet are added (never removed)
    described = {c.ref: c for c in plan.assets}
    for ref, names in wanted_columns.items():
        change = described.get(ref)
        have = {c["name"] for c in (change.columns or [])} if change else set()
        missing = [{"name": n[:300], "data_type": ""} for n in dict.fromkeys(names) if n not in have]
        if not missing:
            continue
        if change is not None and change.columns is not None:
            change.columns += missing
        else:
            plan.assets.append(
                AssetChange(ref=ref, name=ref[1].rsplit("/", 1)[-1][:300], columns=missing, merge_columns=True)
            )
    _merge_duplicates(plan)
    return plan


def _merge_duplicates(plan: Plan) -> None:
    """One change per asset (a dataset may be both an input and an output of a run)."""
    merged: dict[Ref, AssetChange] = {}
    for change in plan.assets:
        first = merged.get(change.ref)
        if first is None:
            merged[change.ref] = change
            continue
        if change.columns is not None:
            if first.columns is None:
                first.columns, first.merge_columns = change.columns, change.merge_columns
            else:
                names = {c["name"] for c in first.columns}
                first.columns += [c for c in change.columns if c["name"] not in names]
        for kind, sources in change.incoming_add.items():
            first.incoming_add.setdefault(kind, [])
            first.incoming_add[kind] += [s for s in sources if s not in first.incoming_add[kind]]
    plan.assets = list(merged.values())


def dataset_plan(event: dict[str, Any]) -> Plan:
    """A DatasetEvent: the dataset and, with a schema facet, its columns."""
    at = event_time(event)
    _string(event, "producer", "")
    _string(event, "schemaURL", "")
    return Plan(at=at, assets=[_dataset_change(event.get("dataset"), "dataset", {})])


def openlineage_plan(event: Any) -> tuple[str, str, Plan]:
    """(format, event type, plan) of an OpenLineage event; raises ParseError naming the wrong field."""
    fmt = event_format(event)
    if fmt == EventFormat.OPENLINEAGE_DATASET:
        return fmt, "DatasetEvent", dataset_plan(event)
    if fmt == EventFormat.OPENLINEAGE_JOB:
        return fmt, "JobEvent", run_plan(event)
    return fmt, str(event.get("eventType") or "RunEvent")[:200], run_plan(event)
