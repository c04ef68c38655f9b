"""Citing papers and claims: the cite pages, the BibTeX, RIS and CSL-JSON files (read back with
real parsers), and the Highwire Press tags on paper pages."""

import json

import bibtexparser
import html5lib
import pytest
import rispy
from bibtexparser import middlewares
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter as citeproc_formatter
from citeproc.source.json import CiteProcJSON
from django.test import Client
from pylatexenc import latex2text

from papers import citing, workflow
from papers.models import Claim, Paper
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db

SLUG = "draft-on-deterrence"
HOSTILE_TITLE = 'Braces } { and \\cmd % 50 $ # _ ^ ~ & "quoted"\nER  - <script>alert(1)</script>'
FILES = [f"/papers/{SLUG}/cite.{fmt}" for fmt in ("bib", "ris", "json")]


@pytest.fixture
def client():
    return Client()


def paper_with(editor, *, title="Baltic security", byline="Ana Kask and Jonas Petraitis"):
    paper = PaperFactory(title=title, slug="baltic", byline=byline)
    section = SectionFactory(paper=paper, heading="Background")
    ClaimFactory(section=section)
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


def read_bibtex(text):
    """The .bib read by bibtexparser, with TeX decoded to text. pylatexenc lacks two LaTeX
    kernel commands the writer uses for lone braces, and writes ^ as a modifier letter."""
    context = latex2text.get_default_latex_context_db()
    context.add_context_category(
        "kernel-symbols",
        prepend=True,
        macros=[
            latex2text.MacroTextSpec("textbraceleft", "{"),
            latex2text.MacroTextSpec("textbraceright", "}"),
            latex2text.MacroTextSpec("textasciicircum", "^"),
        ],
    )
    decoder = latex2text.LatexNodes2Text(latex_context=context)
    library = bibtexparser.parse_string(
        text,
        append_middleware=[
            middlewares.LatexDecodingMiddleware(decoder=decoder),
            middlewares.SeparateCoAuthors(),
            middlewares.SplitNameParts(),
        ],
    )
    assert library.failed_blocks == []
    return library.entries


def formatted_by_citeproc(items, style="apa.csl"):
    style = CitationStylesStyle(str(citing.STYLE_DIR / style), validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), citeproc_formatter.plain)
    bibliography.register(Citation([CitationItem(items[0]["id"])]))
    return str(bibliography.bibliography()[0])


class TestCitePage:
    def test_it_shows_the_reference_in_apa_chicago_and_mla(self, client, editor):
        paper_with(editor)
        html = client.get("/papers/baltic/cite/").content.decode()
        assert "Kask, A., &amp; Petraitis, J. (" in html  # APA
        assert "Kask, Ana, and Jonas Petraitis." in html  # Chicago: given names in full
        assert "Kask, Ana, and Jonas Petraitis. <i>Baltic Security</i>. Version 1" in html  # MLA
        assert "http://127.0.0.1:8000/papers/baltic/v1/" in html
        for fmt in ("bib", "ris", "json"):
            assert f'href="/papers/baltic/cite.{fmt}"' in html

    def test_the_paper_page_links_to_it(self, client, published):
        html = client.get(f"/papers/{SLUG}/").content.decode()
        assert f'href="/papers/{SLUG}/cite/">Cite this paper</a>' in html
        old = client.get(f"/papers/{SLUG}/v1/").content.decode()
        assert f'href="/papers/{SLUG}/cite/"' in old  # v1 is the latest

    def test_an_older_version_is_cited_as_itself_and_says_so(self, client, published, editor):
        workflow.publish_correction(published, by=editor, note="Fixed.")
        paper_page = client.get(f"/papers/{SLUG}/v1/").content.decode()
        assert f'href="/papers/{SLUG}/v1/cite/">Cite this paper' in paper_page
        html = client.get(f"/papers/{SLUG}/v1/cite/").content.decode()
        assert f"http://127.0.0.1:8000/papers/{SLUG}/v1/" in html
        assert "This is not the latest version" in html
        assert f'href="/papers/{SLUG}/v1/cite.bib"' in html
        latest = client.get(f"/papers/{SLUG}/cite/").content.decode()
        assert f"http://127.0.0.1:8000/papers/{SLUG}/v2/" in latest
        assert "not the latest" not in latest

    def test_a_withdrawn_paper_stays_citable_and_says_so(self, client, published, editor):
        workflow.withdraw_paper(published, by=editor, reason="The figures were wrong.")
        html = client.get(f"/papers/{SLUG}/cite/").content.decode()
        assert "This paper was withdrawn on" in html
        assert "It stays citable" in html
        bib = client.get(f"/papers/{SLUG}/cite.bib").content.decode()
        assert "note = {Withdrawn on " in bib

    def test_hostile_text_is_escaped(self, client, editor):
        paper_with(editor, title=HOSTILE_TITLE, byline="<b>Ana</b> Kask")
        html = client.get("/papers/baltic/cite/").content.decode()
        assert "<script>alert(1)" not in html and "<b>Ana" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        document = html5lib.parse(html, namespaceHTMLElements=False)
        assert [el.text for el in document.iter("script")] == []
        references = [el for el in document.iter("dd") if el.get("class") == "cite__reference"]
        assert len(references) == len(citing.STYLES)
        assert all(child.tag == "i" for el in references for child in el)

    @pytest.mark.parametrize(
        ("url", "queries"),
        [(f"/papers/{SLUG}/cite/", 2), (f"/papers/{SLUG}/v1/cite/", 2), (FILES[0], 2)],
    )
    def test_queries_are_constant(self, client, published, django_assert_num_queries, url, queries):
        # The public revision (page cache), then the version with its paper.
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200

    def test_signed_in_users_get_a_private_page(self, editor_client, published):
        response = editor_client.get(f"/papers/{SLUG}/cite/")
        assert response.status_code == 200
        assert "private" in response["Cache-Control"]
        assert "ETag" not in response


