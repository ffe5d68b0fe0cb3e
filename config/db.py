"""Small database helpers shared by the apps (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def rows_update(objects: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Saves `fields` of many rows of one model in one `UPDATE ... FROM unnest(arrays)`; returns the rows updated.

    Django's `bulk_update` writes a CASE with a branch per row for every field, so its cost (in Python to build the
    statement, and in PostgreSQL to run it) grows with the square of the batch; this is one array per field.
    Values are taken from the objects' attributes as they are (no auto_now, no signals, no history), exactly as
    `bulk_update` does."""
    if not objects:
        return 0
    meta = objects[0]._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    names = [connection.ops.quote_name(field.column) for field in columns]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    statement = (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.{names[0]} = v.{names[0]}"
    )
    values = [[field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objects] for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        return cursor.rowcount
