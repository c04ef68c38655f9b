"""Every workflow function: allowed for the right persona from the right stage, forbidden for
the others with nothing changed, refused from a wrong stage, and writing exactly one event."""

import logging
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.test import Client
from django.utils import timezone

from papers import permissions, workflow
from papers.models import Assessment, Assignment, Comment, Event, Paper, Review, Version
from papers.workflow import WorkflowError
from tests.factories import ClaimFactory, PaperFactory, ReviewerFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db

Stage = Paper.Stage
Verdict = Assessment.Verdict


@pytest.fixture
def other_reviewer(db):
    return ReviewerFactory(username="other_reviewer")


# --- Helpers ----------------------------------------------------------------------------------


def last_event_pk():
    return Event.objects.aggregate(top=Max("pk"))["top"] or 0


def actions_since(mark):
    return list(Event.objects.filter(pk__gt=mark).order_by("pk").values_list("action", flat=True))


@contextmanager
def writes(*actions):
    """The block writes exactly these events, in this order."""
    mark = last_event_pk()
    yield
    assert actions_since(mark) == list(actions)


def state(paper):
    current = Paper.objects.get(pk=paper.pk)
    return {
        "paper": (
            current.stage,
            current.round,
            current.publish_at,
            current.live_version_id,
            current.withdrawn_at,
        ),
        "assignments": sorted(Assignment.objects.values_list("paper", "reviewer")),
        "reviews": sorted(Review.objects.values_list("pk", "status", "recommendation")),
        "assessments": sorted(Assessment.objects.values_list("pk", "verdict", "note")),
        "comments": sorted(Comment.objects.values_list("pk", "resolved_at")),
        "versions": Version.objects.count(),
    }


@contextmanager
def unchanged(paper):
    """Nothing about the paper's workflow changes in the block, and no event is written."""
    before = state(paper)
    with writes():
        yield
    assert state(paper) == before


def at_stage(paper, stage):
    Paper.objects.filter(pk=paper.pk).update(stage=stage)
    paper.refresh_from_db()
    return paper


def in_review(paper, editor, *reviewers):
    for reviewer in reviewers:
        workflow.assign_reviewer(paper, reviewer, by=editor)
    return workflow.submit_paper(paper, by=editor)


def review_of(paper, reviewer):
    paper.refresh_from_db()
    return Review.objects.get(paper=paper, reviewer=reviewer, round=paper.round)


def recommend_approval(paper, reviewer):
    """`reviewer` submits their review of the current round, recommending approval, with a
    verdict on every claim (what approval rests on): claims not assessed yet are supported."""
    review = review_of(paper, reviewer)
    for claim in paper.claims.exclude(assessments__review=review):
        workflow.assess_claim(review, claim, by=reviewer, verdict=Verdict.SUPPORTED)
    return workflow.submit_review(review, by=reviewer, recommendation="approve")


def reviewed(paper, editor, reviewer, *others):
    """In review with `reviewer`'s review submitted (so it may be approved); the others' reviews
    stay open."""
    paper = in_review(paper, editor, reviewer, *others)
    recommend_approval(paper, reviewer)
    return paper


def first_claim(paper):
    return paper.claims.get(quote="NATO forces are present in Estonia.")


def persona(request, name):
    return request.getfixturevalue(name)


# --- assign_reviewer --------------------------------------------------------------------------


class TestAssignReviewer:
    def test_an_editor_assigns_a_reviewer_to_a_draft(self, draft, editor, reviewer):
        with writes("assign"):
            assignment = workflow.assign_reviewer(draft, reviewer, by=editor)
        assert (assignment.paper, assignment.reviewer) == (draft, reviewer)
        assert not Review.objects.exists()  # reviews open when the paper is submitted
        event = Event.objects.get()
        assert (event.actor, event.note) == (editor, "reviewer")

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_assign(self, draft, reviewer, name, request):
        with unchanged(draft), pytest.raises(WorkflowError, match="Only editors"):
            workflow.assign_reviewer(draft, reviewer, by=persona(request, name))

    def test_only_active_reviewers_can_be_assigned(self, draft, editor, outsider, reviewer):
        reviewer.is_active = False
        reviewer.save()
        for user in (outsider, reviewer):
            with unchanged(draft), pytest.raises(WorkflowError, match="not an active reviewer"):
                workflow.assign_reviewer(draft, user, by=editor)

    def test_a_reviewer_is_assigned_once(self, draft, editor, reviewer):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        with unchanged(draft), pytest.raises(WorkflowError, match="already assigned"):
            workflow.assign_reviewer(draft, reviewer, by=editor)

    @pytest.mark.parametrize("stage", [Stage.DRAFT, Stage.CHANGES_REQUESTED, Stage.APPROVED])
    def test_assigning_outside_review_opens_no_review(self, draft, editor, reviewer, stage):
        with writes("assign"):
            workflow.assign_reviewer(at_stage(draft, stage), reviewer, by=editor)
        assert not Review.objects.exists()

    def test_assigning_during_review_opens_a_review_for_the_current_round(
        self, draft, editor, reviewer, other_reviewer
    ):
        paper = in_review(draft, editor, reviewer)
        with writes("assign"):
            workflow.assign_reviewer(paper, other_reviewer, by=editor)
        review = review_of(paper, other_reviewer)
        assert (review.round, review.status) == (1, Review.Status.OPEN)

    def test_a_reviewer_assigned_again_in_the_same_round_can_work_again(
        self, draft, editor, reviewer
    ):
        paper = in_review(draft, editor, reviewer)
        workflow.unassign_reviewer(paper, reviewer, by=editor)
        workflow.assign_reviewer(paper, reviewer, by=editor)
        review = review_of(paper, reviewer)
        assert review.status == Review.Status.OPEN
        workflow.assess_claim(review, first_claim(paper), by=reviewer, verdict=Verdict.SUPPORTED)


