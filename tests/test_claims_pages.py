"""Claims as readers see them: the index and its search, one claim's page and history, and the
review-transparency panel beside every version (tag pages: tests/test_tags.py). Data is
arranged through papers.workflow."""

import hashlib
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from papers import workflow
from papers.models import Assessment, Claim, Review
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
Verdict = Assessment.Verdict


@pytest.fixture
def client():
    return Client()


def paper_with_claims(editor, count, *, slug=None, kind=Claim.Kind.FACTUAL, tags=(), publish=True):
    """A paper with `count` sections of one claim each, paper and claims tagged `tags`,
    published as v1 unless publish=False."""
    paper = PaperFactory(**({"slug": slug} if slug else {}))
    paper.tags.set(tags)
    for n in range(count):
        section = SectionFactory(
            paper=paper, position=n, heading=f"Part {n}", body=f"Before. Claim {n} holds. After."
        )
        claim = ClaimFactory(section=section, quote=f"Claim {n} holds.", kind=kind)
        claim.tags.set(tags)
    if publish:
        workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


def review_and_publish(paper, *, editor, reviewers, verdicts, correction=""):
    """Each reviewer assesses the claims as `verdicts` says ({claim: verdict or (verdict, note)})
    and recommends; the editor approves (overriding claims left unchecked) and publishes
    (overriding open concerns)."""
    for reviewer in reviewers:
        if not paper.assignments.filter(reviewer=reviewer).exists():
            workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    for reviewer in reviewers:
        review = Review.objects.get(paper=paper, reviewer=reviewer, status=Review.Status.OPEN)
        for claim, verdict in verdicts.items():
            verdict, note = verdict if isinstance(verdict, tuple) else (verdict, "")
            workflow.assess_claim(review, claim, by=reviewer, verdict=verdict, note=note)
        workflow.submit_review(review, by=reviewer, recommendation="approve")
    workflow.approve_paper(paper, by=editor, override_reason="Unchecked claims are shown so.")
    override = "Concerns are shown to readers."
    if correction:
        return workflow.publish_correction(
            paper, by=editor, note=correction, override_reason=override
        )
    return workflow.publish_paper(paper, by=editor, override_reason=override)


def reword(claim, new_quote):
    section = claim.section
    section.body = section.body.replace(claim.quote, new_quote)
    section.save()
    claim.quote = new_quote
    claim.save()


def panel(html):
    """The review-transparency panel: what was checked, then the version's record."""
    start = html.index('data-panel="transparency"')
    return html[start : html.index("</section>", html.index('data-panel="record"'))]


def item_count(response):
    return response.content.count(b'class="claim-index__item"')


# --- /claims/ ---------------------------------------------------------------------------------


