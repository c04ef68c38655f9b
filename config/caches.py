"""The CACHES setting: Redis shared by every server when REDIS_URL is set, else each process's
own memory."""


def _redis(url, **extra):
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "standpoint",
        **extra,
        # A Redis that stops answering fails a request in a second or two instead of holding a
        # worker thread.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


def caches(redis_url, *, page_seconds):
    if redis_url:
        return {
            "default": _redis(redis_url),
            # Readers' rendered pages (papers/pagecache.py), shared by every server.
            "pages": _redis(redis_url, TIMEOUT=page_seconds),
            # Similar claims found (papers/similarity.py), shared by every server.
            "similar": _redis(redis_url),
        }
    # Readers' pages are then kept by each process in its own memory only (papers/pagecache.py).
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Similar claims found apart from the default cache, so that they never push out its rate
        # limits' counters (a per-process cache drops entries when full).
        "similar": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "similar",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        },
    }
