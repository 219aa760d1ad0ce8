from decimal import Decimal

from django.utils import translation

from crm.lib.money import format_money


def test_an_amount_reads_with_its_symbol_and_grouped_thousands():
    with translation.override("en"):
        assert format_money(Decimal("1234567.891"), "CNY") == "¥1,234,567.89"
        assert format_money(12, "HKD") == "HK$12.00"


def test_no_currency_means_the_shops_own(settings):
    settings.CRM_CURRENCY = "EUR"
    with translation.override("en"):
        assert format_money("5") == "€5.00"


def test_a_currency_without_a_symbol_is_written_by_its_code():
    with translation.override("en"):
        assert format_money(Decimal("3.5"), "JPY") == "JPY 3.50"


def test_no_amount_is_an_empty_string():
    assert format_money(None) == format_money("") == ""
