import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.jobs import job_create
from crm.lib import crm_number
from crm.lib.forms import add_service_errors
from crm.lib.tables import ImportFileError, csv_encoding
from crm.models import JobKind
from customers.selectors import customers_visible_to
from marketing import services
from marketing.builder import (
    Node,
    field_groups,
    rules_from_tree,
    tree_apply,
    tree_from_post,
    tree_from_rules,
    tree_nodes,
)
from marketing.forms import FreezeForm, SegmentExportForm, SegmentForm, SegmentUploadForm, WhyForm
from marketing.models import Segment
from marketing.presets import PRESETS, PRESETS_BY_KEY
from marketing.rules import RuleError, rule_explain
from marketing.selectors import rules_members, segment_members, segment_preview, segments_list

FIRST_EMPTY = {"op": "and", "rules": [{"field": "", "operator": ""}]}
ERRORS_SHOWN = 50


@require_GET
@permission_required("marketing.view_segment", raise_exception=True)
def segment_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "marketing/segment_list.html", {"segments": segments_list(), "presets": PRESETS})


@require_http_methods(["GET", "POST"])
@permission_required("marketing.add_segment", raise_exception=True)
def segment_create_view(request: HttpRequest) -> HttpResponse:
    return _builder(request, segment=None)


@require_http_methods(["GET", "POST"])
@permission_required("marketing.change_segment", raise_exception=True)
def segment_edit_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    if segment.is_static:
        messages.info(request, _("A static list keeps the members it was made with; it has no rules to edit."))
        return redirect(segment)
    return _builder(request, segment=segment)


def _builder(request: HttpRequest, *, segment: Segment | None) -> HttpResponse:
    """The rule builder. Its buttons post the whole form with an action; only "save" writes anything."""
    status = 200
    if request.method == "GET":
        preset = PRESETS_BY_KEY.get(request.GET.get("preset", "")) if segment is None else None
        initial = {"name": preset.name, "description": preset.description} if preset else None
        form = SegmentForm(instance=segment, initial=initial)
        tree = tree_from_rules(segment.rules if segment else preset.rules if preset else FIRST_EMPTY)
    else:
        form = SegmentForm(request.POST, instance=segment)
        tree = tree_from_post(request.POST)
        action = request.POST.get("action", "save")
        if action != "save":
            tree = tree_apply(tree, action)
            context = _builder_context(tree)
            if request.headers.get("HX-Request"):
                response = render(request, "marketing/includes/rule_builder.html", context)
                response["HX-Trigger"] = "rules-changed"  # the live count asks again
                return response
            return render(request, "marketing/segment_form.html", {**context, "form": form, "segment": segment})
        if form.is_valid():
            try:
                saved = services.segment_save(
                    segment=segment,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rules=rules_from_tree(tree),
                    actor=request.user,
                )
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                services.segment_count(segment=saved)
                messages.success(request, _("Segment “%(name)s” saved.") % {"name": saved.name})
                return redirect(saved)
        status = 400
    return render(
        request,
        "marketing/segment_form.html",
        {**_builder_context(tree), "form": form, "segment": segment},
        status=status,
    )


def _builder_context(tree: Node) -> dict:
    return {"tree": tree, "nodes": tree_nodes(tree), "field_groups": field_groups()}


@require_POST
@permission_required("marketing.view_segment", raise_exception=True)
def segment_count_view(request: HttpRequest) -> HttpResponse:
    """The builder's live count and first 20 members for the rules as they stand (htmx, debounced)."""
    rules = rules_from_tree(tree_from_post(request.POST))
    try:
        members = rules_members(rules, user=request.user)
        context = {"count": members.count(), "preview": segment_preview(members)}
    except RuleError as e:
        context = {"error": e.message}
    return render(request, "marketing/includes/segment_count.html", context)


