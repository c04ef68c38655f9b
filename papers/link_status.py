"""What the link check found, recorded on each cited source, and what readers are told of it.

`check_sources` checks every address cited by a claim readers see (the check_sources command and
the periodic task run it); each source keeps its status, HTTP code, last check, since when it is
broken and the hash of the page first fetched (Source.LinkStatus). Versions are immutable, but
links are not: a claim note's "link checked on" or "link broken since" is added to the stored
body as the page is served, and a run that changes what readers are told moves the public
revision and purges those papers' and claims' pages from a shared cache, so they are rendered
afresh.
"""

import datetime
import functools
import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from papers import cache_tags, pagecache, purging, rendering
from papers.linkcheck import Checker
from papers.models import ClaimSource, Source, VersionClaim
from papers.tasks import retried


def cited_sources():
    """Sources with an address, cited by a claim that readers see in a published version."""
    published = VersionClaim.objects.listed().values("public_id")
    return (
        Source.objects.filter(claimsource__claim__public_id__in=published)
        .exclude(url="")
        .distinct()
        .order_by("pk")
    )


def check_sources(sources=None, *, checker=None, progress=None):
    """Check each address of `sources` (by default every cited one) once, record the outcome
    on every source with that address, and refresh readers' pages if what they show changed.
    `progress(done, total, url, status)` is called after each address. Returns the count of
    sources in each status."""
    sources = list(cited_sources() if sources is None else sources)
    checker = checker or Checker()
    by_url = {}
    for source in sources:
        by_url.setdefault(source.url, []).append(source)
    counts = dict.fromkeys(Source.LinkStatus.values, 0)
    shown_changed = set()
    try:
        for done, url in enumerate(_round_robin(by_url), start=1):
            outcome, now = checker.check(url), timezone.now()
            for source in by_url[url]:
                before = shown(source)
                record(source, outcome, now)
                if shown(source) != before:
                    shown_changed.add(source.pk)
                counts[source.link_status] += 1
            Source.objects.bulk_update(by_url[url], RECORDED_FIELDS)
            if progress:
                progress(done, len(by_url), url, by_url[url][0].link_status)
    finally:
        if shown_changed:
            with transaction.atomic():
                pagecache.public_changed()
                purging.purge(_page_keys(shown_changed))
    return counts


def _page_keys(source_ids):
    """The shared cache's tags of the pages that show these sources: their papers' pages and
    their claims' pages."""
    if not purging.enabled():
        return set()
    citing = ClaimSource.objects.filter(source__in=source_ids).values_list(
        "claim__public_id", "claim__paper__slug"
    )
    keys = set()
    for public_id, slug in citing:
        keys.update((cache_tags.claim(public_id), cache_tags.paper(slug)))
    return keys


@retried(attempts=2, backoff=600)
def check_cited_sources():
    """The periodic link check (settings.PERIODIC_TASKS): every cited address, as the
    check_sources command does; returns the count of sources in each status. Running twice at
    once only checks twice: each source takes the last outcome."""
    return check_sources()


RECORDED_FIELDS = [
    "link_status",
    "link_code",
    "link_note",
    "link_checked_at",
    "link_broken_since",
    "link_hash",
    "checked_url",
]


def record(source, outcome, now):
    """Set `source`'s link fields from `outcome`. The first page fetched is the baseline its
    later pages are compared with; a new address starts afresh."""
    Status = Source.LinkStatus
    same_url = source.checked_url == source.url
    was_broken = same_url and source.link_status == Status.BROKEN
    baseline = source.link_hash if same_url else ""
    source.link_code, source.link_note = outcome.code, outcome.note
    if outcome.kind == "refused":
        source.link_status = Status.REFUSED
    elif outcome.body_hash is None:
        source.link_status = Status.BROKEN
    elif baseline and outcome.body_hash != baseline:
        source.link_status = Status.CHANGED
        source.link_note = "the page differs from the one first checked"
    elif outcome.redirected:
        source.link_status = Status.REDIRECTED
        source.link_note = f"now at {outcome.final_url}"[:300]
    else:
        source.link_status = Status.OK
    if outcome.body_hash is not None:
        source.link_hash = baseline or outcome.body_hash
    elif not same_url:
        source.link_hash = ""
    broken = source.link_status == Status.BROKEN
    source.link_broken_since = (source.link_broken_since if was_broken else now) if broken else None
    source.link_checked_at, source.checked_url = now, source.url


