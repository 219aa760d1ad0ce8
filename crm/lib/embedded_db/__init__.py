"""Start the embedded Postgres (PyPI `pgserver`) when no DATABASE_URL is set.

It keeps its data under `.pgdata/` in the project, so `make run` works on a
laptop with nothing installed but Python. pgserver has no contrib extensions
(no pg_trgm); code that wants them checks `crm.lib.db.has_extension`.
"""

import logging
from pathlib import Path

# pgserver logs from an atexit hook, after pytest has closed the streams.
logging.getLogger("pgserver").setLevel(logging.WARNING)


def embedded_database_url(data_dir: Path) -> str:
    import pgserver

    # cleanup_mode=None: the server outlives this process, so runserver's
    # autoreloader and a second manage.py share one server instead of racing.
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    return server.get_uri()
