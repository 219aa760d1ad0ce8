"""Reads that may be served by a read replica (DATABASE_REPLICA_URL): dashboards, reports, chart numbers and the
scoring job's reads of purchases. Everything else, and every write, uses the primary ("default").

Only code that says so reads from the replica: a view or a job's read phase runs inside `reading_from_replica()`
(a context manager and a decorator; a context variable, so one request or task never leaks it into another).
Within it a read still goes to the primary when:
- no replica is configured (settings.CRM_READ_REPLICA is empty);
- a transaction is open on the primary: what it reads may be what it has just written, which the replica does
  not have yet (and a SELECT ... FOR UPDATE must lock the primary's rows).
A replica lags the primary by a moment, so a read of something the same job has just written (a scoring run's
fitted models, read by its chunks) is left outside `reading_from_replica()`.

Raw SQL does not pass through the router: it asks `read_alias()` for the connection to use.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_replica_wanted: ContextVar[bool] = ContextVar("crm_replica_wanted", default=False)


@contextmanager
def reading_from_replica() -> Iterator[None]:
    token = _replica_wanted.set(True)
    try:
        yield
    finally:
        _replica_wanted.reset(token)


def replica_reads[F: Callable](view: F) -> F:
    """A view whose reads the replica may serve (placed under the permission checks, which read the user)."""

    @functools.wraps(view)
    def wrapped(*args: object, **kwargs: object) -> object:
        with reading_from_replica():
            return view(*args, **kwargs)

    return wrapped


def read_alias() -> str:
    """The database this moment's reads use: the replica inside `reading_from_replica()` when there is one and no
    transaction is open on the primary, else the primary."""
    replica = settings.CRM_READ_REPLICA
    if replica and _replica_wanted.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return replica
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: reads as `read_alias()` says, writes and migrations on the primary only (a
    replica gets its tables and rows by streaming from it)."""

    def db_for_read(self, model: type, **hints: object) -> str:
        return read_alias()

    def db_for_write(self, model: type, **hints: object) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: object, obj2: object, **hints: object) -> bool:
        return True  # one set of data, wherever an object was read from

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: object) -> bool:
        return db == DEFAULT_DB_ALIAS
