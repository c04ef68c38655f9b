"""What happened to published forecasts: resolutions (append-only) and the due notices sent.

A forecast is a predictive claim with a due date (Claim.due, frozen into each version as
VersionClaim.due). Its resolution lives beside the immutable versions, keyed by the claim's
public id, so recording one never touches a version's text.
"""

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from papers.models.records import Immutable, ImmutableQuerySet


class ResolutionQuerySet(ImmutableQuerySet):
    def current(self):
        """The resolution that stands for each forecast: the latest one recorded."""
        latest = Resolution.objects.filter(public_id=OuterRef("public_id")).order_by(
            "-resolved_at", "-pk"
        )
        return self.filter(pk=Subquery(latest.values("pk")[:1]))


class Resolution(models.Model):
    """How a forecast turned out, as an editor (or a reviewer of its paper) recorded it. A later
    resolution supersedes an earlier one; none is ever changed or deleted."""

    class Outcome(models.TextChoices):
        CAME_TRUE = "came_true", "Came true"
        DID_NOT = "did_not", "Did not come true"
        PARTLY = "partly", "Partly came true"
        CANNOT_TELL = "cannot_tell", "Cannot tell"

    paper = models.ForeignKey("papers.Paper", on_delete=models.PROTECT, related_name="resolutions")
    public_id = models.CharField(
        "claim", max_length=20, db_index=True, help_text="The public id of the forecast resolved."
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.TextField(help_text="Why: what happened, as readers will read it.")
    sources = models.JSONField(
        default=list, blank=True, help_text="What shows it: [{title, url}], as recorded."
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    resolved_by_name = models.CharField("resolved by", max_length=150, blank=True)
    resolved_at = models.DateTimeField(default=timezone.now)

    objects = ResolutionQuerySet.as_manager()

    class Meta:
        ordering = ["-resolved_at", "-pk"]

    def __str__(self):
        return f"{self.public_id}: {self.get_outcome_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise Immutable("A resolution cannot be changed; record a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Immutable("A resolution cannot be deleted; record a new one.")


class DueNotice(models.Model):
    """The paper's editors were told that a forecast came due: one row per forecast and date,
    so the periodic check writes to them once, however often it runs."""

    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField("claim", max_length=20)
    due = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["public_id", "due"], name="one_due_notice_per_forecast")
        ]

    def __str__(self):
        return f"{self.public_id} due {self.due}"
