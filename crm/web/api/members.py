"""Members: sign-up from the website or app, profile updates, look-up by CRM number or phone."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.audit import audit_record
from crm.lib.masking import mask_birthday, mask_email, mask_phone
from crm.models import AuditAction
from crm.web.api.auth import contacts_masked
from crm.web.api.errors import Conflict
from crm.web.api.fields import PhoneField, member_by_number
from crm.web.api.models import ApiClient, Scope
from crm.web.api.schema import error_responses
from crm.web.api.selectors import api_customers
from customers import services
from customers.models import ConsentMethod, Customer, Gender, Source
from customers.selectors import customer_by_contact, customer_duplicates

API_SOURCES = [Source.API, Source.WEBSITE, Source.APP, Source.WECHAT, Source.OTHER]
# Schema text for developers, in English like the rest of the schema's descriptions.
MASKED = "Answered masked (%s) unless the token has the scope personal_data."


class MemberSerializer(serializers.Serializer):
    crm_number = serializers.SerializerMethodField(help_text="The CRM number, digits only.")
    crm_number_display = serializers.CharField(read_only=True)
    name = serializers.CharField(max_length=100)
    mobile = PhoneField(
        required=False,
        allow_blank=True,
        help_text="Mainland China mobile (13812345678) or international (+44...). " + MASKED % "+86138****5678",
    )
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, help_text=MASKED % "w***@example.com"
    )
    birthday = serializers.DateField(
        required=False, allow_null=True, help_text=f"A date (1990-05-17). {MASKED % 'the year hidden: ****-05-17'}"
    )
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    source = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in API_SOURCES], required=False, help_text="Where the member signed up."
    )
    email_opt_in = serializers.BooleanField(required=False, help_text="E-mail consent; recorded with method api.")
    sms_opt_in = serializers.BooleanField(required=False, help_text="SMS consent; recorded with method api.")
    tier = serializers.CharField(source="tier.name", read_only=True, allow_null=True, default=None)
    points_balance = serializers.IntegerField(read_only=True)
    registered_on = serializers.DateField(read_only=True)

    def get_crm_number(self, customer: Customer) -> str:
        return str(customer.crm_number)

    def to_representation(self, customer: Customer) -> dict:
        data = super().to_representation(customer)
        if self.context.get("masked", True):  # masked unless the view says this token may see them
            data["mobile"] = mask_phone(customer.mobile)
            data["email"] = mask_email(customer.email)
            data["birthday"] = mask_birthday(customer.birthday) or None
        return data

    def validate(self, attrs):
        if self.instance is None and not (attrs.get("mobile") or attrs.get("email")):
            raise serializers.ValidationError(
                {"mobile": [_("Give a mobile number or an e-mail, so the member can be found again.")]}
            )
        return attrs


def _refuse_duplicates(*, mobile: str, email: str, exclude: Customer | None = None) -> None:
    """409 naming the member who already has this phone or e-mail, so the caller can update it instead."""
    errors, existing = {}, None
    for field, other in customer_duplicates(mobile=mobile, email=email, exclude_pk=exclude.pk if exclude else None):
        existing = existing or other
        errors[field] = [
            _("A member with this %(field)s already exists: CRM number %(number)s.")
            % {"field": Customer._meta.get_field(field).verbose_name, "number": other.crm_number_display}
        ]
    if errors:
        raise Conflict(errors, {"existing_crm_number": str(existing.crm_number)})


def _answer(request: Request) -> dict:
    """The serializer context of an answer: whether its contact details are masked for this token."""
    return {"masked": contacts_masked(request.auth)}


def _consent_note(client: ApiClient) -> str:
    return _("Through the API (%(client)s)") % {"client": client.name}


class MembersView(APIView):
    required_scopes = {"POST": Scope.MEMBERS_WRITE}

    @extend_schema(
        operation_id="members_create",
        request=MemberSerializer,
        responses={201: MemberSerializer, **error_responses(400, 409, 413)},
        summary="Sign up a member",
        description="Duplicate mobile or e-mail: 409 with the existing CRM number (`existing_crm_number`).",
    )
    def post(self, request: Request) -> Response:
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contacts = {"mobile": data.get("mobile", ""), "email": data.get("email", "")}
        data.setdefault("source", Source.API)
        try:
            customer = services.customer_create(
                actor=None, consent_method=ConsentMethod.API, consent_note=_consent_note(request.auth), **data
            )
        except DjangoValidationError:
            # The service refuses a phone or e-mail another member has (also one that a racing sign-up
            # took a moment ago); the API says so with a 409 naming that member.
            _refuse_duplicates(**contacts)
            raise
        return Response(MemberSerializer(customer, context=_answer(request)).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    required_scopes = {"GET": Scope.LOOKUP, "PATCH": Scope.MEMBERS_WRITE}

    def _member(self, number: str) -> Customer:
        try:
            return member_by_number(number)
        except serializers.ValidationError as e:
            if e.detail[0].code == "not_found":
                raise NotFound(e.detail[0]) from e
            raise serializers.ValidationError({"crm_number": e.detail}) from e

    @extend_schema(
        operation_id="members_retrieve",
        responses={200: MemberSerializer, **error_responses(400, 404)},
        summary="Look up by CRM number",
    )
    def get(self, request: Request, number: str) -> Response:
        customer = self._member(number)
        audit_record(action=AuditAction.VIEW, customer_id=customer.pk)
        return Response(MemberSerializer(customer, context=_answer(request)).data)

    @extend_schema(
        operation_id="members_update",
        request=MemberSerializer(partial=True),
        responses={200: MemberSerializer, **error_responses(400, 404, 409, 413)},
        summary="Update a member",
        description="Send only the fields to change. Consent changes are recorded with method api.",
    )
    def patch(self, request: Request, number: str) -> Response:
        customer = self._member(number)
        serializer = MemberSerializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("source", None)  # where a member came from does not change
        contacts = {"mobile": data.get("mobile", ""), "email": data.get("email", ""), "exclude": customer}
        if data:
            try:
                services.customer_update(
                    customer=customer,
                    actor=None,
                    consent_method=ConsentMethod.API,
                    consent_note=_consent_note(request.auth),
                    **data,
                )
            except DjangoValidationError:
                _refuse_duplicates(**contacts)  # as for a sign-up
                raise
        return Response(MemberSerializer(customer, context=_answer(request)).data)


class MemberByPhoneView(APIView):
    required_scopes = {"GET": Scope.LOOKUP}

    @extend_schema(
        operation_id="members_by_phone",
        parameters=[OpenApiParameter("phone", str, required=True, description="Any usual form; normalised.")],
        responses={200: MemberSerializer, **error_responses(400, 404)},
        summary="Look up by mobile number",
    )
    def get(self, request: Request) -> Response:
        field = PhoneField()
        try:
            phone = field.run_validation(request.query_params.get("phone", ""))
        except serializers.ValidationError as e:
            raise serializers.ValidationError({"phone": e.detail}) from e
        customer = customer_by_contact(phone=phone, queryset=api_customers())
        if customer is None:
            raise NotFound(_("No member has this mobile number."))
        audit_record(action=AuditAction.VIEW, customer_id=customer.pk, changes={"by": "phone"})
        return Response(MemberSerializer(customer, context=_answer(request)).data)
