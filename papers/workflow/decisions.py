"""Editors' decisions on a round of review: send the paper back for changes, or approve it.
Four eyes: nobody who wrote or edited a paper in its round may approve or publish it."""

from django.db import transaction
from django.utils import timezone

from papers.models import Event, Review
from papers.notifications import notify
from papers.workflow import content
from papers.workflow.base import (
    NotAllowed,
    Stage,
    WorkflowError,
    WrongStage,
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
        paper.approved_fingerprint = ""
        move(paper, "request_changes", extra=["publish_at", "approved_fingerprint"])
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
    """Editors approve a paper in review, optionally for publication at a set time. It needs a
    submitted review with a verdict on every claim (or a written override reason, logged), and
    nobody who wrote or edited the paper in this round may approve it (a superuser may override
    that with a written reason). The approval records the fingerprint of what it approves."""
    require_editor(by, "approve papers")
    override_reason = override_reason.strip()
    with transaction.atomic():
        paper = lock(paper)
        from_stage = check_stage(paper, "approve")
        if publish_at is not None and publish_at <= timezone.now():
            raise WorkflowError(
                "The publication time is in the past; leave it empty to publish by hand."
            )
        coverage = _coverage(paper, by, override_reason)
        four_eyes(paper, by, "approve", override_reason)
        paper.publish_at = publish_at
        paper.approved_fingerprint = content.fingerprint(paper)
        move(paper, "approve", extra=["publish_at", "approved_fingerprint"])
        when = f"To be published {publish_at:%Y-%m-%d %H:%M %Z}. " if publish_at else ""
        event(paper, Event.Action.APPROVE, by, from_stage=from_stage, note=when + coverage)
        notify("approved", paper, [*editors_of(paper), *reviewers_of(paper)], by_name=name(by))
    return paper


def _coverage(paper, by, override_reason):
    """Approval rests on the round's complete reviews (a verdict on every claim). With none, an
    editor may still approve on the incomplete ones, giving a reason, which is logged. Returns
    the coverage in words, for the approval's event."""
    submitted = list(
        paper.reviews.filter(round=paper.round, status=Review.Status.SUBMITTED)
        .with_coverage()
        .select_related("reviewer")
    )
    if not submitted:
        raise WrongStage("No reviewer has submitted a review in this round yet.")
    described = "; ".join(
        f"{name(review.reviewer)}: assessed {review.assessed} of {review.claim_total} claims"
        for review in submitted
    )
    if any(review.is_complete for review in submitted):
        return f"Reviews: {described}."
    if not override_reason:
        raise WrongStage(
            f"No submitted review has a verdict on every claim ({described}); wait for a "
            "complete review, or approve with a written override reason."
        )
    note = f"Incomplete reviews ({described}): {override_reason}"
    event(paper, Event.Action.OVERRIDE, by, note=note)
    return f"Reviews: {described} (overridden)."


def four_eyes(paper, by, verb, override_reason):
    """Nobody who wrote the paper (its authors when the round was submitted, or now) or edited
    its content during the round may approve or publish it, unless the approval in force was
    given by someone else and still covers the content; a superuser may override with a
    reason (logged)."""
    if by is None:
        return  # the operator acts with the machine's authority
    barred = _barred(paper)
    if by.pk not in barred:
        return
    if verb == "publish" and _approved_by_another(paper, barred):
        return
    if by.is_superuser and override_reason.strip():
        event(paper, Event.Action.OVERRIDE, by, note=f"Four eyes ({verb}): {override_reason}")
        return
    role = (
        "You are an author of this paper"
        if barred[by.pk] == "author"
        else "You changed this paper's content during its review round"
    )
    raise NotAllowed(
        f"{role}: a second editor must {verb} it (or a superuser may override with a reason)."
    )


def _barred(paper):
    """{user id: "author" or "editor"}: the paper's authors now and when its current round was
    submitted, and, while the round is open, whoever changed its content during it. A paper in
    review since before rounds were recorded has only its authors now."""
    barred = {}
    round_ = paper.rounds.filter(number=paper.round).first() if paper.round else None
    if round_ is not None and paper.stage in content.ROUND_OPEN:
        barred.update(dict.fromkeys(round_.editors.values_list("pk", flat=True), "editor"))
    if round_ is not None:
        barred.update(dict.fromkeys(round_.authors.values_list("pk", flat=True), "author"))
    barred.update(dict.fromkeys(paper.authors.values_list("pk", flat=True), "author"))
    return barred


def _approved_by_another(paper, barred):
    """The approval in force (the paper is approved) was given by someone not barred, and the
    content is still what they approved. Older approvals were used up by publishing or
    withdrawn by a new round or an edit."""
    if paper.stage != Stage.APPROVED or not content.matches_approval(paper):
        return False
    approval = paper.events.filter(action=Event.Action.APPROVE).order_by("-pk").first()
    return approval is not None and approval.actor_id not in barred