class TestNotFound:
    @pytest.mark.parametrize(
        "url",
        [
            f"/papers/{SLUG}/cite/",
            f"/papers/{SLUG}/v1/cite/",
            *FILES,
            f"/papers/{SLUG}/v1/cite.bib",
        ],
    )
    def test_a_draft_answers_404(self, client, draft, url):
        response = client.get(url)
        assert response.status_code == 404
        assert draft.title.encode() not in response.content

    @pytest.mark.parametrize(
        "url",
        [
            f"/papers/{SLUG}/v2/cite/",
            f"/papers/{SLUG}/v0/cite/",
            f"/papers/{SLUG}/cite.html",
            f"/papers/{SLUG}/v1/cite.txt",
            "/papers/nothing-here/cite/",
            "/claims/nothing-here/cite/",
            "/claims/nothing-here/cite.bib",
        ],
    )
    def test_unknown_versions_formats_and_claims_answer_404(self, client, published, url):
        assert client.get(url).status_code == 404

    def test_a_claim_of_a_draft_answers_404(self, client, draft):
        claim = draft.claims.first()
        assert client.get(f"/claims/{claim.public_id}/cite/").status_code == 404
        assert client.get(f"/claims/{claim.public_id}/cite.ris").status_code == 404

    def test_only_get_and_head(self, client, published):
        assert client.post(f"/papers/{SLUG}/cite/").status_code == 405
        assert client.post(FILES[0]).status_code == 405


