import pytest
from django.core.exceptions import ValidationError

from crm.lib.phone import display_phone, normalize_phone


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "008613812345678", "8613812345678"],
)
def test_mainland_mobile_in_any_common_shape_is_stored_as_e164(typed):
    assert normalize_phone(typed) == "+8613812345678"


def test_international_number_is_kept_in_e164():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("001 415 555 2671") == "+14155552671"


@pytest.mark.parametrize("bad", ["12345", "1281234567", "2381234567x", "+86 12812345678", "phone", "+0123456789"])
def test_bad_numbers_are_refused_with_a_reason(bad):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(bad)
    assert exc.value.messages[0]


def test_display_splits_mainland_mobile_in_3_4_4():
    assert display_phone("+8613812345678") == "138 1234 5678"


@pytest.mark.parametrize("other_digits", ["1٣٨١٢٣٤٥٦٧٨", "+44٢٠٧٩٤٦٠٩٥٨", "1381234567²"])
def test_digits_of_other_scripts_are_no_phone_number(other_digits):
    with pytest.raises(ValidationError):
        normalize_phone(other_digits)


def test_full_width_digits_from_a_chinese_input_method_are_read_as_digits():
    assert normalize_phone("１３８　１２３４　５６７８") == "+8613812345678"
