"""The public corrections log: every correction and withdrawal, newest first (papers.corrections
builds its entries)."""

import hashlib

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import validate_slug
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, urlencode
from django.views.decorators.http import require_safe

from papers import corrections, pagecache
from papers.models import Paper, Tag

ENTRIES_PER_PAGE = 20


@require_safe
@pagecache.for_readers
def correction_list(request):
    """`?paper=slug` and `?tag=slug` narrow the log; an unknown (or unpublished) one is a 404."""
    papers = Paper.objects.published().select_related("live_version")
    paper = _chosen(papers.only("slug", "live_version__title"), request.GET.get("paper"))
    tag = _chosen(Tag.objects.all(), request.GET.get("tag"))
    log = corrections.log(paper=paper, tag=tag)
    page = Paginator(log, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    context = {
        "page": page,
        "entries": corrections.entries(rows),
        "paper": paper,
        "tag": tag,
        "filtered": paper is not None or tag is not None,
        "canonical_query": _query(paper=paper and paper.slug, tag=tag and tag.slug, page=page),
    }
    response = render(request, "papers/correction_list.html", context)
    if request.user.is_authenticated:
        # The header holds a sign-out form with this visitor's CSRF token: no shared copy.
        patch_cache_control(response, private=True)
        return response
    # The log changes only when an entry joins it, newer than all the others.
    newest = next(iter(rows), None) if page.number == 1 else log.first()
    return _conditional(request, response, newest[2] if newest else None)


def _chosen(queryset, slug):
    """The paper or tag a filter names, None without one; 404 for a slug that names nothing, or
    is no slug at all (checked first: a NUL byte is an error to PostgreSQL, not a miss)."""
    if not slug:
        return None
    try:
        validate_slug(slug)
    except ValidationError:
        raise Http404("No such paper or tag.") from None
    return get_object_or_404(queryset, slug=slug)


def _query(*, paper, tag, page):
    """The page's own address: its filters and page number, nothing else a link added."""
    params = {"paper": paper, "tag": tag, "page": page.number if page.number > 1 else None}
    query = urlencode({key: value for key, value in params.items() if value})
    return f"?{query}" if query else ""


def _conditional(request, response, last_modified):
    """The page with its validators, or a 304 when the reader's copy is still this page."""
    etag = f'W/"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    timestamp = int(last_modified.timestamp()) if last_modified else None
    conditional = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if conditional is not None and conditional.status_code != 304:
        return conditional  # a failed If-Match or If-Unmodified-Since
    response = conditional or response
    response.headers["ETag"] = etag
    if timestamp is not None:
        response.headers["Last-Modified"] = http_date(timestamp)
    return response