class TestFiles:
    @pytest.mark.parametrize(
        ("url", "content_type", "filename"),
        [
            (FILES[0], "application/x-bibtex; charset=utf-8", f"{SLUG}.bib"),
            (FILES[1], "application/x-research-info-systems; charset=utf-8", f"{SLUG}.ris"),
            (FILES[2], "application/vnd.citationstyles.csl+json; charset=utf-8", f"{SLUG}.json"),
            (
                f"/papers/{SLUG}/v1/cite.bib",
                "application/x-bibtex; charset=utf-8",
                f"{SLUG}-v1.bib",
            ),
        ],
    )
    def test_content_type_and_file_name_also_from_the_page_cache(
        self, client, published, url, content_type, filename
    ):
        for _ in range(2):  # rendered, then replayed from the page cache
            response = client.get(url)
            assert response["Content-Type"] == content_type
            assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
            assert response["X-Content-Type-Options"] == "nosniff"

    def test_a_reader_who_has_the_file_gets_304(self, client, published):
        etag = client.get(FILES[0])["ETag"]
        assert client.get(FILES[0], HTTP_IF_NONE_MATCH=etag).status_code == 304
        page_etag = client.get(f"/papers/{SLUG}/cite/")["ETag"]
        assert client.get(f"/papers/{SLUG}/cite/", HTTP_IF_NONE_MATCH=page_etag).status_code == 304

    def test_a_new_version_changes_the_latest_files(self, client, published, editor):
        before = client.get(FILES[0])
        workflow.publish_correction(published, by=editor, note="Fixed.")
        after = client.get(FILES[0], HTTP_IF_NONE_MATCH=before["ETag"])
        assert after.status_code == 200
        assert "version = {2}" in after.content.decode()

    def test_bibtex_reads_back_with_its_fields(self, client, editor):
        paper_with(editor)
        [entry] = read_bibtex(client.get("/papers/baltic/cite.bib").content.decode())
        assert entry.entry_type == "techreport"
        assert entry.key == "baltic-v1"
        assert entry["title"] == "Baltic security"
        assert entry["institution"] == "Standpoint"
        assert entry["version"] == "1"
        assert entry["url"] == "http://127.0.0.1:8000/papers/baltic/v1/"
        assert [(name.first, name.last) for name in entry["author"]] == [
            (["Ana"], ["Kask"]),
            (["Jonas"], ["Petraitis"]),
        ]
        assert "urldate" not in entry.fields_dict

    def test_ris_reads_back_with_its_fields(self, client, editor):
        paper_with(editor)
        [entry] = rispy.loads(client.get("/papers/baltic/cite.ris").content.decode())
        assert entry["type_of_reference"] == "RPRT"
        assert entry["title"] == "Baltic security"
        assert entry["authors"] == ["Kask, Ana", "Petraitis, Jonas"]
        assert entry["publisher"] == "Standpoint"
        assert entry["urls"] == ["http://127.0.0.1:8000/papers/baltic/v1/"]
        assert entry["edition"] == "Version 1"

    def test_csl_json_is_read_by_citeproc(self, client, editor):
        paper_with(editor)
        items = json.loads(client.get("/papers/baltic/cite.json").content)
        assert "accessed" not in items[0]
        text = formatted_by_citeproc(items)
        assert text.startswith("Kask, A., & Petraitis, J. (")
        assert "Baltic security (Version 1). Standpoint. http://127.0.0.1:8000/papers/" in text

    def test_hostile_titles_break_no_format(self, client, editor):
        paper_with(editor, title=HOSTILE_TITLE, byline="Ana {Kask} and Jo\\nas Petraitis")
        one_line = " ".join(HOSTILE_TITLE.split())
        [entry] = read_bibtex(client.get("/papers/baltic/cite.bib").content.decode())
        assert entry["title"] == one_line
        assert [name.last for name in entry["author"]] == [["{Kask}"], ["Petraitis"]]
        assert entry["url"] == "http://127.0.0.1:8000/papers/baltic/v1/"
        ris = client.get("/papers/baltic/cite.ris").content.decode()
        [record] = rispy.loads(ris)
        assert record["title"] == one_line
        assert record["urls"] == ["http://127.0.0.1:8000/papers/baltic/v1/"]
        items = json.loads(client.get("/papers/baltic/cite.json").content)
        assert items[0]["title"] == one_line
        assert "<script>alert(1)</script>" in formatted_by_citeproc(items)


class TestClaims:
    def test_a_claim_is_cited_at_its_address_pinned_to_its_version(self, client, published):
        claim = published.claims.get(quote="NATO forces are present in Estonia.")
        html = client.get(f"/claims/{claim.public_id}/").content.decode()
        assert f'href="/claims/{claim.public_id}/cite/">Cite this claim' in html
        page = client.get(f"/claims/{claim.public_id}/cite/").content.decode()
        assert "Cite this claim" in page
        assert f"http://127.0.0.1:8000/claims/{claim.public_id}/" in page
        [entry] = read_bibtex(client.get(f"/claims/{claim.public_id}/cite.bib").content.decode())
        assert entry.entry_type == "incollection"
        assert entry.key == f"{SLUG}-v1-{claim.public_id}"
        assert entry["title"] == "NATO forces are present in Estonia"
        assert entry["booktitle"] == "Draft on deterrence"
        assert entry["url"] == f"http://127.0.0.1:8000/claims/{claim.public_id}/"
        version_address = f"http://127.0.0.1:8000/papers/{SLUG}/v1/#claim-{claim.public_id}"
        assert version_address in entry["note"]
        [record] = rispy.loads(client.get(f"/claims/{claim.public_id}/cite.ris").content.decode())
        assert record["type_of_reference"] == "CHAP"
        assert record["secondary_title"] == "Draft on deterrence"
        assert version_address in record["notes"][0]
        items = json.loads(client.get(f"/claims/{claim.public_id}/cite.json").content)
        assert "In Draft on deterrence (Version 1)" in formatted_by_citeproc(items)

    def test_a_claim_removed_later_stays_pinned_to_its_last_version(
        self, client, published, editor
    ):
        claim = published.claims.get(quote="NATO forces are present in Estonia.")
        Claim.objects.filter(pk=claim.pk).delete()
        workflow.publish_correction(Paper.objects.get(pk=published.pk), by=editor, note="Cut.")
        response = client.get(f"/claims/{claim.public_id}/cite.ris")
        filename = f"claim-{claim.public_id}.ris"
        assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
        [record] = rispy.loads(response.content.decode())
        assert f"Claim {claim.public_id} in version 1" in record["notes"][0]

    def test_claim_cite_queries_are_constant(self, client, published, django_assert_num_queries):
        claim = published.claims.get(quote="NATO forces are present in Estonia.")
        with django_assert_num_queries(2):
            client.get(f"/claims/{claim.public_id}/cite/")


