"""What editors write: papers as ordered Markdown sections, with tagged claims (their sources:
papers.models.sources)."""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.text import slugify
from markdownx.models import MarkdownxField

from papers import rendering
from papers.models import subqueries
from papers.models.records import Version

PUBLIC_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes: l, o, 0, 1


def new_public_id():
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(10))


class TagQuerySet(models.QuerySet):
    def published(self):
        """Tags of live versions, each with the number of papers that carry it."""
        return self.filter(versions__in=Version.objects.listed()).annotate(
            paper_count=models.Count("versions", distinct=True)
        )


class Tag(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("papers:tag", args=[self.slug])


class PaperQuerySet(models.QuerySet):
    def published(self):
        """Papers with a live version: the only ones readers may see (withdrawn ones show
        their withdrawal notice at their own address, but are not listed)."""
        return self.filter(live_version__isnull=False)

    def listed(self):
        """Published and not withdrawn: what listings, tags and feeds show."""
        return self.published().filter(withdrawn_at__isnull=True)

    def for_listing(self):
        """Newest publication first, with what a paper card shows: not the version's text and
        snapshot, which are most of its bytes (and the snapshot a JSON document to decode)."""
        return (
            self.select_related("live_version")
            .defer("live_version__snapshot", "live_version__body_html", "live_version__toc")
            .prefetch_related("live_version__tags")
            .order_by("-live_version__published_at", "pk")
        )

    def under_review(self):
        """Papers in review, and any other paper with reviewers, most recently changed first,
        with their round's progress: reviewers assigned, reviews submitted, open concerns."""
        from papers.models.reviews import Assignment, Review  # reviews.py builds on this module

        assigned = Assignment.objects.filter(paper=models.OuterRef("pk"))
        submitted = Review.objects.filter(
            paper=models.OuterRef("pk"),
            round=models.OuterRef("round"),
            status=Review.Status.SUBMITTED,
        )
        concerns = Claim.objects.filter(paper=models.OuterRef("pk")).with_open_concern()
        return (
            self.filter(models.Q(stage=Paper.Stage.IN_REVIEW) | models.Exists(assigned))
            .annotate(
                assigned=subqueries.count(assigned),
                submitted=subqueries.count(submitted),
                open_concerns=subqueries.count(concerns),
            )
            .order_by("-updated_at", "pk")
        )

    def scheduled(self):
        """Approved papers given a publication time, soonest first: the scheduler's queue."""
        return self.filter(stage=Paper.Stage.APPROVED, publish_at__isnull=False).order_by(
            "publish_at", "pk"
        )


class Paper(models.Model):
    class Stage(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, unique=True)
    standfirst = MarkdownxField(
        blank=True, help_text="A short lede in Markdown, shown under the title."
    )
    standfirst_html = models.TextField(blank=True, editable=False)
    byline = models.CharField(
        max_length=300,
        blank=True,
        help_text="Authors as printed, e.g. “Ana Kask and Jonas Petraitis”.",
    )
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="authored_papers",
        help_text="Accounts of the authors, if they have one.",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="papers")
    stage = models.CharField(
        max_length=20, choices=Stage.choices, default=Stage.DRAFT, editable=False
    )
    round = models.PositiveIntegerField(
        "review round", default=0, editable=False, help_text="Each submission opens a new round."
    )
    live_version = models.OneToOneField(
        "Version", null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )
    publish_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When an approved paper is due to go out."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawal_reason = models.TextField(blank=True, editable=False)
    approved_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the reviewable content as approved; publishing requires a match.",
    )
    lock_version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Counts saves, so a stale edit can be refused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        permissions = [("publish_paper", "Can publish a paper")]

    def __str__(self):
        return self.title

    # Fields that only papers.workflow changes, always naming them in update_fields. A plain
    # save() of a Paper loaded earlier leaves them alone, so it cannot undo a publication.
    WORKFLOW_FIELDS = frozenset(
        {
            "stage",
            "round",
            "live_version",
            "publish_at",
            "withdrawn_at",
            "withdrawal_reason",
            "approved_fingerprint",
        }
    )

    def save(self, *args, **kwargs):
        self.standfirst_html = rendering.render_markdown(self.standfirst, anchor=self.notes_anchor)
        if not self._state.adding and kwargs.get("update_fields") is None and not args:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.WORKFLOW_FIELDS
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("papers:detail", args=[self.slug])

    @property
    def notes_anchor(self):
        """What the standfirst's footnote ids start with: listings show many standfirsts."""
        return f"{self.slug}-standfirst"