@require_GET
@permission_required("marketing.view_segment", raise_exception=True)
def segment_detail_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment.objects.select_related("frozen_from", "created_by"), pk=segment_id)
    members = segment_members(segment) & customers_visible_to(request.user)
    context = {
        "segment": segment,
        "tree": tree_from_rules(segment.rules),
        "preview": segment_preview(members),
        "freeze_form": FreezeForm(initial={"name": _("%(name)s, frozen") % {"name": segment.name}}),
        "why_form": WhyForm(request.GET or None),
    }
    if context["why_form"].is_valid():
        context["verdict"], context["why_error"] = _why(request, segment, context["why_form"].cleaned_data["number"])
    return render(request, "marketing/segment_detail.html", context)


def _why(request: HttpRequest, segment: Segment, text: str) -> tuple[object, str]:
    """Each condition with this member's truth; or the reason there is no answer."""
    try:
        number = crm_number.parse(text)
    except crm_number.InvalidCrmNumber:
        number = None
    visible = customers_visible_to(request.user)
    customer = visible.filter(crm_number=number).first() if number else None
    if customer is None:
        return None, _("No member has the CRM number %(number)s.") % {"number": text}
    if segment.is_static:
        listed = segment.members.filter(customer=customer).exists()
        return None, (_("%(name)s is on this list.") if listed else _("%(name)s is not on this list.")) % {
            "name": customer.name
        }
    return rule_explain(segment.rules, queryset=visible, customer_pk=customer.pk), ""


@require_POST
@permission_required("marketing.change_segment", raise_exception=True)
def segment_recount_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    count = services.segment_count(segment=segment)
    messages.success(request, _("%(name)s has %(count)s members now.") % {"name": segment.name, "count": f"{count:,}"})
    return redirect(segment)


@require_POST
@permission_required("marketing.add_segment", raise_exception=True)
def segment_freeze_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    form = FreezeForm(request.POST)
    if form.is_valid():
        try:
            frozen = services.segment_freeze(segment=segment, name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("Static list “%(name)s” made with %(count)s members.")
                % {"name": frozen.name, "count": f"{frozen.member_count:,}"},
            )
            return redirect(frozen)
    messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect(segment)


@require_http_methods(["GET", "POST"])
@permission_required("marketing.add_segment", raise_exception=True)
def segment_upload_view(request: HttpRequest) -> HttpResponse:
    form = SegmentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            segment, errors = services.segment_upload(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                lines=_lines(form.cleaned_data["file"]),
                actor=request.user,
            )
        except (ValidationError, ImportFileError) as e:
            add_service_errors(form, e if isinstance(e, ValidationError) else ValidationError(str(e)))
        else:
            messages.success(
                request,
                _("Static list “%(name)s” made with %(count)s members; %(bad)s lines could not be used.")
                % {"name": segment.name, "count": f"{segment.member_count:,}", "bad": f"{len(errors):,}"},
            )
            if not errors:
                return redirect(segment)
            return render(
                request,
                "marketing/segment_upload_result.html",
                {"segment": segment, "errors": errors[:ERRORS_SHOWN], "more": max(len(errors) - ERRORS_SHOWN, 0)},
            )
    status = 400 if request.method == "POST" else 200
    return render(request, "marketing/segment_upload.html", {"form": form}, status=status)


def _lines(upload) -> io.TextIOWrapper:
    """The upload as lines of text, UTF-8 or GBK; a first line without a digit is a header and is skipped."""
    file = upload.file
    text = io.TextIOWrapper(file, encoding=csv_encoding(file), newline="")
    first = text.readline()
    return _with_first(first, text) if any(ch.isdigit() for ch in first) else _with_first("", text)


def _with_first(first: str, rest):
    yield first
    yield from rest


@require_POST
@permission_required("marketing.delete_segment", raise_exception=True)
def segment_delete_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    try:
        services.segment_delete(segment=segment)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect(segment)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("marketing:segment_list")


@require_POST
@permission_required("marketing.export_segment", raise_exception=True)
def segment_export_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    """The segment's members as CSV or Excel: a background job with a progress page (marketing.services)."""
    segment = get_object_or_404(Segment, pk=segment_id)
    form = SegmentExportForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose CSV or Excel."))
    job = job_create(
        kind=JobKind.SEGMENT_EXPORT,
        params={"segment": segment.pk, "format": form.cleaned_data["format"]},
        created_by=request.user,
    )
    return redirect(job)
