import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers.anchoring import reanchor_paper, reanchor_section
from papers.models import Assessment, Claim, Comment, Review
from papers.rendering import find_quote
from tests.factories import ClaimFactory, PaperFactory, SectionFactory

pytestmark = pytest.mark.django_db

BODY = "NATO forces are present in Estonia. Russia has not attacked a NATO member."


def edit(section, body):
    section.body = body
    section.save()
    return section


def reanchored(claim):
    """The claim's only outcome after its section is re-anchored, and the claim as stored."""
    [(_, outcome)] = reanchor_section(claim.section)
    return outcome, Claim.objects.get(pk=claim.pk)


def test_unchanged_text_leaves_the_claim_exactly_as_it_was():
    claim = ClaimFactory()
    before = Claim.objects.values().get(pk=claim.pk)
    outcome, claim = reanchored(claim)
    assert outcome == "exact"
    assert Claim.objects.values().get(pk=claim.pk) == before


def test_a_paragraph_inserted_before_the_claims_keeps_them():
    section = SectionFactory(body="Russia waits. Then Russia acts.")
    ClaimFactory(section=section, quote="Russia waits.")
    ClaimFactory(section=section, quote="Russia", prefix="Then")
    edit(section, "A new opening paragraph.\n\nRussia waits. Then Russia acts.")
    assert [outcome for _, outcome in reanchor_section(section)] == ["exact", "exact"]
    repeated = Claim.objects.get(quote="Russia")
    start, end = repeated.locate()
    assert section.body_text[start - 5 : end] == "Then Russia" and not repeated.orphaned


def test_a_repeated_phrase_is_told_apart_by_its_changed_context():
    claim = ClaimFactory(section__body="Russia waits. Then Russia acts.", quote="Russia")
    Claim.objects.filter(pk=claim.pk).update(prefix="Then")
    edit(claim.section, "Russia waits. And then Russia acts.")
    outcome, claim = reanchored(claim)
    assert outcome == "context"
    assert (claim.quote, claim.prefix, claim.suffix) == ("Russia", "then", "")
    assert claim.locate() == (23, 29) and not claim.orphaned


def test_a_repeated_phrase_without_context_is_not_guessed():
    claim = ClaimFactory(section__body="Russia waits.", quote="Russia waits.")
    edit(claim.section, "Russia waits. Then Russia waits.")
    outcome, claim = reanchored(claim)
    assert outcome == "orphaned" and claim.orphaned


def test_a_remaining_occurrence_whose_context_no_longer_fits_is_not_taken():
    claim = ClaimFactory(section__body="Russia waits. Then Russia acts.", quote="Russia")
    Claim.objects.filter(pk=claim.pk).update(suffix="acts.")
    edit(claim.section, "Russia waits.")
    outcome, claim = reanchored(claim)
    assert outcome == "orphaned" and claim.suffix == "acts."


@pytest.mark.parametrize(
    "new_words",
    ["NATO forces are presnt in Estonia.", "NATO troops are present in Estonia."],
    ids=["typo", "one-word-changed"],
)
def test_a_small_edit_of_the_claims_words_reanchors_it_to_the_new_words(new_words):
    claim = ClaimFactory(quote="NATO forces are present in Estonia.", note="Per NATO.")
    before = Claim.objects.values().get(pk=claim.pk)
    edit(claim.section, BODY.replace("NATO forces are present in Estonia.", new_words))
    outcome, claim = reanchored(claim)
    assert outcome == "fuzzy"
    assert claim.quote == new_words and not claim.orphaned
    assert find_quote(claim.section.body_text, claim.quote, claim.prefix, claim.suffix)
    after = Claim.objects.values().get(pk=claim.pk)
    assert {**after, "quote": before["quote"]} == before  # nothing else of the claim changed


def test_a_fuzzy_match_starts_and_ends_on_word_boundaries():
    claim = ClaimFactory(
        section__body="NATO forces are presnt in Estonia, says the minister.",
        quote="forces are presnt in Estonia",
    )
    edit(claim.section, "NATO forces are present in Estonia, says the minister.")
    outcome, claim = reanchored(claim)
    assert outcome == "fuzzy" and claim.quote == "forces are present in Estonia"


def test_a_fuzzy_match_keeps_the_punctuation_the_old_quote_had():
    claim = ClaimFactory(
        section__body="Today NATO forces are presnt in “Estonia”. Russia knows it.",
        quote="NATO forces are presnt in “Estonia”.",
    )
    edit(claim.section, "Today NATO forces are present in “Estonia”. Russia knows it.")
    outcome, claim = reanchored(claim)
    assert outcome == "fuzzy" and claim.quote == "NATO forces are present in “Estonia”."


def test_a_claim_edited_into_two_identical_sentences_is_orphaned():
    claim = ClaimFactory(
        section__body="Troops are present. Troops are gone.", quote="Troops are gone."
    )
    edit(claim.section, "Troops are present. Troops are gone now. Troops are gone now.")
    assert reanchored(claim)[0] == "orphaned"


def test_a_heavy_rewrite_orphans_the_claim_and_keeps_its_old_words():
    claim = ClaimFactory()
    edit(claim.section, "Allied soldiers have been deployed to Estonia. Russia has not attacked.")
    outcome, claim = reanchored(claim)
    assert outcome == "orphaned"
    assert claim.orphaned and claim.quote == "NATO forces are present in Estonia."


