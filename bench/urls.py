"""The bench's URL conf: the product's, plus the reference page the figures are divided by.

The reference is the base template with the top bar for a signed-in user and nothing else, served through
the same middleware as every page, so "6× the reference" means the same on a fast and a slow machine. It
lives here, not in the product: no user needs an empty page. bench/measure.py switches ROOT_URLCONF to this.
"""

import functools

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from crm.web.urls import urlpatterns as product_urlpatterns

REFERENCE = "/bench/reference/"


def reference_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_reference_template().render({}, request))


@functools.cache
def _reference_template():
    # from_string is not cached by the template loaders: compile it once, as the loaders do for real pages.
    return engines["django"].from_string('{% extends "base.html" %}')


urlpatterns = [path(REFERENCE.strip("/") + "/", reference_view, name="bench_reference"), *product_urlpatterns]
