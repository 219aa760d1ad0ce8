"""Public endpoints a message's links lead to: unsubscribe, open pixel, click redirect.

Placeholder until the tracking work lands: each answers 404.
"""

from django.http import Http404


def unsubscribe_view(request, token):
    raise Http404


def opened_view(request, token):
    raise Http404


def clicked_view(request, token):
    raise Http404
