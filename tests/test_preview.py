"""/papers/<slug>/preview/: the working draft as readers would see it, for its editors and
reviewers only (R1: 404 for everyone else), never cached, never indexed; "View on site" in the
admin leads there for a paper without a live version."""

import re

import pytest
from django.test import Client

from papers import pagecache, workflow
from papers.models import Review
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    SourceFactory,
    TagFactory,
    approved,
)

pytestmark = pytest.mark.django_db

URL = "/papers/{}/preview/"


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def body_of(response):
    """The paper's body as a page shows it: sections, marked claims and their notes."""
    html = response.content.decode()
    ends = r'(?:<div class="paper__about"|<footer|</article)'
    return re.search(rf'<div class="paper__body">(.*?)</div>\s*{ends}', html, re.S)[1]


def paper_with(sections, *, slug):
    paper = PaperFactory(slug=slug, title=f"Paper {slug}")
    nato = TagFactory(slug="nato", name="NATO")
    paper.tags.add(nato)
    for n in range(sections):
        section = SectionFactory(paper=paper, position=n, heading=f"Part {n}")
        claim = ClaimFactory(section=section, note=f"Note {n}.")
        claim.tags.add(nato)
        claim.sources.add(SourceFactory())
    return paper


class TestWhoSeesTheDraft:
    def test_an_editor_sees_the_working_draft(self, editor, draft):
        response = client_for(editor).get(URL.format(draft.slug))
        assert response.status_code == 200
        assert b"Draft on deterrence" in response.content
        assert b"NATO forces are present in Estonia." in response.content

    def test_an_assigned_reviewer_sees_it(self, editor, reviewer, draft):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        assert client_for(reviewer).get(URL.format(draft.slug)).status_code == 200

    @pytest.mark.parametrize("persona", ["anonymous", "outsider", "unassigned reviewer"])
    def test_everyone_else_gets_404_not_a_sign_in_page(self, persona, outsider, draft):
        user = {"anonymous": None, "outsider": outsider}.get(persona) or ReviewerFactory()
        response = client_for(user).get(URL.format(draft.slug))
        assert response.status_code == 404
        assert b"Draft on deterrence" not in response.content

    def test_a_hidden_draft_looks_like_no_paper_at_all(self, draft):
        hidden = Client().get(URL.format(draft.slug))
        missing = Client().get(URL.format("no-such-paper"))
        assert hidden.status_code == missing.status_code == 404
        # The same page, but for the address it names (its canonical link).
        assert hidden.content.replace(draft.slug.encode(), b"no-such-paper") == missing.content

    def test_an_unassigned_reviewer_loses_access_at_the_next_request(self, editor, reviewer, draft):
        """R5."""
        workflow.assign_reviewer(draft, reviewer, by=editor)
        client = client_for(reviewer)
        assert client.get(URL.format(draft.slug)).status_code == 200
        workflow.unassign_reviewer(draft, reviewer, by=editor)
        assert client.get(URL.format(draft.slug)).status_code == 404

    def test_it_only_answers_get_and_head(self, editor, draft):
        assert client_for(editor).post(URL.format(draft.slug)).status_code == 405


class TestHeaders:
    def test_it_is_kept_out_of_caches_and_search_engines(self, editor, draft):
        response = client_for(editor).get(URL.format(draft.slug))
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Robots-Tag"] == "noindex"
        assert b'<meta name="robots" content="noindex">' in response.content
        assert b"application/ld+json" not in response.content

    def test_it_never_goes_through_the_readers_page_cache(self, editor, published):
        client = client_for(editor)
        client.get(URL.format(published.slug))
        section = published.sections.first()
        section.body += " A sentence written a moment ago."
        section.save()
        assert b"A sentence written a moment ago." in client.get(URL.format(published.slug)).content
        assert not pagecache.memory.entries


