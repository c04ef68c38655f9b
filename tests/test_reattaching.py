"""Orphaned claims and the offer to re-attach them (papers.anchoring.suggest and reattach, and
the one-click action on the paper's and the section's admin pages)."""

import pytest
from django.test import Client

from papers import anchoring, rendering
from papers.models import Claim, Event, Paper
from tests.factories import ClaimFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db

BODY = "NATO forces are present in Estonia. Russia has not attacked a NATO member."


def orphan(body_after, *, quote="NATO forces are present in Estonia.", **context):
    """A claim on BODY whose section then became `body_after`, flagged orphaned."""
    claim = ClaimFactory(section=SectionFactory(body=BODY), quote=quote, **context)
    section = claim.section
    section.body = body_after
    section.save()
    Claim.objects.filter(pk=claim.pk).update(orphaned=True)
    return Claim.objects.select_related("section").get(pk=claim.pk)


class TestSuggest:
    def test_a_reworded_sentence_is_offered_with_how_alike_it_is(self):
        claim = orphan("NATO has forces in Estonia, it is said. Russia has not attacked.")
        offer = anchoring.suggest(claim)
        assert offer.quote == "NATO has forces in Estonia, it is said."
        assert anchoring.SUGGEST_MIN <= offer.similarity < anchoring.FUZZY_MIN
        text = claim.section.body_text
        start, end = rendering.find_quote(text, offer.quote, offer.prefix, offer.suffix)
        assert text[start:end] == offer.quote

    def test_a_repeated_sentence_is_offered_with_the_context_that_singles_it_out(self):
        claim = orphan(
            "Russia waits. NATO forces are present in Estonia. Later, NATO forces are present "
            "in Estonia.",
            prefix="Later,",
        )
        offer = anchoring.suggest(claim)
        assert (offer.quote, offer.prefix, offer.similarity) == (
            "NATO forces are present in Estonia.",
            "Later,",
            1.0,
        )

    def test_a_rewrite_offers_nothing(self):
        assert anchoring.suggest(orphan("The whole paragraph was rewritten from scratch.")) is None

    def test_a_claim_without_a_section_offers_nothing(self):
        claim = orphan(BODY)
        claim.section.delete()
        assert anchoring.suggest(Claim.objects.get(pk=claim.pk)) is None


class TestReattach:
    def test_it_anchors_the_claim_bumps_the_lock_and_writes_one_event(self, editor):
        claim = orphan("NATO has forces in Estonia, it is said. Russia has not attacked.")
        lock = claim.paper.lock_version
        anchoring.reattach(claim, quote="NATO has forces in Estonia, it is said.", by=editor)
        claim.refresh_from_db()
        assert (claim.quote, claim.orphaned) == ("NATO has forces in Estonia, it is said.", False)
        assert not claim.is_orphaned
        assert Paper.objects.get(pk=claim.paper_id).lock_version == lock + 1
        event = Event.objects.get(paper=claim.paper_id)
        assert event.action == "edit" and claim.public_id in event.note

    @pytest.mark.parametrize("words", ["Words nobody wrote.", "Estonia"])
    def test_words_not_there_once_change_nothing(self, editor, words):
        claim = orphan("Estonia waits. NATO has forces in Estonia.")
        with pytest.raises(rendering.QuoteNotFound):
            anchoring.reattach(claim, quote=words, by=editor)
        claim.refresh_from_db()
        assert claim.orphaned and claim.quote == "NATO forces are present in Estonia."
        assert not Event.objects.exists()


def reattach_url(claim):
    return f"/admin/papers/claim/{claim.pk}/reattach/"


class TestTheOneClickAction:
    @pytest.fixture
    def claim(self, draft):
        section = draft.sections.get(heading="Background")
        section.body = "NATO has forces in Estonia, it is said. Russia has not attacked."
        section.save()
        claim = draft.claims.get(section=section)
        Claim.objects.filter(pk=claim.pk).update(orphaned=True)
        return claim

    def test_the_paper_page_offers_it_and_one_post_accepts_it(self, editor_client, draft, claim):
        page = editor_client.get(f"/admin/papers/paper/{draft.pk}/change/")
        [(listed, offer, searched)] = page.context["orphan_offers"]
        assert listed == claim and searched
        html = page.content.decode()
        assert "Claim 2's words changed: attach to “<ins>NATO has forces in Estonia" in html
        response = editor_client.post(
            reattach_url(claim), {"quote": offer.quote, "prefix": offer.prefix, "suffix": ""}
        )
        assert response["Location"] == f"/admin/papers/paper/{draft.pk}/change/"
        claim.refresh_from_db()
        assert claim.quote == "NATO has forces in Estonia, it is said." and not claim.orphaned
        page = editor_client.get(response["Location"])
        assert page.context["orphan_offers"] == []
        assert any("Re-attached the claim" in str(m) for m in page.context["messages"])

    def test_it_returns_to_the_page_it_came_from_on_this_site_only(
        self, editor_client, draft, claim
    ):
        section_page = f"/admin/papers/section/{claim.section_id}/change/"
        words = {"quote": "NATO has forces in Estonia, it is said."}
        response = editor_client.post(reattach_url(claim), {**words, "next": section_page})
        assert response["Location"] == section_page
        Claim.objects.filter(pk=claim.pk).update(orphaned=True)
        response = editor_client.post(
            reattach_url(claim), {**words, "next": "https://evil.example/"}
        )
        assert response["Location"] == f"/admin/papers/paper/{draft.pk}/change/"

    def test_words_gone_since_the_offer_are_refused_with_a_message(
        self, editor_client, draft, claim
    ):
        response = editor_client.post(
            reattach_url(claim), {"quote": "Words of an older offer."}, follow=True
        )
        assert "The claim was not re-attached" in response.content.decode()
        assert Claim.objects.get(pk=claim.pk).orphaned

    def test_it_is_post_only(self, editor_client, claim):
        assert editor_client.get(reattach_url(claim)).status_code == 405

    @pytest.mark.parametrize("persona", ["reviewer", "outsider"])
    def test_only_editors_may_re_attach(self, request, claim, persona):
        client = Client()
        client.force_login(request.getfixturevalue(persona))
        response = client.post(reattach_url(claim), {"quote": "NATO has forces in Estonia"})
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert Claim.objects.get(pk=claim.pk).orphaned

    def test_re_attaching_in_an_approved_paper_puts_it_back_in_review(
        self, editor_client, draft, claim
    ):
        paper = approved(draft)
        Paper.objects.filter(pk=paper.pk).update(approved_fingerprint="as approved before")
        editor_client.post(reattach_url(claim), {"quote": "NATO has forces in Estonia"})
        assert Paper.objects.get(pk=paper.pk).stage == Paper.Stage.IN_REVIEW

    def test_past_the_first_ten_orphans_the_page_links_to_each_claim(self, editor_client, draft):
        section = draft.sections.first()
        ClaimFactory.create_batch(
            12, section=section, quote="Russia has not attacked a NATO member."
        )
        Claim.objects.filter(paper=draft).update(orphaned=True)
        offers = editor_client.get(f"/admin/papers/paper/{draft.pk}/change/").context[
            "orphan_offers"
        ]
        assert len(offers) == 14
        assert [searched for _, _, searched in offers].count(True) == 10
