"""Rounds that build on the last: verdicts carried into round 2 and confirmed in one action,
claims and sections flagged with what changed since the reviewer's last round (or since this
round began), the way in at the first claim that needs attention, coverage on the submission
page and the editor's panel, and a workspace whose queries do not grow with carried verdicts."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.management import call_command

from papers import workflow
from papers.models import Assessment, Comment, Event, Review
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, client_for

pytestmark = pytest.mark.django_db

PAGE = "/review/rounds/"
FACTUAL = "NATO forces are present in Estonia."
HISTORICAL = "Russia has not attacked a NATO member."
PREDICTIVE = "Deterrence will hold for a decade."
HEDGED = "Deterrence will probably hold for a decade."


@pytest.fixture
def paper(editor, reviewer):
    """Round 1 of a paper with three claims, reviewed by `reviewer`: supported, needs a source,
    disputed."""
    paper = PaperFactory(title="Rounds paper", slug="rounds")
    background = SectionFactory(
        paper=paper, position=0, heading="Background", body=f"{FACTUAL} {HISTORICAL}"
    )
    outlook = SectionFactory(
        paper=paper, position=1, heading="Outlook", body=f"{PREDICTIVE} Tapa keeps its guard."
    )
    ClaimFactory(section=background, quote=FACTUAL, kind="factual")
    ClaimFactory(section=background, quote=HISTORICAL, kind="historical")
    ClaimFactory(section=outlook, quote=PREDICTIVE, kind="predictive")
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    review = own(reviewer, paper)
    for quote, verdict, note in [
        (FACTUAL, "supported", "Matches NATO's own page."),
        (HISTORICAL, "needs-source", "Cite it."),
        (PREDICTIVE, "disputed", "Too sure."),
    ]:
        workflow.assess_claim(review, claim(paper, quote), by=reviewer, verdict=verdict, note=note)
    workflow.submit_review(review, by=reviewer, recommendation="revise")
    workflow.request_changes(paper, by=editor, reason="Hedge the forecast.")
    return paper


def claim(paper, quote):
    return paper.claims.get(quote=quote)


def own(user, paper):
    """The user's review of the paper's latest round, with its coverage."""
    return Review.objects.with_coverage().filter(paper=paper, reviewer=user).order_by("-round")[0]


def reword(paper, old, new):
    """An editor's edit of a claim's words in its section's text."""
    found = claim(paper, old)
    section = found.section
    section.body = section.body.replace(old, new)
    section.save()
    found.quote = new
    found.save()


def second_round(paper, editor, *, hedge=True):
    if hedge:
        reword(paper, PREDICTIVE, HEDGED)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    return paper


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Carrying verdicts forward ----------------------------------------------------------------


