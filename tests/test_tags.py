"""Tags as readers see them: /tags/ (every tag in use, with its papers and claims counted),
/tags/<slug>/, and tags that only drafts carry staying private (issue 12)."""

import re

import pytest
from django.test import Client

from papers import workflow
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def paper(editor, *, claims=1, paper_tags=(), claim_tags=(), slug=None, publish=True):
    """A paper with `claims` sections of one claim each; published as v1 unless told not."""
    made = PaperFactory(**({"slug": slug} if slug else {}))
    made.tags.set(paper_tags)
    for n in range(claims):
        section = SectionFactory(paper=made, position=n, body=f"Before. Claim {n} holds. After.")
        ClaimFactory(section=section, quote=f"Claim {n} holds.").tags.set(claim_tags)
    if publish:
        workflow.publish_paper(approved(made), by=editor)
    made.refresh_from_db()
    return made


def listed(client):
    """(name, counts) of each tag on /tags/, in order."""
    html = client.get("/tags/").content.decode()
    return re.findall(
        r'<h2 class="tag-index__name"><a href="/tags/[\w-]+/">(.*?)</a></h2>.*?'
        r'<p class="tag-index__counts">(.*?)</p>',
        html,
        re.S,
    )


def counts(text):
    return re.sub(r"<[^>]+>", "", text)


