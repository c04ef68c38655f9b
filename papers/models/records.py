"""What publishing leaves behind: immutable versions and the append-only event log."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from papers import rendering


class ImmutableQuerySet(models.QuerySet):
    """Bulk writes would bypass the model's guard, so they are refused too."""

    def update(self, **kwargs):
        raise Immutable(f"{self.model._meta.verbose_name_plural} cannot be changed.")

    def delete(self):
        raise Immutable(f"{self.model._meta.verbose_name_plural} cannot be deleted.")


class Immutable(Exception):
    pass


class VersionQuerySet(ImmutableQuerySet):
    def live(self):
        """The version each published paper shows its readers now."""
        return self.filter(paper__live_version=models.F("pk"))

    def listed(self):
        """Live versions of papers that are not withdrawn: what listings show."""
        return self.live().filter(paper__withdrawn_at__isnull=True)


class Version(models.Model):
    """A published snapshot of a paper. Made only by `workflow.publish_paper`; never changed."""

    paper = models.ForeignKey("papers.Paper", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    standfirst_html = models.TextField(blank=True)
    byline = models.CharField(max_length=300, blank=True)
    tags = models.ManyToManyField("papers.Tag", blank=True, related_name="versions")
    snapshot = models.JSONField(help_text="The paper as published, in the export format.")
    body_html = models.TextField(help_text="Sections with marked claims, rendered at publish.")
    toc = models.JSONField(default=list)
    claim_count = models.PositiveIntegerField(default=0)
    note = models.TextField("change note", blank=True)
    is_correction = models.BooleanField(default=False)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    published_by_name = models.CharField(max_length=150, blank=True)
    fingerprint = models.CharField(
        "SHA-256",
        max_length=64,
        blank=True,
        help_text="SHA-256 of this version's export.json, so a reader can verify a copy.",
    )

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["paper", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "number"], name="version_number_unique_in_paper"
            )
        ]

    def __str__(self):
        return f"{self.title} — v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise Immutable("A published version cannot be changed.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("papers:version", args=[self.paper.slug, self.number])

    def delete(self, *args, **kwargs):
        raise Immutable("A published version cannot be deleted.")

    def export_document(self, *, with_fingerprint=False):
        """The version in the interchange format, with its publication facts.

        The fingerprint is the SHA-256 of the JSON export made without it, so only the other
        formats (Markdown) can carry it inside; the JSON export carries it in a header.
        """
        facts = {
            "number": self.number,
            "published_at": self.published_at.isoformat(),
            "note": self.note,
            "is_correction": self.is_correction,
        }
        if with_fingerprint:
            facts["sha256_of_export_json"] = self.fingerprint
        return {**self.snapshot, "version": facts}

    @property
    def body(self):
        return rendering.stored_html(self.body_html)

    @property
    def standfirst(self):
        return rendering.stored_html(self.standfirst_html)


class VersionClaimQuerySet(ImmutableQuerySet):
    def listed(self):
        """Claims of the versions readers see now, in papers that are not withdrawn."""
        return self.filter(version__in=Version.objects.listed())


class VersionClaim(models.Model):
    """A claim as published in one version: what the claims index, claim pages and their
    history read. Written by publishing, never changed."""

    version = models.ForeignKey(Version, on_delete=models.PROTECT, related_name="claims")
    paper = models.ForeignKey("papers.Paper", on_delete=models.PROTECT, related_name="+")
    public_id = models.CharField(max_length=20, db_index=True)
    number = models.PositiveIntegerField(help_text="The claim's number in this version.")
    section_anchor = models.CharField(max_length=120)
    section_heading = models.CharField(max_length=300)
    quote = models.TextField()
    kind = models.CharField(max_length=20)
    status = models.CharField(max_length=20, help_text="See papers.verdicts.STATUSES.")
    status_label = models.CharField(max_length=200)
    due = models.DateField(null=True, blank=True, help_text="A forecast's due date, if any.")
    tags = models.ManyToManyField("papers.Tag", blank=True, related_name="version_claims")

    objects = VersionClaimQuerySet.as_manager()

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "public_id"], name="one_published_claim_per_version"
            )
        ]

    def __str__(self):
        return self.quote if len(self.quote) <= 80 else self.quote[:79] + "…"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise Immutable("A published claim cannot be changed.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("papers:claim", args=[self.public_id])

    def delete(self, *args, **kwargs):
        raise Immutable("A published claim cannot be deleted.")


class Event(models.Model):
    """Append-only audit log of workflow actions; it outlives the people and papers it names."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        EDIT = "edit", "Edited"
        DELETE = "delete", "Deleted"
        IMPORT = "import", "Imported"
        ASSIGN = "assign", "Reviewer assigned"
        UNASSIGN = "unassign", "Reviewer unassigned"
        SUBMIT = "submit", "Submitted for review"
        COMMENT = "comment", "Commented"
        RESOLVE = "resolve", "Thread resolved"
        ASSESS = "assess", "Claim assessed"
        REVIEW = "review", "Review submitted"
        REQUEST_CHANGES = "request_changes", "Changes requested"
        APPROVE = "approve", "Approved"
        PUBLISH = "publish", "Published"
        CORRECT = "correct", "Correction published"
        WITHDRAW = "withdraw", "Withdrawn"
        OVERRIDE = "override", "Rule overridden"
        REOPEN = "reopen", "Back in review after an edit"
        CONFIRM = "confirm", "Carried verdicts confirmed"
        REVERT = "revert", "Section reverted"
        SHARE = "share", "Share link created"
        UNSHARE = "unshare", "Share link revoked"
        DEACTIVATE = "deactivate", "Person deactivated"
        REACTIVATE = "reactivate", "Person reactivated"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        RESOLVE_FORECAST = "resolve_forecast", "Forecast resolved"

    action = models.CharField(max_length=30, choices=Action.choices)
    # DO_NOTHING without a database constraint: the row keeps the id of a deleted paper or user
    # (a cascade or SET NULL would have to rewrite an append-only table).
    paper = models.ForeignKey(
        "papers.Paper",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="events",
    )
    paper_title = models.CharField(max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    from_stage = models.CharField(max_length=20, blank=True)
    to_stage = models.CharField(max_length=20, blank=True)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()}: {self.paper_title} by {self.actor_name or 'system'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise Immutable("Events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Immutable("Events are append-only.")


class PublicRevision(models.Model):
    """One row that changes with every change readers can see; the cached pages of
    `papers.pagecache` are keyed on its token."""

    number = models.PositiveBigIntegerField(default=0, help_text="How many changes so far.")
    # Random, not the number: a database restored from a backup winds the number back, and the
    # changes after it would take numbers whose pages, rendered before the restore, show another
    # history. A token names one state of the database, restored or not.
    token = models.CharField(max_length=32, default="", editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="public_revision_single_row")
        ]

    def __str__(self):
        return f"public revision {self.number} ({self.token})"
