"""The paper's admin page as a desk (papers/admin/desk.py, papers/outline.py): an outline of its
sections and a compact list of its claims whatever its length, reordering sections without
JavaScript, orphaned claims with a one-click re-attachment, and Withdraw instead of Delete for a
published paper."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers import workflow
from papers.models import Claim, Event, Paper, Review, Section
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    approved,
)

pytestmark = pytest.mark.django_db

# Most of them are the admin's own (session, user, permissions, the form's widgets), the
# workflow and draft panels'; the outline and the claim list take three.
PAPER_PAGE_QUERIES = 18


def change_url(paper):
    return f"/admin/papers/paper/{paper.pk}/change/"


def sentence(s, n):
    return f"In part {s} the paper states as its point number {n} that fact {n} holds."


def long_paper(sections, claims_per_section, *, sentences=40):
    """A paper of `sections` sections of `sentences` sentences each (about 14 words each), the
    first `claims_per_section` of each marked as claims, a submitted review with a verdict on
    every claim, and a review round's worth of events."""
    paper = PaperFactory(title=f"A paper of {sections} sections")
    reviewer = ReviewerFactory(username=f"reviewer-of-{sections}")
    claims = []
    for s in range(sections):
        body = " ".join(sentence(s, n) for n in range(sentences))
        section = SectionFactory(paper=paper, position=s, heading=f"Part {s}", body=body)
        claims += [
            Claim(paper=paper, section=section, quote=sentence(s, n), kind="factual")
            for n in range(claims_per_section)
        ]
    Claim.objects.bulk_create(claims)
    workflow.assign_reviewer(paper, reviewer, by=None)
    workflow.submit_paper(paper, by=None)
    review = Review.objects.get(paper=paper)
    for claim in paper.claims.all()[:20]:
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    Review.objects.filter(pk=review.pk).update(status=Review.Status.SUBMITTED)
    paper.refresh_from_db()
    return paper


class TestThePaperPageStaysFast:
    def queries(self, client, paper):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(change_url(paper))
        assert response.status_code == 200
        return len(queries), response

    def test_it_costs_the_same_queries_for_5_sections_as_for_60(
        self, editor_client, django_assert_num_queries
    ):
        small, large = long_paper(5, 2), long_paper(60, 10)
        assert large.claims.count() == 600
        self.queries(editor_client, small)  # the first request warms the content types
        with django_assert_num_queries(PAPER_PAGE_QUERIES):
            editor_client.get(change_url(small))
        with django_assert_num_queries(PAPER_PAGE_QUERIES):
            editor_client.get(change_url(large))
        assert PAPER_PAGE_QUERIES <= 40

    def test_the_large_paper_is_under_a_megabyte_of_html(self, editor_client):
        paper = long_paper(60, 10)
        _, response = self.queries(editor_client, paper)
        html = response.content.decode()
        assert len(response.content) < 1_000_000
        assert html.count('class="desk-place"') == 60
        assert html.count("/admin/papers/claim/") >= 600
        assert "markdownx-editor" in html  # the standfirst's, not one per section
        assert html.count("markdownx-editor") < 5

    def test_it_shows_no_form_per_section_or_claim(self, editor_client, draft):
        html = editor_client.get(change_url(draft)).content.decode()
        assert "sections-TOTAL_FORMS" not in html and "claims-TOTAL_FORMS" not in html


class TestTheOutline:
    def test_each_section_has_its_words_claims_orphans_and_a_link(self, editor_client, draft):
        ClaimFactory(section=draft.sections.first(), quote="Russia has not attacked")
        Claim.objects.filter(quote="Russia has not attacked").update(orphaned=True)
        response = editor_client.get(change_url(draft))
        rows = response.context["outline"].sections
        assert [(r.place, r.section.heading, r.words, r.claims, r.orphans) for r in rows] == [
            (1, "Background", 13, 2, 1),
            (2, "Outlook", 9, 1, 0),
        ]
        html = response.content.decode()
        for row in rows:
            assert f'href="/admin/papers/section/{row.section.pk}/change/"' in html
        assert f'href="/admin/papers/section/add/?paper={draft.pk}"' in html

    def test_claims_are_numbered_in_reading_order_with_kind_status_and_anchoring(
        self, editor_client, draft
    ):
        first = draft.sections.first()
        ClaimFactory(section=first, quote="Russia has not attacked a NATO member.")
        gone = ClaimFactory(section=first, quote="NATO")
        Claim.objects.filter(pk=gone.pk).update(quote="Words no longer there.", orphaned=True)
        claims = editor_client.get(change_url(draft)).context["outline"].claims
        assert [(c.number, c.quote, c.is_orphan) for c in claims] == [
            (1, "NATO forces are present in Estonia.", False),
            (2, "Russia has not attacked a NATO member.", False),
            (3, "Deterrence will hold for a decade", False),
            (4, "Words no longer there.", True),
        ]
        assert claims[2].get_kind_display() == "Predictive"
        assert claims[0].status["label"] == "Not checked by a reviewer"


