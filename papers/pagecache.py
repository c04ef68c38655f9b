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

A page is kept as the whole stack made it (its security headers and Content-Security-Policy
included) and in each coding a client has asked for (papers/compression.py), so that
papers/fastpath.py can answer a reader without a session before sessions, authentication, CSRF
or sign-in throttling run. Only readers without a session or a flash message waiting share
pages; signed-in users get their own (their header holds a sign-out form with a CSRF token).
"""

import functools
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.http.response import ResponseHeaders
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_http_date_safe

from papers import compression
from papers.models import PublicRevision

# Headers that belong to one response, not to the page: set again for each coding (lengths,
# coding, ETag, Vary), per request (HSTS, for HTTPS requests only), or never stored (cookies).
PER_RESPONSE = {
    "content-length",
    "content-encoding",
    "etag",
    "vary",
    "set-cookie",
    "strict-transport-security",
}
# Headers a 304 leaves out: it has no body.
BODY_HEADERS = {"content-type", "content-length", "content-encoding"}

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


def fresh_revision():
    """The public revision's token as this process last read it, if that was less than
    STANDPOINT_PAGE_REVISION_MS ago; else None (reading it again is revision()'s)."""
    window = settings.STANDPOINT_PAGE_REVISION_MS / 1000
    token, at = last_read.token, last_read.at
    if token is None or time.monotonic() - at >= window:
        return None
    return token


def public_changed():
    """Move the public revision, inside the caller's transaction: the cached pages of the old
    revision stop being served when, and only if, the change commits; at once in this process,
    within STANDPOINT_PAGE_REVISION_MS in the others."""
    token = secrets.token_hex(16)
    if not PublicRevision.objects.filter(pk=1).update(number=F("number") + 1, token=token):
        PublicRevision.objects.update_or_create(pk=1, defaults={"number": 1, "token": token})
    last_read.forget()
    transaction.on_commit(last_read.forget)  # a reader may have read the old one meanwhile
    # Similar claims are kept under the revision too; imported here, as that module keys its
    # entries with this one's.
    from papers import similarity

    similarity.warm_after_commit()


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
    """The pages this process served last, within a byte budget that counts every coding kept
    (gthread workers share it). A page set again is weighed again: it gains codings as clients
    ask for them."""

    def __init__(self, budget):
        self.budget = budget
        self.entries = OrderedDict()  # key: (page, its size when set)
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            self.entries.move_to_end(key)
            return entry[0]

    def set(self, key, page):
        size = page.size
        with self.lock:
            if key in self.entries:
                self.size -= self.entries.pop(key)[1]
            if size > self.budget:
                return
            self.entries[key] = (page, size)
            self.size += size
            while self.size > self.budget:
                self.size -= self.entries.popitem(last=False)[1][1]

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.size = 0


memory = Memory(settings.STANDPOINT_PAGE_MEMORY_BYTES)


@dataclass(frozen=True, slots=True)
class Variant:
    """The page in one coding: its bytes, and the headers of a 200 and of a 304 as Django's
    ResponseHeaders keeps them ({lowercased name: (name, value)}), checked once, when kept."""

    body: bytes
    headers: dict
    not_modified: dict
    etag: str | None


@dataclass(slots=True)
class Page:
    """A readers' page as kept: its Variant in each coding made so far. Identity is made when
    the page is kept; Brotli and gzip (for a page worth compressing) the first time a client
    asks for each (`variant`), so that no work goes into a coding nobody takes."""

    variants: dict
    last_modified: int | None
    codings: tuple  # the codings it can be sent in, best first (papers/compression.py)
    headers: list  # (name, value) common to every coding, for the variants still to make
    etag: str | None  # the identity's

    @property
    def size(self):
        return sum(len(variant.body) for variant in self.variants.values())


def for_readers(view):
    """Mark `view` as a readers' page: the same for every anonymous reader, so kept and served
    by papers/fastpath.py (see the module's doc)."""

    @functools.wraps(view)
    def readers_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        # Signed-in users get other pages at the same address: shared caches must tell them apart.
        patch_vary_headers(response, ["Cookie"])
        return response

    readers_view.readers_page = True
    return readers_view


def shared_key(request, *, token=None):
    """The key of the page this request asks for when every anonymous reader gets that page
    (a GET or HEAD of a `for_readers` view, without a session or a flash message), else None.
    Unless given the public revision's `token`, it reads it: a query at most once per
    STANDPOINT_PAGE_REVISION_MS."""
    if request.method not in ("GET", "HEAD") or not shareable(request):
        return None
    # The project's URLconf: no middleware has set another one for this request yet.
    if not _readers_path(settings.ROOT_URLCONF, request.path_info):
        return None
    address = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    request.public_revision = token or revision()
    return f"page:{release()}:{request.public_revision}:{address}"


def revision_of(request):
    """The public revision `request`'s page is made at: the one its key in the page cache
    names, or, for a page nobody else shares, the one read now."""
    token = getattr(request, "public_revision", None)
    if token is None:
        token = request.public_revision = revision()
    return token


def shareable(request):
    """Whether the request is from a reader without a session or a flash message waiting: one
    whose pages are every such reader's (here, and in shared caches: papers/cache_tags.py)."""
    if "HTTP_COOKIE" not in request.META:
        return True
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies


# What the URLconf says of each path this process was asked for: resolving costs more than
# answering from memory (papers' routes come after every other). Bounded: emptied when full.
_resolved = {}
RESOLVED_PATHS = 4096


def _readers_path(urlconf, path):
    known = _resolved.get((urlconf, path))
    if known is None:
        try:
            known = getattr(resolve(path, urlconf).func, "readers_page", False)
        except Resolver404:
            known = False
        if len(_resolved) >= RESOLVED_PATHS:
            _resolved.clear()
        _resolved[(urlconf, path)] = known
    return known


def lookup(key):
    """The page kept under `key`, from this process's memory or the shared cache, or None."""
    page = memory.get(key)
    if page is not None or "pages" not in settings.CACHES:
        return page
    try:
        page = caches["pages"].get(key)
    except Exception:  # a cache server that is down costs the cache, not the page
        logger.warning("The pages cache cannot be read.", exc_info=True)
        return None
    if isinstance(page, Page):  # anything else is an entry of another shape: a miss
        memory.set(key, page)
        return page
    return None


def keep(key, request, response):
    """Keep the final response under `key` and return it as a Page, when it is a page for every
    reader: a complete 200 to a GET (a HEAD's body may be left out) that sets nothing for this
    visitor alone (a cookie, a CSRF token, a CSP nonce) and that its view did not call private.
    Otherwise None."""
    cache_control = response.get("Cache-Control", "")
    if (
        request.method != "GET"
        or response.status_code != 200
        or response.streaming
        or response.cookies
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or "nonce-" in response.get("Content-Security-Policy", "")
        or "private" in cache_control
        or "no-store" in cache_control
        or response.has_header("Content-Encoding")
    ):
        return None
    page = _page(response)
    memory.set(key, page)
    _share(key, page)
    return page


def variant(key, page, coding):
    """The page kept under `key` in `coding` (one of `page.codings`), compressed the first time
    a client asks for it and kept with the page, here and in the shared cache."""
    found = page.variants.get(coding)
    if found is not None:
        return found
    identity = page.variants["identity"]
    body = compression.compress(identity.body, coding)
    if len(body) >= len(identity.body):  # the page is sent as it is
        page.codings = tuple(other for other in page.codings if other != coding)
        return identity
    # A strong ETag names these very bytes: other codings get its weak form (as nginx does),
    # which If-None-Match still matches and If-Match does not.
    etag = page.etag and "W/" + page.etag.removeprefix("W/")
    found = page.variants[coding] = _variant(page.headers, body, etag, coding)
    memory.set(key, page)
    _share(key, page)
    return found


def _share(key, page):
    if "pages" in settings.CACHES:
        try:
            caches["pages"].set(key, page)
        except Exception:
            logger.warning("The pages cache cannot be written.", exc_info=True)


def _page(response):
    patch_vary_headers(response, ["Accept-Encoding", "Cookie"])
    common = [(name, value) for name, value in response.items() if name.lower() not in PER_RESPONSE]
    common.append(("Vary", response["Vary"]))
    body, etag = response.content, response.get("ETag")
    return Page(
        variants={"identity": _variant(common, body, etag)},
        last_modified=parse_http_date_safe(response.get("Last-Modified", "")),
        codings=compression.codings(body, response["Content-Type"]),
        headers=common,
        etag=etag,
    )


def _variant(common, body, etag, coding="identity"):
    headers = [*common, ("Content-Length", str(len(body)))]
    if coding != "identity":
        headers.append(("Content-Encoding", coding))
    if etag:
        headers.append(("ETag", etag))
    checked = ResponseHeaders(dict(headers))  # a value Django would refuse raises here
    kept = {name.lower(): (name, checked[name]) for name, _ in headers}
    not_modified = {lower: pair for lower, pair in kept.items() if lower not in BODY_HEADERS}
    return Variant(body, kept, not_modified, etag)
