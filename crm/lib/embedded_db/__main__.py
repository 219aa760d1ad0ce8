"""`python -m crm.lib.embedded_db stop`: stop the embedded Postgres the settings use (`make stop`)."""

import argparse
import os
import sys
from pathlib import Path

from crm.lib.embedded_db import stop


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.lib.embedded_db")
    parser.add_argument("action", choices=["stop"])
    parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")
    from django.conf import settings

    data_dir = settings.DATABASES["default"].get("PGDATA")
    if data_dir is None:
        print("DATABASE_URL is set: no embedded Postgres in use.")
        return 0
    print(f"Stopped the embedded Postgres ({data_dir})." if stop(Path(data_dir)) else "No embedded Postgres running.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
