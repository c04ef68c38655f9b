"""Standpoint settings, read from the environment with strict helpers.

Defaults are safe for production (DEBUG off, secure cookies when DEBUG is off); `make run`
turns DEBUG on for local use. See the configuration table in README.md.
"""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.caches import caches
from config.environment import env_bool, env_int, env_list, env_str
from config.logging import json_logging

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-DEBUG"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("STANDPOINT_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("STANDPOINT_SITE_NAME", "Standpoint")

INSTALLED_APPS = [
    "papers.apps.EditorsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "markdownx",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "papers",
]

MIDDLEWARE = [
    # Outermost: every request timed for the operators' metrics (papers/metrics.py).
    "papers.metrics.RequestTimingMiddleware",
    # A read that failed for want of the database (the fast path's lookup included) runs again
    # once it is back (papers/outages.py).
    "papers.outages.RetryReadsMiddleware",
    # Then a stored readers' page is answered before the rest runs (papers/fastpath.py).
    "papers.fastpath.ReadersPagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # /api/ only: cross-origin reads, read-only methods (405 before CSRF), ETags (papers/api).
    "papers.api.edge.APIEdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it turns a locked-out sign-in (any view's) into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "papers.context_processors.site",
            ],
        },
    },
]

# Connections are kept between requests. Django's health check (a round trip before each
# request's first query) is left off: a read that finds its connection gone is tried again on a
# fresh one, and a write checks its connections itself first (papers/outages.py).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=False,
    )
}
# Behind PgBouncer in transaction pooling (docs/deploy.md) a server connection is ours for one
# transaction only: no connection kept between requests, no server-side cursors (a cursor
# outlives the transaction that opened it).
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", False)
if DATABASE_TRANSACTION_POOLING:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes first: it refuses a locked-out username and address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"  # reviewers go to /review/ instead (papers.views.accounts)
LOGOUT_REDIRECT_URL = "/"

# Password reset by email (papers.views.accounts): a link lasts an hour (Django's default is three
# days). At most this many requests an hour for one email address, and from one client address
# (as the sign-in lockouts see it); beyond them the page answers as usual and sends nothing. The
# counts live in the cache: shared by every server with REDIS_URL, per process without it.
PASSWORD_RESET_TIMEOUT = 3600
PASSWORD_RESETS_PER_ADDRESS = env_int("STANDPOINT_PASSWORD_RESETS_PER_ADDRESS", 3)
PASSWORD_RESETS_PER_CLIENT = env_int("STANDPOINT_PASSWORD_RESETS_PER_CLIENT", 10)

# Staff sessions last a working day, not Django's two weeks.
SESSION_COOKIE_AGE = int(timedelta(hours=8).total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A `__Host-` session cookie cannot be set or overwritten by a subdomain or over plain HTTP.
# Browsers drop such a cookie unless it is Secure, so it needs secure cookies. The CSRF cookie
# keeps its name: django-markdownx's preview script reads `csrftoken`.
if env_bool("DJANGO_HOST_PREFIXED_SESSION_COOKIE", False):
    if not SESSION_COOKIE_SECURE:
        raise ImproperlyConfigured(
            "DJANGO_HOST_PREFIXED_SESSION_COOKIE needs DJANGO_SECURE_COOKIES on."
        )
    SESSION_COOKIE_NAME = "__Host-sessionid"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page of ours uses, refused to every page and to anything they embed
# (papers/fastpath.py sets it on every response); FLoC's and Topics' interest tracking too.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in [
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
        "geolocation", "gyroscope", "hid", "idle-detection", "interest-cohort", "magnetometer",
        "microphone", "midi", "payment", "publickey-credentials-get", "screen-wake-lock",
        "serial", "usb", "xr-spatial-tracking",
    ]
)  # fmt: skip
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def add_static_security_headers(headers, path, url):
    """WhiteNoise answers before the clickjacking middleware runs; give static files the same
    headers as pages (SecurityMiddleware, above WhiteNoise, would add all but X-Frame-Options)."""
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = SECURE_REFERRER_POLICY
    headers["X-Frame-Options"] = X_FRAME_OPTIONS
    headers["Cross-Origin-Opener-Policy"] = SECURE_CROSS_ORIGIN_OPENER_POLICY


WHITENOISE_ADD_HEADERS_FUNCTION = add_static_security_headers

