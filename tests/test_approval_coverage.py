"""Approval rests on complete reviews: a submitted review counts only with a verdict on every
claim; without one, an editor approves only with a written override reason (an event)."""

import pytest

from papers import workflow
from papers.models import Assessment, Event, Paper, Review
from papers.workflow import WrongStage

pytestmark = pytest.mark.django_db

Stage = Paper.Stage


@pytest.fixture
def in_review(draft, editor, reviewer, other_reviewer):
    for person in (reviewer, other_reviewer):
        workflow.assign_reviewer(draft, person, by=editor)
    return workflow.submit_paper(draft, by=editor)


def review_of(paper, reviewer):
    return Review.objects.get(paper=paper, reviewer=reviewer, round=paper.round)


def assess(paper, reviewer, count):
    """`reviewer` gives a verdict on the first `count` claims."""
    review = review_of(paper, reviewer)
    for claim in paper.claims.order_by("pk")[:count]:
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    return review


def submit(paper, reviewer, assessed):
    review = assess(paper, reviewer, assessed)
    return workflow.submit_review(review, by=reviewer, recommendation="approve")


def stage(paper):
    return Paper.objects.get(pk=paper.pk).stage


def test_a_review_that_checked_nothing_does_not_count(in_review, editor, reviewer):
    """The attack: "Approve" with 0 of 2 claims assessed satisfied the rule."""
    submit(in_review, reviewer, assessed=0)
    with pytest.raises(WrongStage, match="assessed 0 of 2 claims"):
        workflow.approve_paper(in_review, by=editor)
    assert stage(in_review) == Stage.IN_REVIEW
    assert not Event.objects.filter(action__in=["approve", "override"]).exists()


def test_a_partial_review_does_not_count_either(in_review, editor, reviewer, other_reviewer):
    submit(in_review, reviewer, assessed=1)
    submit(in_review, other_reviewer, assessed=1)
    with pytest.raises(WrongStage, match="assessed 1 of 2 claims"):
        workflow.approve_paper(in_review, by=editor)


def test_one_complete_review_is_enough(in_review, editor, reviewer, other_reviewer):
    submit(in_review, reviewer, assessed=2)
    submit(in_review, other_reviewer, assessed=0)
    workflow.approve_paper(in_review, by=editor)
    assert stage(in_review) == Stage.APPROVED
    approval = Event.objects.get(action="approve")
    assert "reviewer: assessed 2 of 2 claims" in approval.note
    assert "other_reviewer: assessed 0 of 2 claims" in approval.note
    assert not Event.objects.filter(action="override").exists()


def test_a_complete_review_not_yet_submitted_does_not_count(in_review, editor, reviewer):
    assess(in_review, reviewer, 2)
    with pytest.raises(WrongStage):
        workflow.approve_paper(in_review, by=editor)


def test_a_carried_verdict_counts_only_once_confirmed(in_review, editor, reviewer):
    review = submit(in_review, reviewer, assessed=2)
    Assessment.objects.filter(review=review).update(carried_from=1)
    with pytest.raises(WrongStage):
        workflow.approve_paper(in_review, by=editor)


def test_an_editor_approves_incomplete_reviews_with_a_written_reason(in_review, editor, reviewer):
    submit(in_review, reviewer, assessed=1)
    with pytest.raises(WrongStage):
        workflow.approve_paper(in_review, by=editor, override_reason="   ")
    workflow.approve_paper(in_review, by=editor, override_reason="The outlook is opinion.")
    assert stage(in_review) == Stage.APPROVED
    override, approval = Event.objects.filter(action__in=["override", "approve"]).order_by("pk")
    assert (override.action, override.actor, approval.action) == ("override", editor, "approve")
    assert override.note.endswith(": The outlook is opinion.")
    assert "assessed 1 of 2 claims" in override.note


def test_an_override_does_not_replace_a_submitted_review(in_review, editor):
    with pytest.raises(WrongStage):
        workflow.approve_paper(in_review, by=editor, override_reason="Trust me.")


def test_the_admin_page_shows_the_coverage_when_it_refuses(in_review, editor_client, reviewer):
    submit(in_review, reviewer, assessed=0)
    response = editor_client.post(
        f"/admin/papers/paper/{in_review.pk}/workflow/approve/",
        {"override_reason": ""},
        follow=True,
    )
    assert "assessed 0 of 2 claims" in response.content.decode()
    assert stage(in_review) == Stage.IN_REVIEW
