"""The campaign and automation leaderboard chart: ranked by revenue lift with its interval, the same figures as
each campaign's results page, read from the results snapshots."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketing.models import Automation, AutomationKind, Campaign, CampaignStatus
from marketing.models import MessageStatus as S
from marketing.services.results import results_refresh
from marketing.tests.results_data import DAY, T0, buy, campaign_make, row, variants

pytestmark = pytest.mark.django_db

URL = reverse("chart_json", args=["campaign_leaderboard"])


def filled(
    name: str, *, sent: int = 20, sent_buyers: int = 4, held: int = 10, held_buyers: int = 1, amount="100", **kw
):
    """A sent campaign: `sent_buyers` of `sent` recipients and `held_buyers` of `held` controls bought."""
    campaign = campaign_make(name, **kw)
    for n in range(sent):
        message = row(campaign, S.DELIVERED, delivered_at=T0 + DAY)
        if n < sent_buyers:
            buy(message, "100", T0 + 2 * DAY)
    for n in range(held):
        message = row(campaign, S.HELD_OUT)
        if n < held_buyers:
            buy(message, "50", T0 + 2 * DAY)
    return campaign


def board(client, **params) -> dict[str, dict]:
    data = client.get(URL, params).json()
    keys = [column["key"] for column in data["columns"]]
    return {r[0]: dict(zip(keys, r, strict=True)) for r in data["rows"]}


def names_in_order(client) -> list[str]:
    return [r[0] for r in client.get(URL).json()["rows"]]


def lift_csv(client, campaign) -> dict[str, list[str]]:
    url = reverse("marketing:campaign_results_csv", args=[campaign.pk, "lift"])
    response = client.get(url)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    # A cell starting with "-" is written with a leading quote, so a spreadsheet does not read it as a formula.
    return {r[0]: [cell.removeprefix("'") for cell in r] for r in rows[1:]}


def percent(value: float) -> str:
    return f"{value * 100:.2f}%"


def test_the_lift_and_its_interval_are_those_of_the_campaigns_results_page(manager_client):
    campaign = filled("Spring sale", control_percent=33, sent=60, sent_buyers=15, held=30, held_buyers=3)
    results_refresh(campaign=campaign)
    entry = board(manager_client)["Spring sale"]
    page = lift_csv(manager_client, campaign)["Revenue per member"]
    # The page's CSV: figure, campaign, control, difference, CI from, CI to, relative, relative CI from, to, p.
    assert [percent(entry["lift"]), percent(entry["lift_low"]), percent(entry["lift_high"])] == page[6:9]
    assert f"{entry['difference']:.2f}" == page[3]
    assert f"{entry['revenue_per_recipient']:.2f}" == page[1] and f"{entry['revenue_per_control']:.2f}" == page[2]
    assert (entry["recipients"], entry["control"]) == (60, 30)
    assert entry["note"] == ""


def test_campaigns_are_ranked_by_lift_and_those_without_one_follow_with_a_note(manager_client):
    for name, buyers in (("Small lift", 3), ("Big lift", 12), ("Loss", 1)):
        results_refresh(campaign=filled(name, sent_buyers=buyers, held_buyers=2))
    results_refresh(campaign=filled("No control", control_percent=0, held=0, held_buyers=0))
    filled("Just sent")  # no snapshot yet
    assert names_in_order(manager_client)[:3] == ["Big lift", "Small lift", "Loss"]
    rows = board(manager_client)
    assert rows["No control"]["lift"] is None and rows["No control"]["recipients"] == 20
    assert rows["No control"]["note"] == "No control group: its lift cannot be measured."
    assert rows["Just sent"]["lift"] is None and rows["Just sent"]["note"] == "Not counted yet."
    assert rows["Loss"]["lift"] < 0 < rows["Small lift"]["lift"] < rows["Big lift"]["lift"]
    assert rows["Big lift"]["lift_low"] < rows["Big lift"]["lift"] < rows["Big lift"]["lift_high"]


def test_drafts_are_left_out_and_automations_are_ranked_with_campaigns(manager_client):
    campaign_make("Still a draft", status=CampaignStatus.DRAFT, started_at=None)
    birthday = Automation.objects.select_related("campaign").get(kind=AutomationKind.BIRTHDAY)
    Campaign.objects.filter(pk=birthday.campaign_id).update(control_percent=10)
    results_refresh(campaign=Campaign.objects.get(pk=birthday.campaign_id))
    rows = board(manager_client)
    assert "Still a draft" not in rows
    assert birthday.campaign.name in rows
    assert set(board(manager_client, kind="one_off")) == set()
    assert set(board(manager_client, kind="automation")) == {birthday.campaign.name}


def test_an_ab_test_campaign_reads_the_same_as_its_page(manager_client):
    campaign = filled("A/B", control_percent=33)
    variants(campaign)
    results_refresh(campaign=campaign)
    entry = board(manager_client)["A/B"]
    assert [percent(entry["lift"]), percent(entry["lift_low"]), percent(entry["lift_high"])] == lift_csv(
        manager_client, campaign
    )["Revenue per member"][6:9]


def test_the_leaderboard_costs_the_same_queries_with_more_campaigns(manager_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(URL).status_code == 200
        return len(captured)

    first = filled("First", sent=3, held=2)
    variants(first)
    results_refresh(campaign=first)
    few = queries()
    for n in range(8):
        campaign = filled(f"Campaign {n}", sent=3, held=2, status=CampaignStatus.SENT)
        variants(campaign)
        if n % 2:
            results_refresh(campaign=campaign)
    assert queries() == few


def test_a_marketer_may_read_it_and_a_bad_limit_is_refused(marketing_client):
    assert marketing_client.get(URL).status_code == 200
    response = marketing_client.get(URL, {"limit": "0"})
    assert response.status_code == 400 and "limit" in response.json()["errors"]
    assert marketing_client.get(URL, {"kind": "nonsense"}).status_code == 400


def test_only_the_first_ones_are_shown_when_limited(manager_client):
    for n in range(3):
        results_refresh(campaign=filled(f"C{n}", sent=4, held=2))
    data = manager_client.get(URL, {"limit": 2}).json()
    assert len(data["rows"]) == 2 and "The first 2 of 3 are shown." in data["notes"]