# --- unassign_reviewer ------------------------------------------------------------------------


class TestUnassignReviewer:
    def test_unassigning_closes_the_open_review(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        with writes("unassign"):
            workflow.unassign_reviewer(paper, reviewer, by=editor)
        assert not Assignment.objects.exists()
        assert review_of(paper, reviewer).status == Review.Status.CLOSED

    def test_an_unassigned_reviewer_can_no_longer_comment_or_assess(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        review = review_of(paper, reviewer)
        workflow.unassign_reviewer(paper, reviewer, by=editor)
        claim = first_claim(paper)
        with unchanged(paper), pytest.raises(WorkflowError, match="not a reviewer or editor"):
            workflow.add_comment(claim, by=reviewer, body="Still here?")
        with unchanged(paper), pytest.raises(WorkflowError, match="closed"):
            workflow.assess_claim(
                Review.objects.get(pk=review.pk), claim, by=reviewer, verdict=Verdict.SUPPORTED
            )
        with unchanged(paper), pytest.raises(WorkflowError, match="closed"):
            workflow.submit_review(
                Review.objects.get(pk=review.pk), by=reviewer, recommendation="approve"
            )

    def test_a_submitted_review_stays_submitted(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        workflow.submit_review(review_of(paper, reviewer), by=reviewer, recommendation="approve")
        workflow.unassign_reviewer(paper, reviewer, by=editor)
        assert review_of(paper, reviewer).status == Review.Status.SUBMITTED

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_unassign(self, draft, editor, reviewer, name, request):
        paper = in_review(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="Only editors"):
            workflow.unassign_reviewer(paper, reviewer, by=persona(request, name))

    def test_a_reviewer_who_is_not_assigned_cannot_be_unassigned(self, draft, editor, reviewer):
        with unchanged(draft), pytest.raises(WorkflowError, match="not assigned"):
            workflow.unassign_reviewer(draft, reviewer, by=editor)


# --- submit_paper -----------------------------------------------------------------------------


class TestSubmitPaper:
    def test_submitting_opens_round_one_with_a_review_per_reviewer(
        self, draft, editor, reviewer, other_reviewer
    ):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        workflow.assign_reviewer(draft, other_reviewer, by=editor)
        with writes("submit"):
            paper = workflow.submit_paper(draft, by=editor)
        assert (paper.stage, paper.round) == (Stage.IN_REVIEW, 1)
        assert sorted(Review.objects.values_list("round", "reviewer__username", "status")) == [
            (1, "other_reviewer", "open"),
            (1, "reviewer", "open"),
        ]
        event = Event.objects.get(action="submit")
        assert (event.from_stage, event.to_stage, event.note) == ("draft", "in_review", "Round 1")

    def test_resubmitting_after_changes_opens_the_next_round(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        workflow.request_changes(paper, by=editor, reason="Source the troop numbers.")
        with writes("submit"):
            paper = workflow.submit_paper(paper, by=editor)
        assert (paper.stage, paper.round) == (Stage.IN_REVIEW, 2)
        assert sorted(Review.objects.values_list("round", "status")) == [
            (1, "closed"),
            (2, "open"),
        ]

    def test_submitting_needs_an_assigned_reviewer(self, draft, editor):
        with (
            unchanged(draft),
            pytest.raises(WorkflowError, match="Assign at least one active reviewer"),
        ):
            workflow.submit_paper(draft, by=editor)

    def test_a_reviewer_who_left_the_reviewers_group_is_skipped(
        self,
        draft,
        editor,
        reviewer,
        other_reviewer,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        workflow.assign_reviewer(draft, other_reviewer, by=editor)
        other_reviewer.groups.clear()
        with django_capture_on_commit_callbacks(execute=True), writes("submit"):
            paper = workflow.submit_paper(draft, by=editor)
        assert (paper.stage, paper.round) == (Stage.IN_REVIEW, 1)
        assert list(Review.objects.values_list("reviewer__username", "status")) == [
            ("reviewer", "open")
        ]
        assert [m.to for m in mailoutbox] == [["reviewer@example.org"]]

    def test_a_paper_whose_only_reviewer_left_the_group_cannot_be_submitted(
        self, draft, editor, reviewer
    ):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        reviewer.groups.clear()
        with (
            unchanged(draft),
            pytest.raises(WorkflowError, match="Assign at least one active reviewer"),
        ):
            workflow.submit_paper(draft, by=editor)

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_submit(self, draft, editor, reviewer, name, request):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        with unchanged(draft), pytest.raises(WorkflowError, match="Only editors"):
            workflow.submit_paper(draft, by=persona(request, name))

    @pytest.mark.parametrize(
        ("stage", "label"), [(Stage.IN_REVIEW, "in review"), (Stage.APPROVED, "approved")]
    )
    def test_submitting_from_a_wrong_stage_is_refused(self, draft, editor, reviewer, stage, label):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        paper = at_stage(draft, stage)
        with unchanged(paper), pytest.raises(WorkflowError, match=f"“{label}” cannot be submitted"):
            workflow.submit_paper(paper, by=editor)


# --- add_comment and resolve_thread -----------------------------------------------------------


class TestComments:
    def test_an_assigned_reviewer_comments_on_a_claim(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        claim = first_claim(paper)
        with writes("comment"):
            comment = workflow.add_comment(claim, by=reviewer, body="  Which forces?  ")
        assert (comment.author, comment.body, comment.round) == (reviewer, "Which forces?", 1)
        assert comment.claim_text == claim.quote
        assert claim.public_id in Event.objects.get(action="comment").note

    def test_an_editor_comments_at_any_stage(self, draft, editor):
        with writes("comment"):
            workflow.add_comment(first_claim(draft), by=editor, body="Check this before review.")

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_people_outside_the_review_cannot_comment(self, draft, name, request):
        with unchanged(draft), pytest.raises(WorkflowError, match="not a reviewer or editor"):
            workflow.add_comment(first_claim(draft), by=persona(request, name), body="Hello")

    def test_an_empty_comment_is_refused(self, draft, editor):
        with unchanged(draft), pytest.raises(WorkflowError, match="cannot be empty"):
            workflow.add_comment(first_claim(draft), by=editor, body="   ")

    def test_a_reply_answers_the_first_comment_of_a_thread_on_the_same_claim(self, draft, editor):
        first, second = draft.claims.order_by("pk")
        root = workflow.add_comment(first, by=editor, body="Root")
        reply = workflow.add_comment(first, by=editor, body="Reply", parent=root)
        with unchanged(draft), pytest.raises(WorkflowError, match="first comment of a thread"):
            workflow.add_comment(first, by=editor, body="Nested", parent=reply)
        with unchanged(draft), pytest.raises(WorkflowError, match="first comment of a thread"):
            workflow.add_comment(second, by=editor, body="Elsewhere", parent=root)

    def test_a_reply_reopens_a_resolved_thread(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        root = workflow.add_comment(first_claim(paper), by=reviewer, body="Which forces?")
        workflow.resolve_thread(root, by=editor)
        root.refresh_from_db()
        with writes("comment"):
            workflow.add_comment(first_claim(paper), by=reviewer, body="Not yet.", parent=root)
        root.refresh_from_db()
        assert not root.is_resolved and root.resolved_by_name == ""

    def test_an_editor_resolves_a_thread(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        root = workflow.add_comment(first_claim(paper), by=reviewer, body="Which forces?")
        with writes("resolve"):
            workflow.resolve_thread(root, by=editor)
        root.refresh_from_db()
        assert root.is_resolved and root.resolved_by_name == "Eda"

    def test_the_thread_starter_resolves_it_through_a_reply(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        root = workflow.add_comment(first_claim(paper), by=reviewer, body="Which forces?")
        reply = workflow.add_comment(first_claim(paper), by=editor, body="eFP.", parent=root)
        with writes("resolve"):
            resolved = workflow.resolve_thread(reply, by=reviewer)
        assert resolved.pk == root.pk and Comment.objects.get(pk=root.pk).is_resolved

    def test_another_reviewer_may_not_resolve_someone_elses_thread(
        self, draft, editor, reviewer, other_reviewer
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        root = workflow.add_comment(first_claim(paper), by=reviewer, body="Which forces?")
        with unchanged(paper), pytest.raises(WorkflowError, match="Only an editor or the person"):
            workflow.resolve_thread(root, by=other_reviewer)

    def test_an_outsider_may_not_resolve_a_thread(self, draft, editor, outsider):
        root = workflow.add_comment(first_claim(draft), by=editor, body="Root")
        with unchanged(draft), pytest.raises(WorkflowError, match="not a reviewer or editor"):
            workflow.resolve_thread(root, by=outsider)

    def test_a_resolved_thread_cannot_be_resolved_again(self, draft, editor):
        root = workflow.add_comment(first_claim(draft), by=editor, body="Root")
        workflow.resolve_thread(root, by=editor)
        root.refresh_from_db()
        with unchanged(draft), pytest.raises(WorkflowError, match="already resolved"):
            workflow.resolve_thread(root, by=editor)


# --- assess_claim -----------------------------------------------------------------------------


class TestAssessClaim:
    def test_a_reviewer_assesses_a_claim_of_their_open_review(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        claim = first_claim(paper)
        with writes("assess"):
            assessment = workflow.assess_claim(
                review_of(paper, reviewer), claim, by=reviewer, verdict=Verdict.SUPPORTED
            )
        assert (assessment.verdict, assessment.claim_text) == ("supported", claim.quote)
        assert assessment.claim_hash == claim.text_hash and not assessment.is_stale
        assert not Comment.objects.exists()  # no concern, no thread

    @pytest.mark.parametrize(
        ("verdict", "body"),
        [
            (Verdict.DISPUTED, "Disputed: Only rotating forces."),
            (Verdict.NEEDS_SOURCE, "Needs a source: Only rotating forces."),
        ],
    )
    def test_a_concern_opens_a_thread(self, draft, editor, reviewer, verdict, body):
        paper = in_review(draft, editor, reviewer)
        claim = first_claim(paper)
        with writes("assess"):
            workflow.assess_claim(
                review_of(paper, reviewer),
                claim,
                by=reviewer,
                verdict=verdict,
                note="Only rotating forces.",
            )
        thread = Comment.objects.get()
        assert (thread.claim, thread.author, thread.body) == (claim, reviewer, body)
        assert thread.parent is None and not thread.is_resolved
        assert workflow.open_concern_claims(paper) == {claim.pk}

    def test_assessing_again_updates_the_verdict(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        review, claim = review_of(paper, reviewer), first_claim(paper)
        workflow.assess_claim(review, claim, by=reviewer, verdict=Verdict.DISPUTED)
        with writes("assess"):
            workflow.assess_claim(review, claim, by=reviewer, verdict=Verdict.SUPPORTED, note="Ok")
        assert list(Assessment.objects.values_list("verdict", "note")) == [("supported", "Ok")]

    @pytest.mark.parametrize("name", ["editor", "other_reviewer", "outsider"])
    def test_only_the_reviewer_of_the_review_assesses(
        self, draft, editor, reviewer, other_reviewer, name, request
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        review = review_of(paper, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="Only the reviewer"):
            workflow.assess_claim(
                review, first_claim(paper), by=persona(request, name), verdict=Verdict.SUPPORTED
            )

    def test_a_paper_no_longer_in_review_cannot_be_assessed(
        self, draft, editor, reviewer, other_reviewer
    ):
        paper = reviewed(draft, editor, other_reviewer, reviewer)
        workflow.approve_paper(paper, by=editor)  # the review stays open, the paper moved on
        review = review_of(paper, reviewer)
        assert review.status == Review.Status.OPEN
        with unchanged(paper), pytest.raises(WorkflowError, match="not in review"):
            workflow.assess_claim(
                review, first_claim(paper), by=reviewer, verdict=Verdict.SUPPORTED
            )

    def test_a_review_of_an_earlier_round_cannot_be_assessed(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        old = review_of(paper, reviewer)
        workflow.request_changes(paper, by=editor, reason="Rework.")
        workflow.submit_paper(paper, by=editor)
        with unchanged(paper), pytest.raises(WorkflowError, match="closed"):
            workflow.assess_claim(
                Review.objects.get(pk=old.pk), first_claim(paper), by=reviewer, verdict="supported"
            )

    def test_claims_of_other_papers_and_unknown_verdicts_are_refused(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        review = review_of(paper, reviewer)
        elsewhere = ClaimFactory()
        with unchanged(paper), pytest.raises(WorkflowError, match="another paper"):
            workflow.assess_claim(review, elsewhere, by=reviewer, verdict=Verdict.SUPPORTED)
        with unchanged(paper), pytest.raises(WorkflowError, match="Choose supported"):
            workflow.assess_claim(review, first_claim(paper), by=reviewer, verdict="true")

    def test_an_assessment_goes_stale_when_the_claim_is_reworded(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        claim = first_claim(paper)
        assessment = workflow.assess_claim(
            review_of(paper, reviewer), claim, by=reviewer, verdict=Verdict.SUPPORTED
        )
        section = claim.section
        section.body = "NATO battlegroups are present in Estonia."
        section.save()
        claim.quote = "NATO battlegroups are present in Estonia."
        claim.save()
        assessment = Assessment.objects.get(pk=assessment.pk)
        assert assessment.is_stale
        assert assessment.claim_text == "NATO forces are present in Estonia."


# --- submit_review ----------------------------------------------------------------------------


class TestSubmitReview:
    def test_a_reviewer_submits_their_review(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        with writes("review"):
            review = workflow.submit_review(
                review_of(paper, reviewer), by=reviewer, recommendation="revise", summary=" Hm. "
            )
        review.refresh_from_db()
        assert (review.status, review.recommendation, review.summary) == (
            Review.Status.SUBMITTED,
            "revise",
            "Hm.",
        )
        assert review.submitted_at is not None

    @pytest.mark.parametrize("recommendation", ["", "maybe"])
    def test_a_review_needs_a_recommendation(self, draft, editor, reviewer, recommendation):
        paper = in_review(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="Choose a recommendation"):
            workflow.submit_review(
                review_of(paper, reviewer), by=reviewer, recommendation=recommendation
            )

    def test_a_submitted_review_is_closed_to_further_work(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        workflow.submit_review(review_of(paper, reviewer), by=reviewer, recommendation="approve")
        review = review_of(paper, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="closed"):
            workflow.assess_claim(review, first_claim(paper), by=reviewer, verdict="disputed")
        with unchanged(paper), pytest.raises(WorkflowError, match="closed"):
            workflow.submit_review(review, by=reviewer, recommendation="reject")

    @pytest.mark.parametrize("name", ["editor", "other_reviewer", "outsider"])
    def test_only_its_reviewer_submits_a_review(
        self, draft, editor, reviewer, other_reviewer, name, request
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        with (
            unchanged(paper),
            pytest.raises(WorkflowError, match="Only the reviewer of"),
        ):
            workflow.submit_review(
                review_of(paper, reviewer), by=persona(request, name), recommendation="approve"
            )

    def test_a_review_cannot_be_submitted_once_the_paper_left_review(
        self, draft, editor, reviewer, other_reviewer
    ):
        paper = reviewed(draft, editor, other_reviewer, reviewer)
        workflow.approve_paper(paper, by=editor)
        with unchanged(paper), pytest.raises(WorkflowError, match="not in review"):
            workflow.submit_review(review_of(paper, reviewer), by=reviewer, recommendation="reject")


# --- request_changes --------------------------------------------------------------------------


class TestRequestChanges:
    def test_requesting_changes_closes_open_reviews_and_emails_every_reviewer_of_the_round(
        self,
        draft,
        editor,
        reviewer,
        other_reviewer,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        workflow.submit_review(review_of(paper, reviewer), by=reviewer, recommendation="revise")
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True), writes("request_changes"):
            paper = workflow.request_changes(paper, by=editor, reason="Source the numbers.")
        assert paper.stage == Stage.CHANGES_REQUESTED
        assert review_of(paper, reviewer).status == Review.Status.SUBMITTED
        assert review_of(paper, other_reviewer).status == Review.Status.CLOSED
        assert Event.objects.get(action="request_changes").note == "Source the numbers."
        assert sorted(address for m in mailoutbox for address in m.to) == [
            "other_reviewer@example.org",
            "reviewer@example.org",
        ]
        assert all("Source the numbers." in m.body for m in mailoutbox)

    def test_a_reviewer_unassigned_during_the_round_is_not_told(
        self,
        draft,
        editor,
        reviewer,
        other_reviewer,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        workflow.unassign_reviewer(paper, other_reviewer, by=editor)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            workflow.request_changes(paper, by=editor, reason="Internal reasons.")
        assert [m.to for m in mailoutbox] == [["reviewer@example.org"]]

    def test_requesting_changes_on_an_approved_paper_cancels_its_schedule(
        self, draft, editor, reviewer
    ):
        paper = reviewed(draft, editor, reviewer)
        workflow.approve_paper(paper, by=editor, publish_at=timezone.now() + timedelta(days=1))
        with writes("request_changes"):
            paper = workflow.request_changes(paper, by=editor, reason="Hold it.")
        paper.refresh_from_db()
        assert (paper.stage, paper.publish_at) == (Stage.CHANGES_REQUESTED, None)

    def test_requesting_changes_needs_a_reason(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="cannot be empty"):
            workflow.request_changes(paper, by=editor, reason="  ")

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_request_changes(self, draft, editor, reviewer, name, request):
        paper = in_review(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="Only editors"):
            workflow.request_changes(paper, by=persona(request, name), reason="No.")

    @pytest.mark.parametrize(
        ("stage", "label"),
        [(Stage.DRAFT, "draft"), (Stage.CHANGES_REQUESTED, "changes requested")],
    )
    def test_requesting_changes_from_a_wrong_stage_is_refused(self, draft, editor, stage, label):
        paper = at_stage(draft, stage)
        with unchanged(paper), pytest.raises(WorkflowError, match=f"“{label}” cannot be sent"):
            workflow.request_changes(paper, by=editor, reason="Again.")


# --- approve_paper and four eyes --------------------------------------------------------------


class TestApprovePaper:
    def test_an_editor_approves_for_publication_at_a_set_time(self, draft, editor, reviewer):
        paper = reviewed(draft, editor, reviewer)
        when = timezone.now() + timedelta(days=1)
        with writes("approve"):
            paper = workflow.approve_paper(paper, by=editor, publish_at=when)
        paper.refresh_from_db()
        assert (paper.stage, paper.publish_at) == (Stage.APPROVED, when)
        event = Event.objects.get(action="approve")
        assert (event.from_stage, event.to_stage) == ("in_review", "approved")
        assert event.note.startswith(f"To be published {when:%Y-%m-%d}")

    def test_the_operator_approves_from_the_command_line(self, draft, editor, reviewer):
        paper = reviewed(draft, editor, reviewer)
        with writes("approve"):
            workflow.approve_paper(paper, by=None)
        assert Event.objects.get(action="approve").actor_name == "command line"

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_approve(self, draft, editor, reviewer, name, request):
        paper = reviewed(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="Only editors"):
            workflow.approve_paper(paper, by=persona(request, name))

    @pytest.mark.parametrize(
        ("stage", "label"),
        [
            (Stage.DRAFT, "draft"),
            (Stage.CHANGES_REQUESTED, "changes requested"),
            (Stage.APPROVED, "approved"),
        ],
    )
    def test_approving_from_a_wrong_stage_is_refused(self, draft, editor, stage, label):
        paper = at_stage(draft, stage)
        with unchanged(paper), pytest.raises(WorkflowError, match=f"“{label}” cannot be approved"):
            workflow.approve_paper(paper, by=editor)

    def test_an_author_may_not_approve_their_own_paper(self, draft, editor, reviewer):
        draft.authors.add(editor)
        paper = reviewed(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="You are an author"):
            workflow.approve_paper(paper, by=editor)
        with unchanged(paper), pytest.raises(WorkflowError, match="You are an author"):
            workflow.approve_paper(paper, by=editor, override_reason="I am sure.")

    def test_another_editor_approves_an_authors_paper(self, draft, editor, other_editor, reviewer):
        draft.authors.add(editor)
        paper = reviewed(draft, editor, reviewer)
        with writes("approve"):
            workflow.approve_paper(paper, by=other_editor)

    def test_a_superuser_author_overrides_four_eyes_with_a_reason(
        self, draft, editor, superuser, reviewer
    ):
        draft.authors.add(superuser)
        paper = reviewed(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="You are an author"):
            workflow.approve_paper(paper, by=superuser)
        with writes("override", "approve"):
            workflow.approve_paper(paper, by=superuser, override_reason="Editor on leave.")
        assert Event.objects.get(action="override").note == "Four eyes (approve): Editor on leave."

    def test_approving_needs_a_submitted_review_of_the_round(
        self, draft, editor, reviewer, other_reviewer
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        workflow.assess_claim(
            review_of(paper, reviewer), first_claim(paper), by=reviewer, verdict=Verdict.SUPPORTED
        )
        with unchanged(paper), pytest.raises(WorkflowError, match="No reviewer has submitted"):
            workflow.approve_paper(paper, by=editor)

    def test_a_review_submitted_in_an_earlier_round_does_not_count(self, draft, editor, reviewer):
        paper = reviewed(draft, editor, reviewer)
        workflow.request_changes(paper, by=editor, reason="Rework the outlook.")
        paper = workflow.submit_paper(paper, by=editor)
        with unchanged(paper), pytest.raises(WorkflowError, match="No reviewer has submitted"):
            workflow.approve_paper(paper, by=editor)

    @pytest.mark.parametrize("ago", [timedelta(seconds=1), timedelta(days=365)])
    def test_a_publication_time_in_the_past_is_refused(self, draft, editor, reviewer, ago):
        paper = reviewed(draft, editor, reviewer)
        with unchanged(paper), pytest.raises(WorkflowError, match="time is in the past"):
            workflow.approve_paper(paper, by=editor, publish_at=timezone.now() - ago)


# --- publish_paper, the gate and four eyes ----------------------------------------------------


class TestPublishPaper:
    def test_an_editor_publishes_an_approved_paper(self, draft, editor, reviewer):
        paper = reviewed(draft, editor, reviewer)
        workflow.approve_paper(paper, by=editor)
        with writes("publish"):
            version = workflow.publish_paper(paper, by=editor, note="First.")
        paper.refresh_from_db()
        assert (paper.live_version, paper.stage, version.number) == (version, Stage.DRAFT, 1)
        event = Event.objects.get(action="publish")
        assert (event.from_stage, event.to_stage, event.version_number) == ("approved", "draft", 1)

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_publish(self, draft, name, request):
        paper = approved(draft)
        with unchanged(paper), pytest.raises(WorkflowError, match="permission to publish"):
            workflow.publish_paper(paper, by=persona(request, name))

    @pytest.mark.parametrize(
        ("stage", "label"),
        [
            (Stage.DRAFT, "draft"),
            (Stage.IN_REVIEW, "in review"),
            (Stage.CHANGES_REQUESTED, "changes requested"),
        ],
    )
    def test_publishing_from_a_wrong_stage_is_refused(self, draft, editor, stage, label):
        paper = at_stage(draft, stage)
        with unchanged(paper), pytest.raises(WorkflowError, match=f"“{label}” cannot be published"):
            workflow.publish_paper(paper, by=editor)

    def test_an_orphaned_claim_blocks_even_with_an_override(self, draft, editor):
        section = draft.sections.get(heading="Background")
        section.body = "Rewritten without the claim."
        section.save()
        paper = approved(draft)
        with unchanged(paper), pytest.raises(WorkflowError, match="re-anchored or removed"):
            workflow.publish_paper(paper, by=editor, override_reason="Publish anyway.")

    @pytest.mark.parametrize("verdict", [Verdict.DISPUTED, Verdict.NEEDS_SOURCE])
    def test_an_unresolved_concern_blocks_unless_overridden(self, draft, editor, reviewer, verdict):
        paper = in_review(draft, editor, reviewer)
        review = review_of(paper, reviewer)
        workflow.assess_claim(review, first_claim(paper), by=reviewer, verdict=verdict)
        recommend_approval(paper, reviewer)
        paper = workflow.approve_paper(paper, by=editor)
        with unchanged(paper), pytest.raises(WorkflowError, match="unresolved thread"):
            workflow.publish_paper(paper, by=editor)
        with writes("override", "publish"):
            version = workflow.publish_paper(paper, by=editor, override_reason="Checked by phone.")
        assert Event.objects.get(action="override").note == "Publish gate: Checked by phone."
        assert Paper.objects.get(pk=paper.pk).live_version == version

    def test_resolving_the_thread_unblocks_publishing(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        review = review_of(paper, reviewer)
        workflow.assess_claim(review, first_claim(paper), by=reviewer, verdict="disputed")
        recommend_approval(paper, reviewer)
        paper = workflow.approve_paper(paper, by=editor)
        workflow.resolve_thread(Comment.objects.get(), by=editor)
        with writes("publish"):
            workflow.publish_paper(paper, by=editor)

    def test_an_author_publishes_only_after_another_editor_approved(
        self, draft, editor, other_editor, reviewer
    ):
        draft.authors.add(editor)
        paper = approved(draft)
        with unchanged(paper), pytest.raises(WorkflowError, match="You are an author"):
            workflow.publish_paper(paper, by=editor)
        paper = at_stage(draft, Stage.DRAFT)
        paper = reviewed(paper, editor, reviewer)
        workflow.approve_paper(paper, by=other_editor)
        with writes("publish"):
            workflow.publish_paper(paper, by=editor)

    def test_a_superuser_author_publishes_with_a_reason(self, draft, superuser):
        draft.authors.add(superuser)
        paper = approved(draft)
        with unchanged(paper), pytest.raises(WorkflowError, match="You are an author"):
            workflow.publish_paper(paper, by=superuser)
        with writes("override", "publish"):
            workflow.publish_paper(paper, by=superuser, override_reason="Urgent.")

    def test_the_operator_publishes_from_any_stage(self, draft):
        with writes("publish"):
            version = workflow.publish_paper(draft, by=None, note="Back catalogue.")
        assert (version.published_by_name, version.number) == ("command line", 1)


# --- publish_correction -----------------------------------------------------------------------


class TestPublishCorrection:
    @pytest.mark.parametrize(
        "stage", [Stage.DRAFT, Stage.IN_REVIEW, Stage.CHANGES_REQUESTED, Stage.APPROVED]
    )
    def test_a_published_paper_is_corrected_at_any_stage(self, published, editor, stage):
        paper = at_stage(published, stage)
        with writes("correct"):
            version = workflow.publish_correction(paper, by=editor, note="Fixed a date.")
        paper.refresh_from_db()
        assert (version.number, version.is_correction, version.note) == (2, True, "Fixed a date.")
        # A correction uses up an approval; a review round in progress goes on.
        after = Stage.DRAFT if stage == Stage.APPROVED else stage
        assert (paper.live_version, paper.stage) == (version, after)

    def test_a_correction_needs_a_note(self, published, editor):
        with unchanged(published), pytest.raises(WorkflowError, match="needs a note"):
            workflow.publish_correction(published, by=editor, note="  ")

    def test_an_unpublished_paper_cannot_be_corrected(self, draft, editor):
        with unchanged(draft), pytest.raises(WorkflowError, match="Only a published paper"):
            workflow.publish_correction(draft, by=editor, note="Fix.")

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_publish_corrections(self, published, name, request):
        with unchanged(published), pytest.raises(WorkflowError, match="permission to publish"):
            workflow.publish_correction(published, by=persona(request, name), note="Fix.")

    def test_a_withdrawn_paper_cannot_be_corrected(self, published, editor):
        workflow.withdraw_paper(published, by=editor, reason="Plagiarised.")
        with unchanged(published), pytest.raises(WorkflowError, match="withdrawn"):
            workflow.publish_correction(published, by=editor, note="Fix.")


# --- withdraw_paper ---------------------------------------------------------------------------


class TestWithdrawPaper:
    def test_withdrawing_keeps_the_version_and_shows_the_reason(self, published, editor):
        version = published.live_version
        with writes("withdraw"):
            paper = workflow.withdraw_paper(published, by=editor, reason="Data were fabricated.")
        paper.refresh_from_db()
        assert paper.withdrawn_at is not None
        assert (paper.live_version, paper.withdrawal_reason) == (version, "Data were fabricated.")
        assert Version.objects.count() == 1
        response = Client().get(f"/papers/{paper.slug}/")
        assert response.status_code == 200
        assert "Data were fabricated." in response.content.decode()

    def test_withdrawing_needs_a_reason(self, published, editor):
        with unchanged(published), pytest.raises(WorkflowError, match="cannot be empty"):
            workflow.withdraw_paper(published, by=editor, reason="")

    def test_only_a_published_paper_can_be_withdrawn(self, draft, editor):
        with unchanged(draft), pytest.raises(WorkflowError, match="Only a published paper"):
            workflow.withdraw_paper(draft, by=editor, reason="Never mind.")

    def test_a_paper_is_withdrawn_once(self, published, editor):
        workflow.withdraw_paper(published, by=editor, reason="Once.")
        with unchanged(published), pytest.raises(WorkflowError, match="already withdrawn"):
            workflow.withdraw_paper(published, by=editor, reason="Twice.")

    @pytest.mark.parametrize("name", ["reviewer", "outsider"])
    def test_only_editors_withdraw(self, published, name, request):
        with unchanged(published), pytest.raises(WorkflowError, match="permission to withdraw"):
            workflow.withdraw_paper(published, by=persona(request, name), reason="Mine.")


# --- Review status frozen into the version ----------------------------------------------------


class TestReviewStatusInTheVersion:
    def publish(self, paper, editor):
        # These reviews leave claims unchecked on purpose: approving them takes an override.
        paper = workflow.approve_paper(paper, by=editor, override_reason="Partial review.")
        return workflow.publish_paper(paper, by=editor)

    def claim_review(self, version, claim):
        (entry,) = [c for c in version.snapshot["claims"] if c["id"] == claim.public_id]
        return entry.get("review")

    def test_two_supporting_reviews_are_frozen_into_the_version(
        self, draft, editor, reviewer, other_reviewer
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        claim = first_claim(paper)
        for person in (reviewer, other_reviewer):
            review = review_of(paper, person)
            workflow.assess_claim(review, claim, by=person, verdict=Verdict.SUPPORTED)
            workflow.submit_review(review, by=person, recommendation="approve")
        version = self.publish(paper, editor)
        status = self.claim_review(version, claim)
        assert (status["status"], status["label"], status["reviewers"]) == (
            "supported",
            "Checked by 2 reviewers: supported",
            2,
        )
        assert "Checked by 2 reviewers: supported" in version.body_html
        other = paper.claims.exclude(pk=claim.pk).get()
        assert self.claim_review(version, other) is None
        assert "Not checked by a reviewer" in version.body_html

    def test_verdicts_of_an_unsubmitted_review_do_not_count(
        self, draft, editor, reviewer, other_reviewer
    ):
        paper = in_review(draft, editor, reviewer, other_reviewer)
        claim = first_claim(paper)
        submitted = review_of(paper, reviewer)
        workflow.assess_claim(submitted, claim, by=reviewer, verdict=Verdict.SUPPORTED)
        workflow.submit_review(submitted, by=reviewer, recommendation="approve")
        workflow.assess_claim(
            review_of(paper, other_reviewer), claim, by=other_reviewer, verdict="supported"
        )
        version = self.publish(paper, editor)
        assert self.claim_review(version, claim)["label"] == "Checked by 1 reviewer: supported"
        assert "Checked by 1 reviewer: supported" in version.body_html

    def test_a_claim_reworded_after_review_is_published_as_revised(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        claim = first_claim(paper)
        review = review_of(paper, reviewer)
        workflow.assess_claim(review, claim, by=reviewer, verdict=Verdict.SUPPORTED)
        workflow.submit_review(review, by=reviewer, recommendation="approve")
        section = claim.section
        section.body = "NATO battlegroups are present in Estonia."
        section.save()
        claim.quote = "NATO battlegroups are present in Estonia."
        claim.save()
        version = self.publish(paper, editor)
        assert self.claim_review(version, claim)["status"] == "revised"
        assert "Reworded after review; not re-checked yet" in version.body_html


# --- Email after commit -----------------------------------------------------------------------


class ExplodingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


class TestEmailAfterCommit:
    def test_mail_goes_out_only_after_commit(
        self, draft, editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.assign_reviewer(draft, reviewer, by=editor)
            assert mailoutbox == []
        assert [m.to for m in mailoutbox] == [["reviewer@example.org"]]

    def test_a_rolled_back_step_sends_nothing(
        self, draft, editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            workflow.assign_reviewer(draft, reviewer, by=editor)
            raise RuntimeError("something later failed")
        assert callbacks == [] and mailoutbox == []
        assert not Assignment.objects.exists() and not Event.objects.exists()

    def test_a_failing_mail_server_does_not_undo_the_step(
        self, draft, editor, reviewer, settings, caplog, django_capture_on_commit_callbacks
    ):
        settings.EMAIL_BACKEND = f"{__name__}.ExplodingBackend"
        with django_capture_on_commit_callbacks(execute=True), writes("assign", "submit"):
            paper = in_review(draft, editor, reviewer)
        assert Paper.objects.get(pk=paper.pk).stage == Stage.IN_REVIEW
        assert Review.objects.filter(paper=paper, reviewer=reviewer).exists()
        # Each email is a task (papers.notifications.send_email); its failure is the task's.
        failures = [r for r in caplog.records if r.name == "django_tasks"]
        failures = [r for r in failures if r.levelno == logging.ERROR]
        assert len(failures) == 2 and all("send_email" in r.getMessage() for r in failures)


# --- The audit log (R26) and denied access (R27) ----------------------------------------------


class TestAuditLog:
    def test_events_keep_the_actor_after_the_user_is_deleted(self, draft, other_editor, reviewer):
        """R26: no database constraint ties an event to its actor."""
        in_review(draft, other_editor, reviewer)
        actor_id = other_editor.pk
        other_editor.delete()
        events = Event.objects.order_by("pk")
        assert [e.action for e in events] == ["assign", "submit"]
        assert {(e.actor_id, e.actor_name) for e in events} == {(actor_id, "other_editor")}
        assert all(e.created_at is not None and e.paper_title == draft.title for e in events)

    def test_events_survive_the_deletion_of_a_draft(self, editor):
        paper = PaperFactory(title="Short-lived")
        ClaimFactory(section=SectionFactory(paper=paper))
        workflow.add_comment(paper.claims.get(), by=editor, body="Delete this?")
        paper_id = paper.pk
        paper.delete()
        event = Event.objects.get()
        assert (event.paper_id, event.paper_title, event.action) == (
            paper_id,
            "Short-lived",
            "comment",
        )


class TestDeniedAccessIsLogged:
    """R27: the permission fetchers log a refusal on the "security" logger."""

    def test_a_review_page_refused_to_an_outsider_is_logged(self, draft, outsider, caplog):
        with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(Http404):
            permissions.paper_for_review(outsider, draft.slug)
        (record,) = [r for r in caplog.records if r.name == "security"]
        assert record.getMessage() == (
            "authz.denied user=outsider action=review page target=draft-on-deterrence"
        )

    def test_an_editors_action_refused_to_a_reviewer_is_logged(self, reviewer, caplog):
        with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(PermissionDenied):
            permissions.require_editor(reviewer, "publish papers")
        (record,) = [r for r in caplog.records if r.name == "security"]
        assert "user=reviewer action=publish papers" in record.getMessage()

    def test_a_page_that_does_not_exist_is_not_logged_as_denied(self, outsider, caplog):
        with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(Http404):
            permissions.paper_for_review(outsider, "no-such-paper")
        assert not [r for r in caplog.records if r.name == "security"]


class TestTightenedRules:
    def test_re_assessing_a_concern_does_not_open_a_second_thread(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        review, claim = review_of(paper, reviewer), paper.claims.first()
        workflow.assess_claim(review, claim, by=reviewer, verdict="disputed", note="No.")
        workflow.assess_claim(review, claim, by=reviewer, verdict="needs-source", note="Cite.")
        assert claim.comments.filter(parent=None).count() == 1

    def test_someone_removed_from_the_reviewers_group_loses_access(self, draft, editor, reviewer):
        paper = in_review(draft, editor, reviewer)
        reviewer.groups.clear()
        with pytest.raises(WorkflowError, match="not a reviewer or editor"):
            workflow.add_comment(paper.claims.first(), by=reviewer, body="Still here?")

    def test_an_old_approval_does_not_let_an_author_publish_a_correction(
        self, draft, editor, other_editor
    ):
        draft.authors.add(editor)
        workflow.publish_paper(approved(draft), by=other_editor)
        with pytest.raises(WorkflowError, match="a second editor must publish"):
            workflow.publish_correction(draft, by=editor, note="Quietly changed.")

    def test_a_denied_action_is_logged_for_security(self, draft, outsider, caplog):
        with caplog.at_level("WARNING", logger="security"), pytest.raises(WorkflowError):
            workflow.submit_paper(draft, by=outsider)
        assert "authz.denied user=outsider" in caplog.text
