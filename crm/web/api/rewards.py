"""The rewards catalogue for a shop: what can be had for points, and exchanging a member's points for it."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.web.api.fields import member_by_number
from crm.web.api.models import Scope
from crm.web.api.schema import error_responses
from marketing.models import RewardItem
from marketing.selectors import rewards_offered
from marketing.services import reward_exchange


class RewardItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = RewardItem
        fields = ["id", "name", "description", "kind", "points_price", "stock", "valid_to"]


class ExchangeSerializer(serializers.Serializer):
    item = serializers.PrimaryKeyRelatedField(queryset=RewardItem.objects.all())
    # Answered:
    id = serializers.IntegerField(read_only=True)
    points = serializers.IntegerField(read_only=True)
    points_balance = serializers.IntegerField(read_only=True, source="customer.points_balance")
    coupon_code = serializers.CharField(read_only=True, source="coupon.code_display", default=None)


class RewardsView(APIView):
    required_scopes = {"GET": Scope.LOOKUP}

    @extend_schema(
        operation_id="rewards_list",
        responses={200: RewardItemSerializer(many=True), **error_responses()},
        summary="The rewards on offer",
    )
    def get(self, request: Request) -> Response:
        return Response(RewardItemSerializer(rewards_offered(), many=True).data)


class MemberRewardsView(APIView):
    required_scopes = {"POST": Scope.REWARDS_WRITE}

    @extend_schema(
        operation_id="rewards_exchange",
        request=ExchangeSerializer,
        responses={201: ExchangeSerializer, **error_responses(400, 404)},
        summary="Exchange a member's points for a reward",
        description="400 with the reason when the points or the stock are short or the item is not offered.",
    )
    def post(self, request: Request, number: str) -> Response:
        try:
            customer = member_by_number(number)
        except serializers.ValidationError as e:
            if e.detail[0].code == "not_found":
                raise NotFound(e.detail[0]) from e
            raise serializers.ValidationError({"crm_number": e.detail}) from e
        serializer = ExchangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exchange = reward_exchange(item=serializer.validated_data["item"], customer=customer, actor=None)
        exchange.customer.refresh_from_db(fields=["points_balance"])
        return Response(ExchangeSerializer(exchange).data, status=status.HTTP_201_CREATED)
