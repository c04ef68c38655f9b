"""What reviewers do in a round: comment on claims, resolve threads, assess claims (or confirm
the verdicts carried from their earlier rounds), submit."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from papers import permissions
from papers.models import Assessment, Comment, Event, Review
from papers.notifications import notify
from papers.workflow.base import (
    MAX_TEXT,
    Stage,
    WorkflowError,
    editors_of,
    event,
    name,
    require_reviewer_of,
    text,
)


def add_comment(claim, *, by, body, parent=None):
    """Editors and the paper's assigned reviewers comment on a claim or reply in its thread."""
    paper = claim.paper
    require_reviewer_of(by, paper)
    body = text(body, "A comment")
    if parent is not None and (parent.claim_id != claim.pk or parent.parent_id is not None):
        raise WorkflowError("A reply must answer the first comment of a thread on this claim.")
    with transaction.atomic():
        comment = Comment.objects.create(
            claim=claim,
            parent=parent,
            author=by,
            author_name=name(by),
            body=body,
            claim_text=claim.quote,
            round=paper.round,
        )
        if parent is not None and parent.is_resolved:
            # A reply reopens the conversation.
            Comment.objects.filter(pk=parent.pk).update(resolved_at=None, resolved_by_name="")
        event(paper, Event.Action.COMMENT, by, note=f"{claim.public_id}: {body[:200]}")
        notify(
            "commented",
            paper,
            [p for p in _told_of_comment(paper, parent) if p.pk != by.pk],
            by_name=name(by),
            claim_id=claim.public_id,
            claim_text=claim.quote,
            body=body,
        )
    return comment


def _told_of_comment(paper, parent):
    """Who hears of a comment: the paper's editors, and everyone in the thread it answers."""
    people = editors_of(paper)
    if parent is not None:
        thread = Comment.objects.filter(Q(pk=parent.pk) | Q(parent=parent), author__isnull=False)
        people.extend(comment.author for comment in thread.select_related("author"))
    return people


def resolve_thread(comment, *, by):
    """Editors, and whoever started the thread, resolve it."""
    root = comment.parent or comment
    paper = root.claim.paper
    require_reviewer_of(by, paper)
    if not (permissions.is_editor(by) or root.author_id == by.pk):
        raise WorkflowError("Only an editor or the person who started a thread may resolve it.")
    with transaction.atomic():
        root = Comment.objects.select_for_update().get(pk=root.pk)
        if root.is_resolved:
            raise WorkflowError("This thread is already resolved.")
        root.resolved_at = timezone.now()
        root.resolved_by_name = name(by)
        root.save(update_fields=["resolved_at", "resolved_by_name"])
        event(paper, Event.Action.RESOLVE, by, note=root.claim.public_id)
    return root


def assess_claim(review, claim, *, by, verdict, note=""):
    """A reviewer records (or changes) their verdict on a claim while their review is open.
    A concern (disputed, needs a source) opens a thread, so that it is discussed and resolved."""
    _require_reviewer_of_review(by, review, "assess claims")
    if claim.paper_id != review.paper_id:
        raise WorkflowError("That claim belongs to another paper.")
    if verdict not in Assessment.Verdict.values:
        raise WorkflowError("Choose supported, needs a source or disputed.")
    note = note.strip()[:MAX_TEXT]
    with transaction.atomic():
        review = _lock_open(review)
        assessment, _ = Assessment.objects.update_or_create(
            review=review,
            claim=claim,
            defaults={
                "verdict": verdict,
                "note": note,
                "claim_text": claim.quote,
                "claim_hash": claim.text_hash,
                "carried_from": None,  # assessing again replaces a carried verdict
            },
        )
        already_open = claim.comments.filter(
            author=by, parent=None, round=review.round, resolved_at__isnull=True
        ).exists()
        if assessment.is_concern and not already_open:
            Comment.objects.create(
                claim=claim,
                author=by,
                author_name=name(by),
                body=_concern_body(assessment),
                claim_text=claim.quote,
                round=review.round,
            )
        event(review.paper, Event.Action.ASSESS, by, note=f"{claim.public_id}: {verdict}")
    return assessment


