"""Telling a shared HTTP cache (Varnish, Cloudflare, CloudFront) which readers' pages to drop.

Every change readers can see names the pages it touches by their tags (papers/cache_tags.py):
publishing or correcting a paper, withdrawing it, moving it to a new address, editing or
deleting a tag. The tags are worked out inside the change's transaction; the purge itself is a
task (papers/tasks.py) queued when that transaction commits, retried with backoff when the cache
does not answer. A purge that fails never undoes the change: readers see it once a later attempt
gets through, or when the page's s-maxage runs out.

The purge waits STANDPOINT_PAGE_REVISION_MS after the commit: each app server trusts the public
revision it read for that long (papers/pagecache.py), so an earlier purge could be refilled by a
server still rendering the old page.

Backends follow wagtail.contrib.frontend_cache's shape: a class per service, chosen by
settings.STANDPOINT_PURGE["BACKEND"] (the STANDPOINT_PURGE_BACKEND environment variable), each
building its own HTTP requests (docs/deploy.md shows their configuration).
"""

import datetime
import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from papers import cache_tags
from papers.models import Paper, Tag, VersionClaim
from papers.tasks import enqueue_now, retried

logger = logging.getLogger(__name__)


class PurgeFailed(Exception):
    """The shared cache did not confirm the purge (an answer other than success, or none)."""


# --- What each change purges ------------------------------------------------------------------


def paper_published(paper, *, correction):
    """A new version of `paper`: its pages, its claims' and tags' pages, and the lists (the
    corrections log too for a correction)."""
    if not enabled():
        return
    lists = cache_tags.LISTS if correction else set(cache_tags.LISTS) - {cache_tags.CORRECTIONS}
    purge({*paper_keys(paper), *lists})


def paper_withdrawn(paper):
    """A withdrawal shows on every page of the paper and takes it out of every list."""
    if not enabled():
        return
    purge({*paper_keys(paper), *cache_tags.LISTS})


def paper_moved(paper, *, old_slug):
    """A published paper's new address: pages at the old one, and every page linking to it."""
    if not enabled():
        return
    purge({cache_tags.paper(old_slug), *paper_keys(paper), *cache_tags.LISTS})


def forecast_resolved(paper, public_id):
    """A forecast's outcome shows under the claim on every version's page, on the claim's
    page, in the claims index and on the forecasts page."""
    if not enabled():
        return
    keys = {cache_tags.paper(paper.slug), cache_tags.claim(public_id)}
    purge({*keys, cache_tags.CLAIMS, cache_tags.FORECASTS})


def tag_changed(tag, *, old_slug=None):
    """A tag's name or address edited, or the tag deleted (call before deleting it): its own
    page, every published paper and claim that shows it, and the lists."""
    if not enabled():
        return
    claims = list(VersionClaim.objects.filter(tags=tag).values_list("public_id", "paper__slug"))
    papers = Paper.objects.filter(versions__tags=tag).values_list("slug", flat=True).distinct()
    keys = {cache_tags.tag(tag.slug), *cache_tags.LISTS}
    if old_slug:
        keys.add(cache_tags.tag(old_slug))
    keys.update(cache_tags.paper(slug) for slug in {*papers, *(slug for _, slug in claims)})
    keys.update(cache_tags.claim(public_id) for public_id, _ in claims)
    purge(keys)


def paper_keys(paper):
    """The tags of every page that shows `paper`: its own address, each claim it ever published
    (a claim's page lists the paper's versions), and each tag a version or claim of it carries."""
    claims = VersionClaim.objects.filter(paper=paper).values_list("public_id", flat=True)
    tags = Tag.objects.filter(
        Q(versions__paper=paper) | Q(version_claims__paper=paper)
    ).values_list("slug", flat=True)
    return {
        cache_tags.paper(paper.slug),
        *(cache_tags.claim(public_id) for public_id in claims.distinct()),
        *(cache_tags.tag(slug) for slug in tags.distinct()),
    }


def enabled():
    """Whether a shared cache is configured: without one, no change looks for what to purge."""
    return bool(settings.STANDPOINT_PURGE["BACKEND"])


def purge(keys):
    """Purge `keys` through the configured backend once the current transaction commits
    (nothing without a backend)."""
    if not enabled() or not keys:
        return
    transaction.on_commit(lambda: _enqueue(sorted(keys)))


def _enqueue(keys):
    task = purge_pages
    if task.get_backend().supports_defer and settings.STANDPOINT_PAGE_REVISION_MS:
        wait = timedelta(milliseconds=settings.STANDPOINT_PAGE_REVISION_MS)
        task = task.using(run_after=timezone.now() + wait)
    enqueue_now(task, keys)


@retried(attempts=8, backoff=5)
def purge_pages(keys):
    """Drop every page tagged with one of `keys` from the shared cache."""
    backend().purge(keys)
    logger.info("purge.done", extra={"keys": len(keys)})


# --- Backends -----------------------------------------------------------------------------------


def backend_class():
    return BACKENDS[settings.STANDPOINT_PURGE["BACKEND"]]


def backend():
    return backend_class()(settings.STANDPOINT_PURGE)