class TestTagIndex:
    def test_it_lists_tags_in_use_with_their_papers_and_claims(self, client, editor):
        nato, russia = (
            TagFactory(slug="nato", name="NATO"),
            TagFactory(slug="russia", name="Russia"),
        )
        paper(editor, claims=3, paper_tags=[nato], claim_tags=[nato, russia])
        paper(editor, claims=1, paper_tags=[nato])
        rows = [(name, counts(text)) for name, text in listed(client)]
        assert rows == [("NATO", "2 papers · 3 claims"), ("Russia", "No papers · 3 claims")]

    def test_counts_link_to_the_filtered_lists(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        paper(editor, paper_tags=[nato], claim_tags=[nato])
        html = client.get("/tags/").content.decode()
        assert '<a href="/papers/?tag=nato">1 paper</a>' in html
        assert '<a href="/claims/?tag=nato">1 claim</a>' in html

    def test_drafts_unused_and_withdrawn_papers_tags_are_not_listed(self, client, editor):
        TagFactory(slug="unused", name="Unused")
        secret = TagFactory(slug="secret", name="Secret")
        paper(editor, paper_tags=[secret], claim_tags=[secret], publish=False)
        gone = TagFactory(slug="gone", name="Gone")
        withdrawn = paper(editor, paper_tags=[gone])
        workflow.withdraw_paper(withdrawn, by=editor, reason="Retracted.")
        nato = TagFactory(slug="nato", name="NATO")
        paper(editor, paper_tags=[nato])
        html = client.get("/tags/").content.decode()
        assert [name for name, _ in listed(client)] == ["NATO"]
        for name in ("Unused", "Secret", "Gone"):
            assert name not in html

    def test_a_tag_added_to_a_newer_draft_is_not_counted(self, client, editor, published):
        nato = TagFactory(slug="nato", name="NATO")
        published.tags.add(nato)
        assert listed(client) == []

    def test_with_nothing_published_it_says_so(self, client, db):
        assert "No published paper carries a tag yet." in client.get("/tags/").content.decode()

    def test_it_is_linked_from_the_home_page_and_every_tag_page(self, client, editor):
        paper(editor, paper_tags=[TagFactory(slug="nato", name="NATO")])
        for url in ("/", "/tags/nato/"):
            assert 'href="/tags/">All topics' in client.get(url).content.decode()

    def test_user_text_is_escaped(self, client, editor):
        hostile = TagFactory(slug="hostile", name="<b>Bold</b>", description="<script>x</script>")
        paper(editor, paper_tags=[hostile])
        html = client.get("/tags/").content.decode()
        assert "<b>Bold" not in html and "<script>x" not in html
        assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "&lt;script&gt;x&lt;/script&gt;" in html

    def test_queries_do_not_grow_with_tags(self, client, editor, django_assert_num_queries):
        paper(editor, paper_tags=[TagFactory()], claim_tags=[TagFactory()])
        with django_assert_num_queries(2):  # the public revision, the tags with their counts
            client.get("/tags/")
        for _ in range(4):
            paper(editor, claims=3, paper_tags=[TagFactory()], claim_tags=[TagFactory()])
        with django_assert_num_queries(2):
            assert len(listed(client)) == 10


class TestTagPage:
    def test_it_lists_papers_and_published_claims_with_the_tag(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        tagged = paper(editor, claims=2, slug="deterrence", paper_tags=[nato], claim_tags=[nato])
        paper(editor, paper_tags=[TagFactory()])
        draft = paper(editor, paper_tags=[nato], claim_tags=[nato], publish=False)
        html = client.get("/tags/nato/").content.decode()
        assert html.count('class="paper-card"') == 1
        assert html.count('class="claim-index__item"') == 2
        for claim in tagged.claims.all():
            assert f'href="/claims/{claim.public_id}/"' in html
            assert f'href="/papers/deterrence/#claim-{claim.public_id}"' in html
        assert f"/claims/{draft.claims.get().public_id}/" not in html
        assert 'href="/claims/?tag=nato"' in html

    def test_a_tag_only_claims_carry_has_its_page(self, client, editor):
        paper(editor, claim_tags=[TagFactory(slug="russia", name="Russia")])
        response = client.get("/tags/russia/")
        assert response.status_code == 200
        assert response.content.count(b'class="claim-index__item"') == 1

    def test_a_tag_an_older_version_carried_keeps_its_page(self, client, editor):
        """Version 1's page links to it; dropping a tag does not break published pages."""
        nato = TagFactory(slug="nato", name="NATO")
        made = paper(editor, paper_tags=[nato])
        made.tags.clear()
        workflow.publish_correction(made, by=editor, note="Untagged.")
        assert 'href="/tags/nato/"' in client.get(f"/papers/{made.slug}/v1/").content.decode()
        assert client.get("/tags/nato/").status_code == 200

    def test_queries_do_not_grow_with_claims(self, client, editor, django_assert_num_queries):
        nato = TagFactory(slug="nato", name="NATO")
        paper(editor, paper_tags=[nato], claim_tags=[nato])
        with django_assert_num_queries(5):
            client.get("/tags/nato/")
        for _ in range(3):
            paper(editor, claims=20, paper_tags=[nato], claim_tags=[nato])
        with django_assert_num_queries(5):
            response = client.get("/tags/nato/")
        assert response.content.count(b'class="claim-index__item"') == 50


class TestPrivateTags:
    """A tag only drafts carry is not announced: its page and the paper filter answer as for a
    tag that does not exist, without its name or description."""

    @pytest.fixture
    def secret(self, editor, published):
        tag = TagFactory(slug="secret", name="SECRET-NAME", description="SECRET-DESCRIPTION")
        published.tags.add(tag)  # a newer draft of a published paper
        paper(editor, paper_tags=[tag], claim_tags=[tag], publish=False)  # a draft
        return tag

    @pytest.mark.parametrize(
        ("url", "unknown"),
        [("/tags/secret/", "/tags/nosuch/"), ("/papers/?tag=secret", "/papers/?tag=nosuch")],
    )
    def test_it_answers_as_an_unknown_tag_does(self, client, secret, url, unknown):
        response, control = client.get(url), client.get(unknown)
        assert response.status_code == control.status_code == 404
        # The page repeats its address (canonical link); apart from that it is the same.
        assert response.content.replace(b"secret", b"nosuch") == control.content
        assert b"SECRET" not in response.content

    def test_the_claims_filter_treats_it_as_unknown(self, client, secret):
        html = client.get("/claims/?tag=secret").content.decode()
        assert "No published claim carries the tag “secret”." in html
        assert "SECRET" not in html

    def test_it_becomes_public_when_published(self, client, secret, editor, published):
        workflow.publish_paper(approved(published), by=editor)
        assert client.get("/tags/secret/").status_code == 200
        assert client.get("/papers/?tag=secret").status_code == 200
        assert [name for name, _ in listed(client)] == ["SECRET-NAME"]

    def test_sitemap_leaves_it_out(self, client, secret):
        assert b"/tags/secret/" not in client.get("/sitemap.xml").content
