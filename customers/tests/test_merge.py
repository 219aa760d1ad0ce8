import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from crm.models import AuditAction, AuditEvent
from customers import services
from customers.models import ConsentChannel, ConsentMethod, Customer, MergeRecord
from customers.services.membership import points_adjust
from customers.services.merge import customer_duplicate_candidates, customer_merge, duplicate_groups
from customers.tests.factories import CustomerFactory, TagFactory, TierFactory
from tests.hostile import hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db
BIRTHDAY = datetime.date(1988, 8, 8)


@pytest.fixture
def pair(service_user):
    survivor = CustomerFactory(name="王小明", birthday=BIRTHDAY, email="", tags=[TagFactory(name="VIP")])
    other = CustomerFactory(
        name="王小明",
        birthday=BIRTHDAY,
        mobile="+8613700000001",
        email="xm@example.com",
        city="南京市",
        tier=TierFactory(name="金卡", rank=5),
        tags=[TagFactory(name="母婴")],
    )
    return survivor, other


def test_merge_moves_points_tags_consent_and_fills_blanks(pair, service_user):
    survivor, other = pair
    points_adjust(customer=other, points=120, reason="迁移积分", actor=service_user)
    points_adjust(customer=survivor, points=30, reason="迁移积分", actor=service_user)
    services.consent_set(customer=other, channel=ConsentChannel.SMS, granted=True, method=ConsentMethod.PAPER)
    other_number = other.crm_number

    customer_merge(survivor=survivor, other=other, actor=service_user)

    survivor.refresh_from_db()
    assert not Customer.objects.filter(crm_number=other_number).exists()
    assert survivor.points_balance == 150
    assert survivor.points_entries.count() == 3
    assert survivor.points_entries.first().balance_after == 150  # the merge's own row states the new balance
    change = survivor.tier_changes.get()
    assert (change.from_tier, change.to_tier.name) == (None, "金卡")
    assert sorted(t.name for t in survivor.tags.all()) == ["VIP", "母婴"]
    assert survivor.email == "xm@example.com" and survivor.tier.name == "金卡"
    assert survivor.mobile != "+8613700000001"  # the survivor's own phone is kept
    assert survivor.sms_opt_in and survivor.consent_events.filter(channel=ConsentChannel.SMS).exists()
    assert MergeRecord.objects.get(merged_crm_number=other_number).survivor == survivor
    merge = AuditEvent.objects.get(customer_id=survivor.pk, action=AuditAction.MERGE)
    # As an edit would be: before and after of each field the survivor took over (personal values masked).
    assert merge.changes["email"] == ["", "x***@example.com"] and merge.changes["sms_opt_in"] == [False, True]
    assert merge.changes["tier"] == [None, "金卡"] and merge.changes["merged"] == other_number


def test_the_merged_number_keeps_leading_to_the_survivor(pair, service_user, service_client):
    survivor, other = pair
    number = other.crm_number
    customer_merge(survivor=survivor, other=other, actor=service_user)
    assert service_client.get(reverse("customers:lookup"), {"q": str(number)}).url == survivor.get_absolute_url()
    assert service_client.get(reverse("customers:detail", args=[number])).url == survivor.get_absolute_url()


def test_merging_twice_chains_to_the_last_survivor(service_user):
    a, b, c = CustomerFactory.create_batch(3)
    first = b.crm_number
    customer_merge(survivor=b, other=a, actor=service_user)
    customer_merge(survivor=c, other=b, actor=service_user)
    assert MergeRecord.objects.get(merged_crm_number=a.crm_number).survivor == c
    assert MergeRecord.objects.get(merged_crm_number=first).survivor == c


def test_a_customer_cannot_be_merged_with_itself(service_user):
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        customer_merge(survivor=customer, other=customer, actor=service_user)


def test_likely_duplicates_share_name_and_birthday(pair):
    survivor, other = pair
    CustomerFactory(name="李雷", birthday=BIRTHDAY)
    assert customer_duplicate_candidates(survivor, queryset=Customer.objects.all()) == [other]
    groups = list(duplicate_groups(queryset=Customer.objects.all()))
    assert groups == [{"lname": "王小明", "birthday": BIRTHDAY, "n": 2}]


def test_manager_merges_from_the_compare_page(pair, manager_client):
    survivor, other = pair
    url = reverse("customers:merge")
    page = manager_client.get(url, {"a": survivor.crm_number, "b": other.crm_number})
    assert page.status_code == 200 and "南京市" in page.content.decode()
    response = manager_client.post(url, {"a": survivor.crm_number, "b": other.crm_number, "keep": survivor.crm_number})
    assert response.url == survivor.get_absolute_url()
    assert Customer.objects.count() == 1


def test_duplicates_page_lists_the_pair(pair, manager_client):
    body = manager_client.get(reverse("customers:duplicates")).content.decode()
    assert body.count("王小明") == 2 and "Compare and merge" in body


def test_merge_without_choosing_keeps_both(pair, manager_client):
    survivor, other = pair
    response = manager_client.post(reverse("customers:merge"), {"a": survivor.crm_number, "b": other.crm_number})
    assert response.status_code == 200 and Customer.objects.count() == 2


def test_merge_with_bad_numbers_is_a_400(manager_client):
    assert manager_client.get(reverse("customers:merge"), {"a": "x"}).status_code == 400


def test_service_staff_may_not_merge(pair, service_client):
    survivor, other = pair
    url = reverse("customers:merge")
    assert (
        service_client.post(
            url, {"a": survivor.crm_number, "b": other.crm_number, "keep": survivor.crm_number}
        ).status_code
        == 403
    )
    assert service_client.get(reverse("customers:duplicates")).status_code == 403


