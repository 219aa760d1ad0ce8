# The unmatched-mention queue now belongs to interactions (interactions 0006): the table stays, only
# Django's state forgets it here.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("interactions", "0006_unmatchedmention_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="UnmatchedMention")]),
    ]
