"""The panels of the home page (`/`), which apps contribute so that each role opens on its own day.

Why a registry: the home page belongs to no app, and service's follow-ups (interactions), marketing's segments
and campaigns (marketing) and the manager's business figures (analytics) each live in their own app. An app
registers its panels from AppConfig.ready(); the home page shows, in order, the panels whose permission the user
has, less those hidden for a user who has `hidden_with` (a manager opens on the business, not on a desk's day).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass(frozen=True)
class HomePanel:
    key: str
    title: Promise
    permission: str
    template: str  # rendered with the context below, plus `panel`
    context: Callable[[HttpRequest], dict]
    order: int = 100
    hidden_with: str = ""
    width: str = "col-12 col-lg-6"  # its column on a wide screen; one column on a phone


_panels: dict[str, HomePanel] = {}


def register(panel: HomePanel) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _panels[panel.key] = panel


def panels_for(user) -> list[HomePanel]:
    shown = [
        panel
        for panel in _panels.values()
        if user.has_perm(panel.permission) and not (panel.hidden_with and user.has_perm(panel.hidden_with))
    ]
    return sorted(shown, key=lambda panel: (panel.order, panel.key))
