"""sitemap.xml: the home page, the lists, and every listed paper, claim and tag in use."""

from functools import cached_property
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, OuterRef, Q, Subquery
from django.urls import reverse

from papers.models import Paper, Version, VersionClaim
from papers.views.tags import tags_in_use


class SiteSitemap(Sitemap):
    """Absolute URLs from settings.SITE_URL rather than from the request's Host header."""

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme


class PageSitemap(SiteSitemap):
    def items(self):
        return [
            *("papers:home", "papers:list", "papers:claims", "papers:tags"),
            *("papers:corrections", "papers:forecasts"),
        ]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        return self.latest_publication

    @cached_property
    def latest_publication(self):
        return Version.objects.listed().aggregate(latest=Max("published_at"))["latest"]


class PaperSitemap(SiteSitemap):
    """Each listed paper at its own address, which shows the latest version."""

    def items(self):
        return (
            Paper.objects.listed()
            .select_related("live_version")
            .only("slug", "live_version__published_at")
            .order_by("pk")
        )

    def lastmod(self, paper):
        return paper.live_version.published_at


class ClaimSitemap(SiteSitemap):
    def items(self):
        return (
            VersionClaim.objects.listed()
            .select_related("version")
            .only("public_id", "version__published_at")
            .order_by("pk")
        )

    def lastmod(self, claim):
        return claim.version.published_at


class TagSitemap(SiteSitemap):
    """The tags /tags/ lists, each last changed by the newest listed version carrying it or
    one of its claims."""

    def items(self):
        latest = (
            Version.objects.listed()
            .filter(Q(tags=OuterRef("pk")) | Q(claims__tags=OuterRef("pk")))
            .order_by("-published_at")
            .values("published_at")[:1]
        )
        return tags_in_use().annotate(latest=Subquery(latest)).order_by("pk")

    def lastmod(self, tag):
        return tag.latest


SITEMAPS = {
    "pages": PageSitemap,
    "papers": PaperSitemap,
    "claims": ClaimSitemap,
    "tags": TagSitemap,
}
