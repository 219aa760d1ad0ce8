"""The public page a satisfaction survey's score links lead to.

Opening a link records nothing: mail scanners and link previews open every link in a message, which would
score 1 to 5 at once. The page shows the score chosen and records it when the member presses the button.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from marketing import surveys
from marketing.services.surveys import survey_answer, survey_message


@login_not_required
@require_http_methods(["GET", "POST"])
def survey_view(request: HttpRequest, token: str) -> HttpResponse:
    score = surveys.read(token)
    if score is None or survey_message(score) is None:
        raise Http404
    language = Customer.objects.filter(pk=score.customer_id).values_list("language", flat=True).first() or None
    with translation.override(language or translation.get_language()):
        recorded = False
        if request.method == "POST":
            try:
                survey_answer(score=score)
            except ObjectDoesNotExist:
                raise Http404 from None
            recorded = True
        context = {
            "score": score.score,
            "recorded": recorded,
            "choices": [
                {"score": s, "token": surveys.token(customer_id=score.customer_id, occasion=score.occasion, score=s)}
                for s in surveys.SCORES
            ],
        }
        response = render(request, "marketing/survey.html", context)
    response["Referrer-Policy"] = "no-referrer"  # the token is the member's key to this page
    response["X-Robots-Tag"] = "noindex"
    return response
