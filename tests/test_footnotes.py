"""Markdown footnotes: rendered with links both ways, ids unique on every page that shows
several sections, sanitised by the one allow-list, outside the text claims quote, and kept
through import, export and versions."""

import json
import re
from io import StringIO

import html5lib
import pytest
from django.core.management import call_command
from django.test import Client

from papers import workflow
from papers.claim_marks import mark_claims
from papers.models import Claim, Paper, Section
from papers.rendering import html_to_text, render_markdown, sanitize
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved

NOTED = (
    "NATO keeps troops in Estonia.[^1] Russia has not attacked a NATO member.[^why]\n\n"
    "[^1]: Since 2017, as the *enhanced Forward Presence*.\n"
    "[^why]: Article 5 of the [Washington Treaty](https://www.nato.int/)."
)


def parse(markup):
    return html5lib.parse(markup, namespaceHTMLElements=False)


def ids_of(root):
    return [element.get("id") for element in root.iter() if element.get("id")]


def note_links(root):
    """(role, href) of every footnote link, both ways."""
    return [
        (a.get("role"), a.get("href"))
        for a in root.iter("a")
        if a.get("role") in {"doc-noteref", "doc-backlink"}
    ]


def assert_ids_unique_and_links_resolve(markup):
    root = parse(markup)
    ids = ids_of(root)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    links = note_links(root)
    assert links, "no footnote links on the page"
    assert all(href[1:] in ids for _, href in links), links
    return links


# --- Rendering -------------------------------------------------------------------------------


class TestRendering:
    def test_a_reference_links_to_its_note_and_the_note_back(self):
        root = parse(render_markdown(NOTED, anchor="deterrence"))
        assert note_links(root) == [
            ("doc-noteref", "#deterrence--fn-1"),
            ("doc-noteref", "#deterrence--fn-2"),
            ("doc-backlink", "#deterrence--fnref-1"),
            ("doc-backlink", "#deterrence--fnref-2"),
        ]
        assert ids_of(root) == [
            "deterrence--fnref-1",
            "deterrence--fnref-2",
            "deterrence--fn-1",
            "deterrence--fn-2",
        ]

    def test_notes_follow_the_prose_as_a_numbered_list_with_formatting_kept(self):
        html = render_markdown(NOTED, anchor="a")
        prose, notes = html.split('<section class="footnotes">')
        assert "[^" not in html
        assert '<sup class="footnote-ref">' in prose and "[1]</a></sup>" in prose
        assert notes.startswith('\n<ol aria-label="Notes">')
        assert "<em>enhanced Forward Presence</em>" in notes
        assert '<a href="https://www.nato.int/" rel="noopener noreferrer">' in notes
        assert 'aria-label="Back to reference 1"' in notes

    def test_labels_never_reach_the_html_notes_are_numbered(self):
        html = render_markdown("A[^secret-label].\n\n[^secret-label]: n.", anchor="s")
        assert "secret-label" not in html
        assert 'href="#s--fn-1"' in html

    def test_every_section_may_have_its_own_note_one(self):
        first = render_markdown(NOTED, anchor="one")
        second = render_markdown(NOTED, anchor="two")
        assert_ids_unique_and_links_resolve(first + second)

    def test_without_an_anchor_ids_are_unprefixed(self):
        assert 'id="fn-1"' in render_markdown("A[^1]\n\n[^1]: n")

    def test_an_anchor_is_reduced_to_characters_safe_in_an_id(self):
        html = render_markdown("A[^1]\n\n[^1]: n", anchor='x" onclick="y')
        assert 'id="xonclicky--fn-1"' in html

    def test_a_reference_without_definition_stays_literal_text(self):
        html = render_markdown("As shown.[^missing]", anchor="s")
        assert html == "<p>As shown.[^missing]</p>\n"

    def test_a_definition_never_referenced_is_left_out(self):
        html = render_markdown("Prose.\n\n[^unused]: A stray note.", anchor="s")
        assert html == "<p>Prose.</p>\n"

    def test_a_note_referenced_twice_links_back_to_each_reference(self):
        root = parse(render_markdown("A[^1] and B[^1].\n\n[^1]: n", anchor="s"))
        assert note_links(root) == [
            ("doc-noteref", "#s--fn-1"),
            ("doc-noteref", "#s--fn-1"),
            ("doc-backlink", "#s--fnref-1"),
            ("doc-backlink", "#s--fnref-1-2"),
        ]
        assert len(set(ids_of(root))) == 3

    def test_a_duplicate_label_gives_one_note(self):
        html = render_markdown("A[^1].\n\n[^1]: first\n\n[^1]: second", anchor="s")
        assert html.count("<li ") == 1
        assert_ids_unique_and_links_resolve(html)

    def test_a_note_may_cite_another_note(self):
        html = render_markdown("A[^a].\n\n[^a]: See[^b].\n[^b]: The source.", anchor="s")
        assert html.count("<li ") == 2
        assert_ids_unique_and_links_resolve(html)

    def test_a_note_may_have_several_paragraphs(self):
        html = render_markdown("A[^1].\n\n[^1]: One.\n\n    Two.\n\nAfter.", anchor="s")
        notes = html.split('<section class="footnotes">')[1]
        assert "<p>One.</p>" in notes and "Two." in notes
        assert "<p>After.</p>" in html.split("<section")[0]

    def test_inline_notes_stay_text(self):
        assert render_markdown("Match ^[a-z] here.") == "<p>Match ^[a-z] here.</p>\n"

    def test_a_note_over_a_dash_line_is_a_note_not_a_heading(self):
        html = render_markdown("A[^1].\n\n[^1]: Note\n---", anchor="s")
        assert "<h2>" not in html and "<hr>" in html


