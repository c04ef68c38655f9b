"""Reviewers on a paper, and the rounds of review its submissions open."""

from django.db import transaction

from papers import permissions, snapshots
from papers.models import Assignment, Event, Review, Round
from papers.notifications import notify
from papers.workflow.base import (
    Stage,
    WorkflowError,
    check_stage,
    event,
    lock,
    move,
    name,
    require_editor,
)
from papers.workflow.reviewing import carry_forward


def assign_reviewer(paper, reviewer, *, by, due_date=None):
    """Editors assign active members of the Reviewers group, at any stage."""
    require_editor(by, "assign reviewers")
    if not permissions.is_reviewer(reviewer):
        raise WorkflowError(f"{reviewer.get_username()} is not an active reviewer.")
    with transaction.atomic():
        paper = lock(paper)
        if paper.assignments.filter(reviewer=reviewer).exists():
            raise WorkflowError(f"{reviewer.get_username()} is already assigned to this paper.")
        assignment = Assignment.objects.create(paper=paper, reviewer=reviewer, due_date=due_date)
        if paper.stage == Stage.IN_REVIEW:
            _open_review(paper, assignment)
        event(paper, Event.Action.ASSIGN, by, note=reviewer.get_username())
        notify("assigned", paper, [reviewer], by_name=name(by), due_date=due_date)
    return assignment


def unassign_reviewer(paper, reviewer, *, by):
    """Editors end an assignment; the reviewer loses access at once and an open review of
    theirs is closed unsubmitted."""
    require_editor(by, "unassign reviewers")
    with transaction.atomic():
        paper = lock(paper)
        deleted, _ = paper.assignments.filter(reviewer=reviewer).delete()
        if not deleted:
            raise WorkflowError(f"{reviewer.get_username()} is not assigned to this paper.")
        paper.reviews.filter(reviewer=reviewer, status=Review.Status.OPEN).update(
            status=Review.Status.CLOSED
        )
        event(paper, Event.Action.UNASSIGN, by, note=reviewer.get_username())
    return paper


def submit_paper(paper, *, by):
    """Editors submit a draft with at least one assigned reviewer: a new review round opens,
    recording the paper's authors and text as submitted."""
    require_editor(by, "submit papers for review")
    with transaction.atomic():
        paper = lock(paper)
        from_stage = check_stage(paper, "submit")
        assignments = [
            a
            for a in paper.assignments.select_related("reviewer")
            if permissions.is_reviewer(a.reviewer)  # left the group or deactivated: skipped
        ]
        if not assignments:
            raise WorkflowError("Assign at least one active reviewer before submitting the paper.")
        paper.round += 1
        move(paper, "submit", extra=["round"])
        round_ = Round.objects.create(
            paper=paper,
            number=paper.round,
            submitted_by_name=name(by),
            snapshot=snapshots.paper_document(paper),
        )
        round_.authors.set(paper.authors.all())
        for assignment in assignments:
            _open_review(paper, assignment)
        event(paper, Event.Action.SUBMIT, by, from_stage=from_stage, note=f"Round {paper.round}")
        notify("submitted", paper, [a.reviewer for a in assignments])
    return paper


def _open_review(paper, assignment):
    review, created = Review.objects.get_or_create(
        paper=paper,
        round=paper.round,
        reviewer=assignment.reviewer,
        defaults={"due_date": assignment.due_date},
    )
    if created and paper.round > 1:
        carry_forward(review)  # the reviewer's verdicts on words unchanged since they gave them
    if not created and review.status == Review.Status.CLOSED:
        # Unassigned and assigned again in the same round: they pick up where they left off.
        review.status = Review.Status.OPEN
        review.save(update_fields=["status"])
