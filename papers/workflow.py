"""Every change of a paper's workflow state is a function here; the admin, the review pages and
the commands all call them.

Each one checks the actor's permission and the paper's stage against TRANSITIONS, changes rows
in one transaction, writes one Event, and sends its emails after commit. `by=None` stands for
an operator at the command line (or the scheduler), who acts with the machine's authority.
"""

import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from papers import documents, pagecache, permissions, rendering, search, snapshots
from papers.models import (
    Assessment,
    Assignment,
    Comment,
    Event,
    Paper,
    Review,
    Tag,
    Version,
    VersionClaim,
)
from papers.notifications import notify

Stage = Paper.Stage
User = get_user_model()

# action: (stages it may start from, stage it leaves the paper in)
TRANSITIONS = {
    "submit": ({Stage.DRAFT, Stage.CHANGES_REQUESTED}, Stage.IN_REVIEW),
    "request_changes": ({Stage.IN_REVIEW, Stage.APPROVED}, Stage.CHANGES_REQUESTED),
    "approve": ({Stage.IN_REVIEW}, Stage.APPROVED),
    "publish": ({Stage.APPROVED}, Stage.DRAFT),
}
MAX_TEXT = 10_000


class WorkflowError(Exception):
    """The action is not allowed now; the message tells the person why."""


# --- Assignments and rounds -------------------------------------------------------------------


def assign_reviewer(paper, reviewer, *, by, due_date=None):
    """Editors assign active members of the Reviewers group, at any stage."""
    _require_editor(by, "assign reviewers")
    if not permissions.is_reviewer(reviewer):
        raise WorkflowError(f"{reviewer.get_username()} is not an active reviewer.")
    with transaction.atomic():
        paper = _lock(paper)
        if paper.assignments.filter(reviewer=reviewer).exists():
            raise WorkflowError(f"{reviewer.get_username()} is already assigned to this paper.")
        assignment = Assignment.objects.create(paper=paper, reviewer=reviewer, due_date=due_date)
        if paper.stage == Stage.IN_REVIEW:
            _open_review(paper, assignment)
        _event(paper, Event.Action.ASSIGN, by, note=reviewer.get_username())
        notify("assigned", paper, [reviewer], by_name=_name(by), due_date=due_date)
    return assignment


def unassign_reviewer(paper, reviewer, *, by):
    """Editors end an assignment; the reviewer loses access at once and an open review of
    theirs is closed unsubmitted."""
    _require_editor(by, "unassign reviewers")
    with transaction.atomic():
        paper = _lock(paper)
        deleted, _ = paper.assignments.filter(reviewer=reviewer).delete()
        if not deleted:
            raise WorkflowError(f"{reviewer.get_username()} is not assigned to this paper.")
        paper.reviews.filter(reviewer=reviewer, status=Review.Status.OPEN).update(
            status=Review.Status.CLOSED
        )
        _event(paper, Event.Action.UNASSIGN, by, note=reviewer.get_username())
    return paper


def submit_paper(paper, *, by):
    """Editors submit a draft with at least one assigned reviewer: a new review round opens."""
    _require_editor(by, "submit papers for review")
    with transaction.atomic():
        paper = _lock(paper)
        from_stage = _check_stage(paper, "submit")
        assignments = [
            a
            for a in paper.assignments.select_related("reviewer")
            if permissions.is_reviewer(a.reviewer)  # left the group or deactivated: skipped
        ]
        if not assignments:
            raise WorkflowError("Assign at least one active reviewer before submitting the paper.")
        paper.round += 1
        _move(paper, "submit", extra=["round"])
        for assignment in assignments:
            _open_review(paper, assignment)
        _event(paper, Event.Action.SUBMIT, by, from_stage=from_stage, note=f"Round {paper.round}")
        notify("submitted", paper, [a.reviewer for a in assignments])
    return paper


def _open_review(paper, assignment):
    review, created = Review.objects.get_or_create(
        paper=paper,
        round=paper.round,
        reviewer=assignment.reviewer,
        defaults={"due_date": assignment.due_date},
    )
    if not created and review.status == Review.Status.CLOSED:
        # Unassigned and assigned again in the same round: they pick up where they left off.
        review.status = Review.Status.OPEN
        review.save(update_fields=["status"])


# --- Reviewers' work --------------------------------------------------------------------------


def add_comment(claim, *, by, body, parent=None):
    """Editors and the paper's assigned reviewers comment on a claim or reply in its thread."""
    paper = claim.paper
    _require_reviewer_of(by, paper)
    body = _text(body, "A comment")
    if parent is not None and (parent.claim_id != claim.pk or parent.parent_id is not None):
        raise WorkflowError("A reply must answer the first comment of a thread on this claim.")
    with transaction.atomic():
        comment = Comment.objects.create(
            claim=claim,
            parent=parent,
            author=by,
            author_name=_name(by),
            body=body,
            claim_text=claim.quote,
            round=paper.round,
        )
        if parent is not None and parent.is_resolved:
            # A reply reopens the conversation.
            Comment.objects.filter(pk=parent.pk).update(resolved_at=None, resolved_by_name="")
        _event(paper, Event.Action.COMMENT, by, note=f"{claim.public_id}: {body[:200]}")
    return comment


