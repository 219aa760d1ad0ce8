# Bulk changes of customers run as a job when the selection is large (issue 9).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_job_heartbeat_attempts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[
                    ("customer_export", "Customer export"),
                    ("customers_import", "Customer import"),
                    ("transactions_import", "Purchase import"),
                    ("customer_bulk", "Bulk change of customers"),
                ],
                max_length=40,
                verbose_name="kind",
            ),
        ),
    ]
