"""The automations page: marketers switch automations and set their timing; managers read; others are refused."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing.models import Automation, AutomationKind
from marketing.tasks import automations_run_task
from tests.hostile import hostile_number, hostile_text, rolled_back, table_counts
from tests.logins import force_login

pytestmark = pytest.mark.django_db

LIST = reverse("marketing:automation_list")


def _update_url(kind: str) -> str:
    return reverse("marketing:automation_update", args=[Automation.objects.get(kind=kind).pk])


def test_a_marketer_sees_every_automation_switched_off(marketing_client):
    page = marketing_client.get(LIST).content.decode()
    for kind in AutomationKind:
        assert f'id="automation-{kind.value}"' in page and str(kind.label) in page
    assert page.count('role="switch"') == len(AutomationKind) and " checked" not in page


def test_a_marketer_switches_the_birthday_greeting_on_with_its_days(marketing_client):
    response = marketing_client.post(_update_url(AutomationKind.BIRTHDAY), {"enabled": "on", "days": "3"})
    assert response.status_code == 302 and response.url == LIST
    birthday = Automation.objects.get(kind=AutomationKind.BIRTHDAY)
    assert birthday.enabled and birthday.days == 3 and birthday.enabled_at is not None
    page = marketing_client.get(LIST).content.decode()
    assert "saved: on" in page


def test_a_marketer_switches_an_automation_off(marketing_client):
    Automation.objects.filter(kind=AutomationKind.WELCOME).update(enabled=True)
    marketing_client.post(_update_url(AutomationKind.WELCOME), {})
    assert not Automation.objects.get(kind=AutomationKind.WELCOME).enabled


def test_browse_abandonment_takes_views_and_days_and_the_survey_its_delay(marketing_client):
    marketing_client.post(_update_url(AutomationKind.BROWSE_ABANDONMENT), {"enabled": "on", "views": "5", "days": "2"})
    marketing_client.post(_update_url(AutomationKind.SURVEY), {"enabled": "on", "delay_hours": "48", "days": "99"})
    browse = Automation.objects.get(kind=AutomationKind.BROWSE_ABANDONMENT)
    survey = Automation.objects.get(kind=AutomationKind.SURVEY)
    assert (browse.views, browse.days) == (5, 2)
    assert survey.delay_hours == 48 and survey.days == 0  # a field its kind does not use is not taken


def test_a_bad_timing_is_refused_with_its_reason_and_nothing_changes(marketing_client):
    response = marketing_client.post(_update_url(AutomationKind.WIN_BACK), {"enabled": "on", "days": "0"})
    assert response.status_code == 400
    assert "A win-back needs at least one day without a purchase." in response.content.decode()
    win_back = Automation.objects.get(kind=AutomationKind.WIN_BACK)
    assert not win_back.enabled and win_back.days == 90


def test_a_manager_reads_the_page_but_cannot_switch(manager_client):
    page = manager_client.get(LIST).content.decode()
    assert 'id="automation-birthday"' in page and 'role="switch"' not in page
    assert manager_client.post(_update_url(AutomationKind.BIRTHDAY), {"enabled": "on"}).status_code == 403
    assert not Automation.objects.get(kind=AutomationKind.BIRTHDAY).enabled


@pytest.mark.parametrize("user_name", ["service_user", "sales_user", "outsider"])
def test_others_are_refused(user_name, request, client):
    force_login(client, request.getfixturevalue(user_name))
    assert client.get(LIST).status_code == 403
    assert client.post(_update_url(AutomationKind.BIRTHDAY), {"enabled": "on"}).status_code == 403
    assert not Automation.objects.filter(enabled=True).exists()


def test_wrong_methods_are_405(marketing_client):
    assert marketing_client.post(LIST).status_code == 405
    assert marketing_client.get(_update_url(AutomationKind.BIRTHDAY)).status_code == 405


def test_the_marketing_menu_leads_to_the_page(marketing_client, manager_client, service_client):
    assert LIST in marketing_client.get(reverse("customers:list")).content.decode()
    assert LIST in manager_client.get(reverse("customers:list")).content.decode()
    assert LIST not in service_client.get(reverse("customers:list")).content.decode()


def test_the_page_reads_the_same_number_of_queries_whatever_ran(marketing_client):
    with CaptureQueriesContext(connection) as before:
        marketing_client.get(LIST)
    Automation.objects.update(enabled=True, last_run_count=12)
    with CaptureQueriesContext(connection) as after:
        marketing_client.get(LIST)
    assert len(after) == len(before)


def test_the_beat_task_runs_each_enabled_automation_of_its_kinds_as_its_own_task(
    monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("marketing.tasks.automation_run_task.apply_async", lambda args, **options: queued.extend(args))
    Automation.objects.filter(kind__in=[AutomationKind.BIRTHDAY, AutomationKind.SURVEY]).update(enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        automations_run_task(["birthday", "win_back", "survey"])
    assert sorted(queued) == sorted(
        Automation.objects.filter(kind__in=[AutomationKind.BIRTHDAY, AutomationKind.SURVEY]).values_list(
            "pk", flat=True
        )
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(AutomationKind.values),
    enabled=st.one_of(st.none(), hostile_text),
    days=hostile_number,
    views=hostile_number,
    delay=hostile_number,
)
def test_any_form_input_is_saved_or_refused_never_a_500(marketing_client, kind, enabled, days, views, delay):
    data = {"days": days, "views": views, "delay_hours": delay}
    if enabled is not None:
        data["enabled"] = enabled
    with rolled_back():
        before = table_counts()
        automation = Automation.objects.get(kind=kind)
        stored = (automation.enabled, automation.days, automation.views, automation.delay_hours)
        response = marketing_client.post(_update_url(kind), data)
        assert response.status_code in (302, 400)
        assert table_counts() == before
        if response.status_code == 400:
            automation.refresh_from_db()
            assert (automation.enabled, automation.days, automation.views, automation.delay_hours) == stored


def test_beat_runs_every_kind_once_through_a_registered_task_that_expires():
    from crm.celery import app
    from crm.schedule import BEAT_SCHEDULE

    entries = [entry for entry in BEAT_SCHEDULE.values() if entry["task"] == "marketing.tasks.automations_run_task"]
    kinds = [kind for entry in entries for kind in entry["args"][0]]
    assert sorted(kinds) == sorted(AutomationKind.values)
    assert "marketing.tasks.automations_run_task" in app.tasks
    assert all(entry["options"]["expires"] == entry["options"]["expire_seconds"] for entry in entries)


def test_a_run_task_for_an_automation_gone_does_nothing():
    from marketing.tasks import automation_run_task

    automation_run_task(10**9)
