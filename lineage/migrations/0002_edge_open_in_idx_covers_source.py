"""The open-incoming-edges index also holds the source, so what flows into assets (upstream hops, the datasets a
release checks for each customer asset) is read from the index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lineage", "0001_edges_releases_column_lineage")]

    operations = [
        migrations.RemoveIndex(model_name="edge", name="edge_open_in_idx"),
        migrations.AddIndex(
            model_name="edge",
            index=models.Index(
                condition=models.Q(("valid_to__isnull", True)),
                fields=["target", "kind", "source"],
                name="edge_open_in_idx",
            ),
        ),
    ]
