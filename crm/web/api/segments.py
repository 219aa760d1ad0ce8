"""Segments for outside systems (a shop's or BI tool's audiences): list, build, count, read their members.

Rules are the JSON the rule builder stores (marketing.rules documents it). They are checked by the same
service as the builder's, so a bad tree is a 400 whose `errors.rules` carries the builder's message naming
the condition, and nothing is written. Deleting goes through the same service as the segment page's button.
"""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from crm.audit import audit_record
from crm.lib.masking import mask_email, mask_phone
from crm.models import AuditAction
from crm.web.api.auth import contacts_masked
from crm.web.api.errors import Conflict, service_errors
from crm.web.api.models import Scope
from crm.web.api.pagination import MemberCursor, NumberedPages
from crm.web.api.schema import error_responses
from customers.models import Customer
from marketing import services
from marketing.models import Segment, SegmentKind
from marketing.selectors import rules_members_everyone, segment_members, segments_list

RULES_HELP = _(
    'A rule tree: a group {"op": "and"|"or"|"not", "rules": [...]} of conditions {"field", "operator", "value"} '
    "and nested groups, at most 5 levels and 50 conditions. The fields and their operators are those of the "
    "segment builder."
)
RULES_EXAMPLE = {
    "op": "and",
    "rules": [
        {"field": "points_balance", "operator": "gt", "value": 500},
        {
            "op": "or",
            "rules": [
                {"field": "province", "operator": "eq", "value": "浙江省"},
                {"field": "last_purchase", "operator": "in_last_days", "value": 90},
            ],
        },
    ],
}
SEGMENT_ID = OpenApiParameter("segment_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The segment's id.")
_ID = re.compile(r"[0-9]{1,18}")
# Schema text for developers, in English like the rest of the schema's descriptions.
BAD_RULES = (
    'Bad rules: 400 with the reason, naming the condition, in errors.rules (e.g. "Condition 2.1 (Province): ...").'
)


class SegmentSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=SegmentKind.choices, read_only=True, help_text=_("dynamic or static"))
    member_count = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Members when last counted (null: not counted since a change).")
    )
    counted_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text=_("When it was counted."))

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "kind", "member_count", "counted_at", "created_at", "updated_at"]


class SegmentDetailSerializer(SegmentSerializer):
    rules = serializers.JSONField(read_only=True, help_text=RULES_HELP)
    frozen_from = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text=_("For a static list frozen from a dynamic segment: that segment's id.")
    )

    class Meta(SegmentSerializer.Meta):
        fields = [*SegmentSerializer.Meta.fields, "rules", "frozen_from"]


class SegmentWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    rules = serializers.JSONField(help_text=RULES_HELP)


class RulesSerializer(serializers.Serializer):
    rules = serializers.JSONField(help_text=RULES_HELP)


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True)


class SegmentMemberSerializer(serializers.Serializer):
    crm_number = serializers.SerializerMethodField(help_text=_("The CRM number, digits only."))
    crm_number_display = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    tier = serializers.CharField(source="tier.name", read_only=True, allow_null=True, default=None)
    mobile = serializers.SerializerMethodField(help_text=_("Masked unless the token has the scope personal_data."))
    email = serializers.SerializerMethodField(help_text=_("Masked unless the token has the scope personal_data."))

    def get_crm_number(self, customer: Customer) -> str:
        return str(customer.crm_number)

    def get_mobile(self, customer: Customer) -> str:
        return mask_phone(customer.mobile) if self.context["masked"] else customer.mobile

    def get_email(self, customer: Customer) -> str:
        return mask_email(customer.email) if self.context["masked"] else customer.email


def _segment(segment_id: str) -> Segment:
    # The path takes any text, so a wrong id is this API's JSON 404 rather than the site's HTML page.
    if not _ID.fullmatch(segment_id):
        raise NotFound(_("No segment has this id."))
    return get_object_or_404(segments_list(), pk=int(segment_id))