class TestCarryForward:
    def test_verdicts_on_unchanged_words_are_carried_with_their_round_and_note(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor)
        carried = {a.claim.quote: a for a in own(reviewer, paper).assessments.all()}
        assert set(carried) == {FACTUAL, HISTORICAL}  # the reworded forecast is not carried
        assert (carried[FACTUAL].verdict, carried[FACTUAL].note) == (
            "supported",
            "Matches NATO's own page.",
        )
        assert carried[HISTORICAL].verdict == "needs-source"
        assert {a.carried_from for a in carried.values()} == {1}
        assert all(a.claim_hash == a.claim.text_hash for a in carried.values())

    def test_carried_verdicts_do_not_count_until_confirmed(self, paper, editor, reviewer):
        second_round(paper, editor)
        review = own(reviewer, paper)
        assert (review.assessed, review.claim_total) == (0, 3)
        assert not Review.objects.filter(pk=review.pk).complete().exists()

    def test_only_the_latest_verdict_of_a_submitted_review_is_carried(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor, hedge=False)
        review = own(reviewer, paper)
        workflow.assess_claim(review, claim(paper, FACTUAL), by=reviewer, verdict="disputed")
        workflow.request_changes(paper, by=editor, reason="Round 2 ends unsubmitted.")
        third = second_round(paper, editor, hedge=False)
        verdicts = {
            a.claim.quote: (a.verdict, a.carried_from)
            for a in own(reviewer, third).assessments.all()
        }
        # Round 2 was closed unsubmitted: round 3 starts again from round 1's verdicts.
        assert verdicts[FACTUAL] == ("supported", 1)
        assert verdicts[PREDICTIVE] == ("disputed", 1)

    def test_a_verdict_never_confirmed_keeps_the_round_it_was_given_in(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor)
        review = own(reviewer, paper)
        workflow.submit_review(review, by=reviewer, recommendation="revise")
        workflow.request_changes(paper, by=editor, reason="Again.")
        third = second_round(paper, editor, hedge=False)
        carried = own(reviewer, third).assessments.get(claim__quote=FACTUAL)
        assert carried.carried_from == 1

    def test_a_carried_concern_opens_no_second_thread_while_one_is_unresolved(
        self, paper, editor, reviewer
    ):
        threads_before = Comment.objects.filter(claim__quote=HISTORICAL, parent=None).count()
        second_round(paper, editor)
        assert Comment.objects.filter(claim__quote=HISTORICAL, parent=None).count() == (
            threads_before
        )

    def test_a_carried_concern_whose_thread_was_resolved_opens_a_new_one(
        self, paper, editor, reviewer
    ):
        root = Comment.objects.get(claim__quote=HISTORICAL, parent=None)
        workflow.resolve_thread(root, by=editor)
        second_round(paper, editor)
        new = Comment.objects.get(claim__quote=HISTORICAL, parent=None, round=2)
        assert (new.author, new.body, new.resolved_at) == (
            reviewer,
            "Needs a source: Cite it.",
            None,
        )

    def test_a_reviewer_new_to_the_paper_starts_without_carried_verdicts(
        self, paper, editor, other_reviewer
    ):
        workflow.assign_reviewer(paper, other_reviewer, by=editor)
        second_round(paper, editor)
        assert not own(other_reviewer, paper).assessments.exists()


class TestConfirming:
    def test_one_action_confirms_every_carried_verdict_with_one_event(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor)
        review = own(reviewer, paper)
        events = Event.objects.count()
        assert workflow.confirm_carried(review, by=reviewer) == 2
        assert not review.assessments.exclude(carried_from=None).exists()
        assert Event.objects.count() == events + 1
        assert Event.objects.latest("pk").action == Event.Action.CONFIRM
        assert own(reviewer, paper).assessed == 2

    def test_assessing_a_claim_again_replaces_its_carried_verdict(self, paper, editor, reviewer):
        second_round(paper, editor)
        review = own(reviewer, paper)
        workflow.assess_claim(review, claim(paper, HISTORICAL), by=reviewer, verdict="supported")
        replaced = review.assessments.get(claim__quote=HISTORICAL)
        assert (replaced.verdict, replaced.carried_from) == ("supported", None)
        assert review.assessments.filter(claim__quote=HISTORICAL).count() == 1

    def test_a_carried_verdict_on_words_reworded_since_is_not_confirmed(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor)
        reword(paper, FACTUAL, "NATO troops are present in Estonia.")
        review = own(reviewer, paper)
        assert workflow.confirm_carried(review, by=reviewer) == 1
        assert review.assessments.get(claim__quote__startswith="NATO troops").carried_from == 1

    def test_nothing_to_confirm_is_refused(self, paper, editor, reviewer):
        second_round(paper, editor)
        review = own(reviewer, paper)
        workflow.confirm_carried(review, by=reviewer)
        with pytest.raises(workflow.WorkflowError):
            workflow.confirm_carried(review, by=reviewer)

    def test_only_the_reviewer_confirms_and_only_while_the_round_is_open(
        self, paper, editor, reviewer, other_reviewer
    ):
        second_round(paper, editor)
        review = own(reviewer, paper)
        for person in (editor, other_reviewer):
            with pytest.raises(workflow.WorkflowError):
                workflow.confirm_carried(review, by=person)
        workflow.request_changes(paper, by=editor, reason="Closed.")
        with pytest.raises(workflow.WorkflowError):
            workflow.confirm_carried(review, by=reviewer)
        assert review.assessments.exclude(carried_from=None).count() == 2

    def test_the_button_confirms_and_says_how_many(self, paper, editor, reviewer):
        second_round(paper, editor)
        client = client_for(reviewer)
        page = client.get(PAGE).content.decode()
        assert "Confirm all 2 carried verdicts</button>" in page
        response = client.post(f"{PAGE}confirm/")
        assert response["Location"] == f"{PAGE}#review-own-title"
        assert messages_of(response) == ["2 carried verdicts confirmed."]
        assert "Confirm all" not in client.get(PAGE).content.decode()

    def test_the_button_refuses_with_a_message_when_nothing_is_carried(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor)
        client = client_for(reviewer)
        client.post(f"{PAGE}confirm/")
        response = client.post(f"{PAGE}confirm/")
        assert messages_of(response)[-1] == "There are no carried verdicts to confirm."
        assert Event.objects.filter(action=Event.Action.CONFIRM).count() == 1

    def test_an_editor_without_a_review_is_told_so(self, paper, editor):
        second_round(paper, editor)
        response = client_for(editor).post(f"{PAGE}confirm/")
        assert messages_of(response) == [
            "You have no review of this round in which to confirm verdicts."
        ]


