"""papers/workflow/rounds.py: assigning and unassigning reviewers and submitting a paper for
a round, each allowed for the right persona from the right stage, forbidden for the others with
nothing changed, refused from a wrong stage, and writing exactly one event."""

import pytest

from papers import workflow
from papers.models import Assessment, Assignment, Event, Paper, Review
from papers.workflow import WorkflowError
from tests.workflow_steps import (
    at_stage,
    first_claim,
    in_review,
    persona,
    review_of,
    unchanged,
    writes,
)

pytestmark = pytest.mark.django_db

Stage = Paper.Stage
Verdict = Assessment.Verdict


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
