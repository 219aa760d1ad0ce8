from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Member CRM administration")
admin.site.site_title = _("Member CRM")