class TestReordering:
    def three(self, draft):
        SectionFactory(paper=draft, heading="Conclusion", position=2)
        return list(draft.sections.values_list("heading", flat=True))

    def headings(self, draft):
        return list(Section.objects.filter(paper=draft).values_list("heading", flat=True))

    def test_a_section_moves_up_and_down_with_its_arrows(self, editor_client, draft):
        self.three(draft)
        outlook = draft.sections.get(heading="Outlook")
        url = f"/admin/papers/paper/{draft.pk}/sections/order/"
        response = editor_client.post(url, {"move": f"{outlook.pk}:up"})
        assert response.status_code == 302 and response["Location"].endswith("#outline")
        assert self.headings(draft) == ["Outlook", "Background", "Conclusion"]
        editor_client.post(url, {"move": f"{outlook.pk}:down"})
        editor_client.post(url, {"move": f"{outlook.pk}:down"})
        assert self.headings(draft) == ["Background", "Conclusion", "Outlook"]
        assert list(draft.sections.values_list("position", flat=True)) == [0, 1, 2]

    def test_typed_positions_reorder_the_sections_and_write_one_event(self, editor_client, draft):
        self.three(draft)
        pks = {s.heading: s.pk for s in draft.sections.all()}
        places = {"Background": "1", "Outlook": "2", "Conclusion": "1"}  # moved before the 1st
        before = set(Event.objects.values_list("pk", flat=True))
        editor_client.post(
            f"/admin/papers/paper/{draft.pk}/sections/order/",
            {f"place-{pks[heading]}": place for heading, place in places.items()},
        )
        assert self.headings(draft) == ["Conclusion", "Background", "Outlook"]
        [event] = Event.objects.exclude(pk__in=before)
        assert (event.action, event.note) == ("edit", "sections reordered")

    def test_a_position_that_is_not_a_number_changes_nothing(self, editor_client, draft):
        pks = [s.pk for s in draft.sections.all()]
        response = editor_client.post(
            f"/admin/papers/paper/{draft.pk}/sections/order/",
            {f"place-{pks[0]}": "2", f"place-{pks[1]}": "first"},
            follow=True,
        )
        assert "whole numbers from 1" in response.content.decode()
        assert self.headings(draft) == ["Background", "Outlook"]

    def test_reordering_is_post_only(self, editor_client, draft):
        response = editor_client.get(f"/admin/papers/paper/{draft.pk}/sections/order/")
        assert response.status_code == 405

    def test_reordering_an_approved_paper_puts_it_back_in_review(self, editor_client, draft):
        pks = [s.pk for s in draft.sections.all()]
        paper = approved(draft)
        Paper.objects.filter(pk=paper.pk).update(approved_fingerprint="approved before")
        editor_client.post(
            f"/admin/papers/paper/{paper.pk}/sections/order/", {"move": f"{pks[1]}:up"}
        )
        paper.refresh_from_db()
        assert paper.stage == Paper.Stage.IN_REVIEW


class TestDeleting:
    def test_a_published_paper_has_no_delete_button_or_view(self, editor_client, published):
        html = editor_client.get(change_url(published)).content.decode()
        assert f"/admin/papers/paper/{published.pk}/delete/" not in html
        assert f"/admin/papers/paper/{published.pk}/workflow/withdraw/" in html
        response = editor_client.post(
            f"/admin/papers/paper/{published.pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 403
        assert Paper.objects.filter(pk=published.pk).exists()

    def test_bulk_delete_leaves_published_papers_and_deletes_the_others(
        self, editor_client, published
    ):
        never = PaperFactory(title="Never published")
        selected = {"action": "delete_selected", "_selected_action": [published.pk, never.pk]}
        confirm = editor_client.post("/admin/papers/paper/", selected)
        html = confirm.content.decode()
        assert "Never published" in html and "cannot be deleted: withdraw them instead" in html
        response = editor_client.post(
            "/admin/papers/paper/",
            {"action": "delete_selected", "_selected_action": [never.pk], "post": "yes"},
        )
        assert response.status_code == 302
        assert list(Paper.objects.values_list("pk", flat=True)) == [published.pk]
        editor_client.post("/admin/papers/paper/", {**selected, "post": "yes"})
        assert Paper.objects.filter(pk=published.pk).exists()

    def test_a_paper_never_published_may_still_be_deleted(self, editor_client, draft):
        assert f"/admin/papers/paper/{draft.pk}/delete/" in (
            editor_client.get(change_url(draft)).content.decode()
        )
        response = editor_client.post(f"/admin/papers/paper/{draft.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not Paper.objects.exists()
        assert Event.objects.get(action="delete").paper_title == "Draft on deterrence"


class TestClaimSections:
    def test_a_claim_offers_only_its_own_papers_sections(self, editor_client, draft):
        other = SectionFactory(heading="Elsewhere")
        claim = draft.claims.first()
        response = editor_client.get(f"/admin/papers/claim/{claim.pk}/change/")
        choices = response.context["adminform"].form.fields["section"].queryset
        assert set(choices) == set(draft.sections.all())
        assert other not in choices

    def test_a_section_of_another_paper_is_refused(self, editor_client, draft):
        other = SectionFactory(heading="Elsewhere")
        claim = draft.claims.first()
        response = editor_client.post(
            f"/admin/papers/claim/{claim.pk}/change/",
            {
                "paper": draft.pk,
                "section": other.pk,
                "quote": claim.quote,
                "kind": "factual",
                "claimsource_set-TOTAL_FORMS": 0,  # the sources' inline, empty
                "claimsource_set-INITIAL_FORMS": 0,
            },
        )
        assert response.status_code == 200
        assert Claim.objects.get(pk=claim.pk).section_id != other.pk

    def test_a_new_claim_from_a_papers_page_offers_that_papers_sections(self, editor_client, draft):
        SectionFactory(heading="Elsewhere")
        response = editor_client.get(f"/admin/papers/claim/add/?paper={draft.pk}")
        choices = response.context["adminform"].form.fields["section"].queryset
        assert set(choices) == set(draft.sections.all())