# --- The sanitiser's allow-list grows only by what footnotes write -----------------------------


class TestAllowList:
    @pytest.mark.parametrize(
        "markup",
        [
            '<a id="location" href="#x">x</a>',
            '<li id="fn-1 x">x</li>',
            '<p id="fn-1">x</p>',
            '<a role="button" href="#x">x</a>',
            '<a aria-label="Click me" href="#x">x</a>',
            '<ol aria-label="Anything">x</ol>',
            '<sup class="claim-ref">1</sup>',
            '<section class="footnotes other" role="doc-endnotes">x</section>',
            '<section id="fn-1">x</section>',
        ],
    )
    def test_ids_roles_labels_and_classes_other_than_footnotes_are_dropped(self, markup):
        cleaned = sanitize(markup)
        assert not re.search(r"\b(id|role|aria-label)=", cleaned), cleaned
        assert 'class="claim-ref"' not in cleaned and "other" not in cleaned

    def test_the_footnote_markup_passes_unchanged(self):
        html = render_markdown(NOTED, anchor="a")
        assert sanitize(html) == html


# --- The text claims quote --------------------------------------------------------------------


class TestClaimText:
    def test_reference_marks_and_back_links_are_not_part_of_the_text(self):
        text = html_to_text(render_markdown(NOTED, anchor="a"))
        assert text.startswith(
            "NATO keeps troops in Estonia. Russia has not attacked a NATO member. Since 2017,"
        )
        assert "[1]" not in text and "↩" not in text

    def test_a_claim_across_a_footnoted_sentence_is_marked_around_the_reference(self):
        html = render_markdown(NOTED, anchor="a")
        quote = "Estonia. Russia has not"
        marked, placed = mark_claims(
            html, [{"id": "c1", "number": 1, "quote": quote, "kind": "factual"}]
        )
        assert placed == ["c1"]
        ref = re.search(r'<sup class="footnote-ref">.*?</sup>', marked).group()
        # The reference sits between the claim's two marked runs, never inside a <mark>.
        before, after = marked.split(ref, 1)
        assert before.endswith("Estonia.</mark>")
        assert re.match(r'<mark class="claim[^>]*> Russia has not</mark>', after)
        assert_ids_unique_and_links_resolve(marked)

    def test_a_claim_quoting_a_footnoted_sentence_validates_and_anchors(self, db):
        section = SectionFactory(body=NOTED)
        claim = ClaimFactory(section=section, quote="NATO keeps troops in Estonia. Russia has")
        claim.full_clean()
        assert claim.locate() is not None

    def test_adding_a_note_to_a_claimed_sentence_leaves_the_claim_exact(self, db):
        from papers.anchoring import reanchor_section

        section = SectionFactory(body="NATO keeps troops in Estonia. Russia waits.")
        claim = ClaimFactory(section=section, quote="NATO keeps troops in Estonia. Russia waits.")
        section.body = "NATO keeps troops in Estonia.[^1] Russia waits.\n\n[^1]: Since 2017."
        section.save()
        assert [outcome for _, outcome in reanchor_section(section)] == ["exact"]
        assert Claim.objects.get(pk=claim.pk).quote == claim.quote


# --- Pages: published, preview, review workspace, admin ---------------------------------------


@pytest.fixture
def noted(db, editor):
    """A paper whose two sections each have a note [^1], and a claim across a footnoted
    sentence."""
    paper = PaperFactory(slug="noted", title="Noted paper")
    first = SectionFactory(paper=paper, heading="Presence", position=0, body=NOTED)
    SectionFactory(paper=paper, heading="Outlook", position=1, body=NOTED)
    ClaimFactory(section=first, quote="Estonia. Russia has not attacked")
    return paper