# --- What the workspace shows in round 2 ------------------------------------------------------


class TestWorkspace:
    def test_carried_verdicts_are_labelled_with_their_round(self, paper, editor, reviewer):
        second_round(paper, editor)
        page = client_for(reviewer).get(PAGE).content.decode()
        assert page.count("carried from round 1</strong>") == 2
        assert "Carried from round 1: you found it needs a source (not confirmed yet)" in page
        assert ">Cite it.</textarea>" in page  # the note comes along, ready to change

    def test_a_reworded_claim_is_flagged_with_a_word_diff(self, paper, editor, reviewer):
        second_round(paper, editor)
        page = client_for(reviewer).get(PAGE).content.decode()
        assert "Reworded since your review of round 1" in page
        assert (
            'Deterrence will <ins class="diff-ins"><span class="visually-hidden">[inserted: '
            '</span>probably<span class="visually-hidden">]</span></ins> hold for a decade.'
        ) in page

    def test_a_new_claim_and_an_edited_section_are_flagged(self, paper, editor, reviewer):
        outlook = paper.sections.get(heading="Outlook")
        outlook.body += " Sweden joined in 2024."
        outlook.save()
        ClaimFactory(section=outlook, quote="Sweden joined in 2024.", kind="historical")
        second_round(paper, editor, hedge=False)
        page = client_for(reviewer).get(PAGE).content.decode()
        assert "New since your review of round 1</strong>: this claim was not in the text" in page
        assert "Edited since your review of round 1</strong>" in page
        assert re.search(r"<ins class=\"diff-ins\">.*?Sweden joined in 2024\..*?</ins>", page)
        assert page.count("Edited since") == 1  # Background did not change

    def test_an_edit_during_the_round_is_flagged_since_the_round_began(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor, hedge=False)
        reword(paper, HISTORICAL, "Russia has never attacked a NATO member.")
        page = client_for(reviewer).get(PAGE).content.decode()
        assert "Reworded since round 2 began" in page
        assert "Edited since round 2 began" in page
        assert "Reworded since your review of round 1" not in page  # said once, precisely

    def test_in_round_1_edits_are_compared_with_the_round_as_it_began(self, editor, reviewer):
        paper = PaperFactory(slug="rounds")
        section = SectionFactory(paper=paper, heading="Only", body=f"{FACTUAL} {HISTORICAL}")
        ClaimFactory(section=section, quote=FACTUAL)
        workflow.assign_reviewer(paper, reviewer, by=editor)
        workflow.submit_paper(paper, by=editor)
        client = client_for(reviewer)
        assert "review-changes" not in client.get(PAGE).content.decode()
        reword(paper, FACTUAL, "NATO troops are present in Estonia.")
        page = client.get(PAGE).content.decode()
        assert "Reworded since round 1 began" in page and "Edited since round 1 began" in page

    def test_the_workspace_leads_to_the_first_claim_needing_attention(
        self, paper, editor, reviewer
    ):
        second_round(paper, editor)
        client = client_for(reviewer)
        review = own(reviewer, paper)
        first = claim(paper, FACTUAL)
        page = client.get(PAGE).content.decode()
        assert "3 claims need your attention" in page
        assert f'href="{PAGE}#claim-note-{first.public_id}" data-attention-start' in page
        workflow.confirm_carried(review, by=reviewer)
        page = client.get(PAGE).content.decode()
        hedged = claim(paper, HEDGED)
        assert "1 claim needs your attention" in page
        assert f'href="{PAGE}#claim-note-{hedged.public_id}" data-attention-start' in page
        workflow.assess_claim(review, hedged, by=reviewer, verdict="supported")
        assert "Every claim has your verdict in this round." in client.get(PAGE).content.decode()

    def test_the_workspace_opens_on_the_part_of_the_first_claim_needing_attention(
        self, editor, reviewer
    ):
        paper = PaperFactory(slug="rounds")
        for s in range(12):
            body = " ".join(f"Point {s}-{i} is made." for i in range(3))
            section = SectionFactory(paper=paper, position=s, heading=f"Part {s}", body=body)
            for i in range(3):
                ClaimFactory(section=section, quote=f"Point {s}-{i} is made.")
        workflow.assign_reviewer(paper, reviewer, by=editor)
        workflow.submit_paper(paper, by=editor)
        review = own(reviewer, paper)
        for found in paper.claims.all():
            if found.quote != "Point 11-1 is made.":
                workflow.assess_claim(review, found, by=reviewer, verdict="supported")
        target = claim(paper, "Point 11-1 is made.")
        client = client_for(reviewer)
        response = client.get(PAGE)
        page = response.content.decode()
        assert f'href="{PAGE}?part=2#claim-note-{target.public_id}" data-attention-start' in page
        # The workspace opens on the part that shows it; asked for, another part is shown.
        assert response.context["part"] == 2 and f'id="claim-note-{target.public_id}"' in page
        assert client.get(f"{PAGE}?part=1").context["part"] == 1

    def test_editors_see_each_reviews_coverage(self, paper, editor, reviewer, other_reviewer):
        workflow.assign_reviewer(paper, other_reviewer, by=editor)
        second_round(paper, editor)
        workflow.confirm_carried(own(reviewer, paper), by=reviewer)
        page = client_for(editor).get(PAGE).content.decode()
        assert "Coverage of round 2" in page
        assert "in progress, assessed 2 of 3 claims." in page
        assert "in progress, assessed 0 of 3 claims." in page


