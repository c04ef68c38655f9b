"""The Atom feeds: published versions (every publication and correction, newest first), and
the corrections log."""

import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join, linebreaks

from papers import corrections, rendering
from papers.models import Paper, Version

# What XML 1.0 cannot carry, even escaped; user text may hold it (a pasted control character).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_text(value):
    if isinstance(value, str):
        return NOT_XML.sub("", value)
    if isinstance(value, (list, tuple)):
        return [_xml_text(part) for part in value]
    return value


class XmlSafeAtom(Atom1Feed):
    """Atom entries without the characters XML cannot carry: Django refuses the whole feed for
    one, so a title with a pasted control character would take every reader's feed down."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {key: _xml_text(value) for key, value in item.items()})


class AtomWithContent(XmlSafeAtom):
    """Atom entries with a <content> besides the <summary>, given as the item's `content`."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", _xml_text(item["content"]), {"type": "html"})


class VersionFeed(Feed):
    """Links are absolute from settings.SITE_URL, so they do not depend on the Host header."""

    feed_type = XmlSafeAtom
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
        """What the paper argues (its standfirst), after a correction's public note; escaped
        HTML, as Atom summaries are HTML. Other change notes ("First publication.") are for
        the version history, not for a reader deciding whether to open the paper."""
        lede = rendering.html_to_text(version.standfirst_html)
        standfirst = linebreaks(lede, autoescape=True) if lede else ""
        if version.is_correction and version.note:
            return linebreaks(version.note, autoescape=True) + standfirst
        return standfirst

    def item_author_name(self, version):
        return version.byline or settings.SITE_NAME

    def item_pubdate(self, version):
        return version.published_at

    def item_updateddate(self, version):
        return version.published_at

    def item_categories(self, version):
        categories = [tag.name for tag in version.tags.all()]
        return ["Correction", *categories] if version.is_correction else categories


class CorrectionFeed(Feed):
    """The corrections log (papers.corrections) as a feed: the public note as each entry's
    summary, the claims a correction changed as its content."""

    feed_type = AtomWithContent
    subtitle = "Corrections and withdrawals of published position papers."
    ENTRIES = 30

    def title(self):
        return f"{settings.SITE_NAME}: corrections and withdrawals"

    def author_name(self):
        return settings.SITE_NAME

    def link(self):
        return settings.SITE_URL + reverse("papers:corrections")

    def feed_url(self):
        return settings.SITE_URL + reverse("corrections-feed")

    def items(self):
        return corrections.entries(corrections.log()[: self.ENTRIES])

    def item_title(self, entry):
        if entry.is_correction:
            return f"Correction to version {entry.previous}: {entry.title}"
        return f"Withdrawn: {entry.title}"

    def item_link(self, entry):
        return settings.SITE_URL + entry.url

    def item_description(self, entry):
        return linebreaks(entry.note, autoescape=True)

    def item_extra_kwargs(self, entry):
        return {"content": self._changed_claims(entry)} if entry.is_correction else {}

    def item_author_name(self, entry):
        return settings.SITE_NAME

    def item_pubdate(self, entry):
        return entry.when

    def item_updateddate(self, entry):
        return entry.when

    def item_categories(self, entry):
        return [
            "Correction" if entry.is_correction else "Withdrawal",
            *(t.name for t in entry.tags),
        ]

    @staticmethod
    def _changed_claims(entry):
        """Escaped HTML: what changed in each claim, and a link to the whole comparison."""
        diff_link = format_html(
            '<p><a href="{}">What changed from version {} to version {}</a></p>',
            settings.SITE_URL + entry.diff_url,
            entry.previous,
            entry.version.number,
        )
        if not entry.claims:
            return format_html("<p>No claim changed.</p>{}", diff_link)
        claims = format_html_join("", "<li>{}: {}{}</li>", map(_claim_change, entry.claims))
        more = format_html("<p>And {} more.</p>", entry.more_claims) if entry.more_claims else ""
        summary = ", ".join(entry.summary).capitalize()
        return format_html("<p>{}.</p><ul>{}</ul>{}{}", summary, claims, more, diff_link)


WORD_CHANGES = {"insert": "<ins>{}</ins>", "delete": "<del>{}</del>"}


def _claim_change(item):
    """A changed claim for CorrectionFeed: its changes, its words (removed ones in <del>, added
    ones in <ins>) and its review status before and after if that changed."""
    words = next((tokens for label, tokens in item["parts"] if label == "Words"), [])
    words = format_html_join(
        " ", "{}", ((format_html(WORD_CHANGES.get(op, "{}"), text),) for op, text in words)
    )
    review = item["review"]
    status = (
        format_html(
            " (review status: was “{}”, now “{}”)", review["old"]["label"], review["new"]["label"]
        )
        if review
        else ""
    )
    return ", ".join(item["changes"]).capitalize(), words, status