def test_the_public_page_has_unique_ids_and_working_note_links(
    client, noted, editor, django_assert_num_queries
):
    workflow.publish_paper(approved(noted), by=editor)
    with django_assert_num_queries(3):
        response = client.get("/papers/noted/")
    html = response.content.decode()
    links = assert_ids_unique_and_links_resolve(html)
    assert ("doc-noteref", "#presence--fn-1") in links
    assert ("doc-noteref", "#outlook--fn-1") in links
    # Notes come after the section's prose and before its claim notes.
    section = html.split('id="presence"')[1].split('id="outlook"')[0]
    assert section.index("footnote-ref") < section.index('class="footnotes"')
    assert section.index('class="footnotes"') < section.index("claim-notes")


def test_the_claim_page_quotes_its_paragraph_without_reference_numbers(client, noted, editor):
    workflow.publish_paper(approved(noted), by=editor)
    claim = noted.claims.get()
    html = client.get(f"/claims/{claim.public_id}/").content.decode()
    context = html.split("NATO keeps troops in", 1)[1].split("</p>", 1)[0]
    assert "Estonia." in context and "a NATO member." in context
    assert "[1]" not in context and ">1<" not in context and ">2<" not in context


def test_standfirsts_with_notes_share_no_id_on_a_listing(client, editor):
    for slug in ("one", "two"):
        paper = PaperFactory(slug=slug, standfirst="A lede.[^1]\n\n[^1]: Its note.")
        SectionFactory(paper=paper)
        workflow.publish_paper(approved(paper), by=editor)
    links = assert_ids_unique_and_links_resolve(client.get("/papers/").content.decode())
    assert ("doc-noteref", "#one-standfirst--fn-1") in links


def test_the_draft_preview_has_unique_ids_and_working_note_links(editor_client, noted):
    response = editor_client.get("/papers/noted/preview/")
    assert response.status_code == 200
    assert_ids_unique_and_links_resolve(response.content.decode())


def test_the_review_workspace_has_unique_ids_and_working_note_links(editor_client, noted):
    response = editor_client.get("/review/noted/")
    assert response.status_code == 200
    assert_ids_unique_and_links_resolve(response.content.decode())


def test_the_section_admin_page_and_its_live_preview_share_no_id(editor_client, noted):
    section = noted.sections.get(anchor="presence")
    page = editor_client.get(f"/admin/papers/section/{section.pk}/change/").content.decode()
    preview = editor_client.post("/admin/markdown-preview/", {"content": section.body})
    assert_ids_unique_and_links_resolve(page + preview.content.decode())


# --- Import, export and versions --------------------------------------------------------------

PAPER_MD = f"""---
slug: noted
claims:
  - section: presence
    quote: Estonia. Russia has not attacked
    kind: factual
---
# Noted paper

A lede.

## Presence

{NOTED}

## Outlook

Deterrence will hold.[^1]

[^1]: A forecast, see [^1] in the section above: each section numbers its own notes.
"""


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["md", "json"])
def test_notes_survive_import_export_import(tmp_path, fmt):
    source = tmp_path / "noted.md"
    source.write_text(PAPER_MD, encoding="utf-8")
    run("import_paper", str(source), "--publish")
    presence = Section.objects.get(anchor="presence")
    assert presence.body == NOTED
    assert presence.claims.get().quote == "Estonia. Russia has not attacked"
    first = run("export_paper", "noted", "--format", fmt)
    again = tmp_path / f"again.{fmt}"
    again.write_text(first, encoding="utf-8")
    run("import_paper", str(again), "--replace")
    assert run("export_paper", "noted", "--format", fmt) == first
    bodies = [s.body for s in Paper.objects.get(slug="noted").sections.all()]
    assert bodies[0] == NOTED and bodies[1].endswith("each section numbers its own notes.")


@pytest.mark.django_db
def test_a_version_keeps_its_notes_and_exports_them(tmp_path, editor):
    source = tmp_path / "noted.md"
    source.write_text(PAPER_MD, encoding="utf-8")
    run("import_paper", str(source), "--publish")
    version = Paper.objects.get(slug="noted").live_version
    assert_ids_unique_and_links_resolve(version.body_html)
    assert "outlook--fn-1" in version.body_html
    exported = json.loads(Client().get("/papers/noted/export.json").content)
    assert exported["sections"][0]["body"] == NOTED
    markdown = Client().get("/papers/noted/export.md").content.decode()
    assert "[^why]: Article 5 of the [Washington Treaty](https://www.nato.int/)." in markdown


@pytest.mark.django_db
def test_the_demo_correction_adds_a_note_and_its_claim_stays_marked(settings):
    settings.DEBUG = True
    run("load_demo")
    paper = Paper.objects.get(slug="baltic-states-nato")
    first, second = paper.versions.order_by("number")
    assert "doc-noteref" not in first.body_html
    html = Client().get("/papers/baltic-states-nato/").content.decode()
    assert_ids_unique_and_links_resolve(html)
    assert "Russia fought two wars there" in html
    claim = Claim.objects.get(quote__startswith="Russia’s wars against non-NATO states")
    assert f'id="claim-{claim.public_id}"' in second.body_html
