"""Every URL of the URL conf, for every role, an outsider and an anonymous visitor: the outcome each gets.

The URLs are discovered from the URL conf (crm/web/urls.py and everything it includes: the apps, the API,
the charts, the admin, the webhooks), so a URL without an entry in MATRIX fails test_every_url_has_an_entry.

How to add a URL: one line in MATRIX,

    "app:url_name": {"get": "200 404 200 200 200 403 login", "post": "405"},

keyed by the URL's name with its namespace (an unnamed pattern: "namespace:its own route"), one entry per
HTTP method (every page lists at least get and post, so a wrong method is checked too). Each value is the
outcome for, in this order,

    Service  Sales  Marketing  Manager  Admin  outsider (signed in, no role)  anonymous

or a single outcome for all seven. An outcome is a status code ("200", "400", "401", "403", "404", "405", ...),
"302" for a redirect anywhere but a login page, or "login" for a redirect to a login page (the admin's for
admin pages); "400|404" accepts either. The URL's parameters come from PARAMS (by parameter name): a new
parameter name needs a line there too. The objects they name belong to another sales user, so Sales get 404
where a customer is named (they learn nothing of customers outside their book). A request carries no data, so
a POST is an empty form (400 or the form again, never a write). Each request is rolled back, so one cannot
change what the next sees; each role signs in once.

Derived, not listed: every chart of the registry (crm/charts.py) is walked from its permission (READERS);
every admin model page of admin.site._registry from the staff flag and the model admin's permissions; every
API method from its view's required_scopes. Object-level access (a Sales user and another seller's customer,
with valid data and a check that nothing was written) is tests/test_object_access.py.
"""

import copy
import functools

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from analytics.models import RunStatus, ScoringRun
from crm import charts
from crm.models import Job, JobKind
from crm.roles import Role
from crm.web.api import services as api_services
from crm.web.api.models import Scope
from crm.web.api.tests.conftest import ApiHttp
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.models import UnmatchedMention
from interactions.tests.factories import ReminderFactory, TransactionFactory
from marketing.models import Automation, AutomationKind, Campaign, CouponOffer, Segment
from tests.hostile import rolled_back
from tests.logins import force_login

pytestmark = pytest.mark.django_db

OUT, ANON = "outsider", "anonymous"
ROLES = [Role.SERVICE, Role.SALES, Role.MARKETING, Role.MANAGER, Role.ADMIN, OUT, ANON]
MK, MG, AD = Role.MARKETING, Role.MANAGER, Role.ADMIN

