"""Token authentication per integration, and the scope each endpoint needs.

Clients send `Authorization: Bearer <token>`. A missing, unknown or revoked
token is a 401; a valid token without the endpoint's scope is a 403. Before either answer, a call without
a valid token is counted against its address (crm.web.api.throttling), so tokens cannot be guessed at speed.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from crm.audit import audit_context_set
from crm.web.api import services
from crm.web.api.models import ApiClient, Scope
from crm.web.api.throttling import throttle_anonymous


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[None, ApiClient] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() != self.keyword.lower():
            throttle_anonymous(request)
            return None
        client = self._client(parts)
        if client is None or not client.active:
            throttle_anonymous(request)
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as: Authorization: Bearer <token>."))
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not client.active:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        services.api_client_touch(client=client)
        # Whatever this request records in the audit trail names the integration as the actor.
        audit_context_set(api_client=client.name)
        # No Django user: the integration is request.auth; services are called with actor=None.
        return None, client

    @staticmethod
    def _client(parts: list[bytes]) -> ApiClient | None:
        if len(parts) != 2:
            return None
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        return services.api_client_for_token(token=token)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class HasScope(permissions.BasePermission):
    """The view says what it needs in `required_scopes`: one scope, or a scope per HTTP method."""

    message = _("This token is not allowed to do this.")

    def has_permission(self, request: Request, view) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient):
            raise exceptions.NotAuthenticated(_("Send an API token: Authorization: Bearer <token>."))
        if request.method.lower() not in view.http_method_names or not hasattr(view, request.method.lower()):
            return True  # let the view answer 405
        needed = getattr(view, "required_scopes", None)
        if isinstance(needed, dict):
            needed = needed.get(request.method)
        if needed is None:
            return False
        if not client.has_scope(Scope(needed)):
            self.message = _("This token lacks the scope %(scope)s.") % {"scope": needed}
            return False
        return True


class IntegrationOrSignedIn(permissions.BasePermission):
    """For the schema: any active integration, or anyone signed in to the CRM."""

    def has_permission(self, request: Request, view) -> bool:
        if isinstance(request.auth, ApiClient) or request.user.is_authenticated:
            return True
        raise exceptions.NotAuthenticated(_("Send an API token: Authorization: Bearer <token>."))


def contacts_masked(client: ApiClient) -> bool:
    """Members' contact details (mobile, e-mail, birthday, address) leave the API masked, as a role without the
    contact-details permission sees them on the pages, unless the token was granted personal_data."""
    return not client.has_scope(Scope.PERSONAL_DATA)