# Content-Security-Policy on every response that goes through Django (pages, admin, errors).
# Scripts and styles come only from our own static files: our templates, Django's admin and
# django-markdownx have no inline <script>, style="" or on…= attribute (their scripts set styles
# through the DOM, which CSP allows), so neither needs 'unsafe-inline'. Images may also come from
# any HTTPS address, as papers embed figures by URL in Markdown; not data: (the sanitiser drops it)
# nor plain HTTP (which browsers upgrade to HTTPS on an HTTPS page anyway).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "https:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Sign-in throttling (django-axes), on /accounts/login/ and /admin/login/ alike: five failures for
# one username from one address lock that pair out for 15 minutes, even with the right password
# after that; each further try during the lock starts the 15 minutes again. Another username from
# the same address, or the same username from elsewhere, is not affected. Superusers can lift a
# lock in the admin (Axes > Access attempts) or with `manage.py axes_reset_username`.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Sign-ins are already audit Events (papers.audit); axes keeps only the failures it counts.
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner on stderr: management commands print only their own lines.
AXES_VERBOSE = False
# The client's address is REMOTE_ADDR unless proxies are declared. Behind a reverse proxy, name the
# request.META key it fills (HTTP_X_FORWARDED_FOR) and how many proxies X-Forwarded-For lists
# after the client (0 behind a single nginx). With a count, django-ipware only accepts a chain of
# exactly that length, so an address the client made up and sent is not taken for its own.
AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(env_list("DJANGO_CLIENT_IP_HEADERS", ["REMOTE_ADDR"]))
AXES_IPWARE_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", None)
if AXES_IPWARE_META_PRECEDENCE_ORDER != ("REMOTE_ADDR",) and AXES_IPWARE_PROXY_COUNT is None:
    raise ImproperlyConfigured("DJANGO_CLIENT_IP_HEADERS needs DJANGO_PROXY_COUNT.")

EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Standpoint <standpoint@localhost>")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)

# django-markdownx: every preview goes through our one sanitising renderer, on a URL of our own
# that only editors reach (see papers.admin); markdownx's own views are not routed.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "papers.rendering.render_markdown"
MARKDOWNX_MARKDOWN_EXTENSIONS = []
MARKDOWNX_URLS_PATH = "/admin/markdown-preview/"
MARKDOWNX_UPLOAD_URLS_PATH = "/admin/markdown-upload/"
# Images editors upload through it (papers.uploads): larger files are refused before decoding.
STANDPOINT_UPLOAD_MAX_BYTES = env_int("STANDPOINT_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
# The longest section text (and live preview) accepted, in characters: a worker renders and
# re-anchors a section in well under a second at this size (about 30,000 words).
STANDPOINT_MAX_SECTION_CHARS = env_int("STANDPOINT_MAX_SECTION_CHARS", 200_000)

# ---------------------------------------------------------------------------------------------
# Several app servers: cache, sessions and logs (see docs/deploy.md).
# The database connection is set above: reused for DATABASE_CONN_MAX_AGE seconds, checked
# before a write. A read that finds the database gone waits up to DATABASE_OUTAGE_WAIT seconds
# for it before answering 503 (papers/outages.py).
DATABASE_OUTAGE_WAIT = env_int("DATABASE_OUTAGE_WAIT", 2)
# /metrics (Prometheus) answers a bearer token or the addresses and networks listed; with
# neither set it is a 404 for everyone.
STANDPOINT_METRICS_TOKEN = env_str("STANDPOINT_METRICS_TOKEN", "")
try:
    STANDPOINT_METRICS_ALLOW = [
        ipaddress.ip_network(item, strict=False) for item in env_list("STANDPOINT_METRICS_ALLOW")
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"STANDPOINT_METRICS_ALLOW: {error}") from None

REDIS_URL = env_str("REDIS_URL", "")
# Readers' pages (papers/pagecache.py) are replaced as soon as anything readers see changes; the
# timeout only bounds how long an entry of an old revision occupies Redis. Each process also keeps
# the pages it served last in its own memory, up to this many megabytes.
PAGE_CACHE_SECONDS = env_int("STANDPOINT_PAGE_CACHE_SECONDS", 3600)
STANDPOINT_PAGE_MEMORY_BYTES = env_int("STANDPOINT_PAGE_MEMORY_MB", 16) * 1024 * 1024
# How long a process trusts the public revision it last read before asking the database again:
# anonymous readers may see a page up to this old after a change made through another process
# (browsers may keep it a minute anyway), and pages from memory cost no query meanwhile. 0 asks
# at every request.
STANDPOINT_PAGE_REVISION_MS = env_int("STANDPOINT_PAGE_REVISION_MS", 1000)
# The source link check (papers/linkcheck.py): seconds it waits for a host to answer, seconds
# between two requests to one host, and whether private network addresses may be fetched (for
# tests and intranet sources; off, they are refused).
STANDPOINT_LINKCHECK_TIMEOUT = env_int("STANDPOINT_LINKCHECK_TIMEOUT", 10)
STANDPOINT_LINKCHECK_HOST_SECONDS = env_int("STANDPOINT_LINKCHECK_HOST_SECONDS", 2)
STANDPOINT_LINKCHECK_ALLOW_PRIVATE = env_bool("STANDPOINT_LINKCHECK_ALLOW_PRIVATE", False)
# Redis shared by every server when REDIS_URL is set, else each process's memory.
CACHES = caches(REDIS_URL, page_seconds=PAGE_CACHE_SECONDS)
# Sessions live in the database alone: one indexed read per signed-in request, and neither a
# worker's local cache nor a Redis outage can sign anyone in or out (Django's cached_db engine
# fails the request when Redis is down).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Logs: one JSON object per line on stderr (config/logging.py).
LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO").upper()
LOGGING = json_logging(LOG_LEVEL)

# Background tasks (django-tasks; papers/tasks.py). STANDPOINT_TASKS picks the queue: "database"
# (the default; `manage.py db_worker` runs them), "rq" (Redis at REDIS_URL, for several machines;
# `manage.py rqworker default --with-scheduler`), or "immediate" (each task runs inside the
# request that queued it, with no retries: for trying things out only).
TASK_QUEUE = env_str("STANDPOINT_TASKS", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASK_QUEUE not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"STANDPOINT_TASKS must be one of {', '.join(_TASK_BACKENDS)}; got {TASK_QUEUE!r}"
    )
if TASK_QUEUE == "rq" and not REDIS_URL:
    raise ImproperlyConfigured("STANDPOINT_TASKS=rq needs REDIS_URL.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_QUEUE], "QUEUES": ["default"]}}
if TASK_QUEUE == "rq":
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 15 * 60}}
# Periodic tasks (task path: seconds between runs), enqueued by `manage.py run_periodic`.
PERIODIC_TASKS = {
    "papers.scheduling.publish_due_papers": 60,
    "papers.scheduling.notify_due_forecasts": 60 * 60,
    "papers.link_status.check_cited_sources": 24 * 60 * 60,
    "papers.tasks.fail_abandoned_tasks": 10 * 60,
}
# A task RUNNING for longer than this was left by a worker that died: it is marked FAILED, for
# editors to see and run again (papers.tasks.fail_abandoned_tasks). Longer than any task runs.
STANDPOINT_TASK_ABANDONED_HOURS = env_int("STANDPOINT_TASK_ABANDONED_HOURS", 6)

