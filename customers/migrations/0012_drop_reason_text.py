# Issue 9: the reason texts are now codes with parameters (0011); the text columns go.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0011_reason_codes_from_text"),
    ]

    operations = [
        migrations.RemoveField(model_name="pointsentry", name="reason"),
        migrations.RemoveField(model_name="tierchange", name="reason"),
    ]
