"""Purchases from the shop or ERP, idempotent on the order number (external_ref).

The same order posted again (a retry after a timeout) answers 200 with the
purchase already stored, never a second one: interactions.services.transaction_receive
decides, also when two copies race. Its conflict (the number reused for another order) is a 409.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.web.api.errors import Conflict
from crm.web.api.fields import BoundedDateTimeField, MemberField
from crm.web.api.models import Scope
from crm.web.api.schema import error_responses
from interactions import services
from interactions.models import Channel, Product, TransactionSource

MAX_LINES = 200


class LineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40, required=False, allow_blank=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    quantity = serializers.IntegerField(min_value=1, max_value=100000, default=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)

    def validate(self, attrs):
        sku = attrs.get("sku")
        if sku:
            attrs["product"] = Product.objects.filter(sku=sku).first()
            if attrs["product"] is None:
                raise serializers.ValidationError({"sku": [_("No product has the SKU %(sku)s.") % {"sku": sku}]})
        elif not attrs.get("description") or attrs.get("unit_price") is None:
            raise serializers.ValidationError({"sku": [_("Give a product SKU, or a description and a unit price.")]})
        return attrs


class TransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    member = MemberField(source="customer")
    external_ref = serializers.CharField(max_length=64, help_text="The order number in your system; unique per order.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217, e.g. CNY.")
    occurred_at = BoundedDateTimeField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.ONLINE)
    store = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    coupon_code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="A coupon issued to this member: `amount` is then the price before it; see discount and paid.",
    )
    lines = LineSerializer(many=True, required=False, max_length=MAX_LINES, write_only=True)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    paid = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, source="amount")
    points_earned = serializers.IntegerField(read_only=True)
    flagged = serializers.BooleanField(read_only=True)
    status = serializers.CharField(read_only=True)

    def to_representation(self, instance: object) -> dict:
        data = super().to_representation(instance)
        data["amount"] = f"{instance.amount + instance.discount:.2f}"  # as it was sent: the price before the coupon
        return data


def _conflict(error: DjangoValidationError) -> Conflict | None:
    """The service's "this number was used for another order" as a 409 naming the stored one."""
    conflicts = [e for errors in getattr(error, "error_dict", {}).values() for e in errors if e.code == "conflict"]
    if not conflicts:
        return None
    errors = {"member" if field == "customer" else field: msgs for field, msgs in error.message_dict.items()}
    return Conflict(errors, {"existing_id": conflicts[0].params["existing_id"]})


class TransactionsView(APIView):
    required_scopes = {"POST": Scope.TRANSACTIONS_WRITE}

    @extend_schema(
        operation_id="transactions_create",
        request=TransactionSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer, **error_responses(400, 409, 413)},
        summary="Record a purchase",
        description=(
            "201 when recorded; 200 with the stored purchase when this external_ref was recorded before "
            "(a retry); 409 when the external_ref was used for a different member or amount."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = TransactionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = [
            services.LineInput(
                product=line.get("product"),
                quantity=line["quantity"],
                unit_price=line.get("unit_price"),
                description=line.get("description", ""),
            )
            for line in data.pop("lines", [])
        ]
        try:
            tx, repeat = services.transaction_receive(source=TransactionSource.API, actor=None, lines=lines, **data)
        except DjangoValidationError as error:
            if (conflict := _conflict(error)) is not None:
                raise conflict from error
            raise
        return Response(
            TransactionSerializer(tx).data, status=status.HTTP_200_OK if repeat else status.HTTP_201_CREATED
        )
