"""Readers' pages answered from the page cache before the rest of the stack, and the headers every
response gets on its way out.

A reader without a session (most readers: no session cookie, no flash message waiting) asking
for a page kept in papers/pagecache.py gets its stored bytes in the coding their client prefers
(papers/compression.py), with the headers the whole stack gave it when it was rendered (CSP,
X-Frame-Options, nosniff, Referrer-Policy, COOP), HSTS on HTTPS, and a 304 when their validators
match: sessions, authentication, CSRF, sign-in throttling and CSP are not run for it. Anything
else (the first request for a page, signed-in users, a request the stack would redirect to
HTTPS) goes through the whole stack; a page for every reader that comes back is kept, and sent
exactly as the next request will get it.

Under WSGI (gunicorn, runserver) `StoredPages` wraps the whole application, as WhiteNoise can for
static files: while this process's reading of the public revision is fresh, a stored page is
answered before Django's request cycle (its signals, its handler, every middleware), which costs
more than sending the page. The middleware answers the rest, under ASGI too: the first request
of each second (reading the revision is a query, made inside the request cycle that opens and
closes connections), and anything the wrapper leaves to the stack.
"""

import time

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, HttpResponseBadRequest
from django.middleware.security import SecurityMiddleware
from django.utils.cache import get_conditional_response, patch_cache_control

from papers import cache_tags, compression, metrics, pagecache

# Signed-in work and drafts: never kept by a browser's or a proxy's cache, nor restored from a
# browser's history after signing out. Previews set this themselves too (papers/views/drafts.py).
PRIVATE_NAMESPACES = {"admin", "review"}
PRIVATE_VIEWS = {"papers:preview", "papers:shared"}
NUL_REFUSED = "An address cannot hold a NUL character."
CONDITIONAL_HEADERS = {
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
}


class ReadersPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Its process_response adds HSTS to a stored page replayed over HTTPS (the other headers
        # it sets, the stored page already has).
        self.security = SecurityMiddleware(get_response)

    def __call__(self, request):
        if _holds_nul(request):
            refused = HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")
            return self.finish(request, refused)
        key = pagecache.shared_key(request)
        if key is None:
            return self.finish(request, self.get_response(request))
        response = self.from_store(request, key)
        metrics.count_lookup(hit=response is not None)
        if response is not None:
            return response
        response = self.finish(request, self.get_response(request))
        page = pagecache.keep(key, request, response)
        if page is not None:
            return self.replay(request, key, page, request.is_secure()) or response
        return response

    def from_store(self, request, key):
        """The page stored under `key` as this request gets it, or None: none is stored, the
        stack must redirect the request to HTTPS, or a validator is one the stack answers.
        An address not in ALLOWED_HOSTS raises DisallowedHost (a 400), as in the stack."""
        secure = request.is_secure()
        if not secure and settings.SECURE_SSL_REDIRECT:
            return None
        request.get_host()
        page = pagecache.lookup(key)
        return None if page is None else self.replay(request, key, page, secure)

    def replay(self, request, key, page, secure):
        """The page kept under `key` in the client's coding, or a 304 when its validators say
        so; None for a failed If-Match or If-Unmodified-Since (the stack answers those). The
        stored headers are those `finish` gave the page."""
        meta = request.META
        coding = compression.choose(meta.get("HTTP_ACCEPT_ENCODING"), page.codings)
        variant = pagecache.variant(key, page, coding)
        response = None
        if not CONDITIONAL_HEADERS.isdisjoint(meta):
            response = get_conditional_response(
                request, etag=variant.etag, last_modified=page.last_modified
            )
        request.from_page_cache = True
        if response is None:
            response = HttpResponse(b"" if request.method == "HEAD" else variant.body)
            headers = variant.headers
        elif response.status_code == 304:
            headers = variant.not_modified
        else:
            return None
        # The stored headers were checked when the page was kept: they go in as Django keeps
        # them, instead of through a check per header at every request.
        response.headers._store.update(headers)
        return self.security.process_response(request, response) if secure else response

    def finish(self, request, response):
        """What every response gets, from whichever path it came."""
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        match = request.resolver_match
        if _private(match):
            patch_cache_control(response, private=True, no_store=True)
        elif cache_tags.page_tags(match) is not None:
            # A readers' page: kept by shared caches, by its tags, only when it is every
            # reader's (the headers are stored with it, so replays send them too).
            if pagecache.shareable(request):
                cache_tags.mark_shared(response, match)
            else:
                patch_cache_control(response, private=True)
        return response


class StoredPages:
    """WSGI application: `application`, with the stored readers' pages answered in front of it
    while this process's reading of the public revision is fresh (see the module's doc)."""

    def __init__(self, application):
        self.application = application
        self.pages = ReadersPagesMiddleware(application)  # for from_store and replay only

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        response = self.answer(environ)
        if response is None:
            return self.application(environ, start_response)
        start_response(f"{response.status_code} {response.reason_phrase}", [*response.items()])
        metrics.count_lookup(hit=True)  # a miss is the stack's to count
        metrics.observe_request(metrics.PAGE_CACHE_VIEW, environ["REQUEST_METHOD"], started)
        # The bytes alone: closing the response would send Django's request_finished signal
        # for a request cycle that never started.
        return [response.content]

    def answer(self, environ):
        token = pagecache.fresh_revision()
        if token is None:
            return None
        request = WSGIRequest(environ)
        if _holds_nul(request):
            return None
        key = pagecache.shared_key(request, token=token)
        if key is None:
            return None
        try:
            return self.pages.from_store(request, key)
        except DisallowedHost:  # the stack answers it (a 400, logged as Django logs it)
            return None


def _holds_nul(request):
    """A NUL in the address: no slug, id or filter holds one, and PostgreSQL refuses it in any
    query (a DataError, which would be a 500), so it is refused here, once, for every view."""
    return "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "")


def _private(match):
    if match is None:  # not resolved, or answered from the page cache
        return False
    if PRIVATE_NAMESPACES.intersection(match.namespaces):
        return True
    return match.view_name in PRIVATE_VIEWS
