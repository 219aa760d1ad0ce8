"""Benchmark campaign sending on the bench database: a campaign to N members (default 1,000,000; fill the members
with bench/fill.py or bench/run.py first), through the real sending engine and an e-mail backend that builds each
message as the locmem backend does and drops it (the locmem backend would keep a million messages in memory).

Two figures against the budget (at least 2,000 messages recorded and handed to the backend per second, peak
memory under 2 GB): the freeze (every member's row written, control group drawn, held-out rows judged), then the
batches (claim, guardrails, render, coupon-free build with headers, pixel and tracked links, hand over, record
each answer), run by --workers processes as Celery workers would run them (any process takes any batch).

    .venv/bin/python -m bench.campaigns [--members 1000000] [--workers 2] [--batch 1000] [--database-url URL]
                                        [--audience everyone|consenting] [--backend build|serialize|dummy]

--audience consenting sends only to members with e-mail consent (every row is then handed over); "everyone"
is the whole base, where members without consent or address are skipped with their reason, as in real life.
--backend build does what the locmem backend does (builds each MIME message) and keeps nothing; serialize also
writes the bytes SMTP would carry; dummy is Django's backend that takes the messages and builds nothing.
"""

import argparse
import multiprocessing
import os
import resource
import sys
import time

from bench import db

HTML = (
    "<html><body><p>{{ name }}，您好！</p><p>您的积分：{{ points }}，等级：{{ tier }}。</p>"
    '<p><a href="https://shop.example.com/sale?from=crm">春季特惠</a></p></body></html>'
)


