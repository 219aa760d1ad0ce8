import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from crm.lib.once import record_once


def test_what_is_found_is_a_repeat_and_nothing_is_created():
    assert record_once(find=lambda: "stored", create=lambda: pytest.fail("created")) == ("stored", True)


def test_what_is_not_found_is_created():
    assert record_once(find=lambda: None, create=lambda: "new") == ("new", False)


@pytest.mark.parametrize("error", [IntegrityError("duplicate key"), ValidationError("already recorded")])
def test_a_create_that_loses_a_race_answers_with_the_winners_record(error):
    table = []

    def create():
        table.append("winner's")
        raise error

    assert record_once(find=lambda: table[0] if table else None, create=create) == ("winner's", True)


def test_a_create_that_fails_for_its_own_reasons_still_fails():
    def create():
        raise ValidationError("bad amount")

    with pytest.raises(ValidationError, match="bad amount"):
        record_once(find=lambda: None, create=create)
