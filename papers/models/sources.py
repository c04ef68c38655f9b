"""Sources cited for claims, and how each claim uses each of its sources (typed evidence)."""

from django.core.validators import URLValidator
from django.db import models


class Source(models.Model):
    """A cited document, and what the last check of its address found (papers/linkcheck.py)."""

    class LinkStatus(models.TextChoices):
        NOT_CHECKED = "not_checked", "not checked"
        OK = "ok", "ok"
        REDIRECTED = "redirected", "redirected"
        BROKEN = "broken", "broken"
        CHANGED = "changed", "changed since cited"
        REFUSED = "refused", "refused"

    title = models.CharField(max_length=300)
    url = models.URLField(
        "URL", max_length=500, blank=True, validators=[URLValidator(schemes=["http", "https"])]
    )
    publisher = models.CharField(max_length=200, blank=True)
    date = models.DateField(null=True, blank=True, help_text="When the source was published.")
    quote = models.TextField("quoted passage", blank=True)
    # Written by the link check only. The facts are about `checked_url`: when an editor changes
    # the address they no longer apply, and the next check starts afresh (a new baseline).
    link_status = models.CharField(
        "link status",
        max_length=20,
        choices=LinkStatus.choices,
        default=LinkStatus.NOT_CHECKED,
        help_text="What the last check found: refused means the address was not fetched (a "
        "private network address, or robots.txt asks us not to).",
    )
    link_code = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    link_note = models.CharField("link check note", max_length=300, blank=True)
    link_checked_at = models.DateTimeField("link last checked", null=True, blank=True)
    link_broken_since = models.DateTimeField("link broken since", null=True, blank=True)
    link_hash = models.CharField(
        "content hash",
        max_length=64,
        blank=True,
        help_text="SHA-256 of the page as first fetched: a later check that finds other content "
        "reports the source as changed.",
    )
    checked_url = models.URLField("checked URL", max_length=500, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return f"{self.title} ({self.publisher})" if self.publisher else self.title


class ClaimSource(models.Model):
    """A source cited for a claim, and how the claim uses it (typed citation, CiTO)."""

    class Use(models.TextChoices):
        SUPPORTS = "supports", "supports"
        DISPUTES = "disputes", "disputes"
        QUALIFIES = "qualifies", "qualifies"
        BACKGROUND = "background", "background"

        @property
        def cito(self):
            """The CiTO property (http://purl.org/spar/cito/) for this use."""
            return {
                "supports": "supports",
                "disputes": "disputes",
                "qualifies": "qualifies",
                "background": "citesAsBackground",
            }[self.value]

    claim = models.ForeignKey("papers.Claim", on_delete=models.CASCADE)
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    # Before uses were recorded, attaching a source meant it backs the claim: that stays the
    # default, for the rows that predate it and for sources added without saying.
    use = models.CharField(
        max_length=20,
        choices=Use.choices,
        default=Use.SUPPORTS,
        help_text="How the claim uses the source: it supports or disputes the claim, qualifies "
        "it, or gives background.",
    )

    class Meta:
        # The table Claim.sources always had; unique_together names its constraint as before.
        db_table = "papers_claim_sources"
        unique_together = [("claim", "source")]
        verbose_name = "source of a claim"

    def __str__(self):
        return f"{self.source} ({self.use})"
