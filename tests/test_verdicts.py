"""A claim's review status from its reviewers' assessments (papers.verdicts)."""

import pytest

from papers import verdicts
from papers.models import Assessment, Review
from tests.factories import ClaimFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

SUPPORTED, NEEDS_SOURCE, DISPUTED = "supported", "needs-source", "disputed"


@pytest.fixture
def claim(db):
    return ClaimFactory()


@pytest.fixture
def people(db):
    return [ReviewerFactory(username=f"reviewer{n}") for n in range(3)]


def assess(claim, reviewer, verdict, *, round=1, note="", stale=False):
    review, _ = Review.objects.get_or_create(
        paper=claim.paper,
        round=round,
        reviewer=reviewer,
        defaults={"status": Review.Status.SUBMITTED},
    )
    return Assessment.objects.create(
        review=review,
        claim=claim,
        verdict=verdict,
        note=note,
        claim_text=claim.quote,
        claim_hash="0" * 16 if stale else claim.text_hash,
    )


def assessments(claim):
    return list(claim.assessments.select_related("review", "claim"))


def status(claim):
    return verdicts.summarize(assessments(claim))


def test_a_claim_nobody_assessed_is_unchecked(claim):
    assert status(claim) == {
        "status": "unchecked",
        "label": "Not checked by a reviewer",
        "reviewers": 0,
        "verdicts": [],
        "notes": [],
    }
    assert not verdicts.disagree([])


def test_one_supporting_reviewer(claim, people):
    assess(claim, people[0], SUPPORTED, note="Matches the NATO fact sheet.")
    summary = status(claim)
    assert (summary["status"], summary["label"], summary["reviewers"]) == (
        "supported",
        "Checked by 1 reviewer: supported",
        1,
    )
    assert summary["notes"] == []  # a supporting note is not a concern shown to readers


def test_three_supporting_reviewers_are_counted(claim, people):
    for person in people:
        assess(claim, person, SUPPORTED)
    assert status(claim)["label"] == "Checked by 3 reviewers: supported"
    assert not verdicts.disagree(assessments(claim))


def test_a_disputed_claim(claim, people):
    assess(claim, people[0], DISPUTED, note="Chechnya is not a state.")
    summary = status(claim)
    assert (summary["status"], summary["label"]) == ("disputed", "Disputed by a reviewer")
    assert summary["notes"] == ["Chechnya is not a state."]


def test_a_claim_that_needs_a_source(claim, people):
    assess(claim, people[0], NEEDS_SOURCE, note="Which survey?")
    summary = status(claim)
    assert (summary["status"], summary["label"]) == (
        "needs-source",
        "A reviewer asked for a source",
    )
    assert summary["notes"] == ["Which survey?"]


def test_a_dispute_outweighs_a_request_for_a_source(claim, people):
    assess(claim, people[0], NEEDS_SOURCE, note="Source?")
    assess(claim, people[1], DISPUTED, note="Wrong.")
    summary = status(claim)
    assert summary["status"] == "disputed"
    assert summary["verdicts"] == [DISPUTED, NEEDS_SOURCE]
    assert sorted(summary["notes"]) == ["Source?", "Wrong."]
    # Two concerns are not a disagreement: nobody vouched for the claim.
    assert not verdicts.disagree(assessments(claim))


@pytest.mark.parametrize("concern", [DISPUTED, NEEDS_SOURCE])
def test_support_and_a_concern_are_mixed(claim, people, concern):
    assess(claim, people[0], SUPPORTED)
    assess(claim, people[1], concern)
    summary = status(claim)
    assert (summary["status"], summary["label"], summary["reviewers"]) == (
        "mixed",
        "Reviewers disagree",
        2,
    )
    assert verdicts.disagree(assessments(claim))


def test_a_claim_reworded_since_every_assessment_is_revised(claim, people):
    assess(claim, people[0], SUPPORTED, stale=True)
    assess(claim, people[1], DISPUTED, stale=True)
    summary = status(claim)
    assert (summary["status"], summary["label"], summary["reviewers"]) == (
        "revised",
        "Reworded after review; not re-checked yet",
        0,
    )
    assert not verdicts.disagree(assessments(claim))


def test_rewording_the_claim_makes_its_assessments_stale(claim, people):
    assess(claim, people[0], SUPPORTED)
    claim.section.body = "NATO battlegroups are present in Estonia."
    claim.section.save()
    claim.quote = "NATO battlegroups are present in Estonia."
    claim.save()
    assert status(claim)["status"] == "revised"


def test_stale_assessments_do_not_count_beside_current_ones(claim, people):
    assess(claim, people[0], DISPUTED, note="Old wording was wrong.", stale=True)
    assess(claim, people[1], SUPPORTED)
    summary = status(claim)
    assert (summary["status"], summary["reviewers"], summary["notes"]) == ("supported", 1, [])
    assert not verdicts.disagree(assessments(claim))


def test_a_reviewers_latest_round_counts(claim, people):
    assess(claim, people[0], DISPUTED, round=1, note="Wrong.")
    assess(claim, people[0], SUPPORTED, round=2)
    summary = status(claim)
    assert summary["label"] == "Checked by 1 reviewer: supported"
    # A reviewer who changed their mind does not disagree with themselves.
    assert not verdicts.disagree(assessments(claim))


def test_a_concern_in_a_later_round_replaces_earlier_support(claim, people):
    assess(claim, people[0], SUPPORTED, round=1)
    assess(claim, people[0], NEEDS_SOURCE, round=2, note="The figure changed.")
    assess(claim, people[1], NEEDS_SOURCE, round=2)
    summary = status(claim)
    assert (summary["status"], summary["reviewers"]) == ("needs-source", 2)


def test_latest_per_reviewer_keeps_one_assessment_each(claim, people):
    first = assess(claim, people[0], DISPUTED, round=1)
    latest = assess(claim, people[0], SUPPORTED, round=2)
    other = assess(claim, people[1], DISPUTED, round=1)
    assert {a.pk for a in verdicts.latest_per_reviewer(assessments(claim))} == {
        latest.pk,
        other.pk,
    }
    assert first.pk not in {a.pk for a in verdicts.latest_per_reviewer(assessments(claim))}


def test_every_status_has_a_label_and_a_rating_for_structured_data():
    assert set(verdicts.STATUSES) == {
        "disputed",
        "needs-source",
        "mixed",
        "supported",
        "revised",
        "unchecked",
    }
    assert all(entry["label"] for entry in verdicts.STATUSES.values())
    assert verdicts.STATUSES["supported"]["rating"] > verdicts.STATUSES["disputed"]["rating"]
    assert verdicts.STATUSES["unchecked"]["rating"] is None
