from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.web.api import services
from crm.web.api.models import ApiClient, Scope


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ApiClient
        fields = ["name", "scopes", "rate_limit", "active"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ["name", "token_prefix", "scopes", "rate_limit", "active", "last_used_at", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["token_prefix", "last_used_at", "created_by", "created_at"]
    actions = ["issue_new_token", "revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            services.api_client_update(
                client=obj, name=obj.name, scopes=obj.scopes, active=obj.active, rate_limit=obj.rate_limit
            )
            return
        client, token = services.api_client_create(
            name=obj.name, scopes=obj.scopes, actor=request.user, rate_limit=obj.rate_limit
        )
        obj.pk, obj.token_prefix, obj._state.adding = client.pk, client.token_prefix, False
        self._show_token(request, client, token)

    @admin.action(description=_("Issue a new token (the old one stops working)"))
    def issue_new_token(self, request, queryset):
        for client in queryset:
            self._show_token(request, client, services.api_client_rotate(client=client))

    @admin.action(description=_("Revoke (deactivate) the token"))
    def revoke(self, request, queryset):
        for client in queryset:
            services.api_client_revoke(client=client)
        count = len(queryset)
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count)

    def _show_token(self, request, client: ApiClient, token: str) -> None:
        self.message_user(
            request,
            _("Token for %(name)s (shown only now; copy it into the integration): %(token)s")
            % {"name": client.name, "token": token},
            level=messages.WARNING,
        )
