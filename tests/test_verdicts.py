"""A claim's review status from its reviewers' assessments, and the words readers see for it
(papers.verdicts): on pages, in JSON-LD and exports, frozen into each version."""

import json
import re

import html5lib
import pytest
from django.test import Client

from papers import verdicts, workflow
from papers.models import Assessment, Claim, Review, VersionClaim
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    approved,
)

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


# --- Words that fit each kind of claim ----------------------------------------------------------

KINDS = [kind.value for kind in Claim.Kind]


@pytest.mark.parametrize(
    ("kind", "status", "reviewers", "words"),
    [
        ("factual", "supported", 2, "Checked by 2 reviewers: supported"),
        ("factual", "disputed", 1, "Disputed by a reviewer"),
        ("historical", "supported", 1, "Record checked by 1 reviewer"),
        ("causal", "supported", 3, "Causal link checked by 3 reviewers"),
        ("predictive", "supported", 2, "Judged plausible by 2 reviewers"),
        ("predictive", "disputed", 1, "Contested by a reviewer"),
        ("predictive", "mixed", 2, "Reviewers disagree whether it is plausible"),
        ("normative", "supported", 1, "Argument checked by 1 reviewer"),
        ("normative", "disputed", 1, "A reviewer disputes the argument"),
    ],
)
def test_each_kind_of_claim_has_its_own_words(kind, status, reviewers, words):
    assert verdicts.label(status, kind, reviewers) == words


@pytest.mark.parametrize("kind", KINDS)
def test_revised_and_unchecked_read_the_same_for_every_kind(kind):
    assert verdicts.label("revised", kind) == verdicts.STATUSES["revised"]["label"]
    assert verdicts.label("unchecked", kind) == verdicts.STATUSES["unchecked"]["label"]


def test_no_kind_or_an_unknown_one_reads_as_factual():
    assert verdicts.label("supported", "", 1) == "Checked by 1 reviewer: supported"
    assert verdicts.label("supported", "astrological", 1) == "Checked by 1 reviewer: supported"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", list(verdicts.STATUSES))
def test_a_label_names_no_number_but_its_reviewers(kind, status):
    """verdicts.finding relies on it to tell a change of words from a re-assessment."""
    words = verdicts.label(status, kind, 7)
    assert words and set(re.findall(r"\d+", words)) <= {"7"}


def test_a_finding_is_the_same_in_other_words_and_differs_with_the_reviewers():
    old_words = ("supported", "Checked by 2 reviewers: supported")
    assert verdicts.finding(*old_words) == verdicts.finding(
        "supported", verdicts.label("supported", "normative", 2)
    )
    assert verdicts.finding(*old_words) != verdicts.finding(
        "supported", verdicts.label("supported", "normative", 3)
    )
    assert verdicts.finding("disputed", "Contested by a reviewer") != verdicts.finding(
        "mixed", "Reviewers disagree"
    )


def test_summarize_labels_for_the_claims_kind(people):
    forecast = ClaimFactory(kind="predictive")
    assess(forecast, people[0], SUPPORTED)
    assert verdicts.summarize(assessments(forecast), forecast.kind)["label"] == (
        "Judged plausible by 1 reviewer"
    )


# --- The words as readers get them, frozen into each version --------------------------------


@pytest.fixture
def argued(editor, people):
    """A published paper with a normative claim that one reviewer supported and a forecast
    another contested."""
    paper = PaperFactory(title="What Estonia should do", slug="argued")
    section = SectionFactory(
        paper=paper, body="Estonia should spend more on defence. Deterrence will hold."
    )
    ought = ClaimFactory(section=section, quote="Estonia should spend more on defence.")
    Claim.objects.filter(pk=ought.pk).update(kind="normative")
    forecast = ClaimFactory(section=section, quote="Deterrence will hold.", kind="predictive")
    ought.refresh_from_db()
    assess(ought, people[0], SUPPORTED)
    assess(forecast, people[1], DISPUTED, note="Too sure.")
    workflow.publish_paper(approved(paper), by=editor, override_reason="Shown to readers.")
    paper.refresh_from_db()
    return paper, ought, forecast


def reader_texts(paper, claim):
    """What each public surface says of the claim's review."""
    client = Client()
    page = client.get(paper.get_absolute_url()).content.decode()
    claim_page = client.get(f"/claims/{claim.public_id}/").content.decode()
    exported = json.loads(client.get(f"/papers/{paper.slug}/export.json").content)
    entry = next(c for c in exported["claims"] if c["id"] == claim.public_id)
    return page, claim_page, entry["review"]["label"]


def claim_reviews(html):
    root = html5lib.parse(html, namespaceHTMLElements=False)
    script = next(s for s in root.iter("script") if s.get("type") == "application/ld+json")
    graph = json.loads(script.text)["@graph"]
    return {
        item["claimReviewed"]: item["reviewRating"]["alternateName"]
        for item in graph
        if item["@type"] == "ClaimReview"
    }


def test_readers_see_the_kinds_words_on_pages_json_ld_and_exports(argued):
    paper, ought, forecast = argued
    page, claim_page, exported = reader_texts(paper, ought)
    assert "</a>: Argument checked by 1 reviewer." in page  # the claim's note
    assert "Argument checked by 1 reviewer" in claim_page
    assert exported == "Argument checked by 1 reviewer"
    assert claim_reviews(page) == {
        "Estonia should spend more on defence.": "Argument checked by 1 reviewer",
        "Deterrence will hold.": "Contested by a reviewer",
    }
    index = Client().get("/claims/").content.decode()
    assert "Review:</span> Contested by a reviewer" in index
    assert VersionClaim.objects.get(public_id=forecast.public_id).status_label == (
        "Contested by a reviewer"
    )


def test_an_older_version_keeps_its_words_and_new_words_are_no_reassessment(
    argued, editor, monkeypatch
):
    paper, ought, _ = argued
    # Version 2 comes out under the generic words every kind had before (a past release);
    # version 3, unchanged otherwise, under today's.
    with monkeypatch.context() as past:
        past.setattr(verdicts, "WORDING", {"factual": verdicts.WORDING["factual"]})
        workflow.publish_paper(approved(paper), by=editor, override_reason="Shown to readers.")
    workflow.publish_paper(approved(paper), by=editor, override_reason="Shown to readers.")
    client = Client()
    old = client.get(f"/papers/{paper.slug}/v2/").content.decode()
    new = client.get(f"/papers/{paper.slug}/v3/").content.decode()
    assert "</a>: Checked by 1 reviewer: supported." in old
    assert "Argument checked by 1 reviewer" not in old
    assert "</a>: Argument checked by 1 reviewer." in new
    assert claim_reviews(old)["Estonia should spend more on defence."] == (
        "Checked by 1 reviewer: supported"
    )

    diff = client.get(f"/papers/{paper.slug}/diff/2/3/").content.decode()
    assert "No differences in the text or the claims between these versions." in diff
    history = client.get(f"/claims/{ought.public_id}/").content.decode()
    assert "Re-assessed" not in history


def test_a_second_reviewer_is_a_reassessment_whatever_the_words(argued, editor, people):
    paper, ought, _ = argued
    Review.objects.filter(paper=paper).update(round=1)
    assess(ought, people[2], SUPPORTED, round=2)
    workflow.publish_paper(approved(paper), by=editor, override_reason="Shown to readers.")
    history = Client().get(f"/claims/{ought.public_id}/").content.decode()
    assert "Re-assessed" in history
    assert "Argument checked by 2 reviewers" in history
