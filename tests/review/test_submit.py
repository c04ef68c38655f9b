"""The submission page: a recap of the reviewer's verdicts, and their review submitted with a
recommendation."""

import pytest

from papers import workflow
from tests.review.conftest import (
    PAGE,
    factual,
    messages_of,
    review_of,
)

pytestmark = pytest.mark.django_db


class TestSubmittingAReview:
    def test_the_page_recaps_the_verdicts_and_asks_for_a_recommendation(
        self, in_review, reviewer, as_reviewer
    ):
        workflow.assess_claim(
            review_of(reviewer, in_review),
            factual(in_review),
            by=reviewer,
            verdict="disputed",
            note="Not in 2014.",
        )
        html = as_reviewer.get(f"{PAGE}submit/").content.decode()
        assert "You have assessed 1 of 2 claims in this round." in html
        assert "<strong>Your verdict:</strong> Disputed" in html
        assert "<strong>Your verdict:</strong> not assessed" in html
        assert "<legend>Recommendation to the editors</legend>" in html

    def test_posting_submits_the_review(self, in_review, reviewer, as_reviewer):
        response = as_reviewer.post(
            f"{PAGE}submit/",
            {"recommendation": "revise", "summary": "Fix the outlook.", "unassessed": "on"},
        )
        assert response["Location"] == PAGE
        review = review_of(reviewer, in_review)
        assert (review.status, review.recommendation, review.summary) == (
            "submitted",
            "revise",
            "Fix the outlook.",
        )
        assert review.submitted_at is not None

    def test_a_missing_recommendation_re_renders_the_form(self, in_review, reviewer, as_reviewer):
        response = as_reviewer.post(f"{PAGE}submit/", {"summary": "Kept."})
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert "Kept.</textarea>" in response.content.decode()
        assert review_of(reviewer, in_review).status == "open"

    def test_submitting_twice_is_a_message(self, in_review, reviewer, as_reviewer):
        as_reviewer.post(f"{PAGE}submit/", {"recommendation": "approve", "unassessed": "on"})
        response = as_reviewer.post(
            f"{PAGE}submit/", {"recommendation": "reject", "unassessed": "on"}
        )
        assert messages_of(response)[-1] == (
            "This review is closed: it was submitted or its round has ended."
        )
        assert review_of(reviewer, in_review).recommendation == "approve"

    def test_fields_outside_the_form_are_ignored(
        self, in_review, reviewer, as_reviewer, other_reviewer
    ):
        """R4."""
        as_reviewer.post(
            f"{PAGE}submit/",
            {
                "recommendation": "approve",
                "unassessed": "on",
                "status": "closed",
                "round": 9,
                "reviewer": other_reviewer.pk,
            },
        )
        review = review_of(reviewer, in_review)
        assert (review.status, review.round) == ("submitted", 1)
        assert review_of(other_reviewer, in_review).status == "open"

    def test_an_editor_has_nothing_to_submit(self, in_review, as_editor):
        html = as_editor.get(f"{PAGE}submit/").content.decode()
        assert "there is nothing to submit" in html
        response = as_editor.post(f"{PAGE}submit/", {"recommendation": "approve"})
        assert messages_of(response) == ["You have no review of this round to submit."]