# Shared HTTP caches in front (Varnish or a CDN): how long readers' pages may be kept by browsers
# and by shared caches (which are purged on every change readers see; papers/cache_tags.py), and
# how each change is purged (papers/purging.py, docs/deploy.md): STANDPOINT_PURGE_BACKEND is
# empty (no shared cache), "varnish", "cloudflare" or "cloudfront".
STANDPOINT_BROWSER_MAX_AGE = env_int("STANDPOINT_BROWSER_MAX_AGE", 60)
STANDPOINT_SHARED_MAX_AGE = env_int("STANDPOINT_SHARED_MAX_AGE", 24 * 60 * 60)
STANDPOINT_STALE_WHILE_REVALIDATE = env_int("STANDPOINT_STALE_WHILE_REVALIDATE", 60)
STANDPOINT_PURGE = {
    "BACKEND": env_str("STANDPOINT_PURGE_BACKEND", ""),
    "TIMEOUT": env_int("STANDPOINT_PURGE_TIMEOUT", 10),
    "VARNISH_URLS": env_list("STANDPOINT_VARNISH_URLS"),
    "CLOUDFLARE_API_URL": env_str("CLOUDFLARE_API_URL", "https://api.cloudflare.com/client/v4"),
    "CLOUDFLARE_ZONE_ID": env_str("CLOUDFLARE_ZONE_ID", ""),
    "CLOUDFLARE_API_TOKEN": env_str("CLOUDFLARE_API_TOKEN", ""),
    "CLOUDFRONT_API_URL": env_str("CLOUDFRONT_API_URL", "https://cloudfront.amazonaws.com"),
    "CLOUDFRONT_DISTRIBUTION_ID": env_str("CLOUDFRONT_DISTRIBUTION_ID", ""),
    "AWS_ACCESS_KEY_ID": env_str("AWS_ACCESS_KEY_ID", ""),
    "AWS_SECRET_ACCESS_KEY": env_str("AWS_SECRET_ACCESS_KEY", ""),
    "AWS_SESSION_TOKEN": env_str("AWS_SESSION_TOKEN", ""),
}
_PURGE_NEEDS = {
    "": [],
    "varnish": ["VARNISH_URLS"],
    "cloudflare": ["CLOUDFLARE_ZONE_ID", "CLOUDFLARE_API_TOKEN"],
    "cloudfront": ["CLOUDFRONT_DISTRIBUTION_ID", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
}
if STANDPOINT_PURGE["BACKEND"] not in _PURGE_NEEDS:
    raise ImproperlyConfigured(
        "STANDPOINT_PURGE_BACKEND must be empty or one of varnish, cloudflare, cloudfront; "
        f"got {STANDPOINT_PURGE['BACKEND']!r}"
    )
if _missing := [k for k in _PURGE_NEEDS[STANDPOINT_PURGE["BACKEND"]] if not STANDPOINT_PURGE[k]]:
    raise ImproperlyConfigured(
        f"STANDPOINT_PURGE_BACKEND={STANDPOINT_PURGE['BACKEND']} needs {', '.join(_missing)}."
    )

# The claims API (papers/api): requests each client address may make per period (s, min, h or
# day), counted in the default cache; beyond them 429 with Retry-After.
STANDPOINT_API_RATE = env_str("STANDPOINT_API_RATE", "120/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", STANDPOINT_API_RATE):
    raise ImproperlyConfigured(
        f"STANDPOINT_API_RATE must be requests/period, e.g. 120/min; got {STANDPOINT_API_RATE!r}"
    )
