"""The staff page for social mentions no customer matched: list them, assign one to a customer."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.lib.pagination import CappedPaginator
from interactions import selectors
from interactions.access import get_mention_for_user
from interactions.forms.mentions import MentionAssignForm
from interactions.services import mentions

PAGE_SIZE = 25


@require_GET
def mention_queue_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("interactions.view_unmatchedmention"):
        raise PermissionDenied
    page = CappedPaginator(selectors.mentions_waiting(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "form": MentionAssignForm(user=request.user)}
    return render(request, "interactions/mention_queue.html", context)


@require_POST
def mention_assign_view(request: HttpRequest, mention_id: int) -> HttpResponse:
    mention = get_mention_for_user(request.user, mention_id, assign=True)
    form = MentionAssignForm(request.POST, user=request.user)
    if form.is_valid():
        customer = form.cleaned_data["customer"]
        try:
            mentions.mention_assign(mention=mention, customer=customer, actor=request.user)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(
                request,
                _("Mention recorded on %(name)s's timeline, with a reminder to respond.") % {"name": customer.name},
            )
        return redirect("interactions:mention_queue")
    context = {"mention": mention, "form": form}
    return render(request, "interactions/mention_assign.html", context, status=400)
