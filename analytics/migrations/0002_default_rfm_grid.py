from django.db import migrations


def write_grid(apps, schema_editor):
    from analytics.models.rfm import DEFAULT_GRID  # the grid as documented; a constant, not a model

    cell = apps.get_model("analytics", "RfmGridCell")
    cell.objects.bulk_create(
        [cell(r=r, fm=fm, segment=segment) for r, row in DEFAULT_GRID.items() for fm, segment in enumerate(row, 1)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_scoring")]
    operations = [migrations.RunPython(write_grid, migrations.RunPython.noop)]
