"""A paper's page puts the text first, links each claim both ways, and keeps claim notes lean.

Where things sit on a screen is checked in chromium (tests/browser/test_text_first.py); here,
the order of the page, its links and its size.
"""

import re

import pytest

from papers import importing, workflow
from tests.factories import approved

pytestmark = pytest.mark.django_db

TAGS = ["defence", "economy", "energy"]
# What a claim note may weigh, in bytes, on a generated paper like the benchmark's (two tags
# each, a source on every third): about 520 when the notes were made lean, from 1,031 before.
# Raise it only for a new fact in every note, never for markup that CSS could give.
NOTE_BYTES = 600


def generated_paper(editor, *, sections=3, claims_per_section=6, slug="generated"):
    """A published paper of the benchmark's shape, through the importer and publishing."""
    parts, claims = [], []
    for s in range(sections):
        sentences = [f"Sentence {n} of part {s} says something checkable." for n in range(12)]
        parts.append({"heading": f"Part {s}", "anchor": f"part-{s}", "body": " ".join(sentences)})
        for n in range(claims_per_section):
            claims.append(
                {
                    "section": f"part-{s}",
                    "quote": sentences[2 * n],
                    "kind": ["factual", "causal", "predictive"][n % 3],
                    "tags": [TAGS[n % 3], TAGS[(n + 1) % 3]],
                    **(
                        {"sources": [{"title": "A source", "url": f"https://example.org/{s}/{n}"}]}
                        if n % 3 == 0
                        else {}
                    ),
                }
            )
    document = {
        "title": "A generated paper",
        "slug": slug,
        "standfirst": "What it argues.",
        "authors": ["Ana Kask"],
        "taxonomy": [{"slug": t, "name": t.capitalize()} for t in TAGS],
        "sections": parts,
        "claims": claims,
    }
    paper = importing.save_document(document)
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


def notes_of(html):
    return re.findall(r'<li id="claim-note-.*?</li>\n', html, re.S)


class TestLeanNotes:
    def test_each_note_weighs_at_most_its_budget(self, client, editor, django_assert_num_queries):
        generated_paper(editor)
        with django_assert_num_queries(3):
            html = client.get("/papers/generated/").content.decode()
        notes = notes_of(html)
        assert len(notes) == 18
        weights = [len(note.encode()) for note in notes]
        assert sum(weights) / len(weights) <= NOTE_BYTES, weights

    def test_a_note_keeps_every_fact(self, client, editor):
        paper = generated_paper(editor, sections=1, claims_per_section=1)
        claim = paper.claims.get()
        html = client.get("/papers/generated/").content.decode()
        (note,) = notes_of(html)
        assert 'class="claim-kind claim-kind--factual">Factual<' in note
        assert "Review:</span> Not checked by a reviewer" in note
        assert '<a class="source__title" href="https://example.org/0/0">A source</a>' in note
        assert '<a href="/tags/defence/">Defence</a>, <a href="/tags/economy/">Economy</a>' in note
        assert f'href="#claim-{claim.public_id}">Back to claim 1 in the text</a>' in note
        assert f'<a href="/claims/{claim.public_id}/">Claim 1’s own page</a>' in note

    def test_no_repeated_visually_hidden_phrases_or_printed_urls(self, client, editor):
        generated_paper(editor)
        html = client.get("/papers/generated/").content.decode()
        notes = "".join(notes_of(html))
        assert "visually-hidden" not in notes
        assert "source__url" not in notes  # print shows a link's address from CSS

    def test_numbers_continue_across_sections(self, client, editor):
        generated_paper(editor, sections=3, claims_per_section=4)
        html = client.get("/papers/generated/").content.decode()
        assert re.findall(r'<ol class="claim-notes__list" start="(\d+)">', html) == [
            "1",
            "5",
            "9",
        ]


class TestClaimsLinkedBothWays:
    def test_each_mark_leads_to_its_note_and_the_note_to_the_text_and_the_claim_page(
        self, client, editor
    ):
        paper = generated_paper(editor, sections=2, claims_per_section=3)
        html = client.get("/papers/generated/").content.decode()
        for claim in paper.claims.all():
            ident = claim.public_id
            assert f'<mark id="claim-{ident}"' in html
            assert f'<a href="#claim-note-{ident}"' in html
            assert f'<li id="claim-note-{ident}"' in html
            assert f'href="#claim-{ident}"' in html
            assert f'href="/claims/{ident}/"' in html
            assert client.get(f"/claims/{ident}/").status_code == 200

    def test_a_claim_page_breadcrumb_names_the_paper_and_the_claims_number(self, client, editor):
        paper = generated_paper(editor, sections=2, claims_per_section=2)
        claim = paper.claims.get(quote__startswith="Sentence 2 of part 1")
        html = client.get(f"/claims/{claim.public_id}/").content.decode()
        crumbs = re.search(r'<nav class="claim-page__crumbs".*?</nav>', html, re.S)[0]
        assert '<a href="/papers/generated/">A generated paper</a>' in crumbs
        assert "Factual claim 4" not in crumbs and "Causal claim 4" in crumbs
        assert claim.public_id not in crumbs


class TestTextFirst:
    def test_the_text_comes_before_the_review_figures_and_the_record(self, client, editor):
        generated_paper(editor)
        html = client.get("/papers/generated/").content.decode()
        order = [
            html.index('class="paper__header"'),
            html.index('class="paper__guide"'),
            html.index('class="paper__body"'),
            html.index('id="transparency-title"'),
            html.index('id="record-title"'),
        ]
        assert order == sorted(order)
        assert '<a href="#transparency-title">How this version was checked</a>' in html

    def test_the_contents_and_key_fold_and_work_without_script(self, client, editor):
        generated_paper(editor)
        html = client.get("/papers/generated/").content.decode()
        assert re.search(r'<details data-open-wide><summary id="toc-title"', html)
        assert '<a href="#part-2">Part 2</a>' in html
        assert '<script src="/static/js/reading.js" defer></script>' in html
        assert "<script>" not in html.split("</head>")[1]

    def test_a_corrections_note_is_said_once(self, client, editor):
        paper = generated_paper(editor, sections=1, claims_per_section=1)
        workflow.publish_correction(paper, by=editor, note="The year was <1994>.")
        html = client.get("/papers/generated/").content.decode()
        assert html.count("The year was &lt;1994&gt;.") == 1
        notice = re.search(r'<aside class="notice notice--correction".*?</aside>', html, re.S)[0]
        assert "The year was &lt;1994&gt;." in notice and "to version 1" in notice
        assert '<a href="#correction">' in html  # the record points to the notice
