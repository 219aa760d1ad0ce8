"""Load test: staff signed in and an API client, together, against gunicorn with the production settings, on the
bench database (1,000,000 members: fill it first, see bench/run.py); bounded in time; prints Markdown.

    .venv/bin/python -m bench.load [--users 50] [--run-time 3m] [--workers 2*cores+1] [--database-url URL]
                                   [--redis-url URL] [--port 8765] [--wait 1,5]

Steps: migrate the bench database; make the logins, the API token and the sample of customers
(bench/load/prepare.py); compile the catalogues and collectstatic; start gunicorn (production settings, plain
HTTP on 127.0.0.1: see bench/load/locustfile.py for how HTTPS is stood in for); run locust headless for
--run-time with --users users (Service, Sales, Marketing and API clients in the weights the locustfile gives);
stop gunicorn; report throughput, p50/p95/p99 per endpoint, errors, the web workers' peak memory and the
load average. Everything a run writes is under bench/out/load-<time>/ (locust's CSVs, gunicorn's logs).
"""

import argparse
import base64
import csv
import os
import re
import resource
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench import db

HERE = Path(__file__).resolve().parent
# The common log format plus the time gunicorn's worker spent on the request (µs): server time without the wait
# in the listen queue, which locust's figures include.
ACCESS_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)s'
TICK = os.sysconf("SC_CLK_TCK")
BIN = Path(sys.executable).parent


def production_env(*, url: str, redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.production",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        # A throwaway key unless one is given: production settings require one (the ID numbers' encryption).
        "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS")
        or base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: the requests say X-Forwarded-Proto: https, but the readiness probe does not.
        "SECURE_SSL_REDIRECT": "False",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=db.ROOT, env=env, check=True)  # noqa: S603


def static_stale() -> bool:
    """collectstatic compresses every file again (minutes on a busy machine): skip it when nothing changed."""
    manifest = db.ROOT / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return True
    sources = [db.ROOT / "package-lock.json", *(p for p in (db.ROOT / "static").rglob("*") if p.is_file())]
    return max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}: see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise SystemExit("gunicorn did not answer /healthz in time")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def worker_peaks_mb(master: int) -> list[float]:
    """Each gunicorn worker's peak resident memory (VmHWM), read before they stop."""
    peaks = []
    for pid in worker_pids(master):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_backends(url: str) -> list[int]:
    """The server processes of the app's connections to the bench database (the same machine: loopback)."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


# The locustfile's request names, from the access log's request lines (the first pattern that matches).
ENDPOINTS = [
    (r"GET /customers/\?q=[0-9]+ ", "search: mobile, last 4"),
    (r"GET /customers/\?q=%E", "search: Chinese name"),  # CJK in UTF-8 starts with 0xE
    (r"GET /customers/\?q=", "search: English name"),
    (r"GET /customers/\?page=", "customer list"),
    (r"GET /customers/lookup/", "lookup by CRM number"),
    (r"GET /customers/\d+/\?tab=purchases", "customer purchases"),
    (r"GET /customers/\d+/ ", "customer page"),
    (r"GET / ", "home"),
    (r"GET /my-day/", "my day"),
    (r"GET /interactions/reports/", "contact reports"),
    (r"GET /marketing/segments/", "segment list"),
    (r"GET /marketing/campaigns/", "campaign list"),
    (r"GET /marketing/reports/", "marketing reports"),
    (r"GET /analytics/reports/categories/", "category report"),
    (r"GET /accounts/login/", "login page"),
    (r"POST /accounts/login/", "login"),
    (r"GET /api/v1/members/", "API: member by CRM number"),
    (r"POST /api/v1/transactions/", "API: post a purchase"),
    (r"POST /api/v1/interactions/", "API: post an interaction"),
]


def server_times(log: Path) -> dict[str, list[float]]:
    """ms per request as gunicorn's workers measured it, by endpoint and in all ("Aggregated"), probes left out."""
    patterns = [(re.compile(pattern), name) for pattern, name in ENDPOINTS]
    times: dict[str, list[float]] = {"Aggregated": []}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if "/healthz" in line or '"' not in line:
            continue
        request, ms = line.split('"')[1], int(line.rsplit(" ", 1)[1]) / 1000
        name = next((name for pattern, name in patterns if pattern.match(request + " ")), "other")
        times.setdefault(name, []).append(ms)
        times["Aggregated"].append(ms)
    return {name: sorted(values) for name, values in times.items()}


