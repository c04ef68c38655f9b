"""papers/workflow/reviewing.py: comments and threads, verdicts on claims and submitted
reviews, each allowed for the right persona, forbidden for the others with nothing changed,
refused once the review or the round is closed, and writing exactly one event."""

import pytest

from papers import workflow
from papers.models import Assessment, Comment, Event, Review
from papers.workflow import WorkflowError
from tests.factories import ClaimFactory
from tests.workflow_steps import (
    first_claim,
    in_review,
    persona,
    review_of,
    reviewed,
    unchanged,
    writes,
)

pytestmark = pytest.mark.django_db

Verdict = Assessment.Verdict


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
