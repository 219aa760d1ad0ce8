# Issue 9: tier and category names per language; ledger and tier-change reasons as a code with parameters
# (filled from the old text by 0011, which 0012 then drops).

from django.db import migrations, models

import crm.lib.text


def _name_field(label):
    return models.CharField(
        blank=True, max_length=50, validators=[crm.lib.text.validate_single_line], verbose_name=label
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_bulk_changes"),
    ]

    operations = [
        migrations.AddField(model_name="category", name="name_en", field=_name_field("name in English")),
        migrations.AddField(model_name="category", name="name_zh_hans", field=_name_field("name in Chinese")),
        migrations.AddField(model_name="tier", name="name_en", field=_name_field("name in English")),
        migrations.AddField(model_name="tier", name="name_zh_hans", field=_name_field("name in Chinese")),
        migrations.AlterField(
            model_name="category",
            name="name",
            field=models.CharField(
                help_text="Matched by imports; shown when the category has no name in the reader's language.",
                max_length=50,
                unique=True,
                verbose_name="name",
            ),
        ),
        migrations.AlterField(
            model_name="tier",
            name="name",
            field=models.CharField(
                help_text="Matched by imports; shown when the tier has no name in the reader's language.",
                max_length=50,
                unique=True,
                verbose_name="name",
            ),
        ),
        migrations.AddField(
            model_name="pointsentry",
            name="reason_code",
            field=models.CharField(
                choices=[
                    ("manual", "Typed by staff"),
                    ("purchase", "Points of a purchase"),
                    ("purchase_expired", "Points of a purchase expired"),
                    ("expired", "Points expired"),
                    ("refund", "Refund"),
                    ("merged", "Merge"),
                ],
                default="manual",
                max_length=20,
                verbose_name="reason",
            ),
        ),
        migrations.AddField(
            model_name="pointsentry",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason details"),
        ),
        migrations.AddField(
            model_name="tierchange",
            name="reason_code",
            field=models.CharField(
                choices=[("manual", "Typed by staff"), ("spend", "Spend in the window"), ("merged", "Merge")],
                default="manual",
                max_length=20,
                verbose_name="reason",
            ),
        ),
        migrations.AddField(
            model_name="tierchange",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason details"),
        ),
    ]