def percentile(values: list[float], pct: int) -> float:
    return values[min(len(values) - 1, len(values) * pct // 100)] if values else 0.0


def volume(url: str) -> tuple[int, int]:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM customers_customer")
            (customers,) = cur.fetchone()
            cur.execute("SELECT count(*) FROM interactions_transaction")
            return customers, cur.fetchone()[0]
    finally:
        conn.close()


def report(out: Path, *, setting: dict) -> str:
    s = setting
    rows = list(csv.DictReader((out / "locust_stats.csv").open(encoding="utf-8")))
    failures = list(csv.DictReader((out / "locust_failures.csv").open(encoding="utf-8")))
    lines = [
        f"Command: `{setting['command']}` at commit `{setting['commit']}`, {s['started']}–{s['ended']} UTC.",
        f"Data: {setting['customers']:,} members, {setting['purchases']:,} purchases (at the start). "
        f"gunicorn {setting['workers']} sync workers, production settings, Redis {'on' if s['redis'] else 'off'}; "
        f"{setting['users']} users for {setting['run_time']} (spawned {setting['spawn_rate']}/s), "
        f"each waiting {setting['wait']} s between requests.",
        f"Load average at the start {setting['load_start']}, at the end {setting['load_end']} (1 / 5 / 15 min). "
        f"Peak memory of each web worker: {', '.join(f'{mb:.0f}' for mb in setting['peaks']) or '?'} MB.",
        "",
        f"CPU used during the run: web workers {s['cpu_web']:.1f} s, their Postgres backends {s['cpu_db']:.1f} s, "
        f"locust {s['cpu_locust']:.1f} s; that is {s['cpu_per_request']:.0f} ms of web + database CPU per request, "
        f"so two cores of our own would serve about {s['capacity']:.0f} requests a second.",
        "",
        "Times in ms: as locust saw them (the wait for a free worker included), and the server's (gunicorn's own, "
        "from the request read to the response written).",
        "",
        "| endpoint | requests | errors | req/s | p50 | p95 | p99 | max | server p50 | server p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        name = "**all**" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        lines.append(
            f"| {name} | {int(row['Request Count']):,} | {int(row['Failure Count']):,} | "
            f"{float(row['Requests/s']):.2f} | {row['50%']} | {row['95%']} | {row['99%']} | "
            f"{float(row['Max Response Time']):.0f} | {percentile(s['server'].get(row['Name'], []), 50):.0f} | "
            f"{percentile(s['server'].get(row['Name'], []), 95):.0f} |"
        )
    lines.append("")
    if failures:
        lines.append("Errors:")
        lines += [f"- {f['Occurrences']}× {f['Method']} {f['Name']}: {f['Error'][:300]}" for f in failures]
    else:
        lines.append("Errors: none.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="concurrent users, API clients included")
    parser.add_argument("--spawn-rate", type=float, default=2, help="logins a second (each hashes a password)")
    parser.add_argument("--run-time", default="3m", help="locust's --run-time: 90s, 3m, 1h")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--wait", default="1,5", help="seconds each user waits between requests: min,max")
    parser.add_argument("--database-url", help=f"default: $BENCH_DATABASE_URL or {db.DEFAULT_URL}")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""), help="default: $REDIS_URL; none: off")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    stamp = datetime.now(UTC)
    out = db.ROOT / "bench" / "out" / f"load-{stamp:%Y%m%d-%H%M%S}"
    out.mkdir(parents=True)
    command = shlex.join([os.path.relpath(sys.executable, db.ROOT), "-m", "bench.load", *sys.argv[1:]])
    git = ["git", "describe", "--always", "--dirty"]
    commit = subprocess.run(git, cwd=db.ROOT, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603

    db.migrate(url)
    customers, purchases = volume(url)
    db.setup_django(url)
    from bench.load.prepare import prepare

    data_file = out / "data.json"
    data = prepare(path=data_file, service=20, marketing=10)
    from django.db import connections

    connections.close_all()  # its backend's CPU would count as the app's
    print(
        f"{customers:,} members, {purchases:,} purchases; logins ready: "
        + ", ".join(f"{role} {len(names)}" for role, names in data["logins"].items()),
        flush=True,
    )

    env = production_env(url=url, redis_url=args.redis_url)
    manage("compile_catalogs", env=env)
    if static_stale():
        manage("collectstatic", "--no-input", "-v0", env=env)
    else:
        print("collectstatic skipped: staticfiles/ is newer than static/ and package-lock.json", flush=True)
    gunicorn_argv = [
        BIN / "gunicorn", "crm.wsgi", "--workers", str(args.workers), "--bind", f"127.0.0.1:{args.port}",
        "--access-logfile", out / "access.log", "--error-logfile", out / "gunicorn.log",
        "--access-logformat", ACCESS_FORMAT,
    ]  # fmt: skip
    server = subprocess.Popen(gunicorn_argv, cwd=db.ROOT, env=env)  # noqa: S603
    try:
        wait_until_up(args.port, server)
        time.sleep(5)  # the other workers finish booting: their start-up is not the load's CPU
        booted = {pid: cpu_seconds(pid) for pid in worker_pids(server.pid)}
        load_start = " / ".join(f"{a:.2f}" for a in os.getloadavg())
        started = datetime.now(UTC)
        print(
            f"gunicorn up with {args.workers} workers; load average {load_start}; locust for {args.run_time}",
            flush=True,
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_env = {**os.environ, "CRM_LOAD_DATA": str(data_file), "CRM_LOAD_WAIT": args.wait}
        locust_argv = [
            BIN / "locust", "-f", HERE / "locustfile.py", "--headless", "--host", f"http://127.0.0.1:{args.port}",
            "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", args.run_time,
            "--stop-timeout", "10", "--csv", out / "locust", "--only-summary", "--loglevel", "WARNING",
        ]  # fmt: skip
        subprocess.run(locust_argv, cwd=db.ROOT, env=locust_env, check=False)  # noqa: S603 -- non-zero on errors
        ended = datetime.now(UTC)
        load_end = " / ".join(f"{a:.2f}" for a in os.getloadavg())
        peaks = worker_peaks_mb(server.pid)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_locust = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        cpu_web = sum(cpu_seconds(pid) - booted.get(pid, 0.0) for pid in worker_pids(server.pid))
        cpu_db = sum(cpu_seconds(pid) for pid in postgres_backends(url))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    times = server_times(out / "access.log")
    cpu_per_request = (cpu_web + cpu_db) * 1000 / max(len(times["Aggregated"]), 1)
    text = report(
        out,
        setting={
            "command": command, "commit": commit, "started": f"{started:%Y-%m-%d %H:%M}", "ended": f"{ended:%H:%M}",
            "customers": customers, "purchases": purchases, "workers": args.workers, "redis": bool(args.redis_url),
            "users": args.users, "run_time": args.run_time, "spawn_rate": args.spawn_rate, "wait": args.wait,
            "load_start": load_start, "load_end": load_end, "peaks": peaks, "cpu_web": cpu_web, "cpu_db": cpu_db,
            "cpu_locust": cpu_locust, "cpu_per_request": cpu_per_request, "capacity": 2000 / max(cpu_per_request, 1),
            "server": times,
        },
    )  # fmt: skip
    (out / "report.md").write_text(text)
    print(text)
    print(f"(written to {out.relative_to(db.ROOT)}/report.md, with locust's CSVs and gunicorn's logs)")


if __name__ == "__main__":
    main()
