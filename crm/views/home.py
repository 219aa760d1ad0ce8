from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from crm.home import panels_for


@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    """The home page fitted to the role: the panels its permissions open (crm/home.py)."""
    panels = panels_for(request.user)
    if not panels:
        return redirect("customers:list")
    shown = [
        {"panel": panel, "html": render_to_string(panel.template, {**panel.context(request), "panel": panel}, request)}
        for panel in panels
    ]
    return render(request, "crm/home.html", {"panels": shown})
