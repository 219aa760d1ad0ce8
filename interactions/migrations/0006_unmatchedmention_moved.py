# The unmatched-mention queue moves from the API app to interactions: the table stays where it is
# (db_table), only Django's state moves, and the content type goes along so granted permissions stay.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="interactions", model="unmatchedmention").exists():
        ContentType.objects.filter(app_label="api", model="unmatchedmention").update(app_label="interactions")


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('customers', '0008_single_line_text'),
        ('interactions', '0005_single_line_text'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='UnmatchedMention',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('platform', models.CharField(max_length=30, verbose_name='platform')),
                ('handle', models.CharField(blank=True, max_length=100, verbose_name='handle')),
                ('author_name', models.CharField(blank=True, max_length=100, verbose_name='author')),
                ('phone', models.CharField(blank=True, max_length=20, verbose_name='phone')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='e-mail')),
                ('text', models.TextField(verbose_name='text')),
                ('url', models.URLField(blank=True, max_length=500, verbose_name='link')),
                ('external_id', models.CharField(blank=True, max_length=100, verbose_name='external id')),
                ('posted_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='posted')),
                ('received_at', models.DateTimeField(auto_now_add=True, verbose_name='received')),
                ('assigned_at', models.DateTimeField(blank=True, null=True, verbose_name='assigned')),
                ('assigned_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='assigned by')),
                ('assigned_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_mentions', to='customers.customer', verbose_name='assigned to')),
                ('received_from', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='api.apiclient', verbose_name='received from')),
            ],
            options={
                'verbose_name': 'unmatched mention',
                'verbose_name_plural': 'unmatched mentions',
                'db_table': 'api_unmatchedmention',
                'ordering': ['-posted_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('assigned_at', None)), fields=['-posted_at'], name='mention_open_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('external_id', ''), _negated=True), fields=('platform', 'external_id'), name='mention_external_unique')],
            },
        ),
        ]),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
    ]