class TestHighwireTags:
    def meta(self, html, name):
        document = html5lib.parse(html, namespaceHTMLElements=False)
        return [el.get("content") for el in document.iter("meta") if el.get("name") == name]

    def test_paper_pages_carry_them(self, client, editor):
        paper = paper_with(editor)
        html = client.get("/papers/baltic/").content.decode()
        assert self.meta(html, "citation_title") == ["Baltic security"]
        assert self.meta(html, "citation_author") == ["Kask, Ana", "Petraitis, Jonas"]
        day = paper.live_version.published_at.strftime("%Y/%m/%d")
        assert self.meta(html, "citation_publication_date") == [day]
        assert self.meta(html, "citation_online_date") == [day]
        assert self.meta(html, "citation_technical_report_institution") == ["Standpoint"]
        assert self.meta(html, "citation_pdf_url") == [
            "http://127.0.0.1:8000/papers/baltic/v1/paper.pdf"
        ]
        assert self.meta(html, "citation_abstract_html_url") == [
            "http://127.0.0.1:8000/papers/baltic/"
        ]
        workflow.publish_correction(paper, by=editor, note="Fixed.")
        version = client.get("/papers/baltic/v1/").content.decode()
        assert self.meta(version, "citation_pdf_url") == [
            "http://127.0.0.1:8000/papers/baltic/v1/paper.pdf"
        ]
        assert self.meta(version, "citation_abstract_html_url") == [
            "http://127.0.0.1:8000/papers/baltic/v1/"
        ]

    def test_a_body_is_one_author_and_no_byline_is_the_publication(self, client, editor):
        paper_with(editor, byline="Baltic Security Programme")
        html = client.get("/papers/baltic/").content.decode()
        assert self.meta(html, "citation_author") == ["Baltic Security Programme"]
        Paper.objects.filter(slug="baltic").update(byline="")
        paper = Paper.objects.get(slug="baltic")
        workflow.publish_correction(paper, by=editor, note="No byline.")
        html = client.get("/papers/baltic/").content.decode()
        assert self.meta(html, "citation_author") == ["Standpoint"]

    def test_the_draft_preview_carries_none(self, editor_client, draft):
        html = editor_client.get(f"/papers/{SLUG}/preview/").content.decode()
        assert "citation_title" not in html


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Ana Kask", [{"given": "Ana", "family": "Kask"}]),
        (
            "Ana Kask, Jonas Petraitis and Mari Tamm",
            [
                {"given": "Ana", "family": "Kask"},
                {"given": "Jonas", "family": "Petraitis"},
                {"given": "Mari", "family": "Tamm"},
            ],
        ),
        (
            "Ludwig van Beethoven & Charles De Gaulle",
            [
                {"given": "Ludwig", "family": "Beethoven", "non-dropping-particle": "van"},
                {"given": "Charles", "family": "Gaulle", "non-dropping-particle": "De"},
            ],
        ),
        ("Martin Luther King Jr.", [{"given": "Martin Luther", "family": "King", "suffix": "Jr."}]),
        ("Madonna", [{"literal": "Madonna"}]),
        ("Institute for Baltic Studies", [{"literal": "Institute for Baltic Studies"}]),
        ("", [{"literal": "Standpoint"}]),
    ],
)
def test_bylines_split_into_names(byline, names):
    assert citing.names(byline) == names
