# Issue 9: the flag reasons are now codes with parameters (0008); the text column goes.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0008_flag_reason_codes_from_text"),
    ]

    operations = [
        migrations.RemoveField(model_name="transaction", name="flag_reason"),
    ]
