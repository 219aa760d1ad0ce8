from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Job
from customers.forms.bulk import BulkForm
from customers.services import bulk


@require_POST
@permission_required("customers.view_customer", raise_exception=True)
def customer_bulk_view(request: HttpRequest) -> HttpResponse:
    """A bulk action from the customer list, on the ticked rows or on everyone the filter finds (re-evaluated
    here within what the user sees). Small selections change at once, large ones become a job."""
    allowed = bulk.bulk_actions_for(request.user)
    if not allowed or (request.POST.get("action") in bulk.BulkAction.values and request.POST["action"] not in allowed):
        raise PermissionDenied
    form = BulkForm(request.POST, user=request.user)
    back = reverse("customers:list") + (f"?{query}" if (query := form.list_query()) else "")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    action = bulk.BulkAction(data["action"])
    if action == bulk.BulkAction.EXPORT:
        job = bulk.customers_bulk_export(actor=request.user, filters=form.filters(), query=query, fmt=data["format"])
        return redirect(job)
    tag = data.get("tag_object")
    if tag is None and action == bulk.BulkAction.TAG_ADD:
        tag = bulk.tag_create(name=data["tag"])  # the form allowed it: the user may add tags
    try:
        outcome = bulk.bulk_change_or_queue(
            actor=request.user, action=action, filters=form.filters(), tag=tag, owner=data.get("owner"), query=query
        )
    except ValidationError as e:
        for error in e.messages:
            messages.error(request, error)
        return redirect(back)
    if isinstance(outcome, Job):
        messages.info(
            request, _("That is many customers: the change runs in the background. This page shows its progress.")
        )
        return redirect(outcome)
    messages.success(request, bulk.bulk_result_message(action=action, result=outcome, tag=tag, owner=data.get("owner")))
    return redirect(back)