@pytest.mark.parametrize("persona", ["reviewer", "editor"])
def test_round_2_queries_are_the_same_for_3_and_90_claims(
    persona, request, editor, reviewer, django_assert_num_queries
):
    def paper_in_round_2(slug, claims):
        paper = PaperFactory(slug=slug)
        for s in range(claims // 3):
            body = " ".join(f"Point {s}-{i} is made." for i in range(3))
            section = SectionFactory(paper=paper, position=s, heading=f"Part {s}", body=body)
            for i in range(3):
                ClaimFactory(section=section, quote=f"Point {s}-{i} is made.")
        workflow.assign_reviewer(paper, reviewer, by=editor)
        workflow.submit_paper(paper, by=editor)
        review = own(reviewer, paper)
        for n, found in enumerate(paper.claims.all()):
            verdict = ["supported", "disputed", "needs-source"][n % 3]
            workflow.assess_claim(review, found, by=reviewer, verdict=verdict, note=f"Note {n}")
            workflow.add_comment(found, by=editor, body=f"Comment {n}")
        workflow.submit_review(review, by=reviewer, recommendation="revise")
        workflow.request_changes(paper, by=editor, reason="Again.")
        reword(paper, "Point 0-1 is made.", "Point 0-1 is made again.")
        workflow.submit_paper(paper, by=editor)
        return paper

    paper_in_round_2("small", 3)
    large = paper_in_round_2("large", 90)
    assert own(reviewer, large).assessments.exclude(carried_from=None).count() == 89
    client = client_for(request.getfixturevalue(persona))
    # The public revision and, on a part's first view, one query for similar claims.
    queries = {"reviewer": 17, "editor": 23}[persona]
    with django_assert_num_queries(queries):
        page = client.get("/review/small/").content.decode()
    if persona == "reviewer":
        assert page.count("carried from round 1</strong>") == 2
    for part in (1, 2, 3):
        with django_assert_num_queries(queries):
            page = client.get(f"/review/large/?part={part}").content.decode()
        if persona == "reviewer":
            assert page.count("carried from round 1</strong>") == 30 - (part == 1)


# --- Coverage on the submission page ----------------------------------------------------------


class TestSubmittingWithClaimsUnassessed:
    def test_the_count_is_shown_and_a_confirmation_is_required(self, paper, editor, reviewer):
        second_round(paper, editor)
        workflow.confirm_carried(own(reviewer, paper), by=reviewer)
        client = client_for(reviewer)
        page = client.get(f"{PAGE}submit/").content.decode()
        assert "You have assessed 2 of 3 claims in this round." in page
        assert "I submit my review with 1 claim not assessed in this round." in page
        response = client.post(f"{PAGE}submit/", {"recommendation": "approve"})
        assert response.status_code == 400
        assert "Tick the box to submit with claims unassessed" in response.content.decode()
        assert own(reviewer, paper).status == "open"
        response = client.post(f"{PAGE}submit/", {"recommendation": "approve", "unassessed": "on"})
        assert response.status_code == 302
        assert own(reviewer, paper).status == "submitted"

    def test_carried_verdicts_not_confirmed_count_as_unassessed(self, paper, editor, reviewer):
        second_round(paper, editor)
        page = client_for(reviewer).get(f"{PAGE}submit/").content.decode()
        assert "You have assessed 0 of 3 claims in this round." in page
        assert "carried from round 1, not confirmed" in page
        assert "I submit my review with 3 claims not assessed in this round." in page

    def test_a_complete_review_needs_no_confirmation(self, paper, editor, reviewer):
        second_round(paper, editor)
        review = own(reviewer, paper)
        workflow.confirm_carried(review, by=reviewer)
        workflow.assess_claim(review, claim(paper, HEDGED), by=reviewer, verdict="supported")
        client = client_for(reviewer)
        page = client.get(f"{PAGE}submit/").content.decode()
        assert "You have assessed all 3 claims in this round." in page
        assert 'name="unassessed"' not in page
        client.post(f"{PAGE}submit/", {"recommendation": "approve"})
        assert Review.objects.filter(pk=review.pk).complete().exists()


def test_carried_verdicts_are_kept_as_assessments_of_the_new_review(paper, editor, reviewer):
    """The copies are rows of their own: round 1's verdicts stay as they were."""
    before = list(Assessment.objects.filter(review__round=1).values_list("pk", "verdict"))
    second_round(paper, editor)
    assert list(Assessment.objects.filter(review__round=1).values_list("pk", "verdict")) == before
    assert Assessment.objects.filter(review__round=2).count() == 2


def test_the_demos_second_round_carried_the_reviewers_verdicts(settings):
    """`make run` shows it: verdicts carried from round 1 and confirmed, reworded claims
    flagged with what changed."""

    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    confirmed = Event.objects.get(action=Event.Action.CONFIRM)
    assert confirmed.note == "Round 2: 7 carried verdicts confirmed"
    page = client_for(get_user_model().objects.get(username="reviewer")).get(
        "/review/baltic-states-nato/"
    )
    html = page.content.decode()
    assert html.count(", as in round 1") >= 7
    assert html.count("Reworded since your review of round 1") == 5
