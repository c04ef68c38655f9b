"""Sources cited for claims, and how each claim uses each of its sources (typed evidence)."""

from django.core.validators import URLValidator
from django.db import models


class Source(models.Model):
    title = models.CharField(max_length=300)
    url = models.URLField(
        "URL", max_length=500, blank=True, validators=[URLValidator(schemes=["http", "https"])]
    )
    publisher = models.CharField(max_length=200, blank=True)
    date = models.DateField(null=True, blank=True, help_text="When the source was published.")
    quote = models.TextField("quoted passage", blank=True)

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
