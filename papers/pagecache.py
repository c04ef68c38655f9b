"""Readers' pages served from the cache.

Anonymous readers all see the same page at a given address, so the rendered response is kept in
the "pages" cache under a key made of the address, the public revision and the release:

- the public revision (`PublicRevision`) moves, in the same transaction, with every change that
  readers can see: publishing, withdrawing, editing a published paper or a tag
  (`public_changed()` is called by the workflow and the admin). Old entries are never read again
  and age out; nothing has to be deleted, and every server sharing the cache (and the database)
  moves to the new pages at the same moment;
- the release is a digest of the code, templates and static files' manifest, so a deployment
  that changes how pages look does not serve pages rendered by the old code.

Signed-in users get their own pages (their header holds a sign-out form with a CSRF token), and
so does a visitor with a flash message waiting. A hit costs one query (the revision) and answers
conditional requests with 304 from the stored validators.
"""

import functools
import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import caches
from django.db.models import F
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from papers.models import PublicRevision

KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control")

logger = logging.getLogger(__name__)


def revision():
    """The public revision now: one query."""
    return PublicRevision.objects.filter(pk=1).values_list("number", flat=True).first() or 0


def public_changed():
    """Move the public revision, inside the caller's transaction: the cached pages of the old
    revision stop being served when, and only if, the change commits."""
    if not PublicRevision.objects.filter(pk=1).update(number=F("number") + 1):
        PublicRevision.objects.get_or_create(pk=1, defaults={"number": 1})


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


def for_readers(view):
    """Serve anonymous GET and HEAD requests of `view` from the cache (see the module's doc)."""

    @functools.wraps(view)
    def cached_view(request, *args, **kwargs):
        if not _shared(request):
            return view(request, *args, **kwargs)
        address = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"page:{release()}:{revision()}:{address}"
        try:
            entry = caches["pages"].get(key)
        except Exception:  # a cache server that is down: render the page, as without a cache
            logger.warning("The pages cache cannot be read; rendering instead.", exc_info=True)
            return view(request, *args, **kwargs)
        if entry is not None:
            return _replay(request, *entry)
        response = view(request, *args, **kwargs)
        if getattr(response, "is_rendered", True):
            _store(key, request, response)
        else:  # a TemplateResponse (the sitemap's) renders after the view
            response.add_post_render_callback(lambda rendered: _store(key, request, rendered))
        return response

    return cached_view


def _store(key, request, response):
    # Only a complete page that sets nothing for this visitor alone (a CSRF cookie, say).
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    ):
        return
    headers = {name: response[name] for name in KEPT_HEADERS if name in response}
    try:
        caches["pages"].set(key, (response.content, headers))
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


def _shared(request):
    """Whether the request gets the page every anonymous reader gets."""
    return (
        request.method in ("GET", "HEAD")
        and not request.user.is_authenticated
        and not len(messages.get_messages(request))
    )
