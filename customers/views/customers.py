from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.audit import audit_record
from crm.lib import crm_number
from crm.lib.forms import add_service_errors
from crm.lib.htmx import is_fragment_request
from crm.lib.pagination import CappedPaginator
from crm.lib.phone import normalize_phone
from crm.models import AuditAction
from customers import personal, services
from customers.access import get_customer_for_user
from customers.filters import CustomerFilter
from customers.forms.bulk import BulkForm
from customers.forms.customers import CustomerForm, ExportForm
from customers.models import Customer, Tag
from customers.sections import open_tab, sections_for
from customers.selectors import (
    customer_by_number,
    customer_list,
    customer_merged_from,
    customer_search,
    customers_listed,
    customers_same_name_and_birthday,
    customers_visible_to,
)
from customers.services.bulk import bulk_actions_for, customers_bulk_export
from customers.services.personal import personal_field_reveal, personal_fields_opened

PAGE_SIZE = 25


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_list_view(request: HttpRequest) -> HttpResponse:
    filterset = CustomerFilter(request.GET, queryset=customer_list(user=request.user), user=request.user)
    page = CappedPaginator(filterset.qs, PAGE_SIZE, estimate=True).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "query": query.urlencode(),
    }
    if bulk_actions_for(request.user):
        # The action bar: ticked rows, or everyone this filter finds (customers.views.bulk).
        context["bulk_form"] = BulkForm(
            user=request.user,
            total=page.paginator.count,
            estimate=page.paginator.capped,
            initial={"query": context["query"]},
        )
        context["bulk_tags"] = Tag.objects.values_list("name", flat=True)
    template = "customers/customer_list.html"
    if request.headers.get("HX-Request"):
        template += "#results"
    return render(request, template, context)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_lookup_view(request: HttpRequest) -> HttpResponse:
    """The top-bar box, with no mode to choose: a CRM number or legacy number opens the customer; a mobile
    in any usual form, a fragment of 4+ digits, an e-mail or a name opens the one member it matches, or
    lists them all. A CRM number with a wrong check digit that matches nothing else is refused as a typo."""
    text = request.GET.get("q", "").strip()
    if not text:
        return redirect("customers:list")
    visible = customers_visible_to(request.user)
    try:
        customer = customer_by_number(text=text, queryset=visible)
        typo = False
    except crm_number.InvalidCrmNumber:
        customer, typo = None, True  # could still be a phone or a fragment of one
    if customer is not None:
        return redirect(customer)
    contacts = request.user.has_perm("customers.view_contact_details")
    found = list(customer_search(customers_listed(request.user), text, contacts=contacts).order_by("-crm_number")[:2])
    if len(found) == 1:
        return redirect(found[0])
    if not found and typo and not _is_phone(text):
        messages.error(
            request,
            _("%(number)s is not a valid CRM number: the check digit does not match. Please check for a typo.")
            % {"number": text},
        )
        return redirect("customers:list")
    if not found and crm_number.normalize(text):
        messages.warning(request, _("No customer with CRM number %(number)s.") % {"number": text})
    return redirect(reverse("customers:list") + "?" + urlencode({"q": text}))


def _is_phone(text: str) -> bool:
    try:
        return bool(normalize_phone(text))
    except ValidationError:
        return False


@require_GET
def customer_detail_view(request: HttpRequest, number: int) -> HttpResponse:
    try:
        customer = get_customer_for_user(request.user, number)
    except Http404:
        # A merged-away number keeps working: it leads to the customer it was merged into.
        survivor = customer_merged_from(number=number, queryset=customers_visible_to(request.user))
        if survivor is None:
            raise
        return redirect(survivor)
    audit_record(actor=request.user, customer_id=customer.pk, action=AuditAction.VIEW)
    # Purchases, points and later apps' parts come through the registry (see customers/sections.py); only the
    # tab shown loads its history, and a tab link (htmx) gets the tabs alone, loading nothing else.
    template = "customers/customer_detail.html"
    if is_fragment_request(request):
        template += "#tabs"
        sections = sections_for(request, customer, load=())
        context = {"customer": customer}
    else:
        sections = sections_for(request, customer)
        context = {
            "customer": customer,
            "tags": list(customer.tags.all()),
            "can_edit": request.user.has_perm("customers.change_customer") and not customer.is_erased,
            "can_export_personal": request.user.has_perm("customers.export_personal_data"),
            "can_erase": request.user.has_perm("customers.erase_customer")
            and request.user.has_perm("customers.change_customer")
            and not customer.is_erased,
        }
    context |= {"sections": sections, "tab": open_tab(request, sections["main"])}
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def customer_reveal_view(request: HttpRequest, number: int) -> HttpResponse:
    """One personal field in clear (htmx: replaces its masked form), recorded; 403 without the permission."""
    customer = get_customer_for_user(request.user, number)
    field = request.POST.get("field", "")
    try:
        value = personal_field_reveal(customer=customer, field=field, actor=request.user)
    except ValidationError:
        return HttpResponseBadRequest(_("No such field."))
    context = {"field": field, "value": value, "shown": personal.clear(customer, field)}
    response = render(request, "customers/includes/personal_revealed.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_customer", raise_exception=True)
def customer_create_view(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        similar = customers_same_name_and_birthday(
            name=form.cleaned_data["name"],
            birthday=form.cleaned_data.get("birthday"),
            queryset=customers_visible_to(request.user),
        )
        if similar and not request.POST.get("create_anyway"):
            # Likely the same person: say so with links, and let the user go on with one more click.
            context = {"form": form, "similar": similar}
            return render(request, "customers/customer_form.html", context)
        try:
            customer = services.customer_create(actor=request.user, **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)  # another desk saved the same phone or e-mail a moment ago
        else:
            messages.success(
                request,
                _("Customer %(name)s created with CRM number %(number)s.")
                % {"name": customer.name, "number": customer.crm_number_display},
            )
            return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def customer_edit_view(request: HttpRequest, number: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, number, write=True)
    if customer.is_erased:
        messages.info(request, _("This customer's personal data has been erased; the record cannot be changed."))
        return redirect(customer)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(customer=customer, actor=request.user, **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(customer)
    if request.method == "GET":
        # The form shows the contacts in clear to edit them: as good as a reveal of each, and recorded so.
        personal_fields_opened(customer=customer, actor=request.user, fields=list(form.initial_personal_fields()))
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@require_POST
@permission_required("customers.export_customers", raise_exception=True)
def customer_export_view(request: HttpRequest) -> HttpResponse:
    """Export what the list's current filter shows, as a background job with a progress page."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose CSV or Excel."))
    query = form.cleaned_data["query"]
    filterset = CustomerFilter(QueryDict(query), queryset=Customer.objects.none(), user=request.user)
    filterset.is_valid()  # invalid filters are left out, as on the list page
    job = customers_bulk_export(
        actor=request.user, filters=filterset.plain_filters(), query=query, fmt=form.cleaned_data["format"]
    )
    return redirect(job)
