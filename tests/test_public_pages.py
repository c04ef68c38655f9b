"""Readers' pages: only published versions are visible, pages are complete, queries are constant."""

import json

import pytest
from django.test import Client

from papers import workflow
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def published_paper(editor, *, sections=2, slug=None, tags=()):
    paper = PaperFactory(**({"slug": slug} if slug else {}))
    paper.tags.set(tags)
    for n in range(sections):
        section = SectionFactory(paper=paper, position=n, heading=f"Part {n}")
        ClaimFactory(section=section)
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


class TestDraftsAreInvisible:
    """R1: anything unpublished answers 404 and is absent from every listing."""

    @pytest.mark.parametrize(
        "url",
        [
            "/papers/draft-on-deterrence/",
            "/papers/draft-on-deterrence/v1/",
            "/papers/draft-on-deterrence/export.md",
            "/papers/draft-on-deterrence/export.json",
        ],
    )
    def test_a_draft_answers_404_everywhere(self, client, draft, url):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Draft on deterrence" not in response.content

    @pytest.mark.parametrize("url", ["/", "/papers/", "/papers/?tag=nato", "/tags/nato/"])
    def test_a_draft_is_absent_from_listings(self, client, draft, editor, url):
        nato = TagFactory(slug="nato", name="NATO")
        draft.tags.add(nato)
        published_paper(editor, tags=[nato])
        response = client.get(url)
        assert response.status_code == 200
        assert b"Draft on deterrence" not in response.content

    def test_the_404_page_is_generic(self, client, draft):
        response = client.get("/papers/draft-on-deterrence/")
        assert b"Page not found" in response.content
        assert b"Traceback" not in response.content


class TestReadersSeeOnlyThePublishedVersion:
    """R2: a newer draft never leaks, whatever the query string says."""

    @pytest.mark.parametrize("query", ["", "?version=2", "?preview=1", "?draft=1&version=latest"])
    def test_the_canary_in_the_draft_stays_hidden(self, client, published, query):
        section = published.sections.first()
        section.body += " DRAFT-CANARY"
        section.save()
        published.title = "DRAFT-CANARY title"
        published.save()
        for url in (f"/papers/{published.slug}/", f"/papers/{published.slug}/v1/", "/papers/"):
            response = client.get(url + query)
            assert response.status_code == 200
            assert b"DRAFT-CANARY" not in response.content
        for fmt in ("md", "json"):
            assert (
                b"DRAFT-CANARY" not in client.get(f"/papers/{published.slug}/export.{fmt}").content
            )


class TestPaperPage:
    def test_it_shows_title_byline_version_toc_and_marked_claims(self, client, published):
        response = client.get("/papers/draft-on-deterrence/")
        html = response.content.decode()
        assert "<title>Draft on deterrence · Standpoint</title>" in html
        assert "By Ana Kask" in html
        assert "Version 1" in html
        assert '<a href="#background">Background</a>' in html
        assert html.count('class="claim claim--factual"') == 1
        assert ">Predictive claim 2</a>: " in html  # its note
        assert (
            '<link rel="canonical" href="http://127.0.0.1:8000/papers/draft-on-deterrence/">'
            in html
        )

    def test_sources_are_linked_from_the_claim_note(self, client, draft, editor):
        claim = draft.claims.first()
        claim.sources.create(title="NATO factsheet", url="https://www.nato.int/x", publisher="NATO")
        workflow.publish_paper(approved(draft), by=editor)
        html = client.get("/papers/draft-on-deterrence/").content.decode()
        assert 'href="https://www.nato.int/x"' in html
        assert "NATO factsheet" in html

    def test_an_older_version_says_so_and_links_to_the_latest(self, client, published, editor):
        workflow.publish_correction(published, by=editor, note="Fixed.")
        old = client.get("/papers/draft-on-deterrence/v1/").content.decode()
        assert "which is not the latest" in old
        assert 'href="/papers/draft-on-deterrence/"' in old
        latest = client.get("/papers/draft-on-deterrence/v2/").content.decode()
        assert "not the latest" not in latest
        assert "Correction" in latest and "Fixed." in latest

    @pytest.mark.parametrize(
        "url", ["/papers/draft-on-deterrence/v9/", "/papers/draft-on-deterrence/v0/"]
    )
    def test_unknown_version_numbers_answer_404(self, client, published, url):
        assert client.get(url).status_code == 404

    def test_post_is_not_allowed(self, client, published):
        assert client.post("/papers/draft-on-deterrence/").status_code == 405


