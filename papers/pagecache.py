"""Readers' pages served from memory.

Anonymous readers all see the same page at a given address, so the rendered response is kept
under a key made of the address, the public revision and the release:

- the public revision (`PublicRevision`, a random token) changes, in the same transaction, with
  every change that readers can see: publishing, withdrawing, editing a published paper's
  address or a tag (`public_changed()` is called by the workflow and the admin). Entries of an
  old revision are never read again and age out; nothing has to be deleted, and every worker
  and server, reading the revision from the one database, moves to the new pages at the same
  moment. A database restored from a backup is back at its old token, whose pages show it;
- the release is a digest of the code, templates and static files' manifest, so a deployment
  that changes how pages look does not serve pages rendered by the old code.

Since a key can never name a stale page, each process keeps the pages it served last in its own
memory (a byte budget, least recently used first out), in front of the shared "pages" cache
(Redis) when one is configured: a hit copies nothing. Each process reads the revision at most
once per STANDPOINT_PAGE_REVISION_MS (a second; "micro-caching"), so a burst of readers costs the
database one query per process per second; a change shows at once in the process that made it,
and within that second everywhere else.

Signed-in users get their own pages (their header holds a sign-out form with a CSRF token), and
so does a visitor with a flash message waiting. Conditional requests are answered with 304 from
the stored validators.
"""

import functools
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import parse_http_date_safe

from papers.models import PublicRevision

KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control")

logger = logging.getLogger(__name__)


class LastRead:
    """The public revision as this process last read it, and when (gthread workers share it)."""

    def __init__(self):
        self.token = None
        self.at = 0.0

    def forget(self):
        self.token = None


last_read = LastRead()


def revision():
    """The public revision's token: read from the database at most once per
    STANDPOINT_PAGE_REVISION_MS in each process (0: at every request)."""
    now = time.monotonic()
    window = settings.STANDPOINT_PAGE_REVISION_MS / 1000
    if last_read.token is None or now - last_read.at >= window:
        token = PublicRevision.objects.filter(pk=1).values_list("token", flat=True).first()
        last_read.token, last_read.at = token or "", now
    return last_read.token


def public_changed():
    """Move the public revision, inside the caller's transaction: the cached pages of the old
    revision stop being served when, and only if, the change commits; at once in this process,
    within STANDPOINT_PAGE_REVISION_MS in the others."""
    token = secrets.token_hex(16)
    if not PublicRevision.objects.filter(pk=1).update(number=F("number") + 1, token=token):
        PublicRevision.objects.update_or_create(pk=1, defaults={"number": 1, "token": token})
    last_read.forget()
    transaction.on_commit(last_read.forget)  # a reader may have read the old one meanwhile


@functools.cache
def release():
    """A digest of what renders pages in this deployment: identical on every server that runs
    the same code, different after a release that changes any of it."""
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    for pattern in ("templates/**/*.html", "papers/**/*.py", "config/*.py"):
        for path in sorted(base.glob(pattern)):
            digest.update(str(path.relative_to(base)).encode())
            digest.update(path.read_bytes())
    digest.update(getattr(staticfiles_storage, "manifest_hash", "").encode())
    digest.update(f"{settings.SITE_URL}|{settings.SITE_NAME}".encode())
    return digest.hexdigest()[:16]


class Memory:
    """The pages this process served last, within a byte budget (gthread workers share it)."""

    def __init__(self, budget):
        self.budget = budget
        self.entries = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def set(self, key, entry):
        size = len(entry[0])
        if size > self.budget:
            return
        with self.lock:
            if key in self.entries:
                self.size -= len(self.entries.pop(key)[0])
            self.entries[key] = entry
            self.size += size
            while self.size > self.budget:
                self.size -= len(self.entries.popitem(last=False)[1][0])

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.size = 0


memory = Memory(settings.STANDPOINT_PAGE_MEMORY_BYTES)


def for_readers(view):
    """Serve anonymous GET and HEAD requests of `view` from memory (see the module's doc)."""

    @functools.wraps(view)
    def cached_view(request, *args, **kwargs):
        if not _shared(request):
            return view(request, *args, **kwargs)
        address = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"page:{release()}:{revision()}:{address}"
        entry = memory.get(key) or _from_shared_cache(key)
        if entry is not None:
            response = _replay(request, *entry)
        else:
            response = _render(view, key, request, *args, **kwargs)
        # Signed-in users get other pages at the same address: shared caches must tell them apart.
        patch_vary_headers(response, ["Cookie"])
        return response

    return cached_view


def _render(view, key, request, *args, **kwargs):
    response = view(request, *args, **kwargs)
    if getattr(response, "is_rendered", True):
        _store(key, request, response)
    else:  # a TemplateResponse (the sitemap's) renders after the view
        response.add_post_render_callback(lambda rendered: _store(key, request, rendered))
    return response


def _shared(request):
    """Whether the request gets the page every anonymous reader gets."""
    if request.method not in ("GET", "HEAD"):
        return False
    if not request.COOKIES:
        return True  # no session, so no user and no message: most readers, answered at once
    return not request.user.is_authenticated and not len(messages.get_messages(request))


def _from_shared_cache(key):
    if "pages" not in settings.CACHES:
        return None
    try:
        entry = caches["pages"].get(key)
    except Exception:  # a cache server that is down costs the cache, not the page
        logger.warning("The pages cache cannot be read.", exc_info=True)
        return None
    if entry is not None:
        memory.set(key, entry)
    return entry


def _store(key, request, response):
    # Only a complete page that sets nothing for this visitor alone (a CSRF cookie, say).
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    ):
        return
    entry = (response.content, {name: response[name] for name in KEPT_HEADERS if name in response})
    memory.set(key, entry)
    if "pages" in settings.CACHES:
        try:
            caches["pages"].set(key, entry)
        except Exception:
            logger.warning("The pages cache cannot be written.", exc_info=True)


def _replay(request, content, headers):
    """The stored page, or a 304 (or 412) when the request's validators say so."""
    last_modified = parse_http_date_safe(headers.get("Last-Modified", ""))
    response = get_conditional_response(
        request, etag=headers.get("ETag"), last_modified=last_modified
    )
    if response is None:
        response = HttpResponse(content)
    elif response.status_code != 304:
        return response
    for name, value in headers.items():
        if response.status_code == 200 or name != "Content-Type":
            response[name] = value
    return response
