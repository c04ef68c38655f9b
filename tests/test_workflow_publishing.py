"""papers/workflow/publishing.py: publishing through the gate and four eyes, corrections and
withdrawals, each allowed for the right persona from the right stage, forbidden for the others
with nothing changed, and writing exactly one event; and the review status a version freezes."""

import pytest
from django.test import Client

from papers import workflow
from papers.models import Assessment, Comment, Event, Paper, Version
from papers.workflow import WorkflowError
from tests.factories import approved
from tests.workflow_steps import (
    at_stage,
    first_claim,
    in_review,
    persona,
    recommend_approval,
    review_of,
    reviewed,
    unchanged,
    writes,
)

pytestmark = pytest.mark.django_db

Stage = Paper.Stage
Verdict = Assessment.Verdict


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