class Section(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(default=0)
    heading = models.CharField(max_length=300)
    anchor = models.SlugField(
        max_length=120,
        blank=True,
        help_text="The #fragment of this section's link. Set once from the heading and kept "
        "when the heading changes, so links keep working.",
    )
    body = MarkdownxField(blank=True)
    body_html = models.TextField(blank=True, editable=False)
    body_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "anchor"], name="section_anchor_unique_in_paper"
            )
        ]

    def __str__(self):
        return self.heading

    def save(self, *args, **kwargs):
        if not self.anchor:
            self.anchor = self.free_anchor()
        self.body_html = rendering.render_markdown(self.body, anchor=self.anchor)
        self.body_text = rendering.html_to_text(self.body_html)
        super().save(*args, **kwargs)

    def free_anchor(self):
        """The heading's slug, numbered if another section of the paper already has it."""
        base = slugify(self.heading)[:100] or "section"
        taken = set(
            Section.objects.filter(paper_id=self.paper_id, anchor__startswith=base)
            .exclude(pk=self.pk)
            .values_list("anchor", flat=True)
        )
        anchor, n = base, 2
        while anchor in taken:
            anchor, n = f"{base}-{n}", n + 1
        return anchor


class ClaimQuerySet(models.QuerySet):
    def with_open_concern(self):
        """Claims found disputed or lacking a source in their paper's current round, with a
        thread still unresolved: what holds up publishing (workflow._gate) and what the editors'
        dashboard counts."""
        from papers.models.reviews import Assessment, Comment  # reviews.py builds on this module

        concern = Assessment.objects.filter(
            claim=models.OuterRef("pk"),
            review__round=models.OuterRef("paper__round"),
            verdict__in=Assessment.CONCERNS,
        )
        unresolved = Comment.objects.filter(
            claim=models.OuterRef("pk"), parent=None, resolved_at=None
        )
        return self.filter(models.Exists(concern), models.Exists(unresolved))


class Claim(models.Model):
    class Kind(models.TextChoices):
        FACTUAL = "factual", "Factual"
        HISTORICAL = "historical", "Historical"
        CAUSAL = "causal", "Causal"
        PREDICTIVE = "predictive", "Predictive"
        NORMATIVE = "normative", "Normative"

        @property
        def meaning(self):
            return {
                "factual": "what is the case",
                "historical": "what happened",
                "causal": "what causes what",
                "predictive": "what will happen",
                "normative": "what ought to be",
            }[self.value]

    public_id = models.CharField(
        "ID",
        max_length=20,
        unique=True,
        default=new_public_id,
        editable=False,
        help_text="The claim's permanent public identifier, kept across edits and versions.",
    )
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="claims")
    section = models.ForeignKey(
        Section,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claims",
        help_text="A claim whose section is deleted is kept, orphaned, until re-anchored.",
    )
    quote = models.TextField(help_text="The exact words of the claim, as they read in the section.")
    prefix = models.CharField(
        max_length=200,
        blank=True,
        help_text="Words just before the quote; needed only when the quote appears more than once.",
    )
    suffix = models.CharField(
        max_length=200, blank=True, help_text="Words just after the quote, as for the prefix."
    )
    orphaned = models.BooleanField(
        default=False,
        editable=False,
        help_text="Its words could not be found after an edit of its section; the quote keeps "
        "the old text until an editor re-anchors or removes the claim.",
    )
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        help_text="Factual: what is the case. Historical: what happened. Causal: what causes "
        "what. Predictive: what will happen. Normative: what ought to be.",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="claims")
    sources = models.ManyToManyField(
        "papers.Source", blank=True, related_name="claims", through="papers.ClaimSource"
    )
    note = models.TextField(blank=True, help_text="Plain text shown to readers with the claim.")
    due = models.DateField(
        null=True,
        blank=True,
        help_text="Predictive claims only: the date by which the forecast should have come "
        "true. Once it passes, editors are asked to record how it turned out.",
    )
    resolves_when = models.TextField(
        "resolves when",
        blank=True,
        help_text="Predictive claims only: what will settle the forecast, in plain text.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["section__position", "pk"]

    def __str__(self):
        return self.quote if len(self.quote) <= 80 else self.quote[:79] + "…"

    @property
    def is_orphaned(self):
        return self.orphaned or self.section_id is None or self.locate() is None

    @property
    def text_hash(self):
        """A fingerprint of the claim's words: assessments keep it to notice a rewording."""
        return hashlib.sha256(" ".join(self.quote.split()).encode()).hexdigest()[:16]

    def locate(self):
        """The (start, end) of the quote in its section's text, or None if it is not there."""
        if self.section is None:
            return None
        return rendering.locate_quote(self.section.body_text, self.quote, self.prefix, self.suffix)

    # Forms turn this off for claims an editor left untouched while editing their section:
    # those are re-anchored after the save (papers.anchoring) instead of blocking it.
    check_quote = True

    def clean(self):
        if self.section_id and self.paper_id and self.section.paper_id != self.paper_id:
            raise ValidationError({"section": "The section belongs to another paper."})
        if not self.quote.strip():
            raise ValidationError({"quote": "The quote cannot be empty."})
        if self.kind != self.Kind.PREDICTIVE:
            wrong = {
                field: "Only a predictive claim can have this; make the claim predictive or "
                "leave it empty."
                for field in ("due", "resolves_when")
                if getattr(self, field)
            }
            if wrong:
                raise ValidationError(wrong)
        if self.section is not None and self.check_quote:
            try:
                rendering.find_quote(self.section.body_text, self.quote, self.prefix, self.suffix)
            except rendering.QuoteNotFound as error:
                raise ValidationError({"quote": str(error)}) from None
