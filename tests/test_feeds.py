"""The Atom feed at /feed/: every published version of a listed paper, read with feedparser."""

from datetime import timedelta

import feedparser
import pytest
from django.test import Client
from django.utils import timezone

from papers import workflow
from papers.models import Version
from tests.factories import PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


@pytest.fixture
def client():
    return Client()


def publish(editor, *, title, slug, byline="Ana Kask", tags=()):
    paper = PaperFactory(title=title, slug=slug, byline=byline)
    paper.tags.set(tags)
    SectionFactory(paper=paper)
    workflow.publish_paper(approved(paper), by=editor, note=f"First edition of {title}.")
    paper.refresh_from_db()
    return paper


def read_feed(client):
    response = client.get("/feed/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_it_is_a_valid_atom_feed_about_the_site(client, published):
    feed = read_feed(client)
    assert feed.version == "atom10"
    assert feed.feed.title == "Standpoint: published papers"
    assert feed.feed.link == f"{SITE}/papers/"
    assert {link.href for link in feed.feed.links if link.rel == "self"} == {f"{SITE}/feed/"}


def test_an_entry_is_one_published_version(client, published):
    (entry,) = read_feed(client).entries
    version = published.live_version
    assert entry.title == "Draft on deterrence"
    assert entry.link == f"{SITE}/papers/draft-on-deterrence/v1/"
    assert entry.id == entry.link
    assert entry.summary == "<p>A short lede for the paper.</p>"  # the standfirst, not the note
    assert entry.author == "Ana Kask"
    assert entry.updated_parsed[:6] == version.published_at.utctimetuple()[:6]
    assert entry.published_parsed[:6] == version.published_at.utctimetuple()[:6]


def test_versions_come_newest_first_each_with_its_own_id(client, published, editor):
    other = publish(editor, title="Second paper", slug="second")
    workflow.publish_correction(published, by=editor, note="Fixed a date.")
    entries = read_feed(client).entries
    assert [entry.link for entry in entries] == [
        f"{SITE}/papers/draft-on-deterrence/v2/",
        f"{SITE}{other.get_absolute_url()}v1/",
        f"{SITE}/papers/draft-on-deterrence/v1/",
    ]
    assert len({entry.id for entry in entries}) == 3


def test_a_correction_is_marked_in_its_title_and_category(client, published, editor):
    nato = TagFactory(slug="nato", name="NATO")
    published.tags.add(nato)
    workflow.publish_correction(published, by=editor, note="The <b>date</b> was wrong.")
    correction, original = read_feed(client).entries
    assert correction.title == "Correction: Draft on deterrence"
    assert [tag.term for tag in correction.tags] == ["Correction", "NATO"]
    assert correction.summary == (
        "<p>The &lt;b&gt;date&lt;/b&gt; was wrong.</p><p>A short lede for the paper.</p>"
    )
    assert original.summary == "<p>A short lede for the paper.</p>"
    assert original.title == "Draft on deterrence"
    assert "tags" not in original


def test_drafts_and_withdrawn_papers_are_absent(client, draft, editor):
    kept = publish(editor, title="Kept paper", slug="kept")
    gone = publish(editor, title="Withdrawn paper", slug="gone")
    workflow.publish_correction(gone, by=editor, note="A fix before the end.")
    workflow.withdraw_paper(gone, by=editor, reason="Retracted.")
    entries = read_feed(client).entries
    assert [entry.title for entry in entries] == [kept.title]
    assert draft.title not in {entry.title for entry in entries}


def test_a_newer_draft_does_not_leak(client, published):
    published.title = "DRAFT-CANARY"
    published.save()
    assert b"DRAFT-CANARY" not in client.get("/feed/").content


def test_hostile_titles_and_bylines_are_text(client, editor):
    publish(editor, title="<script>alert(1)</script> & co", slug="x", byline="<b>Eve</b>")
    (entry,) = read_feed(client).entries
    assert entry.title == "<script>alert(1)</script> & co"
    assert entry.author == "<b>Eve</b>"


def test_a_control_character_in_a_title_leaves_the_feed_whole(client, editor):
    """XML cannot carry it even escaped: it is left out, not the whole feed."""
    publish(editor, title="Baltic\x0b defence\x1f", slug="x", byline="Ana\x08 Kask")
    response = client.get("/feed/")
    assert response.status_code == 200
    (entry,) = feedparser.parse(response.content).entries
    assert (entry.title, entry.author) == ("Baltic defence", "Ana Kask")


def test_it_holds_the_30_newest_versions(client, editor):
    for n in range(31):
        publish(editor, title=f"Paper {n}", slug=f"p-{n}")
    oldest = Version.objects.order_by("published_at").first()
    entries = read_feed(client).entries
    assert len(entries) == 30
    assert f"{SITE}{oldest.get_absolute_url()}" not in {entry.link for entry in entries}


def test_feed_queries_do_not_grow_with_entries(client, editor, django_assert_num_queries):
    nato = TagFactory(slug="nato", name="NATO")
    publish(editor, title="One", slug="one", tags=[nato])
    with django_assert_num_queries(3):  # the public revision, versions and papers, tags
        client.get("/feed/")
    for n in range(5):
        publish(editor, title=f"More {n}", slug=f"more-{n}", tags=[nato, TagFactory()])
    with django_assert_num_queries(3):
        assert len(read_feed(client).entries) == 6


def test_the_feed_is_announced_on_every_page(client, published):
    html = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/feed/"' in html


def test_a_feed_with_nothing_published_is_still_valid(db, client):
    feed = read_feed(client)
    assert feed.entries == []


def test_publication_time_is_what_the_feed_says(client, published, editor, monkeypatch):
    later = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    workflow.publish_correction(published, by=editor, note="Later.")
    newest = read_feed(client).entries[0]
    assert newest.updated_parsed[:6] == later.utctimetuple()[:6]


def test_a_summary_is_the_standfirst_as_escaped_text(client, editor):
    paper = PaperFactory(
        slug="hostile", standfirst="Why **ports** <script>alert(1)</script> matter."
    )
    SectionFactory(paper=paper)
    workflow.publish_paper(approved(paper), by=editor, note="First publication.")
    (entry,) = read_feed(client).entries
    assert "First publication." not in entry.summary
    assert entry.summary.startswith("<p>Why ports ")
    assert "<script" not in entry.summary and "<strong>" not in entry.summary


def test_a_paper_without_a_standfirst_has_an_empty_summary(client, editor):
    paper = PaperFactory(slug="bare", standfirst="")
    SectionFactory(paper=paper)
    workflow.publish_paper(approved(paper), by=editor, note="First publication.")
    (entry,) = read_feed(client).entries
    assert entry.get("summary", "") == ""
