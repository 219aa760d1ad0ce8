"""The segment pages as a marketer uses them: build, count, save, check why, freeze, upload."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.timezone import now as timezone_now
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.lib import crm_number
from customers.models import Customer
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory, TagFactory
from marketing.models import Segment, SegmentKind, SegmentMember
from tests.hostile import hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


def builder_post(**fields) -> dict:
    """The builder's form for: points balance more than `points`, or (a tag among `tags`)."""
    data = {"name": "Big spenders", "description": "", "n": ["", "1", "2", "2.1"], "op-": "and", "op-2": "or"}
    data |= {"field-1": "points_balance", "operator-1": "gt", "value-1": "500"}
    data |= {"field-2.1": "city", "operator-2.1": "eq", "value-2.1": "杭州市"}
    return data | fields


@pytest.fixture
def rich(db):
    return [CustomerFactory(points_balance=p, city=c) for p, c in [(900, "杭州市"), (900, "宁波市"), (10, "杭州市")]]


def test_saving_the_builder_stores_the_typed_tree(marketing_client, rich):
    response = marketing_client.post(reverse("marketing:segment_create"), builder_post(action="save"))
    segment = Segment.objects.get()
    assert response.status_code == 302 and response.url == segment.get_absolute_url()
    assert segment.rules == {
        "op": "and",
        "rules": [
            {"field": "points_balance", "operator": "gt", "value": 500},
            {"op": "or", "rules": [{"field": "city", "operator": "eq", "value": "杭州市"}]},
        ],
    }
    assert segment.member_count == 1 and segment.counted_at is not None  # counted when saved
    page = marketing_client.get(segment.get_absolute_url())
    assert "Points balance" in page.content.decode()


