"""The results page and its CSV downloads, as a manager and a marketer read them."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from hypothesis import given

from marketing.models import CampaignStatus, SkipReason
from marketing.models import MessageStatus as S
from marketing.services.ab import AbVerdict
from marketing.tests.results_data import DAY, T0, buy, campaign_make, row, variants
from tests.hostile import hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


def results_url(campaign) -> str:
    return reverse("marketing:campaign_results", args=[campaign.pk])


def csv_url(campaign, table: str) -> str:
    return reverse("marketing:campaign_results_csv", args=[campaign.pk, table])


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def campaign():
    """20 sent (4 bought ¥100 each), 10 held out (1 bought ¥50) of a third planned, one skipped."""
    campaign = campaign_make("Spring sale", control_percent=33)
    for n in range(20):
        message = row(campaign, S.DELIVERED, delivered_at=T0 + DAY)
        if n < 4:
            buy(message, "100", T0 + 2 * DAY)
    for n in range(10):
        message = row(campaign, S.HELD_OUT)
        if n < 1:
            buy(message, "50", T0 + 2 * DAY)
    row(campaign, S.SKIPPED, skip_reason=SkipReason.NO_CONSENT)
    return campaign


def test_a_manager_reads_both_groups_side_by_side_and_the_verdict(manager_client, campaign):
    page = manager_client.get(results_url(campaign)).content.decode()
    assert 'id="treatment-members">20<' in page and 'id="control-members">10<' in page
    assert 'id="treatment-conversion">20.0%<' in page and 'id="control-conversion">10.0%<' in page
    assert 'id="treatment-rpm">¥20.00<' in page and 'id="control-rpm">¥5.00<' in page
    # ¥15 more per member, but with 30 members the interval still covers zero.
    assert "No effect detected yet" in page
    assert "Skipped: No consent for this channel" in page and 'id="computed-at">' in page
    for table in ("counts", "groups", "lift", "srm"):
        assert csv_url(campaign, table) in page


def test_a_marketer_may_read_the_results(marketing_client, campaign):
    assert marketing_client.get(results_url(campaign)).status_code == 200
    assert marketing_client.get(csv_url(campaign, "groups")).status_code == 200


@pytest.mark.parametrize("client_name", ["sales_client", "service_client"])
def test_sales_and_the_desk_may_not(request, client_name, campaign):
    client = request.getfixturevalue(client_name)
    assert client.get(results_url(campaign)).status_code == 403
    assert client.get(csv_url(campaign, "groups")).status_code == 403


def test_the_page_is_read_only(manager_client, campaign):
    before = table_counts()
    assert manager_client.post(results_url(campaign)).status_code == 405
    assert manager_client.post(csv_url(campaign, "counts")).status_code == 405
    assert table_counts() == before


def test_every_figure_downloads_as_csv(manager_client, campaign):
    groups = read_csv(manager_client.get(csv_url(campaign, "groups")))
    assert groups == [
        ["Group", "Members", "Bought", "Conversion", "Purchases", "Revenue", "Revenue per member"],
        ["Campaign", "20", "4", "20.00%", "4", "400.00", "20.00"],
        ["Control group", "10", "1", "10.00%", "1", "50.00", "5.00"],
    ]
    lift = read_csv(manager_client.get(csv_url(campaign, "lift")))
    assert lift[1][:4] == ["Revenue per member", "20.00", "5.00", "15.00"] and float(lift[1][4]) < 0 < float(lift[1][5])
    assert lift[2][0] == "Conversion" and lift[2][3] == "10.00%"
    counts = dict(read_csv(manager_client.get(csv_url(campaign, "counts")))[1:])
    assert counts["Targeted"] == "31" and counts["Skipped: No consent for this channel"] == "1"
    assert counts["Delivered"] == "20" and counts["Held out (control group)"] == "10"
    srm = read_csv(manager_client.get(csv_url(campaign, "srm")))
    assert srm[1][:2] == ["33.00%", "33.33%"] and srm[1][3] == "As planned"


def test_a_broken_split_is_the_verdict(manager_client, campaign):
    campaign.control_percent = 5  # 10 of 30 held out where 5% was planned
    campaign.save()
    page = manager_client.get(results_url(campaign)).content.decode()
    assert "Sample ratio mismatch" in page and "Mismatch: check the send" in page


def test_an_unknown_table_or_campaign_is_not_found(manager_client, campaign):
    assert manager_client.get(csv_url(campaign, "variants")).status_code == 404  # no A/B test in this one
    assert manager_client.get(csv_url(campaign, "nonsense")).status_code == 404
    assert manager_client.get(reverse("marketing:campaign_results", args=[campaign.pk + 999])).status_code == 404


@given(table=hostile_text)
def test_any_table_name_is_answered_without_error(manager_client, campaign, table):
    with rolled_back():
        before = table_counts()
        response = manager_client.get(f"/marketing/campaigns/{campaign.pk}/results/{table}.csv")
        assert response.status_code in (200, 400, 404)  # 400: a NUL byte, refused by the middleware
        assert table_counts() == before


def test_the_ab_test_is_shown_with_its_verdict(manager_client):
    campaign = campaign_make("A/B", status=CampaignStatus.SENDING, winner_metric="conversion")
    a, b = variants(campaign)
    for n in range(50):
        buy_a, buy_b = row(campaign, S.SENT, variant=a), row(campaign, S.SENT, variant=b)
        if n < 2:
            buy(buy_a, "10", T0 + DAY)
        if n < 25:
            buy(buy_b, "10", T0 + DAY)
    campaign.winner, campaign.ab_verdict = b, AbVerdict.WINNER
    campaign.save()
    page = manager_client.get(results_url(campaign)).content.decode()
    assert "Variant B won on conversion; the rest of the campaign was sent with it." in page
    table = read_csv(manager_client.get(csv_url(campaign, "variants")))
    assert table[1][:4] == ["A", "50", "2", "4.00%"] and table[2][-1] == "Sent to the rest"
    assert float(table[1][7]) < 0.001  # A against the best (B), Holm-corrected


def test_the_page_reads_in_chinese(manager_client, campaign):
    with translation.override("zh-hans"):
        response = manager_client.get(results_url(campaign), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200


def test_the_number_of_queries_does_not_grow_with_the_campaign(manager_client):
    def queries(campaign) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(results_url(campaign)).status_code == 200
        return len(captured.captured_queries)

    small, large = campaign_make("small"), campaign_make("large")
    for campaign, size in ((small, 2), (large, 25)):
        variants(campaign, "AB")
        for _ in range(size):
            buy(row(campaign, S.SENT, variant=campaign.variants.last()), "10", T0 + DAY)
            row(campaign, S.HELD_OUT)
            row(campaign, S.SKIPPED, skip_reason=SkipReason.FREQUENCY_CAP)
    assert queries(small) == queries(large)


def test_an_automation_has_the_same_results_page(manager_client):
    automation = campaign_make("Birthday", kind="automation", segment=None, started_at=None, status="sending")
    buy(row(automation, S.SENT, occasion="birthday:2026", created_at=T0, sent_at=T0), "88", T0 + DAY)
    row(automation, S.HELD_OUT, occasion="birthday:2026", created_at=T0)
    page = manager_client.get(results_url(automation)).content.decode()
    assert 'id="treatment-rpm">¥88.00<' in page and 'id="control-members">1<' in page
