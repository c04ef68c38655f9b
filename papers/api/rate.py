"""How often one client may call the API: a fixed window per client address, counted in the
project's default cache (shared by every server with REDIS_URL, per process without it)."""

import threading
import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from ninja.throttling import BaseThrottle

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate):
    """ "120/min" as (120, 60); a malformed rate stops start-up (config/settings.py checks it)."""
    count, _, period = rate.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in PERIODS:
        raise ValueError(f"A rate is a number of requests per s, min, h or day; got {rate!r}")
    return int(count), PERIODS[period]


class ClientRate(BaseThrottle):
    """STANDPOINT_API_RATE requests per period from each client address, as the sign-in
    lockouts see it (REMOTE_ADDR unless proxies are declared), never a header a client could
    make up. The counter's increment is atomic in both caches, so threads and servers agree."""

    def __init__(self):
        self.last = threading.local()  # what wait() reports, for this thread's request

    def allow_request(self, request):
        limit, period = parse_rate(settings.STANDPOINT_API_RATE)
        now = time.time()
        window = int(now // period)
        key = f"api-rate:{get_client_ip_address(request) or ''}:{period}:{window}"
        cache.add(key, 0, period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, period + 1)
            count = 1
        self.last.wait = (window + 1) * period - now
        return count <= limit

    def wait(self):
        return getattr(self.last, "wait", None)