MATRIX: dict[str, dict[str, str]] = {
    # Home: the panels a role's permissions open (crm/home.py); no role, no panel: the customer list.
    "home": {"get": "200 200 200 200 200 302 login", "post": "405 405 405 405 405 405 login"},
    "healthz": {"get": "200", "post": "200"},
    "login": {"get": "200", "post": "200"},
    # The second factor: anyone signed in may set one up (Manager and Admin must, and have: sent on); typing its
    # code is for someone with an authenticator whose session is not verified yet (here: nobody, sent on).
    "two_factor_enrol": {"get": "200 200 200 302 302 200 login", "post": "200 200 200 302 302 200 login"},
    "two_factor_verify": {"get": "302 302 302 302 302 302 login", "post": "302 302 302 302 302 302 login"},
    "logout": {"get": "405 405 405 405 405 405 login", "post": "login"},
    # Public: the login page has the language switch too.
    "set_language": {"get": "302", "post": "302"},
    "notifications": {"get": "200 200 200 200 200 200 login", "post": "405 405 405 405 405 405 login"},
    "notifications_read": {"get": "405 405 405 405 405 405 login", "post": "200 200 200 200 200 200 login"},
    # Customers. A bulk action with no action chosen: back to the list with the reason; Marketing may take none.
    "customers:list": {"get": "200 200 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "customers:create": {"get": "200 200 403 200 200 403 login", "post": "200 200 403 200 200 403 login"},
    "customers:export": {"get": "405 405 405 405 405 405 login", "post": "403 403 403 400 400 403 login"},
    "customers:bulk": {"get": "405 405 405 405 405 405 login", "post": "302 302 403 302 302 403 login"},
    "customers:duplicates": {"get": "403 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "customers:merge": {"get": "403 403 403 400 400 403 login", "post": "403 403 403 400 400 403 login"},
    "customers:lookup": {"get": "302 302 302 302 302 403 login", "post": "405 405 405 405 405 405 login"},
    "customers:detail": {"get": "200 404 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "customers:edit": {"get": "200 404 403 200 200 403 login", "post": "200 404 403 200 200 403 login"},
    "customers:points_adjust": {"get": "403 404 403 200 200 403 login", "post": "403 404 403 400 400 403 login"},
    # A masked field shown in clear on the customer's page (recorded): those who may see contacts, for their members.
    "customers:reveal": {"get": "405 405 405 405 405 405 login", "post": "400 404 403 400 400 403 login"},
    # A data-subject request: the customer's data exported, or the customer erased (typing the CRM number).
    "customers:personal_data": {"get": "403 403 403 200 200 403 login", "post": "403 403 403 400 400 403 login"},
    "customers:erase": {"get": "403 403 403 200 200 403 login", "post": "403 403 403 400 400 403 login"},
    "customers:points_redeem": {"get": "200 404 403 200 200 403 login", "post": "400 404 403 400 400 403 login"},
    # Purchases, contacts, follow-ups, mentions.
    "interactions:purchase_record": {"get": "200 404 403 200 200 403 login", "post": "400 404 403 400 400 403 login"},
    "interactions:purchase_export": {"get": "403 404 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "interactions:purchase_refund": {"get": "200 404 403 200 200 403 login", "post": "400 404 403 400 400 403 login"},
    "interactions:interaction_log": {"get": "200 404 403 200 200 403 login", "post": "400 404 403 400 400 403 login"},
    "interactions:reports": {"get": "200 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "interactions:my_day": {"get": "200 200 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    # Another user's reminder: no one but its assignee may close it, and no one learns it exists.
    "interactions:reminder_done": {"get": "405 405 405 405 405 405 login", "post": "404 404 403 404 404 403 login"},
    "interactions:reminder_snooze": {"get": "405 405 405 405 405 405 login", "post": "404 404 403 404 404 403 login"},
    "interactions:mention_queue": {"get": "200 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "interactions:mention_assign": {"get": "405 405 405 405 405 405 login", "post": "400 403 403 400 400 403 login"},
    # Imports and jobs. An upload not in the visitor's session, and another user's job: not found, for everyone.
    "import": {"get": "200 403 403 200 200 403 login", "post": "200 403 403 200 200 403 login"},
    "import_template": {"get": "200 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "import_mapping": {"get": "404 404 404 404 404 404 login", "post": "404 404 404 404 404 404 login"},
    # The audit log, and an archive file of it (none here): Manager and Admin.
    "audit_log": {"get": "403 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "audit_archive_download": {"get": "403 403 403 404 404 403 login", "post": "405 405 405 405 405 405 login"},
    "job_detail": {"get": "404 404 404 404 404 404 login", "post": "405 405 405 405 405 405 login"},
    "job_download": {"get": "404 404 404 404 404 404 login", "post": "405 405 405 405 405 405 login"},
    # A manager may run another user's job again (it is still queued here, so nothing happens but a message).
    "job_rerun": {"get": "405 405 405 405 405 405 login", "post": "403 403 403 302 302 403 login"},
    # Segments: Marketing and Manager only. A bare POST is an empty form (400), a count of every member (200).
    "marketing:segment_list": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:segment_create": {"get": "403 403 200 200 200 403 login", "post": "403 403 400 400 400 403 login"},
    "marketing:segment_upload": {"get": "403 403 200 200 200 403 login", "post": "403 403 400 400 400 403 login"},
    "marketing:segment_count": {"get": "405 405 405 405 405 405 login", "post": "403 403 200 200 200 403 login"},
    "marketing:segment_detail": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:segment_edit": {"get": "403 403 200 200 200 403 login", "post": "403 403 400 400 400 403 login"},
    "marketing:segment_recount": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 302 302 403 login"},
    "marketing:segment_freeze": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 302 302 403 login"},
    "marketing:segment_export": {"get": "405 405 405 405 405 405 login", "post": "403 403 400 400 400 403 login"},
    "marketing:segment_delete": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 302 302 403 login"},
    # Coupon offers: Marketing and Manager. Issuing to a member from their page (another seller's member here).
    "marketing:offer_list": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:offer_create": {"get": "403 403 200 200 200 403 login", "post": "403 403 400 400 400 403 login"},
    "marketing:offer_detail": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:offer_edit": {"get": "403 403 200 200 200 403 login", "post": "403 403 400 400 400 403 login"},
    "marketing:offer_issue_segment": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 302 302 403 login"},
    "marketing:coupon_issue": {"get": "403 403 200 200 200 403 login", "post": "403 403 400 400 400 403 login"},
    # Points for a reward, at the desk: like redeeming points (Sales only for their own members).
    "marketing:reward_exchange": {"get": "200 404 403 200 200 403 login", "post": "400 404 403 400 400 403 login"},
    # Campaigns: Marketing builds and sends, Manager reads (a draft of another user here). A bare POST is an
    # empty form (400), or a state button whose refusal comes back as a message (302).
    "marketing:campaign_list": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:campaign_create": {"get": "403 403 200 403 200 403 login", "post": "403 403 400 403 400 403 login"},
    "marketing:campaign_template_check": {
        "get": "405 405 405 405 405 405 login",
        "post": "403 403 400 403 400 403 login",
    },
    "marketing:campaign_detail": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:campaign_edit": {"get": "403 403 200 403 200 403 login", "post": "403 403 400 403 400 403 login"},
    "marketing:campaign_progress": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:campaign_start": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 403 302 403 login"},
    "marketing:campaign_schedule": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 403 302 403 login"},
    "marketing:campaign_pause": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 403 302 403 login"},
    "marketing:campaign_resume": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 403 302 403 login"},
    "marketing:campaign_cancel": {"get": "403 403 200 403 200 403 login", "post": "403 403 302 403 302 403 login"},
    "marketing:campaign_audience": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:campaign_preview": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:campaign_test_send": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 403 302 403 login"},
    "marketing:campaign_results": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:campaign_results_csv": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    # Automations: Marketing switches them and sets their timing (a bare POST lacks the days: 400), Manager reads.
    "marketing:automation_list": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:automation_update": {"get": "405 405 405 405 405 405 login", "post": "403 403 400 403 400 403 login"},
    "marketing:automation_message": {"get": "403 403 200 403 200 403 login", "post": "403 403 400 403 400 403 login"},
    # Marketing reports: Marketing and Manager read them and take a segment's snapshot by hand.
    "marketing:reports": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:segment_report": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "marketing:segment_snapshot": {"get": "405 405 405 405 405 405 login", "post": "403 403 302 302 302 403 login"},
    # Public by design, each authorised by what it carries (a signed token, a webhook secret) and walked with
    # good and bad tokens by its own tests (marketing/tests/test_tracking*.py, test_sms*.py, test_automations_
    # survey.py): a made-up token finds nothing, for everyone.
    "marketing:unsubscribe": {"get": "404", "post": "404"},
    "marketing:opened": {"get": "404", "post": "405"},
    "marketing:clicked": {"get": "404", "post": "405"},
    "marketing:survey": {"get": "404", "post": "404"},
    "marketing:sms_inbound": {"get": "405", "post": "403"},
    # Scoring runs: Marketing and Manager read them, Manager (and Admin) start one (a redirect to its progress).
    "analytics:run_list": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "analytics:run_start": {"get": "405 405 405 405 405 405 login", "post": "403 403 403 302 302 403 login"},
    "analytics:run_detail": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    # The business dashboard is the Manager's (and Admin's); the category report Marketing's too.
    "analytics:dashboard": {"get": "403 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "analytics:dashboard_tiles": {"get": "403 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "analytics:dashboard_refresh": {"get": "405 405 405 405 405 405 login", "post": "403 403 403 302 302 403 login"},
    "analytics:dashboard_progress": {"get": "403 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "analytics:category_report": {"get": "403 403 200 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    # One chart stands for all here; test_every_chart_answers_only_the_readers_of_its_page walks each.
    "chart_json": {"get": "403 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    "chart_csv": {"get": "403 403 403 200 200 403 login", "post": "405 405 405 405 405 405 login"},
    # The API answers tokens only (test_each_api_method_needs_its_scope): a signed-in user is no integration.
    "api:members": {"get": "401", "post": "401"},
    "api:member_by_phone": {"get": "401", "post": "401"},
    "api:member": {"get": "401", "patch": "401", "post": "401"},
    "api:member_rewards": {"get": "401", "post": "401"},
    "api:rewards": {"get": "401", "post": "401"},
    "api:segments": {"get": "401", "post": "401"},
    "api:segment_count": {"get": "401", "post": "401"},
    "api:segment": {"get": "401", "patch": "401", "delete": "401", "post": "401"},
    "api:segment_members": {"get": "401", "post": "401"},
    "api:transactions": {"get": "401", "post": "401"},
    "api:interactions": {"get": "401", "post": "401"},
    "api:events": {"get": "401", "post": "401"},
    "api:social_mention": {"get": "401", "post": "401"},
    # Its schema and documentation: an integration, or anyone signed in to the CRM.
    "api:schema": {"get": "200 200 200 200 200 200 401", "post": "405 405 405 405 405 405 401"},
    "api:docs": {"get": "200 200 200 200 200 200 login", "post": "405 405 405 405 405 405 login"},
    "api:redoc": {"get": "200 200 200 200 200 200 login", "post": "405 405 405 405 405 405 login"},
    # The e-mail providers' tracking webhooks: the shared secret (HTTP basic auth), which no one here sends;
    # a provider this install has no key for is not found (crm/web/urls.py).
    "anymail:*": {"get": "404|405", "post": "400|404"},
    # The admin: staff only (the Admin role here); its model pages are walked from admin.site._registry.
    "admin:index": {
        "get": "login login login login 200 login login",
        "post": "login login login login 200 login login",
    },
    "admin:login": {"get": "200 200 200 200 302 200 200", "post": "200"},
    "admin:logout": {"get": "302 302 302 302 405 302 login", "post": "302 302 302 302 login 302 login"},
    "admin:password_change": {
        "get": "login login login login 200 login login",
        "post": "login login login login 200 login login",
    },
    "admin:password_change_done": {
        "get": "login login login login 200 login login",
        "post": "login login login login 405 login login",
    },
    "admin:jsi18n": {
        "get": "login login login login 200 login login",
        "post": "login login login login 405 login login",
    },
    "admin:autocomplete": {
        "get": "login login login login 403 login login",
        "post": "login login login login 405 login login",
    },
    "admin:view_on_site": {
        "get": "login login login login 302 login login",
        "post": "login login login login 302 login login",
    },
    "admin:auth_user_password_change": {
        "get": "login login login login 200 login login",
        "post": "login login login login 200 login login",
    },
    "admin:app_list": {
        "get": "login login login login 200 login login",
        "post": "login login login login 200 login login",
    },
    "admin:(?P<url>.*)$": {
        "get": "login login login login 404 login login",
        "post": "login login login login 404 login login",
    },
}

# A URL parameter's name -> its value, from the objects of world().
PARAMS = {
    "number": lambda o: o["customer"].crm_number,
    "transaction_id": lambda o: o["transaction"].pk,
    "reminder_id": lambda o: o["reminder"].pk,
    "mention_id": lambda o: o["mention"].pk,
    "job_id": lambda o: o["job"].pk,
    "segment_id": lambda o: o["segment"].pk,
    "offer_id": lambda o: o["offer"].pk,
    "campaign_id": lambda o: o["campaign"].pk,
    "automation_id": lambda o: o["automation"].pk,
    "run_id": lambda o: o["run"].pk,
    "table": lambda o: "counts",
    "token": lambda o: "0" * 32,
    "kind": lambda o: "customers",
    "key": lambda o: "dist_tier",
    "archive_id": lambda o: 0,
    "content_type_id": lambda o: ContentType.objects.get_for_model(o["customer"]).pk,
    "object_id": lambda o: o["customer"].pk,
    "app_label": lambda o: "customers",
    "url": lambda o: "no-such-page/",
    "id": lambda o: o["customer"].owner_id,
}

# Who may read the charts behind each permission: the dashboard is the Manager's, the marketing reports
# Marketing's and the Manager's. A chart guarded by a permission missing here fails its test.
READERS = {
    "analytics.view_dashboard": {MG, AD},
    "analytics.view_marketing_reports": {MK, MG, AD},
}

ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "delete", "history")
# Public by design, each authorised by what it carries (a signed token, a shared secret).
PUBLIC = ("marketing:unsubscribe", "marketing:opened", "marketing:clicked", "marketing:sms_inbound", "marketing:survey")


# The URL conf -----------------------------------------------------------------------------------------------


def _walk(patterns, namespace=None):
    """(key, parameters, view) for every pattern, through every include."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        else:
            own = pattern.name or str(pattern.pattern)  # an unnamed pattern: its own route
            key = f"{namespace}:{own}" if namespace else own
            params = list(pattern.pattern.converters) or list(pattern.pattern.regex.groupindex)
            yield key, params, pattern.callback


def _admin_model_names() -> set[str]:
    """The names of every registered model's admin pages."""
    names = set()
    for model in admin.site._registry:
        opts = model._meta
        names |= {f"admin:{opts.app_label}_{opts.model_name}_{view}" for view in ADMIN_MODEL_VIEWS}
    return names


@functools.cache
def all_urls() -> dict[str, list[str]]:
    """Every URL of the URL conf but the admin's model pages: its key (see MATRIX) -> its parameters."""
    return {key: params for key, params, _view in _walk(get_resolver().url_patterns) if not _admin_model_page(key)}


def _admin_model_page(key: str) -> bool:
    # The admin's per-model includes also hold an unnamed "<path:object_id>/" (the old change-page address).
    return key in _admin_model_names() or key == "admin:<path:object_id>/"


def entry_for(key: str) -> dict[str, str] | None:
    if key in MATRIX:
        return MATRIX[key]
    namespace = key.split(":")[0]
    return MATRIX.get(f"{namespace}:*") if ":" in key else None


def page_urls() -> dict[str, list[str]]:
    """The app pages (not the API, the admin, the webhooks or the public links): what other tests walk too."""
    skip = ("admin:", "api:", "anymail:", "set_language", "login", "logout", "healthz", *PUBLIC)
    return {key: params for key, params in all_urls().items() if not key.startswith(skip)}


def expected(key: str, method: str) -> dict[str, str]:
    """The outcome per role of one line of MATRIX."""
    outcomes = entry_for(key)[method].split()
    assert len(outcomes) in (1, len(ROLES)), f"{key} {method}: give one outcome or {len(ROLES)}"
    return dict(zip(ROLES, outcomes * len(ROLES) if len(outcomes) == 1 else outcomes, strict=True))


def test_every_url_has_an_entry():
    missing = [key for key in all_urls() if entry_for(key) is None]
    assert missing == [], f"No access rule for {missing}: add it to the access matrix in tests/test_access.py"
    for key, methods in MATRIX.items():
        assert key.endswith(":*") or key in all_urls(), f"{key}: no such URL any more; remove it from MATRIX"
        if not key.startswith("api:"):
            assert {"get", "post"} <= methods.keys(), f"{key}: give at least get and post"
        for method in methods:
            expected(key, method)
    params = {param for params in all_urls().values() for param in params}
    assert params <= PARAMS.keys(), f"Give PARAMS in tests/test_access.py a value for {params - PARAMS.keys()}"


# The walk ---------------------------------------------------------------------------------------------------


@pytest.fixture
def world():
    """One of each thing a URL can name, all belonging to another sales user."""
    seller = UserFactory(username="another-seller", role=Role.SALES)
    customer = CustomerFactory(owner=seller)
    return {
        "customer": customer,
        "transaction": TransactionFactory(customer=customer),
        "reminder": ReminderFactory(customer=customer, assignee=seller),
        "mention": UnmatchedMention.objects.create(platform="weibo", text="差评"),
        "job": Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=seller),
        "segment": Segment.objects.create(name="Everyone"),
        "offer": CouponOffer.objects.create(name="20 off", value=20),
        # Its own segment: the walk deletes the other one, which a campaign's segment may not be.
        "campaign": Campaign.objects.create(name="Spring", segment=Segment.objects.create(name="Spring list")),
        "automation": Automation.objects.get(kind=AutomationKind.BIRTHDAY),
        "run": ScoringRun.objects.create(as_of=timezone.now(), status=RunStatus.DONE),
    }


def url_for(key: str, objects: dict) -> str:
    params = all_urls()[key]
    if ":" in key and key.split(":", 1)[1] == "(?P<url>.*)$":
        return reverse(key.split(":")[0] + ":index") + PARAMS["url"](objects)
    return reverse(key, kwargs={param: PARAMS[param](objects) for param in params})


def user_for(role: str):
    return UserFactory(username=f"u-{role}".lower(), role=None if role == OUT else role, is_staff=role == AD)


def client_for(user) -> Client:
    """A client signed in as `user` (None: anonymous) whose errors come back as responses, so a 500 is reported.
    The one place a role signs in: a second factor, once required, is passed here."""
    client = Client(raise_request_exception=False)
    if user is not None:
        force_login(client, user)  # a Manager's and an Admin's session verified by a second factor
    return client


def outcome(response) -> str:
    if response.status_code in (301, 302):
        login_pages = (reverse("login"), reverse("admin:login"))
        return "login" if response["Location"].split("?")[0] in login_pages else "302"
    return str(response.status_code)


def request(client: Client, method: str, url: str) -> str:
    """The outcome of one request, rolled back, with the client's cookies as they were (a logout stays undone)."""
    cookies = copy.deepcopy(client.cookies)
    with rolled_back():
        response = getattr(client, method)(url)
    client.cookies = cookies
    return outcome(response)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_outcome_of_the_matrix(role, world):
    client = client_for(None if role == ANON else user_for(role))
    wrong = []
    for key in sorted(all_urls()):
        url = url_for(key, world)
        for method in sorted(entry_for(key)):
            got, wanted = request(client, method, url), expected(key, method)[role]
            if got not in wanted.split("|"):
                wrong.append(f"{key} {method.upper()} {url}: {got}, expected {wanted}")
    assert wrong == [], f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_every_chart_answers_only_the_readers_of_its_page(role):
    assert {chart.permission for chart in charts.charts().values()} <= READERS.keys()
    client = client_for(None if role == ANON else user_for(role))
    # What a chart that reports on one segment needs; the others take no such parameter and ignore it.
    params = {"segment": Segment.objects.create(name="Everyone").pk}
    got, wanted = {}, {}
    for key, chart in sorted(charts.charts().items()):
        for name in ("chart_json", "chart_csv"):
            with rolled_back():
                got[key, name] = outcome(client.get(reverse(name, args=[key]), params))
            wanted[key, name] = "login" if role == ANON else "200" if role in READERS[chart.permission] else "403"
    assert got == wanted


# The admin's model pages ------------------------------------------------------------------------------------


def admin_pages():
    """(model label, URL name, its model admin) for every registered model's list and add page."""
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for view in ("changelist", "add"):
            yield opts.label, f"admin:{opts.app_label}_{opts.model_name}_{view}", model_admin


@pytest.mark.parametrize("role", [*ROLES, "staff without permissions"])
def test_admin_model_pages_need_staff_and_the_model_permission(role):
    """Non-staff (every role but Admin) and visitors are sent to the admin's login; staff without a model's
    permission get 403; the Admin role gets each page its permissions open."""
    staff = role == "staff without permissions"
    user = UserFactory(username="bare-staff", is_staff=True) if staff else None if role == ANON else user_for(role)
    client = client_for(user)
    got, wanted = {}, {}
    for _label, name, model_admin in admin_pages():
        got[name] = request(client, "get", reverse(name))
        if role != AD and not staff:
            wanted[name] = "login"
            continue
        fake = RequestFactory().get("/")
        fake.user = user
        may = model_admin.has_add_permission(fake) if name.endswith("_add") else model_admin.has_view_permission(fake)
        wanted[name] = "200" if may else "403"
    assert got == wanted
    if role == AD:
        assert sum(outcome == "200" for outcome in got.values()) > len(got) / 2  # not everything refused


# The API ------------------------------------------------------------------------------------------------------


def api_methods():
    """(URL key, method, scope) for every API view that says which scope each method needs."""
    for key, _params, view in _walk(get_resolver().url_patterns):
        scopes = getattr(getattr(view, "view_class", None), "required_scopes", None)
        if key.startswith("api:") and isinstance(scopes, dict):
            for method, scope in scopes.items():
                yield key, method.lower(), scope


def test_every_api_view_names_the_scope_of_each_method():
    """A view without required_scopes is refused to every token (HasScope), so it must not be left out here."""
    guarded = {key for key, _method, _scope in api_methods()}
    for key, _params, _view in _walk(get_resolver().url_patterns):
        if key.startswith("api:") and key not in ("api:schema", "api:docs", "api:redoc"):
            assert key in guarded, f"{key}: give its view required_scopes = {{METHOD: Scope...}}"


@pytest.mark.parametrize(("key", "method", "scope"), list(api_methods()), ids=lambda v: str(v))
def test_each_api_method_needs_its_scope(key, method, scope, world):
    """A token with every scope but the one a method needs is refused (403); one with just that scope gets in."""
    url = url_for(key, world)
    tokens = {}
    for name, scopes in (("all-but", [s for s in Scope if s != scope]), ("only", [scope])):
        tokens[name] = ApiHttp(api_services.api_client_create(name=name, scopes=scopes)[1])
    with rolled_back():
        refused = getattr(tokens["all-but"], method)(url)
    assert refused.status_code == 403, refused.content[:300]
    with rolled_back():
        allowed = getattr(tokens["only"], method)(url)
    assert allowed.status_code not in (401, 403), allowed.content[:300]


def test_a_visitor_can_switch_the_language_on_the_login_page():
    response = Client().post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
