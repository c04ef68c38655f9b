"""The corrections log at /corrections/ and its feed: published corrections and withdrawals only,
each correction with the claims it changed, at a constant number of queries."""

from io import StringIO

import feedparser
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils.http import http_date

from papers import corrections, diffing, workflow
from papers.models import Version
from papers.views import corrections as views
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


@pytest.fixture
def client():
    return Client()


def published_paper(editor, *, slug, title=None, tags=()):
    paper = PaperFactory(slug=slug, title=title or f"Paper {slug}")
    paper.tags.set(tags)
    section = SectionFactory(
        paper=paper,
        heading="Background",
        body="NATO forces are present in Estonia. Russia has not attacked a NATO member.",
    )
    ClaimFactory(section=section, quote="NATO forces are present in Estonia.")
    ClaimFactory(section=section, quote="Russia has not attacked a NATO member.")
    workflow.publish_paper(approved(paper), by=editor, note="First edition.")
    paper.refresh_from_db()
    return paper


def correct_claims(paper, editor, *, note="Fixed the claims."):
    """A correction that rewords one claim, removes the other and adds a new one."""
    section = paper.sections.get()
    section.body = "NATO battlegroups are present in Estonia. Sweden joined NATO in 2024."
    section.save()
    reworded, removed = paper.claims.order_by("pk")
    reworded.quote = "NATO battlegroups are present in Estonia."
    reworded.save()
    removed.delete()
    ClaimFactory(section=section, quote="Sweden joined NATO in 2024.", kind="historical")
    return workflow.publish_correction(paper, by=editor, note=note)