def resolve_thread(comment, *, by):
    """Editors, and whoever started the thread, resolve it."""
    root = comment.parent or comment
    paper = root.claim.paper
    _require_reviewer_of(by, paper)
    if not (permissions.is_editor(by) or root.author_id == by.pk):
        raise WorkflowError("Only an editor or the person who started a thread may resolve it.")
    with transaction.atomic():
        root = Comment.objects.select_for_update().get(pk=root.pk)
        if root.is_resolved:
            raise WorkflowError("This thread is already resolved.")
        root.resolved_at = timezone.now()
        root.resolved_by_name = _name(by)
        root.save(update_fields=["resolved_at", "resolved_by_name"])
        _event(paper, Event.Action.RESOLVE, by, note=root.claim.public_id)
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
            },
        )
        already_open = claim.comments.filter(
            author=by, parent=None, round=review.round, resolved_at__isnull=True
        ).exists()
        if assessment.is_concern and not already_open:
            label = assessment.get_verdict_display()
            Comment.objects.create(
                claim=claim,
                author=by,
                author_name=_name(by),
                body=f"{label}: {note}" if note else label,
                claim_text=claim.quote,
                round=review.round,
            )
        _event(review.paper, Event.Action.ASSESS, by, note=f"{claim.public_id}: {verdict}")
    return assessment


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
        _event(review.paper, Event.Action.REVIEW, by, note=recommendation)
        notify(
            "review_submitted",
            review.paper,
            _editors_of(review.paper),
            reviewer_name=_name(by),
            recommendation=review.get_recommendation_display(),
            summary=review.summary,
        )
    return review


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


# --- Editors' decisions -----------------------------------------------------------------------


def request_changes(paper, *, by, reason):
    """Editors send a paper in review (or approved) back for changes, telling every reviewer of
    the round why; unsubmitted reviews of the round are closed."""
    _require_editor(by, "request changes")
    reason = _text(reason, "The reason for the changes")
    with transaction.atomic():
        paper = _lock(paper)
        from_stage = _check_stage(paper, "request_changes")
        paper.publish_at = None
        _move(paper, "request_changes", extra=["publish_at"])
        # Reviewers unassigned during the round lost access to the paper: they are not told.
        round_reviews = paper.reviews.filter(
            round=paper.round, reviewer__in=paper.assignments.values("reviewer")
        )
        reviewers = [r.reviewer for r in round_reviews.select_related("reviewer")]
        paper.reviews.filter(round=paper.round, status=Review.Status.OPEN).update(
            status=Review.Status.CLOSED
        )
        _event(paper, Event.Action.REQUEST_CHANGES, by, from_stage=from_stage, note=reason)
        notify("changes_requested", paper, reviewers, by_name=_name(by), reason=reason)
    return paper


def approve_paper(paper, *, by, publish_at=None, override_reason=""):
    """Editors approve a paper in review, optionally for publication at a set time. An author
    may not approve their own paper; a superuser may override that with a written reason."""
    _require_editor(by, "approve papers")
    with transaction.atomic():
        paper = _lock(paper)
        from_stage = _check_stage(paper, "approve")
        if publish_at is not None and publish_at <= timezone.now():
            raise WorkflowError(
                "The publication time is in the past; leave it empty to publish by hand."
            )
        if not paper.reviews.filter(round=paper.round, status=Review.Status.SUBMITTED).exists():
            raise WorkflowError("No reviewer has submitted a review in this round yet.")
        _four_eyes(paper, by, "approve", override_reason)
        paper.publish_at = publish_at
        _move(paper, "approve", extra=["publish_at"])
        note = f"To be published {publish_at:%Y-%m-%d %H:%M %Z}" if publish_at else ""
        _event(paper, Event.Action.APPROVE, by, from_stage=from_stage, note=note)
        notify("approved", paper, [*_editors_of(paper), *_reviewers_of(paper)], by_name=_name(by))
    return paper


def publish_paper(paper, *, by, note="", override_reason=""):
    """Editors with the publish permission publish an approved paper as version N+1; the
    operator may publish from any stage (a back catalogue). See `_gate` for what blocks it."""
    return _publish(paper, by=by, note=note, override_reason=override_reason, correction=False)


def publish_correction(paper, *, by, note, override_reason=""):
    """Editors with the publish permission publish the working copy of a published paper as a
    correction, at any stage, with a note that tells readers what was corrected."""
    return _publish(paper, by=by, note=note, override_reason=override_reason, correction=True)