class TestClaimIndex:
    def test_it_lists_each_claim_with_paper_section_kind_tags_and_status(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        paper = paper_with_claims(editor, 1, slug="deterrence", tags=[nato])
        claim = paper.claims.get()
        html = client.get("/claims/").content.decode()
        assert "“Claim 0 holds.”" in html
        assert f'href="/claims/{claim.public_id}/"' in html
        assert f'href="/papers/deterrence/#claim-{claim.public_id}"' in html
        assert 'href="/papers/deterrence/#part-0">Part 0</a>' in html
        assert 'class="claim-kind claim-kind--factual">Factual<' in html
        assert 'href="/claims/?tag=nato">NATO</a>' in html
        assert "Not checked by a reviewer" in html
        assert "1 claim" in html

    def test_filters_combine(self, client, editor, reviewer):
        nato, russia = TagFactory(slug="nato", name="NATO"), TagFactory(slug="russia")
        paper_with_claims(editor, 2, tags=[nato], kind=Claim.Kind.PREDICTIVE)
        paper_with_claims(editor, 3, tags=[russia], kind=Claim.Kind.PREDICTIVE)
        checked = paper_with_claims(editor, 4, tags=[nato], kind=Claim.Kind.FACTUAL)
        review_and_publish(
            checked,
            editor=editor,
            reviewers=[reviewer],
            verdicts={checked.claims.first(): Verdict.SUPPORTED},
        )
        assert item_count(client.get("/claims/")) == 9
        assert item_count(client.get("/claims/?tag=nato")) == 6
        assert item_count(client.get("/claims/?kind=predictive")) == 5
        assert item_count(client.get("/claims/?tag=nato&kind=predictive")) == 2
        assert item_count(client.get("/claims/?tag=nato&kind=factual&status=supported")) == 1
        assert item_count(client.get("/claims/?tag=russia&status=supported")) == 0

    def test_the_form_shows_counts_for_the_other_filters(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        paper_with_claims(editor, 2, tags=[nato], kind=Claim.Kind.PREDICTIVE)
        paper_with_claims(editor, 3, kind=Claim.Kind.FACTUAL)
        html = client.get("/claims/?tag=nato").content.decode()
        assert '<label for="filter-kind">Kind</label>' in html
        assert '<option value="nato" selected>NATO (2)</option>' in html
        assert '<option value="predictive">Predictive (2)</option>' in html
        assert '<option value="factual">Factual (0)</option>' in html
        html = client.get("/claims/?kind=factual").content.decode()
        assert '<option value="nato">NATO (0)</option>' in html
        assert '<option value="unchecked">Not checked by a reviewer (3)</option>' in html

    def test_pagination_keeps_the_filters(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        paper_with_claims(editor, 60, tags=[nato])
        paper_with_claims(editor, 3, kind=Claim.Kind.NORMATIVE, tags=[nato])
        first = client.get("/claims/?tag=nato&kind=factual")
        assert item_count(first) == 50
        assert b'href="?tag=nato&amp;kind=factual&amp;page=2"' in first.content
        second = client.get("/claims/?tag=nato&kind=factual&page=2")
        assert item_count(second) == 10
        assert b'href="?tag=nato&amp;kind=factual&amp;page=1"' in second.content

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("tag=nope", "No published claim carries the tag “nope”."),
            ("kind=rumour", "“rumour” is not a kind of claim."),
            ("status=true", "“true” is not a review status."),
            ("kind=%3Cb%3E", "“&lt;b&gt;” is not a kind of claim."),
        ],
    )
    def test_unknown_filter_values_give_an_empty_page_with_a_message(
        self, client, editor, query, message
    ):
        paper_with_claims(editor, 2)
        response = client.get(f"/claims/?{query}")
        assert response.status_code == 200
        assert item_count(response) == 0
        assert message in response.content.decode()

    def test_a_bad_page_number_gives_a_page(self, client, editor):
        paper_with_claims(editor, 2)
        assert item_count(client.get("/claims/?page=abc")) == 2
        assert item_count(client.get("/claims/?page=99")) == 2

    def test_claims_of_drafts_never_appear(self, client, editor):
        paper_with_claims(editor, 1)
        draft = PaperFactory()
        section = SectionFactory(paper=draft, body="The DRAFT-MARKER claim is secret.")
        secret = ClaimFactory(section=section, quote="The DRAFT-MARKER claim is secret.")
        assert b"DRAFT-MARKER" not in client.get("/claims/").content
        response = client.get(f"/claims/{secret.public_id}/")
        assert response.status_code == 404
        assert b"DRAFT-MARKER" not in response.content

    def test_a_claim_added_in_a_newer_draft_stays_hidden(self, client, editor):
        paper = paper_with_claims(editor, 1)
        section = paper.sections.get()
        section.body += " A DRAFT-MARKER sentence."
        section.save()
        new = ClaimFactory(section=section, quote="A DRAFT-MARKER sentence.")
        assert b"DRAFT-MARKER" not in client.get("/claims/").content
        assert client.get(f"/claims/{new.public_id}/").status_code == 404

    def test_claims_of_withdrawn_papers_leave_the_index(self, client, editor):
        paper = paper_with_claims(editor, 2)
        workflow.withdraw_paper(paper, by=editor, reason="Retracted.")
        assert item_count(client.get("/claims/")) == 0

    def test_user_text_is_escaped(self, client, editor):
        paper = PaperFactory(title="<i>Title</i>")
        section = SectionFactory(paper=paper, heading="<b>Heading</b>", body="x <script>y</script>")
        ClaimFactory(section=section, quote="<script>y</script>")
        workflow.publish_paper(approved(paper), by=editor)
        html = client.get("/claims/").content.decode()
        assert "<script>y" not in html and "<b>Heading" not in html and "<i>Title" not in html
        assert "“&lt;script&gt;y&lt;/script&gt;”" in html
        assert "&lt;b&gt;Heading&lt;/b&gt;" in html


class TestClaimSearch:
    """/claims/?q= finds claims by their words, blind to case and accents, with the filters."""

    def harbours(self, editor, *, tags=(), kind=Claim.Kind.FACTUAL, publish=True):
        paper = PaperFactory()
        paper.tags.set(tags)
        for n, quote in enumerate(["Klaipėda is an ice-free port.", "Riga is a capital."]):
            section = SectionFactory(paper=paper, position=n, body=f"Before. {quote} After.")
            ClaimFactory(section=section, quote=quote, kind=kind).tags.set(tags)
        if publish:
            workflow.publish_paper(approved(paper), by=editor)
        return paper

    @pytest.mark.parametrize("query", ["klaipeda", "KLAIPĖDA", "Klaipėda port"])
    def test_it_finds_claims_by_their_words(self, client, editor, query):
        self.harbours(editor)
        response = client.get("/claims/", {"q": query})
        assert item_count(response) == 1
        assert "“Klaipėda is an ice-free port.”" in response.content.decode()

    def test_it_combines_with_the_filters(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        self.harbours(editor, tags=[nato], kind=Claim.Kind.PREDICTIVE)
        self.harbours(editor, tags=[nato])
        self.harbours(editor)
        assert item_count(client.get("/claims/?q=klaipeda")) == 3
        assert item_count(client.get("/claims/?q=klaipeda&tag=nato")) == 2
        assert item_count(client.get("/claims/?q=klaipeda&tag=nato&kind=factual")) == 1
        assert item_count(client.get("/claims/?q=klaipeda&status=supported")) == 0

    def test_the_counts_beside_the_filters_obey_the_words(self, client, editor):
        nato = TagFactory(slug="nato", name="NATO")
        self.harbours(editor, tags=[nato], kind=Claim.Kind.PREDICTIVE)
        self.harbours(editor)
        html = client.get("/claims/?q=klaipeda").content.decode()
        assert '<option value="nato">NATO (1)</option>' in html
        assert '<option value="predictive">Predictive (1)</option>' in html
        assert '<option value="factual">Factual (1)</option>' in html
        assert "2 claims match “klaipeda”" in html

    def test_the_form_has_a_labelled_words_field_that_keeps_the_query(self, client, editor):
        self.harbours(editor)
        html = client.get("/claims/", {"q": 'port "x"', "kind": "factual"}).content.decode()
        start = html.index('<form class="claim-filters"')
        form = html[start : html.index("</form>", start)]
        assert 'method="get"' in form and 'action="/claims/"' in form
        assert '<label for="filter-q">Words</label>' in form
        assert 'id="filter-q" type="search" name="q" value="port &quot;x&quot;"' in form
        assert '<meta name="robots" content="noindex">' in html

    def test_pages_keep_the_words(self, client, editor):
        paper = PaperFactory()
        for n in range(55):
            section = SectionFactory(paper=paper, position=n, body=f"Claim {n} about Rīga.")
            ClaimFactory(section=section, quote=f"Claim {n} about Rīga.")
        workflow.publish_paper(approved(paper), by=editor)
        first = client.get("/claims/?q=riga")
        assert item_count(first) == 50
        assert b'href="?q=riga&amp;page=2"' in first.content
        assert item_count(client.get("/claims/?q=riga&page=2")) == 5

    def test_claims_of_drafts_are_never_found(self, client, editor):
        self.harbours(editor, publish=False)
        html = client.get("/claims/?q=klaipeda").content.decode()
        assert item_count(client.get("/claims/?q=klaipeda")) == 0
        assert "No published claim has these words." in html

    @pytest.mark.parametrize(
        "query", ['"', "-", "%", "_", "nato & !russia | (x", "\x02nato", "🙂", "x" * 600]
    )
    def test_odd_queries_answer_with_a_page(self, client, editor, query):
        self.harbours(editor)
        response = client.get("/claims/", {"q": query})
        assert response.status_code == 200
        assert item_count(response) == 0

    def test_the_words_are_shown_escaped(self, client, editor):
        self.harbours(editor)
        html = client.get("/claims/", {"q": "<script>alert(1)</script>"}).content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- /claims/<id>/ ----------------------------------------------------------------------------


class TestClaimPage:
    def test_it_shows_the_claim_with_kind_tags_sources_and_review(self, client, editor, reviewer):
        nato = TagFactory(slug="nato", name="NATO")
        paper = paper_with_claims(editor, 1, slug="deterrence", kind=Claim.Kind.PREDICTIVE)
        claim = paper.claims.get()
        claim.tags.add(nato)
        claim.sources.add(
            SourceFactory(title="Factsheet", url="https://nato.int/f", quote="Forces are there.")
        )
        review_and_publish(
            paper,
            editor=editor,
            reviewers=[reviewer],
            verdicts={claim: (Verdict.DISPUTED, "Forecast stated as fact.")},
        )
        html = client.get(f"/claims/{claim.public_id}/").content.decode()
        assert "“Claim 0 holds.”" in html
        assert "Predictive</span> — a claim about what will happen" in html
        assert 'href="/tags/nato/">NATO</a>' in html
        assert 'href="https://nato.int/f"' in html and "Forces are there." in html
        assert "Contested by a reviewer" in html  # a forecast's words (papers.verdicts)
        assert "Forecast stated as fact." in html
        assert f'href="/papers/deterrence/#claim-{claim.public_id}"' in html

    def test_its_context_is_the_paragraph_with_the_claim_emphasised(self, client, editor):
        paper = PaperFactory()
        section = SectionFactory(
            paper=paper, body="First paragraph.\n\nBefore it, *the claim* is here. After it."
        )
        claim = ClaimFactory(section=section, quote="the claim is here.")
        workflow.publish_paper(approved(paper), by=editor)
        html = client.get(f"/claims/{claim.public_id}/").content.decode()
        assert (
            '<p>Before it, <mark class="claim claim--factual">the claim is here.</mark>'
            " After it.</p>" in html
        )
        assert "First paragraph." not in html

    def test_the_context_escapes_what_the_author_wrote(self, client, editor):
        paper = PaperFactory()
        section = SectionFactory(paper=paper, body=r"Say \<b\>bold\</b\> & <i>it</i> now.")
        claim = ClaimFactory(section=section, quote="<i>it</i>")
        workflow.publish_paper(approved(paper), by=editor)
        html = client.get(f"/claims/{claim.public_id}/").content.decode()
        assert "<b>bold" not in html and "<i>it</i>" not in html
        assert "Say &lt;b&gt;bold&lt;/b&gt; &amp; " in html
        assert '<mark class="claim claim--factual">&lt;i&gt;it&lt;/i&gt;</mark>' in html

    def test_history_lists_appearance_rewording_and_reassessment(self, client, editor, reviewer):
        paper = paper_with_claims(editor, 1, slug="deterrence")
        claim = paper.claims.get()
        reword(claim, "Claim 0 holds firmly.")
        workflow.publish_correction(paper, by=editor, note="Sharper wording.")
        review_and_publish(
            paper, editor=editor, reviewers=[reviewer], verdicts={claim: Verdict.SUPPORTED}
        )
        review_and_publish(
            paper, editor=editor, reviewers=[reviewer], verdicts={claim: Verdict.DISPUTED}
        )
        html = client.get(f"/claims/{claim.public_id}/").content.decode()
        history = html[html.index('class="claim-history"') :]
        v1, v2, v3, v4 = (
            f'href="/papers/deterrence/v{n}/#claim-{claim.public_id}"' for n in (1, 2, 3, 4)
        )
        assert history.index(v1) < history.index("First published")
        assert history.index(v2) < history.index("Reworded") < history.index(v3)
        assert "<del>“Claim 0 holds.”</del>" in history
        assert "“Claim 0 holds firmly.”</span>" in history
        assert history.index(v3) < history.index("<strong>Assessed</strong>")
        assert "Checked by 1 reviewer: supported" in history
        assert history.index(v4) < history.index("<strong>Re-assessed</strong>")
        assert history.index(v4) < history.index("Disputed by a reviewer")

    def test_a_removed_claim_keeps_its_page_and_says_so(self, client, editor):
        paper = paper_with_claims(editor, 2, slug="deterrence")
        gone = paper.claims.get(quote="Claim 1 holds.")
        gone.delete()
        workflow.publish_correction(paper, by=editor, note="Dropped a claim.")
        response = client.get(f"/claims/{gone.public_id}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "This claim was removed in version 2" in html
        assert "“Claim 1 holds.”" in html
        assert f'href="/papers/deterrence/v1/#claim-{gone.public_id}"' in html
        assert 'href="/papers/deterrence/v2/">Version 2</a>' in html
        assert b"Claim 1 holds." not in client.get("/claims/").content

    def test_a_withdrawn_papers_claim_says_withdrawn(self, client, editor):
        paper = paper_with_claims(editor, 1)
        claim = paper.claims.get()
        workflow.withdraw_paper(paper, by=editor, reason="The figures were <wrong>.")
        response = client.get(f"/claims/{claim.public_id}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "The paper was withdrawn on" in html
        assert "The figures were &lt;wrong&gt;." in html
        assert "“Claim 0 holds.”" in html

    def test_an_unknown_id_answers_404(self, client, editor):
        paper_with_claims(editor, 1)
        assert client.get("/claims/nosuchclaim/").status_code == 404

    def test_user_text_is_escaped(self, client, editor, reviewer):
        paper = PaperFactory(title="<i>Title</i>")
        section = SectionFactory(paper=paper, heading="<b>Heading</b>", body="x <script>y</script>")
        claim = ClaimFactory(section=section, quote="<script>y</script>", note="<u>note</u>")
        claim.sources.add(SourceFactory(title="<img src=x onerror=alert(1)>", quote="<q>s</q>"))
        review_and_publish(
            paper,
            editor=editor,
            reviewers=[reviewer],
            verdicts={claim: (Verdict.NEEDS_SOURCE, "<script>note</script>")},
        )
        html = client.get(f"/claims/{claim.public_id}/").content.decode()
        for raw in ("<script>", "<b>Heading", "<i>Title", "<u>note", "<img src=x", "<q>s"):
            assert raw not in html
        assert "&lt;script&gt;note&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


# --- The transparency panel on version pages --------------------------------------------------


class TestTransparencyPanel:
    def test_its_counts_match_the_review(self, client, editor, reviewer):
        second = ReviewerFactory(username="other_reviewer")
        paper = paper_with_claims(editor, 3, slug="deterrence")
        extra = SectionFactory(paper=paper, position=9, body="It should act now.")
        ClaimFactory(section=extra, quote="It should act now.", kind=Claim.Kind.NORMATIVE)
        one, two, three = paper.claims.filter(kind=Claim.Kind.FACTUAL).order_by("pk")
        review_and_publish(
            paper,
            editor=editor,
            reviewers=[reviewer, second],
            verdicts={one: Verdict.SUPPORTED, two: Verdict.DISPUTED},
        )
        html = panel(client.get("/papers/deterrence/").content.decode())
        assert "4 marked claims" in html
        assert '<span data-kind-count="factual">3 factual</span>' in html
        assert '<span data-kind-count="normative">1 normative</span>' in html
        assert "2 of 4 checked by reviewers: 2 reviewers each, 4 verdicts in all." in html
        for status, count in [("supported", 1), ("disputed", 1), ("unchecked", 2)]:
            assert re.search(
                rf'data-status-count="{status}"><span class="claim-status__label">{count}</span>',
                html,
            )
        assert "needs-source" not in html
        assert 'href="/papers/deterrence/diff/1/2/"' in html
        assert three  # left unchecked

    def test_a_correction_shows_its_note_and_what_changed(self, client, editor):
        paper = paper_with_claims(editor, 3, slug="deterrence")
        first, second, third = paper.claims.order_by("pk")
        reword(first, "Claim 0 holds <today>.")
        third.delete()
        workflow.publish_correction(paper, by=editor, note="Fixed <the> date.")
        page = client.get("/papers/deterrence/").content.decode()
        html = panel(page)
        # The note is said once, in the correction notice; the record points to it.
        assert page.count("Fixed &lt;the&gt; date.") == 1
        assert '<a href="#correction">' in html and 'id="correction"' in page
        assert "2 marked claims" in html
        assert 'href="/papers/deterrence/diff/1/2/">What changed since version 1</a>' in html
        old = panel(client.get("/papers/deterrence/v1/").content.decode())
        assert "3 marked claims" in old
        assert "What changed" not in old and "Correction:" not in old
        assert "serves the latest version, v2" in old

    def test_the_fingerprint_is_the_sha256_of_the_export(self, client, editor):
        paper = paper_with_claims(editor, 2, slug="deterrence")
        workflow.publish_correction(paper, by=editor, note="Again.")
        html = panel(client.get("/papers/deterrence/").content.decode())
        shown = re.search(r"data-fingerprint>(.*?)</code>", html).group(1)
        download = client.get("/papers/deterrence/export.json").content
        assert shown == hashlib.sha256(download).hexdigest()
        assert "sha256sum export.json" in html
        assert 'href="/papers/deterrence/export.json"' in html


# --- Query counts -----------------------------------------------------------------------------


class TestQueryCounts:
    @pytest.mark.parametrize(
        "url",
        [
            "/claims/",
            "/claims/?tag=nato",
            "/claims/?tag=nato&kind=factual&status=unchecked",
            "/claims/?q=holds&tag=nato&kind=factual",
        ],
    )
    def test_the_index_does_not_grow_with_claims(
        self, client, editor, url, django_assert_num_queries
    ):
        nato = TagFactory(slug="nato", name="NATO")
        paper_with_claims(editor, 5, tags=[nato, TagFactory()])
        with django_assert_num_queries(6):  # the public revision, then the page's five
            assert item_count(client.get(url)) == 5
        for _ in range(5):
            paper_with_claims(editor, 11, tags=[nato, TagFactory()])
        with django_assert_num_queries(6):
            assert item_count(client.get(url)) == 50

    def test_a_claim_page_does_not_grow_with_versions(
        self, client, editor, django_assert_num_queries
    ):
        paper = paper_with_claims(editor, 3)
        claim = paper.claims.first()
        with django_assert_num_queries(4):
            assert client.get(f"/claims/{claim.public_id}/").status_code == 200
        for n in range(5):
            reword(claim, f"Claim 0 holds, take {n}.")
            workflow.publish_correction(paper, by=editor, note=f"Take {n}.")
        with django_assert_num_queries(4):
            response = client.get(f"/claims/{claim.public_id}/")
        assert response.content.count(b"Reworded") == 5

    @pytest.mark.parametrize(
        ("url", "most"),
        [
            ("/papers/{slug}/", 4),
            # The version view defers the snapshot that the panel reads: one query more.
            ("/papers/{slug}/v2/", 5),
        ],
    )
    def test_the_paper_page_with_its_panel_does_not_grow_with_claims(
        self, client, editor, url, most
    ):
        counts = []
        for slug, count in [("small", 5), ("large", 200)]:
            paper = paper_with_claims(editor, count, slug=slug)
            workflow.publish_correction(paper, by=editor, note="Second edition.")
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url.format(slug=slug))
            assert f"{count} marked claims" in panel(response.content.decode())
            counts.append(len(queries))
        assert counts[0] == counts[1] <= most

    def test_the_panel_adds_no_query_to_the_latest_version(
        self, client, editor, django_assert_num_queries
    ):
        paper_with_claims(editor, 50, slug="first-edition")
        with django_assert_num_queries(3):  # the public revision, the paper and version, tags
            response = client.get("/papers/first-edition/")
        assert "50 marked claims" in panel(response.content.decode())


def test_the_exports_carry_the_fingerprint_of_the_json_export(client, published):
    """The SHA-256 shown on the page is in the JSON export's ETag and the Markdown front matter."""
    json_export = client.get(f"/papers/{published.slug}/export.json")
    digest = hashlib.sha256(json_export.content).hexdigest()
    assert json_export["ETag"] == f'"sha256-{digest}"'
    markdown = client.get(f"/papers/{published.slug}/export.md").content.decode()
    assert f"sha256_of_export_json: {digest}" in markdown
