"""Django's PostgreSQL backend, starting the embedded server on the first connection.

Settings (crm/settings/base.py) name the data directory in PGDATA; the socket's
directory is only known once the server runs, so it is filled in here.
"""

from pathlib import Path

from django.db.backends.postgresql import base

from crm.lib.embedded_db import ensure_running


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params["host"] = str(ensure_running(Path(self.settings_dict["PGDATA"])))
        return params
