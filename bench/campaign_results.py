"""Benchmark the results page of a campaign to N recipients (budget: p95 under 1 s at 1,000,000) on the bench
database (1,000,000 members and 10,000,000 purchases over two years: fill it with bench/run.py first).

    .venv/bin/python -m bench.campaign_results [--recipients 1000000] [--runs 20] [--database-url URL]

A campaign "bench results <N>" is made once (re-runs reuse it) with one message row per member for the first N
members, written by one INSERT ... SELECT: 10% held out (a hash of the member, as the engine draws), 3% skipped
for lack of consent, the rest sent at 2,000 a second from a start 8 days before the newest purchase (so the
7-day windows hold purchases), split between variants A and B, with deliveries, opens, clicks, bounces and
failures in realistic shares. Then it times counting the results live (marketing.results.campaign_results: what
the beat job does every 5 minutes, and the page when it finds no recent snapshot), storing them as the snapshot,
the page through Django's test client as a manager (reading the snapshot), and one CSV download. Prints Markdown.
"""

import argparse
import datetime
import os
import resource
import statistics
import time

from bench import db

ROWS_SQL = """
INSERT INTO marketing_message (campaign_id, customer_id, occasion, variant_id, status, skip_reason, error, address,
                               language, provider_id, created_at, sent_at, delivered_at, opened_at, clicked_at)
SELECT %(campaign)s, id, '',
       CASE WHEN held OR skipped THEN NULL WHEN id %% 2 = 0 THEN %(a)s ELSE %(b)s END,
       CASE WHEN held THEN 'held_out' WHEN skipped THEN 'skipped' WHEN roll < 2 THEN 'failed'
            WHEN roll < 5 THEN 'bounced' WHEN roll < 60 THEN 'delivered' WHEN roll < 85 THEN 'opened'
            ELSE 'clicked' END,
       CASE WHEN skipped THEN 'no_consent' ELSE '' END, '', '', 'zh-hans', '',
       %(start)s,
       CASE WHEN held OR skipped OR roll < 2 THEN NULL ELSE %(start)s + (n / 2000.0) * interval '1 second' END,
       CASE WHEN NOT (held OR skipped) AND roll >= 5 THEN %(start)s + (n / 2000.0 + 60) * interval '1 second' END,
       CASE WHEN NOT (held OR skipped) AND roll >= 60 THEN %(start)s + (n / 2000.0 + 3600) * interval '1 second' END,
       CASE WHEN NOT (held OR skipped) AND roll >= 85 THEN %(start)s + (n / 2000.0 + 3700) * interval '1 second' END
FROM (
    SELECT id, row_number() OVER (ORDER BY id) AS n, abs(hashtext('roll' || id)) %% 100 AS roll,
           abs(hashtext('control' || id)) %% 100 < 10 AS held, abs(hashtext('consent' || id)) %% 100 < 3 AS skipped
    FROM (SELECT id FROM customers_customer ORDER BY id LIMIT %(limit)s) members
) drawn
"""


def timed(fn, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)], result


def campaign_for(recipients: int):
    from django.db import connection, transaction
    from django.db.models import Max

    from interactions.models import Transaction
    from marketing.models import Campaign, CampaignStatus, CampaignVariant, Segment

    name = f"bench results {recipients}"
    campaign = Campaign.objects.filter(name=name).first()
    if campaign is not None:
        return campaign, 0.0
    newest = Transaction.objects.aggregate(newest=Max("occurred_at"))["newest"]
    start = newest - datetime.timedelta(days=8)
    started = time.perf_counter()
    with transaction.atomic():
        segment, _ = Segment.objects.get_or_create(name="bench everyone")
        campaign = Campaign.objects.create(
            name=name, segment=segment, status=CampaignStatus.SENT, started_at=start, control_percent=10
        )
        Campaign.objects.filter(pk=campaign.pk).update(created_at=start)
        a = CampaignVariant.objects.create(campaign=campaign, label="A")
        b = CampaignVariant.objects.create(campaign=campaign, label="B")
        campaign.winner = a
        campaign.ab_verdict = "no_difference"
        campaign.save(update_fields=["winner", "ab_verdict"])
        with connection.cursor() as cur:
            cur.execute(ROWS_SQL, {"campaign": campaign.pk, "a": a.pk, "b": b.pk, "start": start, "limit": recipients})
    with connection.cursor() as cur:
        cur.execute("ANALYZE marketing_message")
    campaign.refresh_from_db()
    return campaign, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.migrate(url)
    db.setup_django(url)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.urls import reverse

    from customers.models import Customer
    from interactions.models import Transaction
    from marketing.models import Message
    from marketing.results import campaign_results
    from marketing.services.results import results_refresh
    from tests.logins import force_login

    members = Customer.objects.count()
    if members < args.recipients:
        print(f"Only {members:,} members: the campaign goes to all of them.")
    campaign, made = campaign_for(args.recipients)
    rows = Message.objects.filter(campaign=campaign).count()
    load = os.getloadavg()
    print(f"members {members:,}, purchases {Transaction.objects.count():,}, message rows of the campaign {rows:,}")
    if made:
        print(f"campaign rows written in {made:.1f} s")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")

    user, _ = get_user_model().objects.get_or_create(username="bench-manager")
    user.groups.set([Group.objects.get(name="Manager")])
    client = Client(HTTP_HOST="localhost")  # settings' ALLOWED_HOSTS has no "testserver"
    force_login(client, user)  # with the second factor a manager needs (tests/logins.py)

    def page():
        response = client.get(reverse("marketing:campaign_results", args=[campaign.pk]))
        assert response.status_code == 200, response.status_code  # a refused page would time nothing
        return response

    def download():
        response = client.get(reverse("marketing:campaign_results_csv", args=[campaign.pk, "groups"]))
        assert response.status_code == 200, response.status_code
        return b"".join(response.streaming_content)

    print(f"| what ({rows:,} recipients) | median | p95 | budget |")
    print("| --- | ---: | ---: | ---: |")
    live_runs = max(3, args.runs // 4)
    median, p95, results = timed(lambda: campaign_results(campaign), live_runs)
    print(
        f"| counting live: the figures' 3 queries and the statistics ({live_runs} runs; the beat job's work, "
        f"and the page's when it has no recent snapshot) | {median:.0f} ms | {p95:.0f} ms | |"
    )
    median, p95, _r = timed(lambda: results_refresh(campaign=campaign), live_runs)
    print(f"| the beat job's count of this campaign, stored as its snapshot | {median:.0f} ms | {p95:.0f} ms | |")
    page()  # warm the caches once, as a page someone reloads would find them
    median, p95, _r = timed(page, args.runs)
    print(f"| results page from the snapshot, whole request as a manager | {median:.0f} ms | {p95:.0f} ms | 1,000 ms |")
    median, p95, _r = timed(download, args.runs)
    print(f"| one table as CSV (the two groups), from the snapshot | {median:.0f} ms | {p95:.0f} ms | |")
    t, c = results.treatment, results.control
    print(
        f"\ncampaign {t.members:,} members, {t.converters:,} bought, {t.revenue:,} revenue; control {c.members:,} "
        f"members, {c.converters:,} bought, {c.revenue:,} revenue. Verdict: {results.verdict.text}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()
    print(
        f"peak memory of this process {peak:,.0f} MB; load average at the end: "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


if __name__ == "__main__":
    main()
