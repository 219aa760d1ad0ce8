"""POST /api/v1/webhooks/social-mention/: mentions from the social-listening tool.

Authenticated like every endpoint, by the integration's token (scope
mentions:write), not by an HMAC signature: one mechanism to issue, rotate and
revoke, and listening tools can all send a fixed Authorization header.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.lib.text import normalize_email
from crm.web.api.fields import BoundedDateTimeField, PhoneField
from crm.web.api.models import Scope
from crm.web.api.schema import error_responses
from interactions.services import mentions


class MentionSerializer(serializers.Serializer):
    platform = serializers.RegexField(
        r"^[a-z0-9_.-]{1,30}$", help_text="Lower-case name of the network: weibo, wechat, douyin, xiaohongshu..."
    )
    text = serializers.CharField(max_length=5000)
    handle = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    author_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    phone = PhoneField(required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="The post id; makes retries safe."
    )
    posted_at = BoundedDateTimeField(required=False)

    def validate(self, attrs):
        attrs["email"] = normalize_email(attrs["email"])
        return attrs


class MentionResultSerializer(serializers.Serializer):
    matched = serializers.BooleanField()
    member = serializers.CharField(allow_null=True, help_text="CRM number of the matched member.")
    interaction_id = serializers.IntegerField(allow_null=True)
    reminder_id = serializers.IntegerField(allow_null=True)
    queued_id = serializers.IntegerField(allow_null=True, help_text="Unmatched: its place in the staff queue.")


class SocialMentionWebhook(APIView):
    required_scopes = {"POST": Scope.MENTIONS_WRITE}
    rate_setting = "WEBHOOK_RATE"  # per token, apart from its other calls: a listening tool posts in bursts

    @extend_schema(
        operation_id="webhooks_social_mention",
        request=MentionSerializer,
        responses={
            201: MentionResultSerializer,
            202: MentionResultSerializer,
            200: MentionResultSerializer,
            **error_responses(400, 413),
        },
        summary="Report a social-media mention",
        description=(
            "Matched to a member by phone, e-mail or a handle seen before: recorded on their timeline with a "
            "reminder for their owner to respond (201). Otherwise queued for staff to assign (202). "
            "A repeated external_id answers 200 and changes nothing."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = MentionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mention = mentions.MentionInput(**serializer.validated_data)
        outcome = mentions.mention_receive(mention=mention, received_from_id=request.auth.pk)
        interaction = outcome.interaction
        body = {
            "matched": interaction is not None,
            "member": str(interaction.customer.crm_number) if interaction else None,
            "interaction_id": interaction.pk if interaction else None,
            "reminder_id": outcome.reminder.pk if outcome.reminder else None,
            "queued_id": outcome.queued.pk if outcome.queued else None,
        }
        if outcome.repeat:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED if interaction else status.HTTP_202_ACCEPTED
        return Response(MentionResultSerializer(body).data, status=code)