def carry_forward(review):
    """As a reviewer's review of round N ≥ 2 opens, their latest verdict from an earlier submitted
    review on each claim whose words have not changed since is copied into it, marked with the
    round it was given in, until they confirm or change it. A carried concern opens a thread
    unless one of theirs on the claim is still unresolved. Part of opening the round (no Event
    of its own); returns the verdicts carried."""
    earlier = (
        Assessment.objects.filter(
            review__paper_id=review.paper_id,
            review__reviewer_id=review.reviewer_id,
            review__round__lt=review.round,
            review__status=Review.Status.SUBMITTED,
        )
        .select_related("review", "claim")
        .order_by("review__round", "updated_at", "pk")
    )
    latest = {assessment.claim_id: assessment for assessment in earlier}
    have = set(review.assessments.values_list("claim_id", flat=True))
    carried = [
        Assessment(
            review=review,
            claim=a.claim,
            verdict=a.verdict,
            note=a.note,
            claim_text=a.claim.quote,
            claim_hash=a.claim_hash,
            # A verdict carried before and never confirmed keeps the round it was given in.
            carried_from=a.carried_from or a.review.round,
        )
        for a in latest.values()
        if a.claim_hash == a.claim.text_hash and a.claim_id not in have
    ]
    Assessment.objects.bulk_create(carried)
    concerns = [a for a in carried if a.is_concern]
    if concerns:
        unresolved = set(
            Comment.objects.filter(
                claim__in=[a.claim for a in concerns],
                author_id=review.reviewer_id,
                parent=None,
                resolved_at=None,
            ).values_list("claim_id", flat=True)
        )
        author = review.reviewer
        Comment.objects.bulk_create(
            Comment(
                claim=a.claim,
                author=author,
                author_name=name(author),
                body=_concern_body(a),
                claim_text=a.claim.quote,
                round=review.round,
            )
            for a in concerns
            if a.claim_id not in unresolved
        )
    return carried


def confirm_carried(review, *, by):
    """The reviewer confirms, in one action, every verdict carried into their open review whose
    claim still reads as it did; returns how many were confirmed."""
    _require_reviewer_of_review(by, review, "confirm carried verdicts")
    with transaction.atomic():
        review = _lock_open(review)
        # The claims' words as the verdicts were given: coverage's rule (ReviewQuerySet).
        carried = review.assessments.exclude(carried_from=None).filter(claim_text=F("claim__quote"))
        confirmed = carried.update(carried_from=None)
        if not confirmed:
            raise WorkflowError("There are no carried verdicts to confirm.")
        event(
            review.paper,
            Event.Action.CONFIRM,
            by,
            note=f"Round {review.round}: {confirmed} carried verdict"
            f"{'' if confirmed == 1 else 's'} confirmed",
        )
    return confirmed


def submit_review(review, *, by, recommendation, summary=""):
    """A reviewer submits their open review of the current round with a recommendation."""
    _require_reviewer_of_review(by, review, "submit this review")
    if recommendation not in Review.Recommendation.values:
        raise WorkflowError("Choose a recommendation: approve, revise or reject.")
    with transaction.atomic():
        review = _lock_open(review)
        review.status = Review.Status.SUBMITTED
        review.recommendation = recommendation
        review.summary = summary.strip()[:MAX_TEXT]
        review.submitted_at = timezone.now()
        review.save(update_fields=["status", "recommendation", "summary", "submitted_at"])
        event(review.paper, Event.Action.REVIEW, by, note=recommendation)
        notify(
            "review_submitted",
            review.paper,
            editors_of(review.paper),
            reviewer_name=name(by),
            recommendation=review.get_recommendation_display(),
            summary=review.summary,
        )
    return review


def _concern_body(assessment):
    label = assessment.get_verdict_display()
    return f"{label}: {assessment.note}" if assessment.note else label


def _require_reviewer_of_review(by, review, what):
    if by is None or review.reviewer_id != by.pk:
        if by is not None:
            permissions.denied(by, what, f"review {review.pk}")
        raise WorkflowError(f"Only the reviewer of this review may {what}.")
    _require_open(review)


def _lock_open(review):
    """The review row, locked, re-checked: a round may have closed since it was read."""
    review = Review.objects.select_for_update().select_related("paper").get(pk=review.pk)
    _require_open(review)
    return review


def _require_open(review):
    paper = review.paper
    if review.status != Review.Status.OPEN:
        raise WorkflowError("This review is closed: it was submitted or its round has ended.")
    if paper.stage != Stage.IN_REVIEW or review.round != paper.round:
        raise WorkflowError("This paper is not in review at the moment.")
    if not paper.assignments.filter(reviewer_id=review.reviewer_id).exists():
        raise WorkflowError("You are no longer assigned to this paper.")
