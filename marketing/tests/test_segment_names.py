"""A segment name taken by someone else between the check and the save: a clear message, not a 500."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from marketing.models import Segment
from marketing.services.segments import segment_save

RULES = {"op": "and", "rules": [{"field": "points_balance", "operator": "gt", "value": 10}]}


@pytest.mark.django_db(transaction=True)
def test_a_name_saved_meanwhile_by_another_marketer_gets_the_name_message():
    saved_uncommitted = threading.Event()
    outcome = []

    def first():  # saves the name and commits a moment later, while the second is already past its check
        try:
            with transaction.atomic():
                segment_save(name="Spring sale", rules=RULES, actor=None)
                saved_uncommitted.set()
                time.sleep(1)
        finally:
            connection.close()

    def second():
        saved_uncommitted.wait(timeout=5)
        try:
            segment_save(name="Spring sale", rules=RULES, actor=None)  # its check cannot see the first's row yet
            outcome.append("saved")
        except ValidationError as e:
            outcome.append(e.message_dict["name"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    assert outcome == ["Segment with this Name already exists."]
    assert list(Segment.objects.values_list("name", flat=True)) == ["Spring sale"]
