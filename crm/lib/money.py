"""Amounts as people read them: ¥12,345.60."""

from decimal import Decimal

from django.conf import settings
from django.utils.formats import number_format

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


def format_money(value: Decimal | int | str | None, currency: str = "") -> str:
    """Amount with the currency symbol (CRM_CURRENCY by default) and the active language's grouping."""
    if value in (None, ""):
        return ""
    currency = currency or settings.CRM_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    amount = number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{symbol}{amount}"