class TestQueryCounts:
    """Published pages are served from stored HTML: queries do not grow with size."""

    @pytest.mark.parametrize("url", ["/papers/{slug}/", "/papers/{slug}/v1/"])
    def test_paper_page_queries_are_the_same_for_5_and_200_sections(
        self, client, editor, django_assert_num_queries, url
    ):
        small = published_paper(editor, sections=5, slug="small")
        large = published_paper(editor, sections=200, slug="large")
        with django_assert_num_queries(3):
            assert client.get(url.format(slug=small.slug)).status_code == 200
        with django_assert_num_queries(3):
            response = client.get(url.format(slug=large.slug))
        assert response.content.count(b'class="claim claim--factual"') == 200

    @pytest.mark.parametrize(
        ("url", "queries"),
        [("/", 4), ("/papers/", 4), ("/papers/?tag=nato", 5), ("/tags/nato/", 5)],
    )
    def test_listing_queries_do_not_grow_with_papers(
        self, client, editor, django_assert_num_queries, url, queries
    ):
        nato = TagFactory(slug="nato", name="NATO")
        published_paper(editor, slug="one", tags=[nato])
        with django_assert_num_queries(queries):
            client.get(url)
        for n in range(5):
            published_paper(editor, slug=f"more-{n}", tags=[nato, TagFactory()])
        with django_assert_num_queries(queries):
            response = client.get(url)
        assert response.content.count(b'class="paper-card"') == 6

    def test_export_queries_are_constant(self, client, editor, django_assert_num_queries):
        published_paper(editor, sections=50, slug="big")
        with django_assert_num_queries(2):
            client.get("/papers/big/export.json")


class TestListings:
    def test_papers_are_paginated(self, client, editor):
        for n in range(21):
            published_paper(editor, sections=1, slug=f"p-{n:02}")
        first = client.get("/papers/")
        assert first.content.count(b'class="paper-card"') == 20
        assert b"Page 1 of 2" in first.content
        second = client.get("/papers/?page=2")
        assert second.content.count(b'class="paper-card"') == 1

    def test_a_bad_page_number_gives_a_page(self, client, published):
        assert client.get("/papers/?page=abc").status_code == 200
        assert client.get("/papers/?page=999").status_code == 200

    def test_the_tag_filter_keeps_only_tagged_papers(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        tagged = published_paper(editor, slug="tagged", tags=[nato])
        untagged = published_paper(editor, slug="untagged")
        html = client.get("/papers/?tag=nato").content.decode()
        assert tagged.title in html and untagged.title not in html
        assert client.get("/papers/?tag=unknown").status_code == 404

    def test_the_home_page_lists_topics_of_published_papers(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        TagFactory(slug="unused", name="Unused topic")
        published_paper(editor, tags=[nato])
        html = client.get("/").content.decode()
        assert 'href="/tags/nato/"' in html
        assert "Unused topic" not in html

    def test_tags_of_a_newer_draft_do_not_show(self, client, published):
        published.tags.add(TagFactory(slug="secret", name="Secret topic"))
        assert b"Secret topic" not in client.get("/").content
        assert b"Draft on deterrence" not in client.get("/tags/secret/").content


class TestExports:
    def test_json_export_is_the_latest_version(self, client, published, editor):
        workflow.publish_paper(approved(published), by=editor, note="Again.")
        response = client.get("/papers/draft-on-deterrence/export.json")
        assert response["Content-Type"] == "application/json"
        document = json.loads(response.content)
        assert document["version"]["number"] == 2
        assert len(document["claims"]) == 2

    def test_markdown_export_has_front_matter_and_sections(self, client, published):
        response = client.get("/papers/draft-on-deterrence/export.md")
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        text = response.content.decode()
        assert text.startswith("---\n")
        assert "# Draft on deterrence\n" in text and "## Background\n" in text

    def test_other_formats_answer_404(self, client, published):
        assert client.get("/papers/draft-on-deterrence/export.html").status_code == 404


class TestWithdrawnPapers:
    def test_a_withdrawn_paper_keeps_its_address_with_the_notice(self, client, published, editor):
        workflow.withdraw_paper(published, by=editor, reason="The figures were <wrong>.")
        html = client.get("/papers/draft-on-deterrence/").content.decode()
        assert "This paper was withdrawn on" in html
        assert "The figures were &lt;wrong&gt;." in html
        assert client.get("/papers/draft-on-deterrence/v1/").status_code == 200

    @pytest.mark.parametrize("url", ["/", "/papers/", "/tags/nato/"])
    def test_a_withdrawn_paper_leaves_the_listings(self, client, editor, url):
        nato = TagFactory(slug="nato", name="NATO")
        paper = published_paper(editor, slug="gone", tags=[nato])
        workflow.withdraw_paper(paper, by=editor, reason="Retracted.")
        html = client.get(url).content.decode()
        assert paper.title not in html
        assert 'href="/tags/nato/"' not in html or url == "/tags/nato/"
