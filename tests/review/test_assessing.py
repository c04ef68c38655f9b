"""A reviewer's verdict on a claim through the workspace's form: saved in their own review,
shown again, refused with a message when it cannot be taken."""

import pytest

from papers import workflow
from papers.models import Assessment
from tests.review.conftest import (
    PAGE,
    claim_url,
    factual,
    messages_of,
    review_of,
)

pytestmark = pytest.mark.django_db


class TestAssessing:
    def test_a_verdict_is_saved_in_the_viewers_review_and_preselected(
        self, in_review, reviewer, as_reviewer
    ):
        claim = factual(in_review)
        response = as_reviewer.post(
            claim_url(claim, "assess"), {"verdict": "needs-source", "note": "Cite the order."}
        )
        assert response["Location"] == f"{PAGE}#claim-note-{claim.public_id}"
        assert messages_of(response) == ["Your assessment was saved."]
        assessment = Assessment.objects.get()
        assert assessment.review == review_of(reviewer, in_review)
        assert (assessment.verdict, assessment.note) == ("needs-source", "Cite the order.")
        html = as_reviewer.get(PAGE).content.decode()
        assert f'value="needs-source" id="verdict-{claim.public_id}-needs-source" checked' in html
        assert f'value="supported" id="verdict-{claim.public_id}-supported" checked' not in html
        assert ">Cite the order.</textarea>" in html
        assert "1 of 2 claims assessed" in html

    def test_a_second_verdict_replaces_the_first(self, in_review, as_reviewer):
        url = claim_url(factual(in_review), "assess")
        as_reviewer.post(url, {"verdict": "disputed"})
        as_reviewer.post(url, {"verdict": "supported"})
        assert list(Assessment.objects.values_list("verdict", flat=True)) == ["supported"]

    @pytest.mark.parametrize(
        "data", [{}, {"verdict": "probably"}, {"verdict": "supported", "note": "x" * 10_001}]
    )
    def test_a_bad_form_is_refused_with_a_message(self, in_review, as_reviewer, data):
        response = as_reviewer.post(claim_url(factual(in_review), "assess"), data)
        assert response.status_code == 302
        assert messages_of(response)
        assert not Assessment.objects.exists()

    def test_fields_outside_the_form_are_ignored(
        self, in_review, reviewer, other_reviewer, as_reviewer
    ):
        """R4: the review is the viewer's own, whatever the POST says."""
        theirs = review_of(other_reviewer, in_review)
        as_reviewer.post(
            claim_url(factual(in_review), "assess"),
            {
                "verdict": "disputed",
                "review": theirs.pk,
                "reviewer": other_reviewer.pk,
                "claim_hash": "forged",
                "other_verdict": "supported",
            },
        )
        assessment = Assessment.objects.get()
        assert assessment.review == review_of(reviewer, in_review)
        assert assessment.claim_hash == factual(in_review).text_hash
        assert not theirs.assessments.exists()

    def test_assessing_after_the_round_closed_is_a_message_not_an_error(
        self, in_review, editor, as_reviewer
    ):
        workflow.request_changes(in_review, by=editor, reason="Rework the outlook.")
        url = claim_url(factual(in_review), "assess")
        response = as_reviewer.post(url, {"verdict": "supported"}, follow=True)
        assert response.status_code == 200
        assert "This review is closed: it was submitted or its round has ended." in (
            response.content.decode()
        )
        assert not Assessment.objects.exists()
        assert 'class="review-form review-form--assess"' not in response.content.decode()

    def test_an_editor_without_a_review_is_told_so(self, in_review, as_editor):
        response = as_editor.post(claim_url(factual(in_review), "assess"), {"verdict": "supported"})
        assert messages_of(response) == [
            "You have no review of this round in which to assess claims."
        ]
        assert not Assessment.objects.exists()