def test_two_look_alike_sentences_after_an_edit_orphan_the_claim_instead_of_guessing():
    claim = ClaimFactory()
    edit(
        claim.section,
        "NATO troops are present in Estonia. NATO forces are present in Latvia. Russia waits.",
    )
    outcome, claim = reanchored(claim)
    assert outcome == "orphaned"
    assert claim.quote == "NATO forces are present in Estonia."


def test_a_look_alike_sentence_does_not_block_a_clearly_better_match():
    claim = ClaimFactory()
    edit(claim.section, "NATO forces are presnt in Estonia. NATO forces are present in Latvia.")
    outcome, claim = reanchored(claim)
    assert outcome == "fuzzy" and claim.quote == "NATO forces are presnt in Estonia."


def test_an_orphaned_claim_found_again_is_restored():
    claim = ClaimFactory()
    edit(claim.section, "Entirely new words.")
    assert reanchored(claim)[0] == "orphaned"
    edit(claim.section, BODY)
    outcome, claim = reanchored(claim)
    assert outcome == "restored" and not claim.orphaned and not claim.is_orphaned


def test_an_orphaned_claim_found_by_its_edited_words_is_restored_with_them():
    claim = ClaimFactory()
    Claim.objects.filter(pk=claim.pk).update(orphaned=True)
    edit(claim.section, BODY.replace("present", "presnt"))
    outcome, claim = reanchored(claim)
    assert outcome == "restored"
    assert claim.quote == "NATO forces are presnt in Estonia." and not claim.orphaned


def test_a_deleted_section_orphans_its_claims():
    claim = ClaimFactory()
    paper = claim.paper
    claim.section.delete()
    summary = reanchor_paper(paper)
    assert summary.counts["orphaned"] == 1 and summary.orphans == [claim]
    assert Claim.objects.get(pk=claim.pk).orphaned


def test_reanchoring_a_paper_counts_each_outcome(draft):
    background, outlook = draft.sections.all()
    edit(background, "NATO troops are present in Estonia.")
    edit(outlook, "Nobody knows.")
    summary = reanchor_paper(draft)
    assert summary.counts == {
        "exact": 0,
        "context": 0,
        "fuzzy": 1,
        "restored": 0,
        "orphaned": 1,
    }
    assert [claim.quote for claim in summary.orphans] == ["Deterrence will hold for a decade"]


def assess(claim, reviewer):
    review = Review.objects.create(paper=claim.paper, round=1, reviewer=reviewer)
    return Assessment.objects.create(
        review=review,
        claim=claim,
        verdict=Assessment.Verdict.SUPPORTED,
        claim_text=claim.quote,
        claim_hash=claim.text_hash,
    )


def test_an_assessment_of_a_reworded_claim_is_stale_while_its_comment_keeps_the_old_words(
    reviewer,
):
    claim = ClaimFactory()
    assessment = assess(claim, reviewer)
    comment = Comment.objects.create(
        claim=claim, author_name="Reviewer", body="Source?", claim_text=claim.quote, round=1
    )
    assert not assessment.is_stale
    edit(claim.section, BODY.replace("forces", "troops"))
    assert reanchored(claim)[0] == "fuzzy"
    assessment = Assessment.objects.get(pk=assessment.pk)
    assert assessment.is_stale
    assert Comment.objects.get(pk=comment.pk).claim_text == "NATO forces are present in Estonia."


def test_a_claim_whose_words_did_not_change_keeps_its_assessment_fresh(reviewer):
    claim = ClaimFactory()
    assessment = assess(claim, reviewer)
    edit(claim.section, "A new first sentence. " + BODY)
    reanchor_paper(claim.paper)
    assert not Assessment.objects.get(pk=assessment.pk).is_stale


def paper_with_edited_claims(sections):
    """A paper of five claims per section, each section edited so that its claims come out
    exact, fuzzy (a typo fixed), fuzzy (a word changed), orphaned and context."""
    paper = PaperFactory()
    for n in range(sections):
        sentences = [
            f"Estonia hosts troops of {n} nations.",
            "Latvia spends two percent on defence.",
            "Lithuania bought new air defence systems.",
            "Finland joined the alliance in spring.",
        ]
        section = SectionFactory(paper=paper, body=" ".join([*sentences, "Yes. Then yes."]))
        for sentence in sentences:
            ClaimFactory(section=section, quote=sentence)
        ClaimFactory(section=section, quote="yes.", prefix="Then")
        edit(
            section,
            f"Estonia hosts troops of {n} nations. Latvia spends two percnt on defence. "
            "Lithuania bought modern air defence systems. Something else was written here. "
            "Yes. And then yes.",
        )
    return paper


def test_reanchoring_a_paper_takes_as_many_queries_for_fifty_claims_as_for_five():
    counts = []
    for sections in (1, 10):
        paper = paper_with_edited_claims(sections)
        with CaptureQueriesContext(connection) as queries:
            summary = reanchor_paper(paper)
        assert summary.counts == {
            "exact": sections,
            "context": sections,
            "fuzzy": 2 * sections,
            "restored": 0,
            "orphaned": sections,
        }
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_reanchoring_a_section_reads_its_claims_once_and_writes_only_the_changed_ones(
    django_assert_num_queries,
):
    paper = paper_with_edited_claims(1)
    section = paper.sections.get()
    # savepoint, select the claims, one update for the four changed claims, release
    with django_assert_num_queries(4):
        outcomes = [outcome for _, outcome in reanchor_section(section)]
    assert sorted(outcomes) == ["context", "exact", "fuzzy", "fuzzy", "orphaned"]
    with django_assert_num_queries(3):  # nothing changed the second time: no update
        reanchor_section(section)
