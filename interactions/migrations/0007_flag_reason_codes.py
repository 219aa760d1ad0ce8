# Issue 9: why a purchase was flagged, as codes with parameters (filled from the old text by 0008,
# which 0009 then drops).

from django.db import migrations, models

import interactions.models.purchases


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0006_unmatchedmention_moved"),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="flag_reasons",
            field=models.JSONField(
                blank=True,
                default=list,
                validators=[interactions.models.purchases.validate_flag_reasons],
                verbose_name="why flagged",
            ),
        ),
    ]
