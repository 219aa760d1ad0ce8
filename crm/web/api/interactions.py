"""Interactions from outside systems (a call centre, a chat tool), through interactions.services.interaction_receive.

With an external_ref the post is idempotent like purchases: a repeat answers
200 with the stored interaction.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.web.api.fields import BoundedDateField, BoundedDateTimeField, MemberField
from crm.web.api.models import Scope
from crm.web.api.schema import error_responses
from interactions import services
from interactions.models import (
    SATISFACTION_RANGE,
    Direction,
    InteractionChannel,
    InteractionSource,
    Outcome,
)


class InteractionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    member = MemberField(source="customer")
    channel = serializers.ChoiceField(choices=InteractionChannel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.INBOUND)
    subject = serializers.CharField(max_length=200)
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, allow_blank=True, default="")
    occurred_at = BoundedDateTimeField(required=False)
    satisfaction = serializers.IntegerField(
        min_value=SATISFACTION_RANGE[0], max_value=SATISFACTION_RANGE[1], required=False, allow_null=True
    )
    follow_up_on = BoundedDateField(
        required=False, allow_null=True, help_text="Leaves a reminder for the member's owner on that day."
    )
    external_ref = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Your id for it; makes retries safe."
    )
    external_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")


class InteractionsView(APIView):
    required_scopes = {"POST": Scope.INTERACTIONS_WRITE}

    @extend_schema(
        operation_id="interactions_create",
        request=InteractionSerializer,
        responses={201: InteractionSerializer, 200: InteractionSerializer, **error_responses(400, 413)},
        summary="Log an interaction",
        description="201 when logged; 200 with the stored one when this external_ref was posted before.",
    )
    def post(self, request: Request) -> Response:
        serializer = InteractionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        interaction, repeat = services.interaction_receive(source=InteractionSource.API, staff=None, **data)
        return Response(
            InteractionSerializer(interaction).data, status=status.HTTP_200_OK if repeat else status.HTTP_201_CREATED
        )
