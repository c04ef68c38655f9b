"""The Atom feed of published versions: every publication and correction, newest first."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks

from papers import rendering
from papers.models import Paper, Version


class VersionFeed(Feed):
    """Links are absolute from settings.SITE_URL, so they do not depend on the Host header."""

    feed_type = Atom1Feed
    subtitle = "Each published version of a position paper, corrections included."

    def title(self):
        return f"{settings.SITE_NAME}: published papers"

    def author_name(self):
        return settings.SITE_NAME

    def link(self):
        return settings.SITE_URL + reverse("papers:list")

    def feed_url(self):
        return settings.SITE_URL + reverse("feed")

    def items(self):
        return (
            Version.objects.filter(paper__in=Paper.objects.listed())
            .select_related("paper")
            .prefetch_related("tags")
            .defer("snapshot", "body_html", "toc")
            .order_by("-published_at", "-pk")[:30]
        )

    def item_title(self, version):
        return f"Correction: {version.title}" if version.is_correction else version.title

    def item_link(self, version):
        return settings.SITE_URL + version.get_absolute_url()

    def item_description(self, version):
        """The change note, or for a first edition without one the standfirst, as escaped
        HTML (Atom summaries are HTML)."""
        text = version.note or rendering.html_to_text(version.standfirst_html)
        return linebreaks(text, autoescape=True)

    def item_author_name(self, version):
        return version.byline or settings.SITE_NAME

    def item_pubdate(self, version):
        return version.published_at

    def item_updateddate(self, version):
        return version.published_at

    def item_categories(self, version):
        categories = [tag.name for tag in version.tags.all()]
        return ["Correction", *categories] if version.is_correction else categories
