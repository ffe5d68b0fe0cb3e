"""A GIN index on the ranked full-text document. PostgreSQL only: on SQLite search falls back to substring matching."""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS asset_search_vector_gin ON catalog_asset USING gin (search_vector)"
DROP = "DROP INDEX IF EXISTS asset_search_vector_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