def shown(source):
    """What readers are told of a source's link (see LinkCheck): its status as they see it
    and the date they read."""
    check = LinkCheck.of(source)
    return check and (check.phrase, check.date)


def _round_robin(by_url):
    """Addresses in an order that alternates hosts, so that pacing one host seldom waits."""
    hosts = {}
    for url in by_url:
        hosts.setdefault(urlsplit(url).hostname, []).append(url)
    queues = list(hosts.values())
    while queues:
        for queue in queues:
            yield queue.pop(0)
        queues = [queue for queue in queues if queue]


@dataclass(frozen=True)
class LinkCheck:
    """What readers are told of one cited address."""

    phrase: str
    changed_at: datetime.datetime  # when what it says became true: the check, or the breakage
    status: str
    date: datetime.date  # changed_at's day where the site is

    @classmethod
    def of(cls, source):
        """None for a source never checked, or whose fetch was refused (nothing to tell)."""
        Status = Source.LinkStatus
        if source.link_status in (Status.NOT_CHECKED, Status.REFUSED) or not source.checked_url:
            return None
        if source.link_status == Status.BROKEN:
            phrase, at = "link broken since", source.link_broken_since
        elif source.link_status == Status.CHANGED:
            phrase, at = "page changed since cited; link checked on", source.link_checked_at
        else:
            phrase, at = "link checked on", source.link_checked_at
        return cls(phrase, at, source.link_status, timezone.localdate(at))

    def html(self):
        return _note_html(self.status, self.phrase, self.date)


@functools.lru_cache(maxsize=256)
def _note_html(status, phrase, date):
    # A long paper's hundreds of notes share a few dates: each is formatted once.
    return format_html(
        ' <small class="link-check link-check--{}">({} <time datetime="{}">{}</time>)</small>',
        status,
        phrase,
        date.isoformat(),
        date_format(date, "j F Y"),
    )


def checks_for(urls):
    """{address: LinkCheck} for the addresses among `urls` a check has something to say about,
    in one query (the latest check of each wins)."""
    urls = {url for url in urls if url}
    if not urls:
        return {}
    fields = ["link_status", "link_checked_at", "link_broken_since", "checked_url"]
    rows = (
        Source.objects.filter(checked_url__in=urls, link_checked_at__isnull=False)
        .only(*fields)
        .order_by("link_checked_at", "pk")
    )
    checks = {row.checked_url: LinkCheck.of(row) for row in rows}
    return {url: check for url, check in checks.items() if check}


def cited_urls(document):
    """The source addresses a version's document cites."""
    return {
        source.get("url", "")
        for claim in document.get("claims", [])
        for source in claim.get("sources", [])
    }


# A version's claim notes, and the web links in them: a source's (papers/_version_body.html),
# whose address is what a check says something of, besides links to the claim's page and back.
NOTES = re.compile(r'<aside class="claim-notes".*?</aside>', re.S)
WEB_LINK = re.compile(r'(<a (?:class="source__title" )?href="(https?://[^"]*)"[^>]*>.*?</a>)', re.S)


def with_checks(body_html, checks):
    """A version's stored body with what the link check says after each cited source's link.
    The body is immutable, but links change: the note is added as the page is served."""
    if not checks:
        return rendering.stored_html(body_html)

    def annotate(link):
        check = checks.get(html.unescape(link[2]))
        return link[1] + check.html() if check else link[1]

    def annotate_notes(notes):
        return WEB_LINK.sub(annotate, notes[0])

    return rendering.stored_html(NOTES.sub(annotate_notes, body_html or ""))
