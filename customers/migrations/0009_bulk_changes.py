# Bulk actions on the customer list (issue 9): the audit's "changed in bulk" and the reassign-owner permission.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_single_line_text"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="customer",
            options={
                "ordering": ["-crm_number"],
                "permissions": [
                    ("view_all_customers", "Can see customers of every owner"),
                    ("view_contact_details", "Can see unmasked phone numbers and e-mails"),
                    ("export_customers", "Can export customer lists"),
                    ("merge_customers", "Can merge duplicate customers"),
                    ("reassign_owner", "Can give customers another owner in bulk"),
                ],
                "verbose_name": "customer",
                "verbose_name_plural": "customers",
            },
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "Viewed"),
                    ("create", "Created"),
                    ("update", "Changed"),
                    ("export", "Exported"),
                    ("merge", "Merged"),
                    ("erase", "Erased"),
                    ("bulk", "Changed in bulk"),
                ],
                max_length=10,
                verbose_name="action",
            ),
        ),
    ]
