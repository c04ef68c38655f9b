"""Editors' decisions on a round of review: send the paper back for changes, or approve it.
Four eyes: an author may not approve or publish their own paper."""

from django.db import transaction
from django.utils import timezone

from papers import permissions
from papers.models import Event, Review
from papers.notifications import notify
from papers.workflow.base import (
    Stage,
    WorkflowError,
    check_stage,
    editors_of,
    event,
    lock,
    move,
    name,
    require_editor,
    reviewers_of,
    text,
)


def request_changes(paper, *, by, reason):
    """Editors send a paper in review (or approved) back for changes, telling every reviewer of
    the round why; unsubmitted reviews of the round are closed."""
    require_editor(by, "request changes")
    reason = text(reason, "The reason for the changes")
    with transaction.atomic():
        paper = lock(paper)
        from_stage = check_stage(paper, "request_changes")
        paper.publish_at = None
        move(paper, "request_changes", extra=["publish_at"])
        # Reviewers unassigned during the round lost access to the paper: they are not told.
        round_reviews = paper.reviews.filter(
            round=paper.round, reviewer__in=paper.assignments.values("reviewer")
        )
        reviewers = [r.reviewer for r in round_reviews.select_related("reviewer")]
        paper.reviews.filter(round=paper.round, status=Review.Status.OPEN).update(
            status=Review.Status.CLOSED
        )
        event(paper, Event.Action.REQUEST_CHANGES, by, from_stage=from_stage, note=reason)
        notify("changes_requested", paper, reviewers, by_name=name(by), reason=reason)
    return paper


def approve_paper(paper, *, by, publish_at=None, override_reason=""):
    """Editors approve a paper in review, optionally for publication at a set time. An author
    may not approve their own paper; a superuser may override that with a written reason."""
    require_editor(by, "approve papers")
    with transaction.atomic():
        paper = lock(paper)
        from_stage = check_stage(paper, "approve")
        if publish_at is not None and publish_at <= timezone.now():
            raise WorkflowError(
                "The publication time is in the past; leave it empty to publish by hand."
            )
        if not paper.reviews.filter(round=paper.round, status=Review.Status.SUBMITTED).exists():
            raise WorkflowError("No reviewer has submitted a review in this round yet.")
        four_eyes(paper, by, "approve", override_reason)
        paper.publish_at = publish_at
        move(paper, "approve", extra=["publish_at"])
        note = f"To be published {publish_at:%Y-%m-%d %H:%M %Z}" if publish_at else ""
        event(paper, Event.Action.APPROVE, by, from_stage=from_stage, note=note)
        notify("approved", paper, [*editors_of(paper), *reviewers_of(paper)], by_name=name(by))
    return paper


def four_eyes(paper, by, verb, override_reason):
    """An author may not approve or publish their own paper unless a second editor approved
    it; a superuser may override with a reason (logged)."""
    if by is None or not permissions.is_author(by, paper):
        return  # the operator (by=None) acts with the machine's authority
    if verb == "publish" and _approved_by_another_editor(paper):
        return
    if by.is_superuser and override_reason.strip():
        event(paper, Event.Action.OVERRIDE, by, note=f"Four eyes ({verb}): {override_reason}")
        return
    raise WorkflowError(
        f"You are an author of this paper: a second editor must {verb} it "
        "(or a superuser may override with a reason)."
    )


def _approved_by_another_editor(paper):
    """The approval in force (the paper is approved) was given by an editor who is not one of
    its authors. Older approvals were used up by publishing or withdrawn by a new round."""
    if paper.stage != Stage.APPROVED:
        return False
    approval = paper.events.filter(action=Event.Action.APPROVE).order_by("-pk").first()
    return approval is not None and not paper.authors.filter(pk=approval.actor_id).exists()