def test_a_merge_fills_every_blank_profile_field_the_form_shows(service_user):
    from customers.forms.customers import CustomerForm
    from customers.models import PROFILE_FIELDS

    blanks = {"gender": "", "birthday": None, "mobile": "", "email": "", "province": "", "city": "", "address": ""}
    survivor = CustomerFactory(name="李娜", **blanks)
    other = CustomerFactory(
        name="李娜",
        gender="female",
        birthday=BIRTHDAY,
        mobile="+8613700000009",
        email="lina@example.com",
        occupation="教师",
        company="杭州一中",
        province="浙江省",
        city="杭州市",
        address="西湖路1号",
    )
    given = {f: getattr(other, f) for f in PROFILE_FIELDS}
    customer_merge(survivor=survivor, other=other, actor=service_user)
    survivor.refresh_from_db()
    assert {f: getattr(survivor, f) for f in PROFILE_FIELDS} == given
    assert set(PROFILE_FIELDS) <= set(CustomerForm._meta.fields)


def _merge_post(keep, first, second, **picks):
    return {
        "a": first.crm_number,
        "b": second.crm_number,
        "keep": keep.crm_number,
        **{f"pick_{field}": c.crm_number for field, c in picks.items()},
    }


def test_staff_pick_the_others_email_and_it_survives(manager_client):
    survivor = CustomerFactory(name="王小明", email="old@example.com", city="上海市")
    other = CustomerFactory(name="王小明", email="new@example.com", city="南京市")
    response = manager_client.post(
        reverse("customers:merge"), _merge_post(survivor, survivor, other, email=other, city=survivor)
    )
    assert response.url == survivor.get_absolute_url()
    survivor.refresh_from_db()
    assert (survivor.email, survivor.city) == ("new@example.com", "上海市")
    merge = AuditEvent.objects.get(customer_id=survivor.pk, action=AuditAction.MERGE)
    assert merge.changes["email"] == ["o***@example.com", "n***@example.com"] and "city" not in merge.changes


def test_a_blank_value_is_kept_when_staff_pick_it(service_user):
    survivor, other = CustomerFactory(company=""), CustomerFactory(company="杭州一中")
    customer_merge(survivor=survivor, other=other, actor=service_user, picks={"company": "survivor"})
    survivor.refresh_from_db()
    assert survivor.company == ""


def test_the_compare_page_keeps_rows_aligned_when_values_are_blank(manager_client):
    from customers.services.merge import PICKABLE

    first = CustomerFactory(name="李娜", email="", city="", company="", occupation="")
    second = CustomerFactory(name="李娜", email="lina@example.com", city="杭州市", company="", occupation="")
    body = manager_client.get(reverse("customers:merge"), {"a": first.crm_number, "b": second.crm_number})
    html = body.content.decode()
    rows = html.split('<tr data-field="')[1:]
    assert [row.split('"', 1)[0] for row in rows] == PICKABLE
    for row in rows:
        row = row.split("</tr>", 1)[0]
        assert row.count("<td") == 2 and row.count('type="radio"') == 2
    company = next(r for r in rows if r.startswith("company"))
    assert company.split("</tr>", 1)[0].count("—") == 2  # both blank: a dash each, still two cells
    city = next(r for r in rows if r.startswith("city")).split("</tr>", 1)[0]
    # The kept record's city is blank, so the other's is ticked by default.
    ticked = [cell for cell in city.split("<td")[1:] if " checked>" in cell]
    assert len(ticked) == 1 and f'value="{second.crm_number}"' in ticked[0]
    assert "interaction records" in html


def test_the_success_message_names_both_crm_numbers(pair, manager_client):
    survivor, other = pair
    response = manager_client.post(reverse("customers:merge"), _merge_post(survivor, survivor, other), follow=True)
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith(f"{other.crm_number_display} merged into {survivor.crm_number_display}")


@pytest.mark.parametrize(
    "tamper",
    [
        {"pick_points_balance": "x"},  # a field not offered
        {"pick_owner": "1"},
        {"pick_email": "garbage"},  # a value that names neither customer
        {"pick_email": "10000017"},
    ],
)
def test_a_tampered_merge_is_refused_with_nothing_changed(pair, manager_client, tamper):
    survivor, other = pair
    response = manager_client.post(reverse("customers:merge"), {**_merge_post(survivor, survivor, other), **tamper})
    assert response.status_code == 200 and Customer.objects.count() == 2
    assert not MergeRecord.objects.exists() and not AuditEvent.objects.filter(action=AuditAction.MERGE).exists()


def test_the_service_refuses_picks_it_does_not_offer(pair, service_user):
    survivor, other = pair
    for picks in ({"points_balance": "other"}, {"email": "both"}):
        with pytest.raises(ValidationError):
            customer_merge(survivor=survivor, other=other, actor=service_user, picks=picks)
    assert Customer.objects.count() == 2


@given(
    picks=st.dictionaries(
        st.one_of(st.sampled_from(["pick_email", "pick_name", "pick_points_balance", "pick_", "keep"]), hostile_text),
        hostile_text,
        max_size=4,
    )
)
def test_hostile_merge_picks_never_500_and_change_nothing_unless_merged(pair, manager_client, picks):
    survivor, other = pair
    data = {**_merge_post(survivor, survivor, other), **picks}
    before = table_counts()
    with rolled_back():
        response = manager_client.post(reverse("customers:merge"), data)
        assert response.status_code < 500
        if response.status_code != 302:
            assert table_counts() == before