def main_of(response):
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def read_feed(client):
    response = client.get("/corrections/feed/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


class TestTheDemo:
    def test_its_correction_is_in_the_log_with_the_claims_it_changed(self, client, settings):
        settings.DEBUG = True
        call_command("load_demo", stdout=StringIO())
        v1, v2 = Version.objects.filter(paper__slug="baltic-states-nato").order_by("number")
        html = main_of(client.get("/corrections/"))
        assert 'href="/papers/baltic-states-nato/v2/"' in html
        assert 'href="/papers/baltic-states-nato/v1/"' in html
        assert 'href="/papers/baltic-states-nato/diff/1/2/"' in html
        assert "Chechnya is no longer listed as a non-NATO state" in html
        # The same claims the diff page finds between v1 and v2, counted the same way.
        full = diffing.compare(v1.snapshot, v2.snapshot)
        claim_phrases = [phrase for phrase in full["summary"] if "claim" in phrase]
        assert claim_phrases and any("reworded" in p for p in claim_phrases)
        assert f"Claims: {', '.join(claim_phrases)}." in html
        assert '<ins class="diff-ins"><span class="visually-hidden">[inserted: </span>' in html
        assert "now “Checked by 1 reviewer: supported”" in html  # re-assessed


class TestWhatTheLogShows:
    def test_a_correction_shows_its_note_and_claims_added_removed_and_reworded(
        self, client, editor
    ):
        paper = published_paper(editor, slug="forward", title="Forward defence")
        correct_claims(paper, editor, note="The battlegroups are NATO's, not national.")
        html = main_of(client.get("/corrections/"))
        assert "Forward defence" in html
        assert "The battlegroups are NATO&#x27;s, not national." in html
        assert "Claims: 1 claim added, 1 claim removed, 1 claim reworded." in html
        assert '<span class="visually-hidden">[inserted: </span>battlegroups' in html
        assert "Russia has not attacked a NATO member." in html  # the removed claim's words
        assert "Sweden joined NATO in 2024." in html
        assert "Claim in “Background”" in html
        assert 'href="/papers/forward/diff/1/2/"' in html

    def test_a_correction_of_the_text_alone_says_no_claim_changed(self, client, editor):
        paper = published_paper(editor, slug="forward")
        section = paper.sections.get()
        section.body += " A sentence that carries no claim."
        section.save()
        workflow.publish_correction(paper, by=editor, note="Added a sentence.")
        assert "No claim changed" in main_of(client.get("/corrections/"))

    def test_a_withdrawal_shows_when_why_and_links_to_the_papers_notice(self, client, editor):
        paper = published_paper(editor, slug="fabricated", title="Fabricated")
        workflow.withdraw_paper(paper, by=editor, reason="It relied on a fabricated source.")
        html = main_of(client.get("/corrections/"))
        assert "Withdrawn" in html and "It relied on a fabricated source." in html
        assert 'href="/papers/fabricated/"' in html
        assert b"This paper was withdrawn" in client.get("/papers/fabricated/").content

    def test_entries_come_newest_first_across_papers(self, client, editor):
        first = published_paper(editor, slug="first", title="First paper")
        second = published_paper(editor, slug="second", title="Second paper")
        correct_claims(first, editor, note="Note of the first correction.")
        workflow.withdraw_paper(second, by=editor, reason="Reason of the withdrawal.")
        workflow.publish_correction(first, by=editor, note="Note of the second correction.")
        html = main_of(client.get("/corrections/"))
        order = ["second correction", "the withdrawal", "first correction"]
        assert sorted(order, key=html.index) == order
        # The second correction compares version 3 with version 2.
        assert 'href="/papers/first/diff/2/3/"' in html

    def test_a_withdrawn_papers_corrections_stay_on_the_record(self, client, editor):
        paper = published_paper(editor, slug="forward")
        correct_claims(paper, editor, note="Corrected before the withdrawal.")
        workflow.withdraw_paper(paper, by=editor, reason="Withdrawn afterwards.")
        html = main_of(client.get("/corrections/"))
        assert "Corrected before the withdrawal." in html and "Withdrawn afterwards." in html

    def test_a_long_list_of_changed_claims_ends_with_a_link_to_the_rest(
        self, client, editor, monkeypatch
    ):
        monkeypatch.setattr(corrections, "CLAIMS_SHOWN", 1)
        correct_claims(published_paper(editor, slug="forward"), editor)
        html = main_of(client.get("/corrections/"))
        assert html.count('class="diff-item"') == 1
        assert "2 more changed claims: see what changed" in html

    def test_an_empty_log_says_so(self, client, published):
        assert "Nothing has been corrected or withdrawn yet." in main_of(
            client.get("/corrections/")
        )


class TestNeverADraft:
    def test_a_correction_being_prepared_does_not_show(self, client, editor):
        paper = published_paper(editor, slug="forward")
        section = paper.sections.get()
        section.body += " DRAFT-CANARY sentence."
        section.save()
        paper.title = "DRAFT-CANARY title"
        paper.save()
        for url in ("/corrections/", "/corrections/feed/", "/corrections/?paper=forward"):
            response = client.get(url)
            assert response.status_code == 200
            assert b"DRAFT-CANARY" not in response.content
        assert "Nothing has been corrected" in main_of(client.get("/corrections/"))

    def test_first_publications_are_not_corrections(self, client, editor):
        paper = published_paper(editor, slug="forward")
        section = paper.sections.get()
        section.body += " A new sentence."
        section.save()
        workflow.publish_paper(approved(paper), by=editor, note="Second edition.")
        assert "Second edition." not in main_of(client.get("/corrections/"))

    def test_an_unpublished_paper_cannot_be_chosen(self, client, draft):
        response = client.get("/corrections/?paper=draft-on-deterrence")
        assert response.status_code == 404
        assert b"Draft on deterrence" not in response.content


class TestFilters:
    @pytest.fixture
    def two_papers(self, editor):
        nato = TagFactory(slug="nato", name="NATO")
        forward = published_paper(editor, slug="forward", title="Forward defence", tags=[nato])
        other = published_paper(editor, slug="other", title="Other paper")
        correct_claims(forward, editor, note="Forward's correction.")
        correct_claims(other, editor, note="Other's correction.")
        workflow.withdraw_paper(other, by=editor, reason="Other's withdrawal.")
        return forward, other

    def test_by_paper(self, client, two_papers):
        html = main_of(client.get("/corrections/?paper=other"))
        assert "Other&#x27;s correction." in html and "Other&#x27;s withdrawal." in html
        assert "Forward&#x27;s correction." not in html
        assert "of <a" in html and "Other paper" in html
        assert 'href="/corrections/"' in html  # back to everything

    def test_by_tag(self, client, two_papers):
        html = main_of(client.get("/corrections/?tag=nato"))
        assert "Forward&#x27;s correction." in html
        assert "Other&#x27;s" not in html
        assert "on NATO" in html

    def test_each_entry_links_to_its_paper_and_topics(self, client, two_papers):
        html = main_of(client.get("/corrections/"))
        assert 'href="/corrections/?paper=forward"' in html
        assert 'href="/corrections/?tag=nato"' in html

    @pytest.mark.parametrize(
        "query", ["paper=nonexistent", "tag=nonexistent", "paper=%01", "tag=../", "tag=%C2%B2"]
    )
    def test_an_unknown_filter_is_a_404(self, client, two_papers, query):
        assert client.get(f"/corrections/?{query}").status_code == 404


class TestPagination:
    def test_entries_are_paginated(self, client, editor, monkeypatch):
        monkeypatch.setattr(views, "ENTRIES_PER_PAGE", 2)
        paper = published_paper(editor, slug="forward")
        for n in range(1, 4):
            workflow.publish_correction(paper, by=editor, note=f"Correction number {n}.")
        first = main_of(client.get("/corrections/"))
        assert first.count('class="history__version"') == 2
        assert "Correction number 3." in first and "Page 1 of 2" in first
        response = client.get("/corrections/?page=2")
        second = main_of(response)
        assert second.count('class="history__version"') == 1
        # The log changes when an entry joins it at the top, on every page.
        newest = paper.versions.get(number=4).published_at
        assert response["Last-Modified"] == http_date(newest.timestamp())
        assert "Correction number 1." in second
        # Out of range or not a number: the nearest page, as on the other lists.
        assert "Correction number 1." in main_of(client.get("/corrections/?page=99"))
        assert "Correction number 3." in main_of(client.get("/corrections/?page=x"))


@pytest.mark.parametrize("count", [2, 25])
def test_queries_do_not_grow_with_entries(client, editor, count, django_assert_num_queries):
    """Corrections spread over papers, plus a withdrawal: the first page of the log, then the
    second (which asks once more for the newest entry, its Last-Modified)."""
    papers = [published_paper(editor, slug=f"paper-{n}") for n in range(5)]
    for n in range(count):
        workflow.publish_correction(papers[n % 5], by=editor, note=f"Correction {n}.")
    workflow.withdraw_paper(papers[0], by=editor, reason="Withdrawn.")
    with django_assert_num_queries(9):
        response = client.get("/corrections/")
    assert response.status_code == 200
    assert main_of(response).count('class="history__version"') == min(count + 1, 20)


class TestServing:
    def test_it_has_validators_and_answers_304_to_a_reader_who_has_it(self, client, editor):
        paper = published_paper(editor, slug="forward")
        version = correct_claims(paper, editor)
        response = client.get("/corrections/")
        assert response["ETag"].startswith('W/"')
        assert response["Last-Modified"] == http_date(version.published_at.timestamp())
        again = client.get("/corrections/", HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304
        workflow.publish_correction(paper, by=editor, note="Another correction.")
        changed = client.get("/corrections/", HTTP_IF_NONE_MATCH=response["ETag"])
        assert changed.status_code == 200
        assert changed["ETag"] != response["ETag"]

    def test_signed_in_readers_get_a_private_copy(self, editor_client, editor):
        correct_claims(published_paper(editor, slug="forward"), editor)
        response = editor_client.get("/corrections/")
        assert response.status_code == 200
        assert "private" in response["Cache-Control"]
        assert "ETag" not in response

    def test_post_is_not_allowed(self, client, db):
        assert client.post("/corrections/").status_code == 405

    def test_the_page_and_every_page_link_the_log_and_its_feed(self, client, published):
        html = client.get("/corrections/").content.decode()
        assert (
            '<link rel="alternate" type="application/atom+xml" '
            'title="Standpoint: corrections and withdrawals" href="/corrections/feed/">'
        ) in html
        footer = client.get("/").content.decode().split('class="site-footer"')[1]
        assert 'href="/corrections/"' in footer and 'href="/corrections/feed/"' in footer


class TestFeed:
    def test_it_is_the_log_as_atom(self, client, editor):
        paper = published_paper(editor, slug="forward", title="Forward defence")
        correct_claims(paper, editor, note="The <b>battlegroups</b> are NATO's.")
        workflow.withdraw_paper(paper, by=editor, reason="Withdrawn for cause.")
        feed = read_feed(client)
        assert feed.feed.title == "Standpoint: corrections and withdrawals"
        assert feed.feed.link == f"{SITE}/corrections/"
        withdrawal, correction = feed.entries
        assert withdrawal.title == "Withdrawn: Forward defence"
        assert withdrawal.link == f"{SITE}/papers/forward/"
        assert withdrawal.summary == "<p>Withdrawn for cause.</p>"
        assert [tag.term for tag in withdrawal.tags] == ["Withdrawal"]
        assert correction.title == "Correction to version 1: Forward defence"
        assert correction.link == f"{SITE}/papers/forward/v2/"
        assert correction.summary == "<p>The &lt;b&gt;battlegroups&lt;/b&gt; are NATO&#x27;s.</p>"
        content = correction.content[0].value
        assert content.startswith("<p>1 claim added, 1 claim removed, 1 claim reworded.</p>")
        assert "<ins>battlegroups</ins>" in content
        assert f'<a href="{SITE}/papers/forward/diff/1/2/">' in content

    def test_it_shows_no_draft(self, client, published):
        assert read_feed(client).entries == []
