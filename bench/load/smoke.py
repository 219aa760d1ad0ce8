"""Every task of the locustfile once, for one user of each class, against a running server: a quick check that
the load test asks for pages that answer as it expects, before spending minutes on it.

    CRM_LOAD_DATA=bench/out/load-.../data.json .venv/bin/python -m bench.load.smoke --host http://127.0.0.1:8765

Prints one line per request and exits 1 if any failed. bench/tests/test_load_smoke.py runs it against the
test server.
"""

import argparse
import sys

from locust.env import Environment

from bench.load import locustfile

USERS = [locustfile.ServiceUser, locustfile.SalesUser, locustfile.MarketingUser, locustfile.ApiClientUser]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", required=True)
    args = parser.parse_args()
    env = Environment(user_classes=USERS, host=args.host)
    failed = []

    def on_request(request_type, name, response_time, exception, **kwargs) -> None:  # noqa: ANN001
        print(f"{'FAIL' if exception else 'ok  '} {request_type} {name} {response_time:.0f} ms {exception or ''}")
        if exception:
            failed.append(name)

    env.events.request.add_listener(on_request)
    for cls in USERS:
        cls.host = args.host  # locust's runner would set it from --host
        user = cls(env)
        user.on_start()
        for task in dict.fromkeys(cls.tasks):  # a task is listed once per unit of its weight
            task(user)
    print(f"{len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
