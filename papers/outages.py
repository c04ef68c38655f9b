"""What a request meets while the database is away (a restart, a failover, a dropped connection).

A read is tried once more on a fresh connection: restarts and failovers last well under a second,
so the reader usually never notices. What still cannot be answered is a 503 with Retry-After and
the generic error page, never a 500. Writes are never tried again: a POST cut off mid-way may have
committed, so its sender is told to try again instead of having it done twice.

Connections are kept between requests, and a kept one may have been closed by the server since
(a restart, an idle timeout). Only writes check theirs before they start (a round trip): a read
that meets a closed one is tried again anyway, and every read saves the round trip (Django's own
health check, CONN_HEALTH_CHECKS, made it before every request's first query).
"""

import contextlib
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Seconds a client is asked to wait before trying again (the Retry-After of the 503).
RETRY_AFTER = 5


def is_outage(exc):
    """Whether an exception means the database could not be reached, rather than a bug."""
    return isinstance(exc, OperationalError | InterfaceError)


def mark(request):
    """Note on the request that it failed for want of the database (handler500 calls this)."""
    request.database_unavailable = True


def drop_broken_connections():
    """Close the kept connections that no longer work: the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            # close() forgets the connection even when closing it fails.
            with contextlib.suppress(DatabaseError):
                connection.close()


def wait_for_database():
    """Drop connections that no longer work and wait, up to DATABASE_OUTAGE_WAIT seconds, for a
    fresh one. True when the default database answers again."""
    drop_broken_connections()
    deadline = time.monotonic() + settings.DATABASE_OUTAGE_WAIT
    while True:
        try:
            connections["default"].ensure_connection()
            return True
        except DatabaseError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)


class RetryReadsMiddleware:
    """Runs a read that failed for want of the database once more, once it is back; starts a
    write on connections that work."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            drop_broken_connections()
        response = self.get_response(request)
        if (
            getattr(request, "database_unavailable", False)
            and request.method in SAFE_METHODS
            and wait_for_database()
        ):
            # The 503 is dropped unclosed: closing it would signal the request's end, and
            # Django would close the connections the second try is about to use.
            request.database_unavailable = False
            response = self.get_response(request)
        return response
