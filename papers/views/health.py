"""/healthz, for load balancers and uptime checks: can this app server answer from its database?
No sign-in, nothing cached. A shared cache that does not answer is reported ("degraded") but
keeps the server in: readers' pages are then rendered instead of read from it, and sessions live
in the database, so taking every server out of the balancer would be the only real outage."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# A per-process cache is not a dependency other servers share: nothing to check.
LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@never_cache
@require_safe
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database is unavailable.", exc_info=True)
        return _unavailable("database unavailable")
    if settings.CACHES["default"]["BACKEND"] not in LOCAL_CACHES:
        try:
            cache.set("healthz", "ok", timeout=10)
            cache_answers = cache.get("healthz") == "ok"
        # Each backend has its own errors (redis.ConnectionError, OSError...): any is a failure.
        except Exception:
            logger.warning("Health check: the cache is unavailable.", exc_info=True)
            cache_answers = False
        if not cache_answers:
            return JsonResponse({"status": "degraded", "reason": "cache unavailable"})
    return JsonResponse({"status": "ok"})


def _unavailable(reason):
    return JsonResponse({"status": "unavailable", "reason": reason}, status=503)