class TestWhatItShows:
    def test_it_says_plainly_that_this_is_a_draft(self, editor, draft):
        response = client_for(editor).get(URL.format(draft.slug))
        assert b"data-draft-banner" in response.content
        assert b"Draft, not published" in response.content
        assert b"It has never been published." in response.content
        assert b"Draft of version 1" in response.content

    def test_a_published_paper_shows_its_draft_and_names_the_live_version(self, editor, published):
        section = published.sections.first()
        section.body = "A new first paragraph. " + section.body
        section.save()
        response = client_for(editor).get(URL.format(published.slug))
        assert b"A new first paragraph." in response.content
        assert b"Readers still see" in response.content
        assert b"Draft of version 2" in response.content
        assert b"A new first paragraph." not in Client().get(f"/papers/{published.slug}/").content

    def test_it_is_exactly_what_publishing_would_show(self, editor, reviewer):
        paper = paper_with(3, slug="exact")
        preview = client_for(editor).get(URL.format(paper.slug))
        workflow.publish_paper(approved(paper), by=editor)
        public = Client().get(f"/papers/{paper.slug}/")
        assert body_of(preview) == body_of(public)
        assert body_of(preview).count('class="claim claim--factual"') == 3
        for part in (b'class="paper__title">Paper exact<', b'<nav class="toc"', b"Note 2."):
            assert part in preview.content
            assert part in public.content

    def test_editors_see_the_review_status_publishing_would_freeze(self, editor, reviewer, draft):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        workflow.submit_paper(draft, by=editor)
        review = Review.objects.get(paper=draft, reviewer=reviewer)
        claim = draft.claims.order_by("pk").first()
        workflow.assess_claim(review, claim, by=reviewer, verdict="disputed", note="Since when?")
        workflow.submit_review(review, by=reviewer, recommendation="revise")
        editor_page = client_for(editor).get(URL.format(draft.slug))
        assert b"Disputed by a reviewer" in editor_page.content
        assert b"Since when?" in editor_page.content
        # Another reviewer of the paper must not read verdicts before submitting their own.
        other = ReviewerFactory(username="second_reviewer")
        workflow.assign_reviewer(draft, other, by=editor)
        reviewer_page = client_for(other).get(URL.format(draft.slug))
        assert b"Disputed by a reviewer" not in reviewer_page.content
        assert b"Since when?" not in reviewer_page.content
        assert b"verdicts are not shown" in reviewer_page.content

    def test_it_links_to_the_admin_and_the_review_workspace(self, editor, draft):
        response = client_for(editor).get(URL.format(draft.slug))
        assert f'href="/admin/papers/paper/{draft.pk}/change/"'.encode() in response.content
        assert f'href="/review/{draft.slug}/"'.encode() in response.content

    def test_a_reviewer_gets_no_link_to_the_admin(self, editor, reviewer, draft):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        response = client_for(reviewer).get(URL.format(draft.slug))
        assert b"/admin/" not in response.content
        assert f'href="/review/{draft.slug}/"'.encode() in response.content

    def test_the_review_workspace_links_back_to_it_and_for_editors_to_the_admin(
        self, editor, reviewer, draft
    ):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        preview = f'href="/papers/{draft.slug}/preview/"'.encode()
        admin = f'href="/admin/papers/paper/{draft.pk}/change/"'.encode()
        as_editor = client_for(editor).get(f"/review/{draft.slug}/").content
        as_reviewer = client_for(reviewer).get(f"/review/{draft.slug}/").content
        assert preview in as_editor and admin in as_editor
        assert preview in as_reviewer and admin not in as_reviewer

    def test_it_offers_no_public_links_that_would_404(self, editor, draft):
        response = client_for(editor).get(URL.format(draft.slug))
        assert f"/papers/{draft.slug}/versions/".encode() not in response.content
        assert f"/papers/{draft.slug}/export.".encode() not in response.content

    def test_its_queries_do_not_grow_with_the_paper(self, editor, django_assert_num_queries):
        small, large = paper_with(1, slug="small"), paper_with(40, slug="large")
        client = client_for(editor)
        client.get(URL.format(small.slug))  # the session and the groups are warm now
        with django_assert_num_queries(12):
            client.get(URL.format(small.slug))
        with django_assert_num_queries(12):
            response = client.get(URL.format(large.slug))
        assert response.content.count(b'class="claim claim--factual"') == 40


class TestViewOnSite:
    def test_an_unpublished_paper_is_viewed_in_its_preview(self, editor_client, draft):
        response = editor_client.get(f"/admin/papers/paper/{draft.pk}/change/")
        assert f'href="/papers/{draft.slug}/preview/"'.encode() in response.content

    def test_a_published_paper_is_viewed_where_readers_read_it(self, editor_client, published):
        response = editor_client.get(f"/admin/papers/paper/{published.pk}/change/")
        link = re.search(rb'href="([^"]+)" class="viewsitelink"', response.content)[1].decode()
        assert editor_client.get(link)["Location"].endswith(f"/papers/{published.slug}/")
