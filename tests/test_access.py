"""Every URL, for every role and an anonymous visitor: the status each should get."""

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from analytics.models import RunStatus, ScoringRun
from crm.models import Job, JobKind
from crm.roles import Role
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.models import UnmatchedMention
from interactions.tests.factories import ReminderFactory, TransactionFactory
from marketing.models import Automation, AutomationKind, Campaign, CouponOffer, Segment

pytestmark = pytest.mark.django_db

ROLES = [Role.SERVICE, Role.SALES, Role.MARKETING, Role.MANAGER, Role.ADMIN, "outsider"]
S, SA, MK, MG, AD, OUT = ROLES


def statuses(service, sales, marketing, manager, admin, outsider) -> dict:
    return dict(zip(ROLES, (service, sales, marketing, manager, admin, outsider), strict=True))


def every(status: int) -> dict:
    return dict.fromkeys(ROLES, status)


# Every page URL and method, discovered from the URL conf (test_every_url_is_walked fails on one missing here):
# the status each role gets. The objects in the URLs belong to another sales user, so Sales get 404 (they learn
# nothing of customers outside their book); a bare POST is an empty form (400 or the form again, never a write).
# Admin and the JSON API are walked by their own tests (below, and crm/web/api/tests/test_api_tokens_everywhere.py).
EXPECTED = {
    # Home: the panels a role's permissions open (crm/home.py): Service and Sales their day, Marketing its segments
    # and campaigns, Manager and Admin the business; no role, no panel: the customer list.
    ("home", "get"): statuses(200, 200, 200, 200, 200, 302),
    ("home", "post"): every(405),
    ("customers:list", "get"): statuses(200, 200, 200, 200, 200, 403),
    ("customers:list", "post"): every(405),
    ("customers:create", "get"): statuses(200, 200, 403, 200, 200, 403),
    ("customers:create", "post"): statuses(200, 200, 403, 200, 200, 403),
    ("customers:export", "get"): every(405),
    ("customers:export", "post"): statuses(403, 403, 403, 400, 400, 403),
    # A bulk action with no action chosen: back to the list with the reason; Marketing may take none.
    ("customers:bulk", "get"): every(405),
    ("customers:bulk", "post"): statuses(302, 302, 403, 302, 302, 403),
    ("customers:duplicates", "get"): statuses(403, 403, 403, 200, 200, 403),
    ("customers:duplicates", "post"): every(405),
    ("customers:merge", "get"): statuses(403, 403, 403, 400, 400, 403),
    ("customers:merge", "post"): statuses(403, 403, 403, 400, 400, 403),
    ("customers:lookup", "get"): statuses(302, 302, 302, 302, 302, 403),
    ("customers:lookup", "post"): every(405),
    ("customers:detail", "get"): statuses(200, 404, 200, 200, 200, 403),
    ("customers:detail", "post"): every(405),
    ("customers:edit", "get"): statuses(200, 404, 403, 200, 200, 403),
    ("customers:edit", "post"): statuses(200, 404, 403, 200, 200, 403),
    ("customers:points_adjust", "get"): statuses(403, 404, 403, 200, 200, 403),
    ("customers:points_adjust", "post"): statuses(403, 404, 403, 400, 400, 403),
    ("customers:points_redeem", "get"): statuses(200, 404, 403, 200, 200, 403),
    ("customers:points_redeem", "post"): statuses(400, 404, 403, 400, 400, 403),
    ("interactions:purchase_record", "get"): statuses(200, 404, 403, 200, 200, 403),
    ("interactions:purchase_record", "post"): statuses(400, 404, 403, 400, 400, 403),
    ("interactions:purchase_export", "get"): statuses(403, 404, 403, 200, 200, 403),
    ("interactions:purchase_export", "post"): every(405),
    ("interactions:purchase_refund", "get"): statuses(200, 404, 403, 200, 200, 403),
    ("interactions:purchase_refund", "post"): statuses(400, 404, 403, 400, 400, 403),
    ("interactions:interaction_log", "get"): statuses(200, 404, 403, 200, 200, 403),
    ("interactions:interaction_log", "post"): statuses(400, 404, 403, 400, 400, 403),
    ("interactions:reports", "get"): statuses(200, 403, 403, 200, 200, 403),
    ("interactions:reports", "post"): every(405),
    ("interactions:my_day", "get"): statuses(200, 200, 403, 200, 200, 403),
    ("interactions:my_day", "post"): every(405),
    # Another user's reminder: no one but its assignee may close it, and no one learns it exists.
    ("interactions:reminder_done", "get"): every(405),
    ("interactions:reminder_done", "post"): statuses(404, 404, 403, 404, 404, 403),
    ("interactions:reminder_snooze", "get"): every(405),
    ("interactions:reminder_snooze", "post"): statuses(404, 404, 403, 404, 404, 403),
    ("interactions:mention_queue", "get"): statuses(200, 403, 403, 200, 200, 403),
    ("interactions:mention_queue", "post"): every(405),
    ("interactions:mention_assign", "get"): every(405),
    ("interactions:mention_assign", "post"): statuses(400, 403, 403, 400, 400, 403),
    ("notifications", "get"): every(200),
    ("notifications", "post"): every(405),
    ("notifications_read", "get"): every(405),
    ("notifications_read", "post"): every(200),
    ("import", "get"): statuses(200, 403, 403, 200, 200, 403),
    ("import", "post"): statuses(200, 403, 403, 200, 200, 403),
    # An upload that is not in the visitor's session, and another user's job: not found, for everyone.
    ("import_template", "get"): statuses(200, 403, 403, 200, 200, 403),
    ("import_template", "post"): every(405),
    ("import_mapping", "get"): every(404),
    ("import_mapping", "post"): every(404),
    ("job_detail", "get"): every(404),
    ("job_detail", "post"): every(405),
    # A manager may run another user's job again (it is still queued here, so nothing happens but a message).
    ("job_rerun", "get"): every(405),
    ("job_rerun", "post"): statuses(403, 403, 403, 302, 302, 403),
    # Segments: Marketing and Manager only. A bare POST is an empty form (400), a count of every member (200).
    ("marketing:segment_list", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:segment_list", "post"): every(405),
    ("marketing:segment_create", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:segment_create", "post"): statuses(403, 403, 400, 400, 400, 403),
    ("marketing:segment_upload", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:segment_upload", "post"): statuses(403, 403, 400, 400, 400, 403),
    ("marketing:segment_count", "get"): every(405),
    ("marketing:segment_count", "post"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:segment_detail", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:segment_detail", "post"): every(405),
    ("marketing:segment_edit", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:segment_edit", "post"): statuses(403, 403, 400, 400, 400, 403),
    ("marketing:segment_recount", "get"): every(405),
    ("marketing:segment_recount", "post"): statuses(403, 403, 302, 302, 302, 403),
    ("marketing:segment_freeze", "get"): every(405),
    ("marketing:segment_freeze", "post"): statuses(403, 403, 302, 302, 302, 403),
    ("marketing:segment_export", "get"): every(405),
    ("marketing:segment_export", "post"): statuses(403, 403, 400, 400, 400, 403),
    ("marketing:segment_delete", "get"): every(405),
    ("marketing:segment_delete", "post"): statuses(403, 403, 302, 302, 302, 403),
    # Coupon offers: Marketing and Manager. Issuing to a member from their page (another seller's member here).
    ("marketing:offer_list", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:offer_list", "post"): every(405),
    ("marketing:offer_create", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:offer_create", "post"): statuses(403, 403, 400, 400, 400, 403),
    ("marketing:offer_detail", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:offer_detail", "post"): every(405),
    ("marketing:offer_edit", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:offer_edit", "post"): statuses(403, 403, 400, 400, 400, 403),
    ("marketing:offer_issue_segment", "get"): every(405),
    ("marketing:offer_issue_segment", "post"): statuses(403, 403, 302, 302, 302, 403),
    ("marketing:coupon_issue", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:coupon_issue", "post"): statuses(403, 403, 400, 400, 400, 403),
    # Points for a reward, at the desk: like redeeming points (Sales only for their own members).
    ("marketing:reward_exchange", "get"): statuses(200, 404, 403, 200, 200, 403),
    ("marketing:reward_exchange", "post"): statuses(400, 404, 403, 400, 400, 403),
    # Campaigns: Marketing builds and sends, Manager reads (a draft of another user here). A bare POST is an empty
    # form (400), or a state button whose refusal comes back as a message (302).
    ("marketing:campaign_list", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:campaign_list", "post"): every(405),
    ("marketing:campaign_create", "get"): statuses(403, 403, 200, 403, 200, 403),
    ("marketing:campaign_create", "post"): statuses(403, 403, 400, 403, 400, 403),
    ("marketing:campaign_template_check", "get"): every(405),
    ("marketing:campaign_template_check", "post"): statuses(403, 403, 400, 403, 400, 403),
    ("marketing:campaign_detail", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:campaign_detail", "post"): every(405),
    ("marketing:campaign_edit", "get"): statuses(403, 403, 200, 403, 200, 403),
    ("marketing:campaign_edit", "post"): statuses(403, 403, 400, 403, 400, 403),
    ("marketing:campaign_progress", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:campaign_progress", "post"): every(405),
    ("marketing:campaign_start", "get"): every(405),
    ("marketing:campaign_start", "post"): statuses(403, 403, 302, 403, 302, 403),
    ("marketing:campaign_schedule", "get"): every(405),
    ("marketing:campaign_schedule", "post"): statuses(403, 403, 302, 403, 302, 403),
    ("marketing:campaign_pause", "get"): every(405),
    ("marketing:campaign_pause", "post"): statuses(403, 403, 302, 403, 302, 403),
    ("marketing:campaign_resume", "get"): every(405),
    ("marketing:campaign_resume", "post"): statuses(403, 403, 302, 403, 302, 403),
    ("marketing:campaign_cancel", "get"): statuses(403, 403, 200, 403, 200, 403),
    ("marketing:campaign_cancel", "post"): statuses(403, 403, 302, 403, 302, 403),
    ("marketing:campaign_audience", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:campaign_audience", "post"): every(405),
    ("marketing:campaign_preview", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:campaign_preview", "post"): every(405),
    ("marketing:campaign_test_send", "get"): every(405),
    ("marketing:campaign_test_send", "post"): statuses(403, 403, 302, 403, 302, 403),
    # A campaign's results and their CSVs: Marketing and Manager read them.
    ("marketing:campaign_results", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:campaign_results", "post"): every(405),
    ("marketing:campaign_results_csv", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:campaign_results_csv", "post"): every(405),
    # Automations: Marketing switches them and sets their timing (a bare POST lacks the days: 400), Manager reads.
    ("marketing:automation_list", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:automation_list", "post"): every(405),
    ("marketing:automation_update", "get"): every(405),
    ("marketing:automation_update", "post"): statuses(403, 403, 400, 403, 400, 403),
    ("marketing:automation_message", "get"): statuses(403, 403, 200, 403, 200, 403),
    ("marketing:automation_message", "post"): statuses(403, 403, 400, 403, 400, 403),
    # Marketing reports: Marketing and Manager read them and take a segment's snapshot by hand.
    ("marketing:reports", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:reports", "post"): every(405),
    ("marketing:segment_report", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("marketing:segment_report", "post"): every(405),
    ("marketing:segment_snapshot", "get"): every(405),
    ("marketing:segment_snapshot", "post"): statuses(403, 403, 302, 302, 302, 403),
    ("job_download", "get"): every(404),
    ("job_download", "post"): every(405),
    # Scoring runs: Marketing and Manager read them, Manager (and Admin) start one (a redirect to its progress).
    ("analytics:run_list", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("analytics:run_list", "post"): every(405),
    ("analytics:run_start", "get"): every(405),
    ("analytics:run_start", "post"): statuses(403, 403, 403, 302, 302, 403),
    ("analytics:run_detail", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("analytics:run_detail", "post"): every(405),
    # The business dashboard is the Manager's (and Admin's); the category report Marketing's too. Every chart is
    # walked for every role in analytics/tests/test_dashboard_access.py; one stands for them here.
    ("analytics:dashboard", "get"): statuses(403, 403, 403, 200, 200, 403),
    ("analytics:dashboard", "post"): every(405),
    ("analytics:dashboard_tiles", "get"): statuses(403, 403, 403, 200, 200, 403),
    ("analytics:dashboard_tiles", "post"): every(405),
    ("analytics:dashboard_refresh", "get"): every(405),
    ("analytics:dashboard_refresh", "post"): statuses(403, 403, 403, 302, 302, 403),
    ("analytics:dashboard_progress", "get"): statuses(403, 403, 403, 200, 200, 403),
    ("analytics:dashboard_progress", "post"): every(405),
    ("analytics:category_report", "get"): statuses(403, 403, 200, 200, 200, 403),
    ("analytics:category_report", "post"): every(405),
    ("chart_json", "get"): statuses(403, 403, 403, 200, 200, 403),
    ("chart_json", "post"): every(405),
    ("chart_csv", "get"): statuses(403, 403, 403, 200, 200, 403),
    ("chart_csv", "post"): every(405),
}
# Public by design, each authorised by what it carries (a signed token, a webhook secret), and walked by its own
# tests: the links in a message and the providers' webhooks (marketing/tests/test_tracking*.py, test_sms*.py), the
# survey's score page (marketing/tests/test_automations_survey.py).
PUBLIC = (
    "marketing:unsubscribe",
    "marketing:opened",
    "marketing:clicked",
    "marketing:sms_inbound",
    "anymail:",
    "marketing:survey",
)
# The two-factor steps are walked by crm/tests/test_two_factor.py.
NOT_WALKED_HERE = ("admin:", "api:", "set_language", "login", "logout", "two_factor_", "healthz", *PUBLIC)


def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        elif pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, list(pattern.pattern.converters)


def page_urls() -> dict[str, list[str]]:
    """URL name -> the names of its parameters, for every page URL."""
    return {name: params for name, params in _walk(get_resolver().url_patterns) if not name.startswith(NOT_WALKED_HERE)}


def test_every_url_is_walked():
    wanted = {(name, method) for name in page_urls() for method in ("get", "post")}
    assert sorted(wanted - EXPECTED.keys()) == []
    assert sorted(EXPECTED.keys() - wanted) == []  # nothing stale either


@pytest.fixture
def objects():
    """One of each thing a URL can name, all belonging to another sales user."""
    seller = UserFactory(username="another-seller", role=Role.SALES)
    customer = CustomerFactory(owner=seller)
    return {
        "number": customer.crm_number,
        "transaction_id": TransactionFactory(customer=customer).pk,
        "reminder_id": ReminderFactory(customer=customer, assignee=seller).pk,
        "mention_id": UnmatchedMention.objects.create(platform="weibo", text="差评").pk,
        "job_id": Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=seller).pk,
        "segment_id": Segment.objects.create(name="Everyone").pk,
        "offer_id": CouponOffer.objects.create(name="20 off", value=20).pk,
        # Its own segment: the walk deletes the other one, which a campaign's segment may not be.
        "campaign_id": Campaign.objects.create(name="Spring", segment=Segment.objects.create(name="Spring list")).pk,
        "table": "counts",
        "automation_id": Automation.objects.get(kind=AutomationKind.BIRTHDAY).pk,
        "token": "0" * 32,
        "kind": "customers",
        "run_id": ScoringRun.objects.create(as_of=timezone.now(), status=RunStatus.DONE).pk,
        "key": "dist_tier",
    }


def _url(name: str, objects: dict) -> str:
    return reverse(name, kwargs={param: objects[param] for param in page_urls()[name]})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method"), sorted(EXPECTED), ids=[f"{n}-{m}" for n, m in sorted(EXPECTED)])
def test_each_role_gets_the_expected_status(role, name, method, objects, login_as):
    user = UserFactory(
        username=f"u-{role}".lower(), role=None if role == "outsider" else role, is_staff=role == Role.ADMIN
    )
    response = getattr(login_as(user), method)(_url(name, objects))
    assert response.status_code == EXPECTED[name, method][role]


@pytest.mark.parametrize(("name", "method"), sorted(EXPECTED), ids=[f"{n}-{m}" for n, m in sorted(EXPECTED)])
def test_anonymous_visitors_are_sent_to_login(name, method, objects):
    response = getattr(Client(), method)(_url(name, objects))
    if EXPECTED[name, method][OUT] == 405:
        assert response.status_code in (302, 405)  # the method is refused before or after the login check
    else:
        assert response.status_code == 302
        assert "login" in response.url or name == "home"


@pytest.fixture
def customer():
    return CustomerFactory(owner=UserFactory(username="another-seller", role=Role.SALES))


def test_lookup_needs_login_and_a_role(customer, login_as):
    url = reverse("customers:lookup") + f"?q={customer.crm_number}"
    assert Client().get(url).status_code == 302
    assert login_as(UserFactory(username="nobody")).get(url).status_code == 403


@pytest.mark.parametrize("name", ["customers:list", "customers:lookup"])
def test_wrong_method_is_405(name, service_client):
    assert service_client.post(reverse(name)).status_code == 405


def test_detail_wrong_method_is_405(service_client, customer):
    assert service_client.post(reverse("customers:detail", args=[customer.crm_number])).status_code == 405
    assert service_client.delete(reverse("customers:edit", args=[customer.crm_number])).status_code == 405


def test_health_check_is_public():
    assert Client().get("/healthz").status_code == 200


def test_login_page_is_public():
    assert Client().get(reverse("login")).status_code == 200


def _admin_pages():
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield opts.label, f"admin:{opts.app_label}_{opts.model_name}_changelist", model_admin
        yield opts.label, f"admin:{opts.app_label}_{opts.model_name}_add", model_admin


@pytest.mark.parametrize(("label", "name", "model_admin"), list(_admin_pages()), ids=lambda v: str(v))
def test_every_admin_list_and_add_page_opens_for_an_admin(label, name, model_admin, login_as, rf):
    user = UserFactory(username="the-admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    response = login_as(user).get(reverse(name))
    request = rf.get("/")
    request.user = user
    if name.endswith("_add") and not model_admin.has_add_permission(request):
        assert response.status_code == 403
    else:
        assert response.status_code == 200, f"{label}: {response.status_code}"