class BuildingBackend:
    """Does what the locmem backend does with each message (builds the whole MIME message, which validates its
    headers) and keeps nothing: the locmem backend would hold a million messages in memory."""

    def __init__(self, fail_silently: bool = False, **kwargs: object) -> None:
        pass

    def open(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def send_messages(self, messages: list) -> int:
        for message in messages:
            message.message()
        return len(messages)


class SerializingBackend(BuildingBackend):
    """Also writes each message out as the bytes an SMTP server would receive."""

    def send_messages(self, messages: list) -> int:
        for message in messages:
            message.message().as_bytes()
        return len(messages)


BACKENDS = {
    "build": "bench.campaigns.BuildingBackend",
    "serialize": "bench.campaigns.SerializingBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def _settings(backend: str) -> None:
    from django.conf import settings

    settings.EMAIL_BACKEND = BACKENDS[backend]
    settings.CRM_SEND_RATE = 0
    # Earlier bench runs' sends would cap everyone after three runs: the bench measures sending, not the cap.
    settings.CRM_FREQUENCY_CAP = 1_000_000


def _cpu_seconds(pid: int | None = None) -> float | None:
    """User and system CPU seconds of a process (this one, or a Postgres backend on this machine), or None
    when /proc does not show it (a remote database server)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime, fields 14 and 15


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _worker(campaign_id: int, batch: int, backend: str, queue: multiprocessing.Queue) -> None:
    from django.db import connections

    connections.close_all()  # never the parent's socket
    _settings(backend)
    from marketing.services.sending import messages_send_batch

    totals = {"batches": 0, "sent": 0, "skipped": 0, "failed": 0}
    # CPU spent by this process and by its Postgres backend: what the batches cost whatever else the machine
    # runs (the wall-clock rate depends on what the other users of the two cores are doing).
    backend_pid = _backend_pid()
    cpu, db_cpu = _cpu_seconds(), _cpu_seconds(backend_pid)
    while True:
        result = messages_send_batch(campaign_id=campaign_id, limit=batch)
        if result is None:
            break
        totals["batches"] += 1
        totals["sent"] += result.sent
        totals["skipped"] += result.skipped
        totals["failed"] += result.failed + result.unknown
        if not result.more:
            break
    totals["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    totals["cpu"] = _cpu_seconds() - cpu
    after = _cpu_seconds(backend_pid)
    totals["db_cpu"] = None if after is None or db_cpu is None else after - db_cpu
    queue.put(totals)


def _campaign(members: int, audience: str):
    from django.db import connection

    from customers.models import Customer
    from marketing.models import Campaign, CampaignVariant, MessageTemplate, Segment, SegmentKind

    name = f"bench campaign {members} {audience} {time.time():.0f}"
    total = Customer.objects.count()
    if members >= total and audience == "everyone":
        segment = Segment.objects.create(name=name)  # every member: the default rules
    else:
        segment = Segment.objects.create(name=name, kind=SegmentKind.STATIC)
        condition = "WHERE email_opt_in" if audience == "consenting" else ""
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO marketing_segmentmember (segment_id, customer_id, added_at) "
                f"SELECT %s, id, now() FROM customers_customer {condition} ORDER BY id LIMIT %s",
                [segment.pk, members],
            )
    campaign = Campaign.objects.create(name=name[:100], segment=segment, control_percent=10)
    variant = CampaignVariant.objects.create(campaign=campaign, label="A")
    for language, subject in (("zh-hans", "{{ name }}，春季特惠来了"), ("en", "Spring sale for {{ name }}")):
        MessageTemplate.objects.create(
            variant=variant, language=language, subject=subject, body="{{ name }}: {{ points }} points", html=HTML
        )
    return campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--audience", choices=["everyone", "consenting"], default="everyone")
    parser.add_argument("--backend", choices=list(BACKENDS), default="build")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.migrate(url)
    db.setup_django(url)
    _settings(args.backend)
    from django.db import connections
    from django.db.models import Count

    from marketing import tasks
    from marketing.models import Message
    from marketing.services.sending import campaign_start

    tasks.campaign_send_batch_task.delay = lambda *a, **k: None  # this bench's processes run the batches
    load = os.getloadavg()
    campaign = _campaign(args.members, args.audience)
    started = time.perf_counter()
    campaign_start(campaign=campaign, actor=None)
    frozen_seconds = time.perf_counter() - started
    rows = Message.objects.filter(campaign=campaign).count()
    connections.close_all()

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    started = time.perf_counter()
    processes = [
        context.Process(target=_worker, args=(campaign.pk, args.batch, args.backend, queue))
        for _ in range(args.workers)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    send_seconds = time.perf_counter() - started

    counts = dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("pk")))
    campaign.refresh_from_db()
    sent = sum(r["sent"] for r in results)
    settled = sum(r["sent"] + r["skipped"] + r["failed"] for r in results)
    peak_mb = max([r["rss_mb"] for r in results] + [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024])
    end = os.getloadavg()
    total = frozen_seconds + send_seconds
    print("command: .venv/bin/python -m bench." + " ".join(["campaigns", *sys.argv[1:]]))
    print(
        f"campaign to {args.members:,} members ({args.audience}), backend {args.backend}, "
        f"{args.workers} worker processes, batch {args.batch}"
    )
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at the end {end[0]:.2f} {end[1]:.2f}\n")
    table = [
        ("freeze: every member's row written, control group drawn", rows, frozen_seconds),
        ("batches: rows claimed, judged and recorded (sent or skipped)", settled, send_seconds),
        ("batches: messages rendered, handed to the backend, recorded sent", sent, send_seconds),
        ("whole campaign: rows recorded", rows, total),
        ("whole campaign: messages handed over", sent, total),
    ]
    print("| step | rows | seconds | per second |")
    print("| --- | ---: | ---: | ---: |")
    for name, count, seconds in table:
        print(f"| {name} | {count:,} | {seconds:.1f} | {count / seconds:,.0f} |")
    print(f"\nstatuses: {counts}; campaign {campaign.status}")
    print(f"peak memory (largest process): {peak_mb:,.0f} MB")
    cpu = sum(r["cpu"] for r in results)
    db_cpu = None if any(r["db_cpu"] is None for r in results) else sum(r["db_cpu"] for r in results)
    if sent:
        line = f"CPU per message handed over: worker processes {cpu / sent * 1000:.2f} ms"
        if db_cpu is not None:
            line += f", their Postgres backends {db_cpu / sent * 1000:.2f} ms"
            # A ceiling, not a measurement: the waits for Postgres's commits and the other processes are left out.
            line += f"; the CPU alone would allow about {2 * sent / (cpu + db_cpu):,.0f} messages/s on two idle cores"
        print(line)


if __name__ == "__main__":
    main()