def _rules_error(error: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError({"rules": error.messages})


class SegmentsView(generics.GenericAPIView):
    required_scopes = {"GET": Scope.SEGMENTS_READ, "POST": Scope.SEGMENTS_WRITE}
    pagination_class = NumberedPages
    serializer_class = SegmentSerializer

    @extend_schema(
        operation_id="segments_list",
        responses={200: SegmentSerializer(many=True), **error_responses(404)},
        summary="List segments",
        description="By name, with each one's stored count and when it was computed. An unknown page is 404.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(segments_list())
        return self.get_paginated_response(SegmentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="segments_create",
        request=SegmentWriteSerializer,
        responses={201: SegmentDetailSerializer, **error_responses(400, 413)},
        examples=[OpenApiExample("Rules", value={"name": "Zhejiang regulars", "rules": RULES_EXAMPLE})],
        summary="Create a dynamic segment",
        description=f"Answers with the segment, counted. {BAD_RULES}",
    )
    def post(self, request: Request) -> Response:
        serializer = SegmentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        segment = services.segment_save(actor=None, **serializer.validated_data)
        services.segment_count(segment=segment)
        return Response(SegmentDetailSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetailView(generics.GenericAPIView):
    required_scopes = {"GET": Scope.SEGMENTS_READ, "PATCH": Scope.SEGMENTS_WRITE, "DELETE": Scope.SEGMENTS_WRITE}
    serializer_class = SegmentDetailSerializer

    @extend_schema(
        operation_id="segments_retrieve",
        parameters=[SEGMENT_ID],
        responses={200: SegmentDetailSerializer, **error_responses(404)},
        summary="A segment with its rules, counted now",
        description="The count is made now and stored, so the segment list shows it too.",
    )
    def get(self, request: Request, segment_id: str) -> Response:
        segment = _segment(segment_id)
        services.segment_count(segment=segment)
        return Response(SegmentDetailSerializer(segment).data)

    @extend_schema(
        operation_id="segments_update",
        parameters=[SEGMENT_ID],
        request=SegmentWriteSerializer(partial=True),
        responses={200: SegmentDetailSerializer, **error_responses(400, 404, 413)},
        summary="Rename a segment or change its rules",
        description=f"Send only what changes. A static list has no rules to change (400). {BAD_RULES}",
    )
    def patch(self, request: Request, segment_id: str) -> Response:
        segment = _segment(segment_id)
        serializer = SegmentWriteSerializer(segment, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        segment = services.segment_save(
            segment=segment,
            name=data.get("name", segment.name),
            description=data.get("description", segment.description),
            rules=data.get("rules", segment.rules),
            actor=None,
        )
        services.segment_count(segment=segment)
        return Response(SegmentDetailSerializer(segment).data)

    @extend_schema(
        operation_id="segments_destroy",
        parameters=[SEGMENT_ID],
        responses={204: None, **error_responses(404, 409)},
        summary="Delete a segment",
        description="As the segment page's Delete does. Coupons already issued to its members stay theirs. "
        "A segment a campaign was sent to is kept: 409 with the reason.",
    )
    def delete(self, request: Request, segment_id: str) -> Response:
        try:
            services.segment_delete(segment=_segment(segment_id))
        except DjangoValidationError as e:
            raise Conflict(service_errors(e)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentCountView(generics.GenericAPIView):
    required_scopes = {"POST": Scope.SEGMENTS_READ}
    serializer_class = RulesSerializer

    @extend_schema(
        operation_id="segments_count",
        request=RulesSerializer,
        responses={200: CountSerializer, **error_responses(400, 413)},
        examples=[OpenApiExample("Rules", value={"rules": RULES_EXAMPLE}, request_only=True)],
        summary="Count the members a rule tree selects, without saving it",
        description=BAD_RULES,
    )
    def post(self, request: Request) -> Response:
        serializer = RulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            count = rules_members_everyone(serializer.validated_data["rules"]).count()
        except DjangoValidationError as e:
            raise _rules_error(e) from None
        return Response(CountSerializer({"count": count}).data)


class SegmentMembersView(generics.GenericAPIView):
    required_scopes = {"GET": Scope.SEGMENTS_READ}
    pagination_class = MemberCursor
    serializer_class = SegmentMemberSerializer

    @extend_schema(
        operation_id="segments_members",
        parameters=[SEGMENT_ID],
        responses={200: SegmentMemberSerializer(many=True), **error_responses(404)},
        summary="A segment's members",
        description=(
            "In CRM-number order, a page at a time: follow `next`. A dynamic segment's rules are evaluated now; "
            "a static list gives the members it was frozen with. Mobile and e-mail are masked unless the token "
            "has the scope personal_data. Each page read is recorded in the audit trail as an export."
        ),
    )
    def get(self, request: Request, segment_id: str) -> Response:
        segment = _segment(segment_id)
        masked = contacts_masked(request.auth)
        page = self.paginate_queryset(segment_members(segment).select_related("tier"))
        # A page of members is personal data leaving the CRM in bulk, as a segment export is: audited the same way.
        audit_record(
            action=AuditAction.EXPORT,
            changes={"segment": segment.pk, "rows": len(page), "masked": masked},
        )
        data = SegmentMemberSerializer(page, many=True, context={"masked": masked}).data
        return self.get_paginated_response(data)