def withdraw_paper(paper, *, by, reason):
    """Editors with the publish permission withdraw a published paper: its address stays, with
    the reason, in place of the paper (retraction practice)."""
    if by is not None and not permissions.can_publish(by):
        raise WorkflowError("You do not have permission to withdraw papers.")
    reason = _text(reason, "The reason for the withdrawal")
    with transaction.atomic():
        paper = _lock(paper)
        if paper.live_version_id is None:
            raise WorkflowError("Only a published paper can be withdrawn.")
        if paper.withdrawn_at is not None:
            raise WorkflowError("This paper is already withdrawn.")
        paper.withdrawn_at = timezone.now()
        paper.withdrawal_reason = reason
        paper.save(update_fields=["withdrawn_at", "withdrawal_reason", "updated_at"])
        search.unindex(paper)
        pagecache.public_changed()
        _event(paper, Event.Action.WITHDRAW, by, note=reason)
        notify("withdrawn", paper, [*_editors_of(paper), *_reviewers_of(paper)], by_name=_name(by))
    return paper


def publish_due(now=None):
    """Publish every approved paper whose publication time has come (the scheduler's job).
    Returns (published versions, [(paper, reason it was refused)])."""
    now = now or timezone.now()
    published, refused = [], []
    due = Paper.objects.filter(stage=Stage.APPROVED, publish_at__lte=now).order_by("publish_at")
    for paper in due:
        try:
            with transaction.atomic():
                # Another run (an overlapping cron job, a second server) may have published it
                # since the query: look again under the lock, or it is published twice.
                paper = _lock(paper)
                if paper.stage != Stage.APPROVED or not paper.publish_at or paper.publish_at > now:
                    continue
                published.append(publish_paper(paper, by=None, note="Scheduled publication."))
        except WorkflowError as error:
            refused.append((paper, str(error)))
    return published, refused


