"""Pages that also answer htmx with a part of themselves (a form, a tab), and the redirect after a form saved."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers


def is_fragment_request(request: HttpRequest) -> bool:
    """htmx asking for part of a page; not htmx restoring a whole page from history."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def render_form_page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    """The form's page, or for htmx its `panel` partial (the form and its heading, for the customer page's
    form area). The response varies on HX-Request, so no cache hands one to the other."""
    if is_fragment_request(request):
        template += "#panel"
        context = context | {"fragment": True}
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def redirect_after_save(request: HttpRequest, url: str) -> HttpResponse:
    """htmx would follow a 302 inside the fragment; it is told to load the whole page instead."""
    if is_fragment_request(request):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)