def _send(request, timeout):
    """Send `request`; its answer's body, or PurgeFailed for anything but a 2xx."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as error:
        raise PurgeFailed(f"{request.full_url} answered {error.code}.") from error
    except (urllib.error.URLError, OSError) as error:
        raise PurgeFailed(f"{request.full_url} did not answer: {error}.") from error


def _batches(items, size):
    items = list(items)
    return [items[start : start + size] for start in range(0, len(items), size)]


class NoBackend:
    """No shared cache in front: nothing to purge."""

    tag_headers = ()

    def __init__(self, config):
        pass

    def purge(self, keys):
        pass


class Varnish:
    """Varnish with the xkey module: a PURGE request to each Varnish server naming the keys in
    its `xkey-purge` header (docs/deploy.md has the VCL that reads it)."""

    tag_headers = ()  # xkey, which every readers' page carries
    # Keys per request: well under Varnish's 8 KB limit on a request header.
    BATCH = 100

    def __init__(self, config):
        self.urls = config["VARNISH_URLS"]
        self.timeout = config["TIMEOUT"]

    def purge(self, keys):
        for url in self.urls:
            for batch in _batches(keys, self.BATCH):
                request = urllib.request.Request(
                    url, method="PURGE", headers={"xkey-purge": " ".join(batch)}
                )
                _send(request, self.timeout)


class Cloudflare:
    """Cloudflare's purge by cache tag (the `Cache-Tag` header, which Cloudflare strips before
    answering readers): POST /zones/<zone>/purge_cache with an API token."""

    tag_headers = (("Cache-Tag", ","),)
    # Tags per call: Cloudflare's limit.
    BATCH = 30

    def __init__(self, config):
        self.endpoint = (
            f"{config['CLOUDFLARE_API_URL'].rstrip('/')}/zones/"
            f"{quote(config['CLOUDFLARE_ZONE_ID'], safe='')}/purge_cache"
        )
        self.token = config["CLOUDFLARE_API_TOKEN"]
        self.timeout = config["TIMEOUT"]

    def purge(self, keys):
        for batch in _batches(keys, self.BATCH):
            request = urllib.request.Request(
                self.endpoint,
                method="POST",
                data=json.dumps({"tags": batch}).encode(),
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
            )
            try:
                answer = json.loads(_send(request, self.timeout))
            except ValueError as error:
                raise PurgeFailed("Cloudflare's answer is not JSON.") from error
            if not answer.get("success"):
                raise PurgeFailed(f"Cloudflare refused the purge: {answer.get('errors')}.")


class CloudFront:
    """CloudFront keeps no tags: each key becomes the addresses it names (one invalidation,
    signed with AWS Signature Version 4, per purge)."""

    tag_headers = ()
    API_VERSION = "2020-05-31"
    REGION = "us-east-1"  # CloudFront's API lives there whatever the distribution's reach

    def __init__(self, config):
        self.endpoint = (
            f"{config['CLOUDFRONT_API_URL'].rstrip('/')}/{self.API_VERSION}/distribution/"
            f"{quote(config['CLOUDFRONT_DISTRIBUTION_ID'], safe='')}/invalidation"
        )
        self.access_key = config["AWS_ACCESS_KEY_ID"]
        self.secret_key = config["AWS_SECRET_ACCESS_KEY"]
        self.session_token = config["AWS_SESSION_TOKEN"]
        self.timeout = config["TIMEOUT"]

    def purge(self, keys):
        paths = cache_tags.paths(keys)
        items = "".join(f"<Path>{escape(path)}</Path>" for path in paths)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/{self.API_VERSION}/">'
            f"<Paths><Quantity>{len(paths)}</Quantity><Items>{items}</Items></Paths>"
            f"<CallerReference>{secrets.token_hex(16)}</CallerReference>"
            "</InvalidationBatch>"
        ).encode()
        headers = {"Content-Type": "application/xml"}
        if self.session_token:
            headers["X-Amz-Security-Token"] = self.session_token
        headers.update(
            sign_v4(
                "POST",
                self.endpoint,
                headers,
                body,
                access_key=self.access_key,
                secret_key=self.secret_key,
                region=self.REGION,
                service="cloudfront",
            )
        )
        _send(
            urllib.request.Request(self.endpoint, method="POST", data=body, headers=headers),
            self.timeout,
        )


def sign_v4(method, url, headers, body, *, access_key, secret_key, region, service, now=None):
    """The headers that sign a request with AWS Signature Version 4: X-Amz-Date and
    Authorization (every header given, and Host, is signed)."""
    now = now or datetime.datetime.now(datetime.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    parts = urlsplit(url)
    payload = hashlib.sha256(body).hexdigest()
    added = {"X-Amz-Date": stamp}
    signed = {name.lower(): " ".join(str(value).split()) for name, value in headers.items()}
    signed.update({name.lower(): value for name, value in added.items()})
    signed["host"] = parts.netloc
    names = sorted(signed)
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    canonical = "\n".join(
        [
            method,
            quote(parts.path or "/", safe="/-_.~"),
            query,
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return added


BACKENDS = {"": NoBackend, "varnish": Varnish, "cloudflare": Cloudflare, "cloudfront": CloudFront}