def test_a_bad_value_is_refused_with_the_condition_named_and_what_was_typed_kept(marketing_client, rich):
    response = marketing_client.post(
        reverse("marketing:segment_create"), builder_post(**{"value-1": "lots", "action": "save"})
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Condition 1 (Points balance)" in page
    assert 'value="lots"' in page and "杭州市" in page and 'value="Big spenders"' in page
    assert not Segment.objects.exists()


def test_adding_a_condition_to_a_group_returns_the_builder_with_it(marketing_client):
    response = marketing_client.post(
        reverse("marketing:segment_create"), builder_post(action="add-condition:2"), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "rules-changed"
    assert 'id="condition-2.2"' in page and 'value="杭州市"' in page
    assert not Segment.objects.exists()
    response = marketing_client.post(
        reverse("marketing:segment_create"), builder_post(action="remove:2"), HTTP_HX_REQUEST="true"
    )
    assert 'id="group-2"' not in response.content.decode() and 'id="condition-1"' in response.content.decode()


def test_changing_the_field_offers_its_operators(marketing_client):
    data = builder_post(**{"field-1": "registered_on", "operator-1": "gt", "action": "refresh"})
    page = marketing_client.post(reverse("marketing:segment_create"), data, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="in_last_days"' in page
    assert 'value="contains"' not in page.split('id="condition-1"')[1].split('id="group-2"')[0]


def test_the_live_count_and_preview_mask_phones_for_marketing(marketing_client, manager_client, rich):
    data = builder_post()
    response = marketing_client.post(reverse("marketing:segment_count"), data)
    page = response.content.decode()
    assert '<span class="fs-3 fw-semibold" id="live-count">1</span>' in page
    assert rich[0].name in page and rich[0].mobile not in page and "****" in page
    shown = manager_client.post(reverse("marketing:segment_count"), data).content.decode()
    assert "****" + rich[0].mobile[-4:] in shown and "139 0000 " not in shown  # a list: masked for everyone


def test_the_live_count_shows_the_rule_error(marketing_client):
    data = builder_post(**{"value-2.1": "<b>"})
    page = marketing_client.post(reverse("marketing:segment_count"), data).content.decode()
    assert "Condition 2.1 (City)" in page and 'id="live-count"' not in page


def test_why_shows_each_condition_with_the_members_value(marketing_client, rich):
    segment = Segment.objects.create(
        name="s",
        rules={
            "op": "and",
            "rules": [
                {"field": "points_balance", "operator": "gt", "value": 500},
                {"field": "city", "operator": "eq", "value": "杭州市"},
            ],
        },
    )
    number = crm_number.format_number(rich[1].crm_number)
    page = marketing_client.get(segment.get_absolute_url(), {"number": number}).content.decode()
    assert "This member does not match." in page
    assert "<strong>900</strong>" in page and "<strong>宁波市</strong>" in page
    assert page.count("bi-check-circle-fill") == 1 and page.count("bi-x-circle-fill") == 2  # the group and the city


def test_freezing_keeps_todays_members(marketing_client, rich):
    segment = Segment.objects.create(
        name="rich", rules={"op": "and", "rules": [{"field": "points_balance", "operator": "gt", "value": 500}]}
    )
    response = marketing_client.post(reverse("marketing:segment_freeze", args=[segment.pk]), {"name": "rich today"})
    frozen = Segment.objects.get(name="rich today")
    assert response.url == frozen.get_absolute_url()
    assert frozen.kind == SegmentKind.STATIC and frozen.member_count == 2
    Customer.objects.filter(pk=rich[2].pk).update(points_balance=1000)
    assert set(frozen.members.values_list("customer_id", flat=True)) == {rich[0].pk, rich[1].pk}


def test_recount_records_when(marketing_client, rich):
    segment = Segment.objects.create(name="all")
    marketing_client.post(reverse("marketing:segment_recount", args=[segment.pk]))
    segment.refresh_from_db()
    assert segment.member_count == 3 and segment.counted_at is not None


def test_upload_reports_bad_lines_by_number_and_keeps_the_good(manager_client, rich):
    a, b = rich[0], rich[1]
    text = "会员号\n" + "\n".join(
        [crm_number.format_number(a.crm_number), b.mobile.replace("+86", ""), "hello", "13799999999", "1000-0013"]
    )
    upload = SimpleUploadedFile("list.csv", text.encode("utf-8"), content_type="text/csv")
    response = manager_client.post(reverse("marketing:segment_upload"), {"name": "VIP list", "file": upload})
    page = response.content.decode()
    segment = Segment.objects.get(name="VIP list")
    assert set(segment.members.values_list("customer_id", flat=True)) == {a.pk, b.pk}
    assert "<td>4</td><td>hello</td><td>Not a CRM number or a mobile number.</td>" in page
    assert "<td>5</td><td>13799999999</td><td>No member has this number.</td>" in page
    assert "<td>6</td>" in page


def _not_a_crm_number(text: str) -> bool:
    try:
        return crm_number.parse(text) is None
    except crm_number.InvalidCrmNumber:
        return True


def test_a_marketer_without_contact_details_cannot_match_members_by_mobile(marketing_client, rich):
    a, b = rich[0], rich[1]
    # Eleven digits may also read as a CRM number (then looked up as one): these two may not.
    mobiles = [m for m in (f"1370000{n:04d}" for n in range(100)) if _not_a_crm_number(m)][:2]
    Customer.objects.filter(pk=b.pk).update(mobile="+86" + mobiles[0])
    b.mobile = "+86" + mobiles[0]
    text = "\n".join([crm_number.format_number(a.crm_number), mobiles[0], mobiles[1]])
    upload = SimpleUploadedFile("list.csv", text.encode("utf-8"), content_type="text/csv")
    page = marketing_client.post(reverse("marketing:segment_upload"), {"name": "VIP", "file": upload}).content.decode()
    segment = Segment.objects.get(name="VIP")
    assert list(segment.members.values_list("customer_id", flat=True)) == [a.pk]
    refused = "Mobile numbers are matched only for staff who may see them."
    # Matched or not, every mobile line reads the same: the page tells nothing of who has which number.
    assert f"<td>2</td><td>{b.mobile[3:]}</td><td>{refused}</td>" in page
    assert f"<td>3</td><td>{mobiles[1]}</td><td>{refused}</td>" in page
    upload = SimpleUploadedFile("only.csv", b.mobile[3:].encode(), content_type="text/csv")
    response = marketing_client.post(reverse("marketing:segment_upload"), {"name": "only", "file": upload})
    assert response.status_code == 400 and not Segment.objects.filter(name="only").exists()


def test_an_upload_with_no_number_writes_nothing(marketing_client):
    upload = SimpleUploadedFile("list.csv", b"hello\nworld\n", content_type="text/csv")
    response = marketing_client.post(reverse("marketing:segment_upload"), {"name": "x", "file": upload})
    assert response.status_code == 400 and not Segment.objects.exists()


def test_an_upload_over_the_limit_is_refused_with_the_reason_keeping_the_name(marketing_client, rich, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1  # below the list's own 32 MB: the smaller limit decides
    text = (crm_number.format_number(rich[0].crm_number) + "\n") * 150_000
    upload = SimpleUploadedFile("list.csv", text.encode(), content_type="text/csv")
    response = marketing_client.post(reverse("marketing:segment_upload"), {"name": "VIP list", "file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert "the largest that can be uploaded here is 1 MB" in page
    assert 'value="VIP list"' in page
    assert not Segment.objects.exists()


def test_a_merge_keeps_the_survivor_once_on_a_list(rich, manager_user):
    segment = Segment.objects.create(name="list", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in rich[:2]])
    customer_merge(survivor=rich[0], other=rich[1], actor=manager_user)
    assert list(segment.members.values_list("customer_id", flat=True)) == [rich[0].pk]


def test_tags_condition_from_the_builder(marketing_client):
    tag = TagFactory()
    tagged = CustomerFactory()
    tagged.tags.add(tag)
    CustomerFactory()
    data = {"n": ["", "1"], "op-": "and", "field-1": "tags", "operator-1": "in", "value-1": [str(tag.pk)]}
    page = marketing_client.post(reverse("marketing:segment_count"), data).content.decode()
    assert 'id="live-count">1<' in page and tagged.name in page


form_keys = st.sampled_from(["n", "op-", "op-1", "field-1", "operator-1", "value-1", "value2-1", "action", "name"])
form_values = st.one_of(
    hostile_text,
    st.sampled_from(["", "1", "2.1", "and", "or", "xx", "points_balance", "age", "tags", "between", "in", "save"]),
    st.sampled_from(["add-condition:", "add-group:1", "remove:1", "remove:", "add-condition:9.9.9"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(form_keys, form_values), max_size=12))
def test_hostile_builder_posts_never_fail_and_write_nothing_on_error(marketing_client, pairs):
    data: dict[str, list[str]] = {}
    for key, value in pairs:
        data.setdefault(key, []).append(value)
    with rolled_back():
        before = table_counts()
        for url in (reverse("marketing:segment_create"), reverse("marketing:segment_count")):
            response = marketing_client.post(url, data)
            assert response.status_code < 500
            if response.status_code >= 400:
                assert table_counts() == before
        assert Segment.objects.count() <= 1


def test_relative_dates_in_the_builder(marketing_client):
    CustomerFactory(registered_on=datetime.date.today())
    CustomerFactory(registered_on=datetime.date.today() - datetime.timedelta(days=40))
    data = {"n": ["", "1"], "op-": "and", "field-1": "registered_on", "operator-1": "in_last_days", "value-1": "30"}
    assert 'id="live-count">1<' in marketing_client.post(reverse("marketing:segment_count"), data).content.decode()


def test_a_period_fact_takes_its_days_from_the_builder(marketing_client, manager_client):
    from interactions.services import transaction_record

    recent, older = CustomerFactory(), CustomerFactory()
    transaction_record(customer=recent, amount=500)
    transaction_record(customer=older, amount=500, occurred_at=timezone_now() - datetime.timedelta(days=60))
    data = {"n": ["", "1"], "op-": "and", "field-1": "spend_in_period", "operator-1": "gt", "value-1": "100"}
    page = marketing_client.post(reverse("marketing:segment_count"), data | {"param-days-1": "30"}).content.decode()
    assert 'id="live-count">1<' in page and recent.name in page
    page = marketing_client.post(reverse("marketing:segment_count"), data | {"param-days-1": "90"}).content.decode()
    assert 'id="live-count">2<' in page
    page = marketing_client.post(reverse("marketing:segment_count"), data | {"param-days-1": "0"}).content.decode()
    assert "Condition 1 (Spend in a recent period)" in page
    builder = marketing_client.post(
        reverse("marketing:segment_create"), data | {"param-days-1": "45", "action": "refresh"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'name="param-days-1" value="45"' in builder


def test_exporting_a_segment_writes_its_members_masked_for_marketing(
    marketing_client, marketing_user, django_capture_on_commit_callbacks
):
    from crm.models import AuditAction, AuditEvent, Job, JobStatus
    from customers.tests.test_export import download_rows
    from marketing.tasks import segment_export_task

    rich = CustomerFactory(name="=HYPERLINK(1)", points_balance=900, mobile="+8613911112222")
    CustomerFactory(points_balance=1)
    segment = Segment.objects.create(
        name="rich", rules={"op": "and", "rules": [{"field": "points_balance", "operator": "gt", "value": 500}]}
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = marketing_client.post(reverse("marketing:segment_export", args=[segment.pk]), {"format": "csv"})
    job = Job.objects.get()
    assert response.url == job.get_absolute_url() and len(callbacks) == 1
    segment_export_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.total == 1
    rows = download_rows(marketing_client, job)
    assert rows[1][1] == "'=HYPERLINK(1)"  # no formula runs in a spreadsheet
    assert rows[1][2] != rich.mobile and "****" in rows[1][2]
    assert AuditEvent.objects.filter(
        actor=marketing_user, action=AuditAction.EXPORT, changes__segment=segment.pk
    ).exists()


def test_a_bad_export_format_is_refused_with_nothing_queued(marketing_client):
    from crm.models import Job

    segment = Segment.objects.create(name="all")
    response = marketing_client.post(reverse("marketing:segment_export", args=[segment.pk]), {"format": "pdf"})
    assert response.status_code == 400 and not Job.objects.exists()


@pytest.mark.parametrize("key", ["new", "loyal", "potential", "high_value", "lapsing"])
def test_a_preset_opens_in_the_builder_ready_to_save(marketing_client, key):
    from marketing.presets import PRESETS_BY_KEY

    preset = PRESETS_BY_KEY[key]
    page = marketing_client.get(reverse("marketing:segment_create"), {"preset": key}).content.decode()
    assert f'value="{preset.name}"' in page
    assert f'<option value="{preset.rules["rules"][0]["field"]}" selected>' in page


def test_the_demo_presets_count_what_they_say(db, service_user):
    from django.core.management import call_command

    from interactions.services import transaction_record

    loyal = CustomerFactory()
    for days in (10, 40, 80, 120):
        transaction_record(customer=loyal, amount=100, occurred_at=timezone_now() - datetime.timedelta(days=days))
    once = CustomerFactory()
    transaction_record(customer=once, amount=100, occurred_at=timezone_now() - datetime.timedelta(days=100))
    never = CustomerFactory()
    small = [CustomerFactory() for _ in range(4)]
    for member in small:
        transaction_record(customer=member, amount=20, occurred_at=timezone_now() - datetime.timedelta(days=5))
    call_command("load_demo_segments", language="en", stdout=io.StringIO())
    members = {s.name: set(segment_members_of(s)) for s in Segment.objects.all()}
    assert members["Loyal members"] == {loyal.pk}
    assert members["Potential members"] == {never.pk}
    assert members["About to lapse"] == {once.pk}  # 100 days since one purchase; loyal buys every ~37 days
    assert members["New members"] == {m.pk for m in small}
    assert members["High value"] == {loyal.pk}  # 1 of the 6 who bought this year


def segment_members_of(segment):
    from marketing.selectors import segment_members

    return segment_members(segment).values_list("pk", flat=True)


def test_a_segment_a_campaign_uses_is_kept_with_the_reason(marketing_client):
    from marketing.models import Campaign

    segment = Segment.objects.create(name="老客户召回")
    Campaign.objects.create(name="双十一", segment=segment)
    response = marketing_client.post(reverse("marketing:segment_delete", args=[segment.pk]), follow=True)
    assert response.status_code == 200
    assert Segment.objects.filter(pk=segment.pk).exists()
    assert "双十一" in response.content.decode()
