from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.jobs import job_create
from crm.lib.forms import add_service_errors
from crm.lib.htmx import redirect_after_save, render_form_page
from crm.models import JobKind
from customers.access import get_customer_for_user
from marketing import services
from marketing.forms import CouponIssueForm, CouponOfferForm, RewardExchangeForm, SegmentIssueForm
from marketing.models import CouponOffer
from marketing.selectors import offer_results, offers_list


@require_GET
@permission_required("marketing.view_couponoffer", raise_exception=True)
def offer_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "marketing/offer_list.html", {"offers": offers_list()})


@require_http_methods(["GET", "POST"])
@permission_required("marketing.add_couponoffer", raise_exception=True)
def offer_create_view(request: HttpRequest) -> HttpResponse:
    return _offer_form(request, CouponOffer())


@require_http_methods(["GET", "POST"])
@permission_required("marketing.change_couponoffer", raise_exception=True)
def offer_edit_view(request: HttpRequest, offer_id: int) -> HttpResponse:
    return _offer_form(request, get_object_or_404(CouponOffer, pk=offer_id))


def _offer_form(request: HttpRequest, offer: CouponOffer) -> HttpResponse:
    form = CouponOfferForm(request.POST or None, instance=offer)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.coupon_offer_save(
                offer=form.save(commit=False),
                products=form.cleaned_data["products"],
                categories=form.cleaned_data["categories"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Offer “%(name)s” saved.") % {"name": saved.name})
            return redirect(saved)
    status = 400 if request.method == "POST" else 200
    return render(request, "marketing/offer_form.html", {"form": form, "offer": offer}, status=status)


@require_GET
@permission_required("marketing.view_couponoffer", raise_exception=True)
def offer_detail_view(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = get_object_or_404(CouponOffer.objects.prefetch_related("products", "categories"), pk=offer_id)
    context = {"offer": offer, "results": offer_results(offer), "issue_form": SegmentIssueForm()}
    return render(request, "marketing/offer_detail.html", context)


@require_POST
@permission_required("marketing.add_coupon", raise_exception=True)
def offer_issue_segment_view(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Issue the offer to everyone in a segment: a background job with a progress bar, once per member."""
    offer = get_object_or_404(CouponOffer, pk=offer_id)
    form = SegmentIssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a segment."))
        return redirect(offer)
    job = job_create(
        kind=JobKind.COUPON_ISSUE,
        params={"offer": offer.pk, "segment": form.cleaned_data["segment"].pk},
        created_by=request.user,
    )
    return redirect(job)


@require_http_methods(["GET", "POST"])
@permission_required("marketing.add_coupon", raise_exception=True)
def coupon_issue_view(request: HttpRequest, number: int) -> HttpResponse:
    """One coupon for one member, from the customer page (its form area for htmx, else a page)."""
    customer = get_customer_for_user(request.user, number)
    form = CouponIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            coupon = services.coupon_issue(offer=form.cleaned_data["offer"], customer=customer, actor=request.user)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("Coupon %(code)s (%(offer)s) issued to %(name)s.")
                % {"code": coupon.code_display, "offer": coupon.offer.name, "name": customer.name},
            )
            return redirect_after_save(request, customer.get_absolute_url() + "?tab=coupons")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "customer": customer, "title": _("Issue coupon"), "form_id": "issue-coupon-form"}
    return render_form_page(request, "customers/customer_form_page.html", context, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("marketing.add_rewardexchange", raise_exception=True)
def reward_exchange_view(request: HttpRequest, number: int) -> HttpResponse:
    """A member's points for a reward from the catalogue, at the desk (the customer page's form area)."""
    customer = get_customer_for_user(request.user, number)
    form = RewardExchangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            exchange = services.reward_exchange(item=form.cleaned_data["item"], customer=customer, actor=request.user)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            text = _("%(points)s points exchanged for %(item)s.") % {
                "points": f"{exchange.points:,}",
                "item": exchange.item.name,
            }
            if exchange.coupon:
                text += " " + _("Coupon %(code)s issued.") % {"code": exchange.coupon.code_display}
            messages.success(request, text)
            return redirect_after_save(request, customer.get_absolute_url() + "?tab=points")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "customer": customer, "title": _("Exchange points"), "form_id": "reward-form"}
    return render_form_page(request, "customers/customer_form_page.html", context, status=status)