def _publish(paper, *, by, note, override_reason, correction):
    if by is not None and not permissions.can_publish(by):
        raise WorkflowError("You do not have permission to publish papers.")
    note = note.strip()
    with transaction.atomic():
        paper = _lock(paper)
        from_stage = paper.stage
        if correction:
            if paper.live_version_id is None:
                raise WorkflowError("Only a published paper can be corrected; publish it first.")
            if not note:
                raise WorkflowError("A correction needs a note that tells readers what changed.")
        elif by is not None:
            _check_stage(paper, "publish")
        if paper.withdrawn_at is not None:
            raise WorkflowError("This paper was withdrawn; it cannot be published again.")
        if by is not None:
            _four_eyes(paper, by, "publish", override_reason)
        _gate(paper, by, override_reason)

        document = snapshots.paper_document(paper, with_review=True)
        body_html, toc, claim_count = snapshots.render_body(document)
        number = (paper.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        version = Version(
            paper=paper,
            number=number,
            title=paper.title,
            standfirst_html=rendering.render_markdown(paper.standfirst),
            byline=paper.byline,
            snapshot=document,
            body_html=body_html,
            toc=toc,
            claim_count=claim_count,
            note=note,
            is_correction=correction,
            published_at=timezone.now(),
            published_by=by,
            published_by_name=_name(by),
        )
        version.fingerprint = hashlib.sha256(
            documents.to_json(version.export_document()).encode()
        ).hexdigest()
        version.save()
        version.tags.set(paper.tags.all())
        _record_claims(version, document)
        search.index(version, document)
        paper.live_version = version
        paper.publish_at = None
        if not correction or paper.stage == Stage.APPROVED:
            # Publishing uses up an approval; the working copy starts a new draft. A correction
            # made during a review round leaves the round as it is.
            paper.stage = Stage.DRAFT
        paper.save(update_fields=["live_version", "publish_at", "stage", "updated_at"])
        pagecache.public_changed()
        action = Event.Action.CORRECT if correction else Event.Action.PUBLISH
        _event(paper, action, by, from_stage=from_stage, version_number=number, note=note)
        notify("published", paper, [*_editors_of(paper), *_reviewers_of(paper)], version=version)
    return version


def _record_claims(version, document):
    """The version's claims as rows, for the claims index and each claim's history."""
    rows = [
        VersionClaim(
            version=version,
            paper=version.paper,
            public_id=claim["id"],
            number=number,
            section_anchor=section["anchor"],
            section_heading=section["heading"],
            quote=claim["quote"],
            kind=claim["kind"],
            status=claim.get("review", {}).get("status", "unchecked"),
            status_label=claim.get("review", {}).get("label", "Not checked by a reviewer"),
        )
        for number, section, claim in snapshots.numbered_claims(document)
    ]
    VersionClaim.objects.bulk_create(rows)
    tags = {tag.slug: tag for tag in Tag.objects.filter(slug__in=_claim_tag_slugs(document))}
    VersionClaim.tags.through.objects.bulk_create(
        VersionClaim.tags.through(versionclaim_id=row.pk, tag_id=tags[slug].pk)
        for row, (_, _, claim) in zip(rows, snapshots.numbered_claims(document), strict=True)
        for slug in claim.get("tags", [])
        if slug in tags
    )


def _claim_tag_slugs(document):
    return {slug for claim in document.get("claims", []) for slug in claim.get("tags", [])}


def _gate(paper, by, override_reason):
    """Orphaned claims always block publishing. Concerns (disputed, needs a source) in the
    current round whose threads are unresolved block it too, unless the editor overrides with
    a written reason, which is logged."""
    claims = list(paper.claims.select_related("section"))
    orphans = [claim for claim in claims if claim.is_orphaned]
    if orphans:
        quotes = "; ".join(f"“{claim}”" for claim in orphans[:3])
        raise WorkflowError(
            f"{len(orphans)} claim(s) no longer match their section's text and must be "
            f"re-anchored or removed before publishing: {quotes}."
        )
    if not paper.sections.exists():
        raise WorkflowError("A paper needs at least one section before it can be published.")
    open_concerns = open_concern_claims(paper)
    if open_concerns:
        if not override_reason.strip():
            raise WorkflowError(
                f"{len(open_concerns)} claim(s) have a reviewer's concern with an unresolved "
                "thread; resolve the threads, or override with a written reason."
            )
        _event(paper, Event.Action.OVERRIDE, by, note=f"Publish gate: {override_reason.strip()}")


def open_concern_claims(paper):
    """The ids of the claims whose concerns hold up publishing (`Claim.with_open_concern`)."""
    return set(paper.claims.with_open_concern().values_list("pk", flat=True))


def _four_eyes(paper, by, verb, override_reason):
    """An author may not approve or publish their own paper unless a second editor approved
    it; a superuser may override with a reason (logged)."""
    if by is None or not permissions.is_author(by, paper):
        return  # the operator (by=None) acts with the machine's authority
    if verb == "publish" and _approved_by_another_editor(paper):
        return
    if by.is_superuser and override_reason.strip():
        _event(paper, Event.Action.OVERRIDE, by, note=f"Four eyes ({verb}): {override_reason}")
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


# --- Shared steps -----------------------------------------------------------------------------


def _require_editor(user, what):
    if user is not None and not permissions.is_editor(user):
        permissions.denied(user, what, "")
        raise WorkflowError(f"Only editors may {what}.")


def _require_reviewer_of(user, paper):
    if user is None or not permissions.can_review(user, paper):
        if user is not None:
            permissions.denied(user, "take part in a review", paper.slug)
        raise WorkflowError("You are not a reviewer or editor of this paper.")


def _lock(paper):
    return Paper.objects.select_for_update().get(pk=paper.pk)


def _check_stage(paper, action):
    allowed, _ = TRANSITIONS[action]
    if paper.stage not in allowed:
        raise WorkflowError(
            f"A paper that is “{paper.get_stage_display().lower()}” cannot be "
            f"{ACTION_WORDS[action]}; it must be "
            f"{' or '.join(f'“{Stage(s).label.lower()}”' for s in sorted(allowed))}."
        )
    return paper.stage


ACTION_WORDS = {
    "submit": "submitted for review",
    "request_changes": "sent back for changes",
    "approve": "approved",
    "publish": "published",
}


def _move(paper, action, extra=()):
    paper.stage = TRANSITIONS[action][1]
    paper.save(update_fields=["stage", "updated_at", *extra])


def _event(paper, action, by, *, from_stage="", version_number=None, note=""):
    return Event.objects.create(
        action=action,
        paper=paper,
        paper_title=paper.title,
        actor=by,
        actor_name=_name(by),
        from_stage=from_stage or paper.stage,
        to_stage=paper.stage,
        version_number=version_number,
        note=note,
    )


def _text(value, what):
    value = (value or "").strip()
    if not value:
        raise WorkflowError(f"{what} cannot be empty.")
    if len(value) > MAX_TEXT:
        raise WorkflowError(f"{what} is too long (at most {MAX_TEXT:,} characters).")
    return value


def _editors_of(paper):
    """Who hears about a paper's progress: its authors with accounts, and the editor who last
    submitted it for review."""
    submitter = paper.events.filter(action=Event.Action.SUBMIT).order_by("-pk").first()
    people = list(paper.authors.all())
    if submitter is not None and submitter.actor_id:
        people.extend(User.objects.filter(pk=submitter.actor_id))
    return people


def _reviewers_of(paper):
    return [a.reviewer for a in paper.assignments.select_related("reviewer")]


def _name(user):
    if user is None:
        return "command line"
    return user.get_full_name() or user.get_username()
