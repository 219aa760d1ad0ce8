import pytest
from django.urls import reverse

from crm.lib import crm_number
from crm.models import AuditEvent
from crm.web.api.models import Scope
from customers.models import ConsentChannel, ConsentEvent, ConsentMethod, Customer, Source
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SIGN_UP = {
    "name": "王芳",
    "mobile": "138 1234 5678",
    "email": "Wang.Fang@Example.com",
    "birthday": "1990-05-17",
    "email_opt_in": True,
    "sms_opt_in": False,
}


def wrong_digit(number: int) -> str:
    digits = str(number)
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


def test_sign_up_creates_a_member_with_consent_recorded_as_api(integration):
    api = integration(Scope.MEMBERS_WRITE, name="Website")
    response = api.post(reverse("api:members"), SIGN_UP)
    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get(crm_number=int(body["crm_number"]))
    assert (customer.mobile, customer.email, customer.source) == ("+8613812345678", "wang.fang@example.com", Source.API)
    assert body["crm_number_display"] == customer.crm_number_display
    assert customer.email_opt_in and not customer.sms_opt_in
    event = ConsentEvent.objects.get(customer=customer)
    assert (event.channel, event.granted, event.method) == (ConsentChannel.EMAIL, True, ConsentMethod.API)
    assert "Website" in event.note


def test_sign_up_can_name_the_website_as_source(integration):
    response = integration(Scope.MEMBERS_WRITE).post(reverse("api:members"), {**SIGN_UP, "source": "website"})
    assert Customer.objects.get(crm_number=int(response.json()["crm_number"])).source == Source.WEBSITE


def test_sign_up_with_a_known_phone_is_409_naming_the_existing_member(integration):
    existing = CustomerFactory(mobile="+8613812345678")
    response = integration(Scope.MEMBERS_WRITE).post(reverse("api:members"), SIGN_UP)
    assert response.status_code == 409
    body = response.json()
    assert body["existing_crm_number"] == str(existing.crm_number)
    assert existing.crm_number_display in body["errors"]["mobile"][0]
    assert Customer.objects.count() == 1


def test_sign_up_needs_a_phone_or_an_e_mail(integration):
    response = integration(Scope.MEMBERS_WRITE).post(reverse("api:members"), {"name": "无联系"})
    assert response.status_code == 400
    assert "mobile" in response.json()["errors"]


def test_sign_up_without_the_scope_is_403(integration):
    response = integration(Scope.LOOKUP).post(reverse("api:members"), SIGN_UP)
    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_look_up_by_crm_number_with_separators(integration):
    customer = CustomerFactory()
    response = integration(Scope.LOOKUP).get(reverse("api:member", args=[customer.crm_number_display]))
    assert response.status_code == 200
    assert response.json()["crm_number"] == str(customer.crm_number)
    assert response.json()["name"] == customer.name


def test_look_up_with_a_wrong_check_digit_is_400_with_the_reason(integration):
    customer = CustomerFactory()
    response = integration(Scope.LOOKUP).get(reverse("api:member", args=[wrong_digit(customer.crm_number)]))
    assert response.status_code == 400
    assert "check digit" in response.json()["errors"]["crm_number"][0]


def test_look_up_of_an_unknown_number_is_404(integration):
    api = integration(Scope.LOOKUP)
    response = api.get(reverse("api:member", args=[crm_number.with_check_digit(99999999)]))
    assert response.status_code == 404
    assert "No member" in response.json()["detail"]
    assert api.get(reverse("api:member", args=["nobody"])).status_code == 404


def test_look_up_by_phone_in_any_usual_form(integration):
    customer = CustomerFactory(mobile="+8613900001111")
    api = integration(Scope.LOOKUP)
    for phone in ["13900001111", "+86 139-0000-1111", "0086 139 0000 1111"]:
        response = api.get(reverse("api:member_by_phone"), {"phone": phone})
        assert response.status_code == 200
        assert response.json()["crm_number"] == str(customer.crm_number)


def test_look_up_by_phone_refuses_a_bad_number_and_misses_with_404(integration):
    api = integration(Scope.LOOKUP)
    response = api.get(reverse("api:member_by_phone"), {"phone": "12345"})
    assert response.status_code == 400
    assert "phone" in response.json()["errors"]
    assert api.get(reverse("api:member_by_phone")).status_code == 400
    assert api.get(reverse("api:member_by_phone"), {"phone": "13700000000"}).status_code == 404


def test_look_up_by_phone_without_the_scope_is_403(integration):
    response = integration(Scope.MEMBERS_WRITE).get(reverse("api:member_by_phone"), {"phone": "13700000000"})
    assert response.status_code == 403


def test_update_changes_the_profile_and_records_consent_withdrawal(integration):
    customer = CustomerFactory(sms_opt_in=True)
    api = integration(Scope.MEMBERS_WRITE)
    response = api.patch(reverse("api:member", args=[customer.crm_number]), {"name": "李雷", "sms_opt_in": False})
    assert response.status_code == 200, response.json()
    customer.refresh_from_db()
    assert customer.name == "李雷" and not customer.sms_opt_in
    event = ConsentEvent.objects.get(customer=customer)
    assert (event.channel, event.granted, event.method) == (ConsentChannel.SMS, False, ConsentMethod.API)
    assert AuditEvent.objects.filter(customer_id=customer.pk, action="update").exists()


def test_update_to_another_members_e_mail_is_409(integration):
    other = CustomerFactory(email="taken@example.com")
    customer = CustomerFactory()
    response = integration(Scope.MEMBERS_WRITE).patch(
        reverse("api:member", args=[customer.crm_number]), {"email": "Taken@example.com"}
    )
    assert response.status_code == 409
    assert response.json()["existing_crm_number"] == str(other.crm_number)


def test_update_with_a_future_birthday_is_400_from_the_service(integration):
    customer = CustomerFactory()
    response = integration(Scope.MEMBERS_WRITE).patch(
        reverse("api:member", args=[customer.crm_number]), {"birthday": "2999-01-01"}
    )
    assert response.status_code == 400
    assert "birthday" in response.json()["errors"]


def test_update_with_only_the_lookup_scope_is_403(integration):
    customer = CustomerFactory()
    response = integration(Scope.LOOKUP).patch(reverse("api:member", args=[customer.crm_number]), {"name": "x"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name != "x"


@pytest.mark.parametrize(
    ("method", "url_name"),
    [
        ("get", "members"),
        ("put", "members"),
        ("delete", "members"),
        ("put", "member"),
        ("delete", "member"),
        ("post", "member"),
        ("post", "member_by_phone"),
    ],
)
def test_wrong_methods_are_405(integration, method, url_name):
    customer = CustomerFactory()
    api = integration(Scope.MEMBERS_WRITE, Scope.LOOKUP)
    url = reverse(f"api:{url_name}", args=[customer.crm_number] if url_name == "member" else [])
    assert getattr(api, method)(url).status_code == 405


def test_a_member_lookup_is_audited_with_the_api_client_as_the_actor(integration):
    from crm.models import AuditAction

    api = integration(Scope.LOOKUP, name="shop-till")
    customer = CustomerFactory()
    assert api.get(f"/api/v1/members/{customer.crm_number}/").status_code == 200
    entry = AuditEvent.objects.get(action=AuditAction.VIEW, customer_id=customer.pk)
    assert (entry.api_client, entry.actor_id) == ("shop-till", None)
