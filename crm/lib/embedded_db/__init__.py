"""The embedded Postgres (PyPI `pgserver`), used when no DATABASE_URL is set.

It keeps its data under `.pgdata/` in the project, so `make run` works on a
laptop with nothing installed but Python. pgserver has no contrib extensions
(no pg_trgm); code that wants them checks `crm.lib.db.has_extension`.

The server is started by the first connection (the database backend in `base.py`),
not by loading the settings, so a command that needs no database starts nothing.
It then outlives that process (runserver's autoreloader, the scheduler and a second
manage.py share one server) until `stop` (`make stop`, or `make run` on its way out).
"""

import logging
import os
from pathlib import Path

# pgserver logs from an atexit hook, after pytest has closed the streams.
logging.getLogger("pgserver").setLevel(logging.WARNING)


def _postmaster(data_dir: Path):
    """The running server's postmaster.pid, or None when no server runs on this directory."""
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    return info if info is not None and info.is_running() and info.status == "ready" else None


def ensure_running(data_dir: Path) -> Path:
    """Start the server on `data_dir` unless it runs already; return the directory of its socket."""
    data_dir = data_dir.expanduser().resolve()
    if (info := _postmaster(data_dir)) is not None:
        return info.socket_dir
    from pgserver import postgres_server

    # A handle kept from before a `make stop` would say "running": start afresh.
    postgres_server.PostgresServer._instances.pop(data_dir, None)
    # cleanup_mode=None: the server outlives this process (see the module's docstring).
    server = postgres_server.get_server(data_dir, cleanup_mode=None)
    return server.get_postmaster_info().socket_dir


def stop(data_dir: Path) -> bool:
    """Stop the server on `data_dir`; False when none was running."""
    data_dir = data_dir.expanduser().resolve()
    if _postmaster(data_dir) is None:
        return False
    from pgserver._commands import pg_ctl

    # As root pgserver runs the server as its own user, and pg_ctl refuses to run as root.
    user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True
