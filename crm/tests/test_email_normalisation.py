import pytest

from crm.lib.text import normalize_email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [(" Li.Na@Example.COM ", "li.na@example.com"), ("a@b.cn", "a@b.cn"), ("", ""), (None, "")],
)
def test_an_e_mail_is_stored_trimmed_and_in_lower_case(typed, stored):
    assert normalize_email(typed) == stored
