"""Segments through the API as a shop's or BI tool's integration uses them: list, build, count, read members."""

import base64
import json
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st

from crm.models import AuditAction, AuditEvent
from crm.segment_fields import Operator
from crm.web.api.models import Scope
from crm.web.api.tests.conftest import ApiHttp
from customers.tests.factories import CustomerFactory, TierFactory
from marketing import services
from marketing.models import Segment, SegmentKind
from tests.hostile import hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db

RICH = {"op": "and", "rules": [{"field": "points_balance", "operator": "gt", "value": 500}]}
HANGZHOU = {"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "杭州市"}]}


def nested(levels: int) -> dict:
    tree = {"field": "points_balance", "operator": "gt", "value": 1}
    for _ in range(levels):
        tree = {"op": "and", "rules": [tree]}
    return tree


def condition(**node) -> dict:
    return {"op": "and", "rules": [{"op": "or", "rules": [RICH["rules"][0], node]}]}


# Each malformed tree, and what the builder's message says about it.
BAD_RULES = [
    (condition(field="salary", operator="gt", value=1), "Condition 1.2: there is no field “salary”"),
    (condition(field="points_balance", operator="like", value=1), "Condition 1.2 (Points balance): use one of"),
    (condition(field="points_balance", operator="gt", value="lots"), "Condition 1.2 (Points balance): give a whole"),
    (nested(6), "groups may be nested at most 5 deep"),
    ({"op": "or", "rules": [RICH["rules"][0]] * 51}, "at most 50 conditions"),
    (condition(field="city", operator="eq", value="x' OR 1=1; --"), "Condition 1.2 (City): the text holds"),
    (condition(field="city", operator="eq", value="<script>alert(1)</script>"), "Condition 1.2 (City): the text"),
    ([RICH], "must be a group"),
]


@pytest.fixture
def reader(integration) -> ApiHttp:
    return integration(Scope.SEGMENTS_READ)


@pytest.fixture
def writer(integration) -> ApiHttp:
    return integration(Scope.SEGMENTS_WRITE)


@pytest.fixture
def outsider_api(integration) -> ApiHttp:
    """A token with every scope but the segments' ones."""
    return integration(*(s for s in Scope if s not in (Scope.SEGMENTS_READ, Scope.SEGMENTS_WRITE)))


@pytest.fixture
def rich(db):
    gold = TierFactory(name="Gold")
    return [
        CustomerFactory(
            points_balance=900, city="杭州市", tier=gold, mobile="+8613812345678", email="wang@example.com"
        ),
        CustomerFactory(points_balance=700, city="宁波市"),
        CustomerFactory(points_balance=10, city="杭州市"),
    ]


@pytest.fixture
def segment(rich) -> Segment:
    return services.segment_save(name="Rich", description="Over 500 points", rules=RICH, actor=None)


def segment_rows() -> list[tuple]:
    return list(Segment.objects.order_by("pk").values_list("pk", "name", "description", "kind", "rules"))


def detail_url(segment_id: int) -> str:
    return reverse("api:segment", args=[segment_id])


def members_url(segment_id: int) -> str:
    return reverse("api:segment_members", args=[segment_id])


# --- list ---------------------------------------------------------------------------------------------------------


def test_the_list_gives_each_segment_with_its_stored_count(reader, segment):
    services.segment_count(segment=segment)
    response = reader.get(reverse("api:segments"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None
    [row] = body["results"]
    assert row["id"] == segment.pk and row["name"] == "Rich" and row["description"] == "Over 500 points"
    assert row["kind"] == SegmentKind.DYNAMIC and row["member_count"] == 2 and row["counted_at"]
    assert row["created_at"] and row["updated_at"] and "rules" not in row


def test_the_list_pages(reader, db):
    for i in range(3):
        services.segment_save(name=f"s{i}", rules=RICH, actor=None)
    body = reader.get(reverse("api:segments"), {"page_size": 2}).json()
    assert body["count"] == 3 and [r["name"] for r in body["results"]] == ["s0", "s1"] and body["next"]
    assert reader.get(reverse("api:segments"), {"page": 9}).status_code == 404


def test_the_list_needs_segments_read(outsider_api, writer, segment):
    assert outsider_api.get(reverse("api:segments")).status_code == 403
    assert writer.get(reverse("api:segments")).status_code == 403


# --- create -------------------------------------------------------------------------------------------------------


def test_creating_a_segment_stores_the_rules_and_counts_it(writer, rich):
    body = {"name": "Hangzhou", "description": "City", "rules": HANGZHOU}
    response = writer.post(reverse("api:segments"), body)
    assert response.status_code == 201, response.content
    segment = Segment.objects.get()
    assert segment.kind == SegmentKind.DYNAMIC and segment.rules == HANGZHOU and segment.created_by is None
    data = response.json()
    assert data["id"] == segment.pk and data["rules"] == HANGZHOU and data["member_count"] == 2
    assert data["kind"] == "dynamic" and data["counted_at"]


@pytest.mark.parametrize(("rules", "message"), BAD_RULES, ids=[m[:30] for _r, m in BAD_RULES])
def test_bad_rules_are_400_with_the_builders_message_and_nothing_is_written(writer, rich, rules, message):
    response = writer.post(reverse("api:segments"), {"name": "Bad", "rules": rules})
    assert response.status_code == 400
    [reason] = response.json()["errors"]["rules"]
    assert message in reason
    assert not Segment.objects.exists()


def test_a_taken_name_is_400(writer, segment):
    response = writer.post(reverse("api:segments"), {"name": "Rich", "rules": RICH})
    assert response.status_code == 400 and "name" in response.json()["errors"]
    assert Segment.objects.count() == 1


def test_creating_needs_segments_write(reader, outsider_api, rich):
    for api in (reader, outsider_api):
        response = api.post(reverse("api:segments"), {"name": "Hangzhou", "rules": HANGZHOU})
        assert response.status_code == 403
    assert not Segment.objects.exists()


# --- one segment --------------------------------------------------------------------------------------------------


def test_a_segment_comes_with_its_rules_and_a_fresh_count(reader, segment):
    CustomerFactory(points_balance=600)  # joined since it was saved
    response = reader.get(detail_url(segment.pk))
    assert response.status_code == 200
    data = response.json()
    assert data["rules"] == RICH and data["member_count"] == 3 and data["frozen_from"] is None
    segment.refresh_from_db()
    assert segment.member_count == 3  # kept, so the list shows it too


def test_an_unknown_segment_is_404(reader, writer, segment):
    ids = [segment.pk + 1, 999_999_999_999_999_999, 10**30, "abc", "-1", "1.0"]
    for url in [*map(detail_url, ids), *map(members_url, ids)]:
        response = reader.get(url)
        assert response.status_code == 404 and response.json()["detail"], url
    assert writer.patch(detail_url(segment.pk + 1), {"name": "x"}).status_code == 404
    assert writer.delete(detail_url(segment.pk + 1)).status_code == 404
    assert segment_rows() == [(segment.pk, "Rich", "Over 500 points", "dynamic", RICH)]


def test_reading_a_segment_needs_segments_read(outsider_api, writer, segment):
    assert outsider_api.get(detail_url(segment.pk)).status_code == 403
    assert writer.get(detail_url(segment.pk)).status_code == 403


def test_renaming_keeps_the_rules(writer, segment):
    response = writer.patch(detail_url(segment.pk), {"name": "Richer"})
    assert response.status_code == 200, response.content
    segment.refresh_from_db()
    assert segment.name == "Richer" and segment.rules == RICH and segment.description == "Over 500 points"
    assert response.json()["member_count"] == 2


def test_changing_the_rules_recounts(writer, segment):
    response = writer.patch(detail_url(segment.pk), {"rules": HANGZHOU})
    assert response.status_code == 200
    segment.refresh_from_db()
    assert segment.rules == HANGZHOU and segment.name == "Rich"
    assert response.json()["member_count"] == 2


@pytest.mark.parametrize(("rules", "message"), BAD_RULES, ids=[m[:30] for _r, m in BAD_RULES])
def test_changing_to_bad_rules_is_400_and_changes_nothing(writer, segment, rules, message):
    before = segment_rows()
    response = writer.patch(detail_url(segment.pk), {"name": "Changed", "rules": rules})
    assert response.status_code == 400
    assert message in response.json()["errors"]["rules"][0]
    assert segment_rows() == before


def test_a_static_list_has_no_rules_to_change(writer, segment):
    frozen = services.segment_freeze(segment=segment, name="Rich, frozen", actor=None)
    before = segment_rows()
    response = writer.patch(detail_url(frozen.pk), {"rules": HANGZHOU})
    assert response.status_code == 400
    assert "static list" in response.json()["errors"]["non_field_errors"][0]
    assert segment_rows() == before


def test_a_static_list_can_be_renamed_and_keeps_its_members(writer, segment):
    frozen = services.segment_freeze(segment=segment, name="Rich, frozen", actor=None)
    members = set(frozen.members.values_list("customer_id", flat=True))
    response = writer.patch(detail_url(frozen.pk), {"name": "Rich, spring list"})
    assert response.status_code == 200, response.json()
    frozen.refresh_from_db()
    assert frozen.name == "Rich, spring list"
    assert set(frozen.members.values_list("customer_id", flat=True)) == members


def test_changing_needs_segments_write(reader, outsider_api, segment):
    before = segment_rows()
    for api in (reader, outsider_api):
        assert api.patch(detail_url(segment.pk), {"name": "x"}).status_code == 403
    assert segment_rows() == before


def test_deleting_a_segment(writer, segment):
    response = writer.delete(detail_url(segment.pk))
    assert response.status_code == 204
    assert not Segment.objects.exists()


def test_a_segment_a_campaign_uses_is_not_deleted_409_with_the_reason(writer, segment):
    from marketing.models import Campaign

    Campaign.objects.create(name="双十一", segment=segment)
    response = writer.delete(detail_url(segment.pk))
    assert response.status_code == 409
    assert "双十一" in str(response.json()["errors"])
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_deleting_needs_segments_write(reader, outsider_api, segment):
    for api in (reader, outsider_api):
        assert api.delete(detail_url(segment.pk)).status_code == 403
    assert Segment.objects.filter(pk=segment.pk).exists()


# --- count --------------------------------------------------------------------------------------------------------


def test_counting_rules_saves_nothing(reader, rich):
    before = table_counts()
    response = reader.post(reverse("api:segment_count"), {"rules": HANGZHOU})
    assert response.status_code == 200 and response.json() == {"count": 2}
    assert table_counts() == before


@pytest.mark.parametrize(("rules", "message"), BAD_RULES, ids=[m[:30] for _r, m in BAD_RULES])
def test_counting_bad_rules_is_400_with_the_message(reader, rich, rules, message):
    response = reader.post(reverse("api:segment_count"), {"rules": rules})
    assert response.status_code == 400
    assert message in response.json()["errors"]["rules"][0]


def test_counting_needs_segments_read(outsider_api, writer, rich):
    for api in (outsider_api, writer):
        assert api.post(reverse("api:segment_count"), {"rules": HANGZHOU}).status_code == 403


# --- members ------------------------------------------------------------------------------------------------------


def test_members_come_with_contacts_masked(reader, segment, rich):
    response = reader.get(members_url(segment.pk))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["crm_number"] for r in rows] == sorted(str(c.crm_number) for c in rich[:2])
    wang = next(r for r in rows if r["crm_number"] == str(rich[0].crm_number))
    assert wang["name"] == rich[0].name and wang["tier"] == "Gold"
    assert wang["crm_number_display"] == rich[0].crm_number_display
    assert wang["mobile"] == "+86138****5678" and wang["email"] == "w***@example.com"


def test_a_token_granted_personal_data_sees_their_contacts(integration, segment, rich):
    api = integration(Scope.SEGMENTS_READ, Scope.PERSONAL_DATA)
    rows = api.get(members_url(segment.pk)).json()["results"]
    wang = next(r for r in rows if r["crm_number"] == str(rich[0].crm_number))
    assert wang["mobile"] == "+8613812345678" and wang["email"] == "wang@example.com"


def test_looking_members_up_one_by_one_does_not_unmask_a_segments_contacts(integration, segment, rich):
    api = integration(Scope.SEGMENTS_READ, Scope.LOOKUP)
    rows = api.get(members_url(segment.pk)).json()["results"]
    wang = next(r for r in rows if r["crm_number"] == str(rich[0].crm_number))
    assert wang["mobile"] == "+86138****5678" and wang["email"] == "w***@example.com"


def test_reading_members_is_audited_as_an_export(reader, segment):
    reader.get(members_url(segment.pk))
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.actor is None and event.customer_id is None
    assert event.api_client == reader.api_client.name and event.ip == "127.0.0.1"
    assert event.changes == {"segment": segment.pk, "rows": 2, "masked": True}


def test_a_static_list_gives_its_frozen_members(reader, segment, rich):
    frozen = services.segment_freeze(segment=segment, name="Rich, frozen", actor=None)
    CustomerFactory(points_balance=800)  # would match the rules now, but joined after the freeze
    dynamic = reader.get(members_url(segment.pk)).json()["results"]
    static = reader.get(members_url(frozen.pk)).json()["results"]
    assert len(dynamic) == 3
    assert [r["crm_number"] for r in static] == sorted(str(c.crm_number) for c in rich[:2])


def test_members_page_by_cursor_to_the_end(reader, segment):
    CustomerFactory.create_batch(5, points_balance=600)
    seen, url, pages = [], members_url(segment.pk) + "?page_size=3", 0
    while url:
        body = reader.get(url).json()
        seen += [r["crm_number"] for r in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(seen) == 7 and seen == sorted(seen, key=int) and len(set(seen)) == 7


@pytest.mark.parametrize("position", ["abc", "-1", "9" * 40, "1%00"])
def test_a_forged_cursor_is_404(reader, segment, position):
    cursor = base64.b64encode(f"r=0&p={position}".encode()).decode()
    response = reader.get(members_url(segment.pk), {"cursor": cursor})
    assert response.status_code == 404 and response.json()["detail"]


def test_members_need_segments_read(outsider_api, writer, segment):
    for api in (outsider_api, writer):
        assert api.get(members_url(segment.pk)).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


# --- wrong methods (test_api_tokens_everywhere.py checks every endpoint's 401) ----------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "by_id"),
    [
        ("put", "api:segment", True),
        ("post", "api:segment", True),
        ("delete", "api:segments", False),
        ("get", "api:segment_count", False),
        ("post", "api:segment_members", True),
        ("delete", "api:segment_members", True),
    ],
)
def test_a_wrong_method_is_405(integration, segment, method, name, by_id):
    api = integration(Scope.SEGMENTS_READ, Scope.SEGMENTS_WRITE)
    before = segment_rows()
    response = getattr(api, method)(reverse(name, args=[segment.pk] if by_id else []))
    assert response.status_code == 405
    assert segment_rows() == before


# --- queries ------------------------------------------------------------------------------------------------------


def test_the_list_takes_as_many_queries_for_many_segments_as_for_few(reader, rich):
    for i in range(2):
        services.segment_save(name=f"few {i}", rules=RICH, actor=None)
    reader.get(reverse("api:segments"))  # the token's last use is written once a minute: out of the way
    with CaptureQueriesContext(connection) as few:
        assert reader.get(reverse("api:segments")).status_code == 200
    for i in range(20):
        services.segment_save(name=f"many {i}", rules=RICH, actor=None)
    with CaptureQueriesContext(connection) as many:
        assert len(reader.get(reverse("api:segments")).json()["results"]) == 22
    assert len(many) == len(few) <= 3


def test_members_take_as_many_queries_for_many_members_as_for_few(reader, segment):
    reader.get(members_url(segment.pk))
    with CaptureQueriesContext(connection) as few:
        assert len(reader.get(members_url(segment.pk)).json()["results"]) == 2
    CustomerFactory.create_batch(30, points_balance=600, tier=TierFactory(name="Silver"))
    with CaptureQueriesContext(connection) as many:
        assert len(reader.get(members_url(segment.pk)).json()["results"]) == 32
    assert len(many) == len(few) <= 4


# --- whatever an integration sends --------------------------------------------------------------------------------

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(), hostile_text
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["points_balance", "city", "province", "tier", "tags", "age", "registered_on", "last_purchase", "birthday"]
FIELDS += ["lifetime_spend", "spend_in_period", "crm_number", "email_consent", "bought_category", "stopped_buying"]
plausible_value = st.one_of(
    st.integers(min_value=-5, max_value=5000),
    st.sampled_from(["杭州市", "2026-01-31", "199.00", "1000-0017", "female", "2026-02-30", "<b>", "1; DROP TABLE"]),
    st.lists(st.one_of(st.integers(0, 100), st.sampled_from(["杭州市", "1000-0017"])), max_size=3),
    st.booleans(),
    st.none(),
    hostile_number,
    json_value,
)
conditions = st.builds(
    lambda field, operator, value, params: {"field": field, "operator": operator, "value": value, **params},
    st.one_of(st.sampled_from(FIELDS), hostile_text, json_scalar),
    st.one_of(st.sampled_from([str(op) for op in Operator]), hostile_text),
    plausible_value,
    st.dictionaries(st.sampled_from(["days", "times", "percent", "sql"]), st.integers(-10, 5000), max_size=2),
).map(lambda c: {k: v for k, v in c.items() if v is not None or k != "value"})
good_conditions = st.sampled_from(
    [
        RICH["rules"][0],
        HANGZHOU["rules"][0],
        {"field": "city", "operator": "contains", "value": "州"},
        {"field": "tier", "operator": "is_set"},
        {"field": "age", "operator": "between", "value": [20, 60]},
        {"field": "registered_on", "operator": "in_last_days", "value": 30},
        {"field": "email_consent", "operator": "eq", "value": True},
        {"field": "lifetime_spend", "operator": "gt", "value": "100.00"},
        {"field": "orders_in_period", "operator": "gt", "value": 1, "days": 90},
    ]
)
good_trees = st.recursive(
    good_conditions,
    lambda children: st.builds(
        lambda op, rules: {"op": op, "rules": rules},
        st.sampled_from(["and", "or", "not"]),
        st.lists(children, min_size=1, max_size=3),
    ),
    max_leaves=6,
).map(lambda node: node if "op" in node else {"op": "and", "rules": [node]})
rule_trees = st.one_of(
    good_trees,
    good_trees,
    st.recursive(
        conditions,
        lambda children: st.fixed_dictionaries(
            {
                "op": st.one_of(st.sampled_from(["and", "or", "not"]), json_scalar),
                "rules": st.lists(children, max_size=4),
            }
        ),
        max_leaves=10,
    ),
    st.integers(min_value=4, max_value=30).map(nested),  # too deep, and past the parser's nesting limit
    st.integers(min_value=45, max_value=60).map(lambda n: {"op": "or", "rules": [RICH["rules"][0]] * n}),
    st.just(HANGZHOU),
    json_value,
)
names = st.one_of(st.just("New segment"), st.just("New segment"), st.just("Rich"), hostile_text)


@st.composite
def bodies(draw, *, partial: bool) -> str | bytes:
    """A body with plausible or hostile name, description and rules (some left out), maybe an unknown key; or
    any JSON at all, broken JSON or raw bytes."""
    descriptions = st.one_of(st.just("From the API"), hostile_text, json_scalar)
    fields = {"name": names, "description": descriptions, "rules": rule_trees}
    body = {}
    for key, values in fields.items():
        if draw(st.integers(0, 4)) > (2 if partial else 0):
            body[key] = draw(values)
    body.update(draw(st.dictionaries(hostile_text, json_value, max_size=1)))
    raw = st.one_of(st.binary(max_size=100), st.sampled_from(["", "{", '{"rules": ', "null", "[]", '{"x": NaN}']))
    return draw(st.one_of(st.just(json.dumps(body)), st.just(json.dumps(body)), json_value.map(json.dumps), raw))


def assert_safe(send) -> int:
    """No 5xx; a 4xx is our JSON error and leaves every table, and every segment's row, as it was."""
    with rolled_back():
        before, rows = table_counts(), segment_rows()
        response = send()
        event(f"status {response.status_code}")
        assert response.status_code < 500, response.content[:500]
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/json", response.content[:500]
            assert response.json()["detail"]
            assert table_counts() == before and segment_rows() == rows
        return response.status_code


@pytest.fixture
def api(integration):
    return integration(Scope.SEGMENTS_READ, Scope.SEGMENTS_WRITE)


@given(body=bodies(partial=False))
def test_creating_never_fails_on_hostile_bodies(api, segment, body):
    status = assert_safe(lambda: api.post(reverse("api:segments"), raw=body))
    assert status in (201, 400, 413)


@given(body=bodies(partial=True))
def test_changing_never_fails_on_hostile_bodies(api, segment, body):
    status = assert_safe(lambda: api.patch(detail_url(segment.pk), raw=body))
    assert status in (200, 400, 413)


@given(body=bodies(partial=False))
def test_counting_never_fails_on_hostile_bodies(api, segment, body):
    status = assert_safe(lambda: api.post(reverse("api:segment_count"), raw=body))
    assert status in (200, 400, 413)


@given(
    query=st.dictionaries(
        st.sampled_from(["cursor", "page_size", "page"]) | hostile_text,
        st.one_of(hostile_text, hostile_number, st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode())),
        max_size=3,
    )
)
def test_listing_never_fails_on_hostile_query_strings(api, segment, query):
    for url in (reverse("api:segments"), members_url(segment.pk)):
        assert assert_safe(lambda url=url: api.get(url, query)) in (200, 400, 404)


@given(
    method=st.sampled_from(["get", "patch", "delete", "members"]),
    segment_id=st.one_of(hostile_text, hostile_number).map(lambda s: s.replace("/", "") or "x"),
)
def test_hostile_segment_ids_are_json_404s_never_5xx(api, segment, method, segment_id):
    path = f"/api/v1/segments/{quote(segment_id, safe='')}/"
    if method == "members":
        send = lambda: api.get(path + "members/")  # noqa: E731
    else:
        send = lambda: getattr(api, method)(path, **({"data": {"name": "x"}} if method == "patch" else {}))  # noqa: E731
    assert assert_safe(send) in (200, 204, 400, 404)
