"""Indexes for a catalog of a million assets, each found missing by benchmarks/catalog_scale.py.

- asset_name_idx: the asset list ordered by name, which otherwise sorts every asset the user may see.
- asset_report_idx (PostgreSQL): for assets that are not deleted, the columns the reports group, filter and order
  on and the ones the visibility rule reads. Reports read this index, a seventh of the table's size, instead of
  the whole table; its key (created_at, id) serves the created report's date range and the never-viewed order.
- Statistics on the month and day truncation of created_at in TIME_ZONE (PostgreSQL 14+), the created report's
  groups: without them the planner expects one group per asset and sorts them all on disk instead of hashing a
  few dozen.
"""

from django.conf import settings
from django.db import migrations, models

REPORT_INDEX = (
    "CREATE INDEX IF NOT EXISTS asset_report_idx ON catalog_asset (created_at, id) "
    "INCLUDE (updated_at, last_viewed_at, kind, owner_id, owner_group_id, domain_id, business_unit_id) "
    "WHERE status <> 'deleted'"
)
TRUNCATIONS = ("day", "month")


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    schema_editor.execute(REPORT_INDEX)
    if connection.pg_version >= 140000 and settings.USE_TZ:
        zone = schema_editor.quote_value(settings.TIME_ZONE)
        for unit in TRUNCATIONS:
            # The same expression as TruncDay/TruncMonth("created_at") in the current time zone.
            schema_editor.execute(
                f"CREATE STATISTICS IF NOT EXISTS asset_created_{unit}_stats "
                f"ON (date_trunc('{unit}', created_at AT TIME ZONE {zone})) FROM catalog_asset"
            )
        schema_editor.execute("ANALYZE catalog_asset")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for unit in TRUNCATIONS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS asset_created_{unit}_stats")
    schema_editor.execute("DROP INDEX IF EXISTS asset_report_idx")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_data_sources_datasets_snapshots_rules_visuals")]
    operations = [
        migrations.AddIndex(model_name="asset", index=models.Index(fields=["name", "id"], name="asset_name_idx")),
        migrations.RunPython(create, drop),
    ]
