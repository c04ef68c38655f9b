"""What reviewers do: assignments, one review per reviewer and round, assessments, threads."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from papers.models import subqueries
from papers.models.content import Claim, Paper


class AssignmentQuerySet(models.QuerySet):
    def waiting(self):
        """Assignments whose reviewer has had no review of the paper yet: they wait for it to
        be submitted for review (each round opens a review for every assigned reviewer)."""
        reviews = Review.objects.filter(
            paper=models.OuterRef("paper"), reviewer=models.OuterRef("reviewer")
        )
        return (
            self.filter(~models.Exists(reviews))
            .select_related("paper")
            .order_by(models.F("due_date").asc(nulls_last=True), "pk")
        )


class Assignment(models.Model):
    """A reviewer's standing assignment to a paper; each submission gives them a Review."""

    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    due_date = models.DateField(null=True, blank=True)
    assigned_at = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "reviewer"], name="one_assignment_per_reviewer"
            )
        ]

    def __str__(self):
        return f"{self.reviewer} on {self.paper}"


class ReviewQuerySet(models.QuerySet):
    def with_coverage(self):
        """Each review with `assessed`, its verdicts given (or confirmed) in its own round on
        its claims' current words, and `claim_total`, its paper's claims. A carried verdict
        counts once confirmed; a verdict on words reworded since counts no more."""
        given = Assessment.objects.filter(
            review=models.OuterRef("pk"), carried_from=None, claim_text=models.F("claim__quote")
        )
        claims = Claim.objects.filter(paper=models.OuterRef("paper"))
        return self.annotate(assessed=subqueries.count(given), claim_total=subqueries.count(claims))

    def complete(self):
        """Submitted reviews with a verdict on every claim: those that count towards approval."""
        return (
            self.with_coverage()
            .filter(status=Review.Status.SUBMITTED)
            .filter(assessed__gte=models.F("claim_total"))
        )

    def in_progress(self):
        """Open reviews of the round now open: what their reviewers still have to do."""
        return self.of_current_rounds().filter(status=Review.Status.OPEN)

    def to_do_of(self, user):
        """`user`'s reviews in progress, soonest due first, with their coverage and `carried`,
        the verdicts carried from their last round that they have yet to confirm."""
        carried = Assessment.objects.filter(
            review=models.OuterRef("pk"), carried_from__isnull=False
        )
        return (
            self._of_assignments_of(user)
            .in_progress()
            .with_coverage()
            .annotate(carried=subqueries.count(carried))
            .order_by(models.F("due_date").asc(nulls_last=True), "pk")
        )

    def done_by(self, user):
        """`user`'s reviews they are done with, newest first: submitted, or their round over
        (closed, or the paper decided on) before they submitted."""
        in_progress = Review.objects.in_progress().values("pk")
        return (
            self._of_assignments_of(user).exclude(pk__in=in_progress).order_by("-created_at", "-pk")
        )

    def _of_assignments_of(self, user):
        # Unassigned from a paper, a reviewer no longer sees it, nor their reviews of it.
        return self.filter(reviewer=user, paper__assignments__reviewer=user).select_related("paper")

    def of_current_rounds(self):
        """Reviews of the round now open on papers in review: the ones editors wait on."""
        return self.filter(round=models.F("paper__round"), paper__stage=Paper.Stage.IN_REVIEW)

    def awaiting_decision(self):
        """Submitted reviews of papers in review, longest waiting first, with their coverage
        and how many of their round's reviews (those not closed) are in."""
        in_round = Review.objects.filter(
            paper=models.OuterRef("paper"), round=models.OuterRef("round")
        ).exclude(status=Review.Status.CLOSED)
        return (
            self.of_current_rounds()
            .filter(status=Review.Status.SUBMITTED)
            .with_coverage()
            .annotate(
                round_reviews=subqueries.count(in_round),
                round_submitted=subqueries.count(in_round.filter(status=Review.Status.SUBMITTED)),
            )
            .select_related("paper", "reviewer")
            .order_by("submitted_at", "pk")
        )

    def overdue(self, today=None):
        """Open reviews of papers in review whose due date has passed, most overdue first."""
        return (
            self.of_current_rounds()
            .filter(status=Review.Status.OPEN, due_date__lt=today or timezone.localdate())
            .select_related("paper", "reviewer")
            .order_by("due_date", "pk")
        )


class Review(models.Model):
    """One reviewer's work on one round of a paper."""

    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        SUBMITTED = "submitted", "Submitted"
        CLOSED = "closed", "Closed unsubmitted"

    class Recommendation(models.TextChoices):
        APPROVE = "approve", "Approve"
        REVISE = "revise", "Revise"
        REJECT = "reject", "Reject"

    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="reviews")
    round = models.PositiveIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices, blank=True)
    summary = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["paper", "-round", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "round", "reviewer"], name="one_review_per_reviewer_and_round"
            )
        ]

    def __str__(self):
        return f"Round {self.round} of {self.paper} by {self.reviewer}"

    @property
    def is_submitted(self):
        return self.status == self.Status.SUBMITTED

    @property
    def is_complete(self):
        """Needs `with_coverage()`: a verdict on every claim of the paper."""
        return self.assessed >= self.claim_total

    @property
    def days_late(self):
        """Whole days past the due date; 0 without one or before it."""
        if self.due_date is None:
            return 0
        return max((timezone.localdate() - self.due_date).days, 0)


class Assessment(models.Model):
    """A reviewer's verdict on one claim, within their review."""

    class Verdict(models.TextChoices):
        SUPPORTED = "supported", "Supported"
        NEEDS_SOURCE = "needs-source", "Needs a source"
        DISPUTED = "disputed", "Disputed"

    # Verdicts that raise a concern: with an unresolved thread they hold up publishing.
    CONCERNS = (Verdict.NEEDS_SOURCE, Verdict.DISPUTED)

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="assessments")
    claim = models.ForeignKey("papers.Claim", on_delete=models.CASCADE, related_name="assessments")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    note = models.TextField(blank=True)
    claim_text = models.TextField(help_text="The claim's words when it was assessed.")
    claim_hash = models.CharField(max_length=16)
    carried_from = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The earlier round this verdict was carried from, unchanged, until the "
        "reviewer confirms or changes it; empty for a verdict given in this round.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "claim"], name="one_assessment_per_claim")
        ]

    def __str__(self):
        return f"{self.get_verdict_display()}: {self.claim}"

    @property
    def is_stale(self):
        """The claim was reworded since: this verdict no longer vouches for its words."""
        return self.claim_hash != self.claim.text_hash

    @property
    def is_concern(self):
        return self.verdict in self.CONCERNS


class Comment(models.Model):
    """A message in a claim's thread. Replies point at the thread's first comment."""

    claim = models.ForeignKey("papers.Claim", on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comments"
    )
    author_name = models.CharField(max_length=150)
    body = models.TextField()
    claim_text = models.TextField(help_text="The claim's words when the comment was written.")
    round = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.author_name}: {self.body[:60]}"

    @property
    def is_resolved(self):
        return self.resolved_at is not None
