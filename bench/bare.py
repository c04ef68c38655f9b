"""The benchmark's yardstick: a minimal Django project in one module, its own settings module,
URLconf and WSGI application (`DJANGO_SETTINGS_MODULE=bare gunicorn -c gunicorn.conf.py
bare:application`, with bench/ on PYTHONPATH).

No middleware, no apps, no database, no templates: `/?bytes=N` answers N bytes from memory,
which is the least Django can do to serve a page of that size. run.py serves it with the same
gunicorn settings as the project and measures it beside each page, so that "× bare" is the cost
of our own stack (middleware, page cache, views) and nothing else.
"""

import os

from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

# --- Settings ---------------------------------------------------------------------------------
DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "bench-bare-project-not-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bare"
INSTALLED_APPS = []
MIDDLEWARE = []
# As `startproject` makes it: Django's per-request signals close stale connections, which every
# project with a database pays for (this one is never opened).
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/nonexistent/bare.sqlite3"}
}
USE_TZ = True
LOGGING_CONFIG = None  # the project's JSON logging is not part of the yardstick

# --- The view ---------------------------------------------------------------------------------
PAYLOAD = b"<!doctype html><title>bare</title>" + b"x" * 10_000_000
_SIZED = {}  # one bytes object per size, so that no request copies its body


def bare_view(request):
    size = min(int(request.GET.get("bytes", "50000")), len(PAYLOAD))
    body = _SIZED.setdefault(size, PAYLOAD[:size])
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Length"] = str(size)  # as our pages have: the same framing on the wire
    return response


def healthz(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("", bare_view), path("healthz", healthz)]


# Last: Django imports this module as its settings while this line runs, and finds every setting
# above already defined.
application = get_wsgi_application()
