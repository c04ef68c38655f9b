"""papers/workflow/decisions.py: editors requesting changes and approving (four eyes
included), each allowed for the right persona from the right stage, forbidden for the others
with nothing changed, refused from a wrong stage, and writing exactly one event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from papers import workflow
from papers.models import Assessment, Event, Paper, Review
from papers.workflow import WorkflowError
from tests.workflow_steps import (
    at_stage,
    first_claim,
    in_review,
    persona,
    review_of,
    reviewed,
    unchanged,
    writes,
)

pytestmark = pytest.mark.django_db

Stage = Paper.Stage
Verdict = Assessment.Verdict


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
