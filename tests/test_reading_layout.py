"""A paper's page puts the text first, links each claim both ways, and keeps claim notes lean.

Where things sit on a screen is checked in chromium (tests/browser/test_text_first.py); here,
the order of the page, its links and its size.
"""

import re

import pytest

from papers import importing, snapshots, workflow
from tests.factories import approved

pytestmark = pytest.mark.django_db

TAGS = ["defence", "economy", "energy"]
# What a claim note may weigh, in bytes, on a generated paper like the benchmark's (two tags
# each, a source on every third): about 218 since each note became one list item of sentences,
# from 520 and, before the notes were first made lean, 1,031.
# Raise it only for a new fact in every note, never for markup that CSS could give.
NOTE_BYTES = 225


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
        # The public revision, the paper and its version, its tags, what the link check says of
        # its sources, and how its forecasts turned out.
        with django_assert_num_queries(5):
            html = client.get("/papers/generated/").content.decode()
        notes = notes_of(html)
        assert len(notes) == 18
        weights = [len(note.encode()) for note in notes]
        assert sum(weights) / len(weights) <= NOTE_BYTES, weights

    def test_a_note_keeps_every_fact(self, client, editor):
        paper = generated_paper(editor, sections=1, claims_per_section=1)
        ident = paper.claims.get().public_id
        html = client.get("/papers/generated/").content.decode()
        (note,) = notes_of(html)
        assert note == (
            f'<li id="claim-note-{ident}"><a href="/claims/{ident}/">Factual claim 1</a>: '
            "Not checked by a reviewer. "
            'Supports: <a href="https://example.org/0/0">A source</a>. '
            "Tags: Defence, Economy. "
            f'<a href="#claim-{ident}">Back to the text</a></li>\n'
        )

    def test_a_note_says_the_review_the_editors_note_and_each_sources_details(self):
        claim = {
            "section": "part-0",
            "quote": "It holds.",
            "kind": "causal",
            "note": "Read *with* care.",
            "tags": ["energy"],
            "sources": [
                {
                    "title": "Report",
                    "url": "https://example.org/r",
                    "publisher": "Office",
                    "date": "2024-05-01",
                    "quote": "It held.",
                    "use": "qualifies",
                },
                {"title": "Memo", "use": "disputes"},
            ],
            "review": {"status": "mixed", "label": "Reviewers disagree", "notes": ["Which year?"]},
        }
        document = {
            "sections": [{"heading": "Part 0", "anchor": "part-0", "body": "It holds. Or not."}],
            "claims": [{**claim, "id": "c1"}],
            "taxonomy": [{"slug": "energy", "name": "Energy"}],
        }
        body, _, count = snapshots.render_body(document)
        (note,) = notes_of(body)
        assert count == 1
        assert note.startswith(
            '<li id="claim-note-c1"><a href="/claims/c1/">Causal claim 1</a>: Reviewers disagree.'
            "<blockquote>A reviewer noted: Which year?</blockquote>"
            '<div class="claim-note__note"><p>Read *with* care.</p></div>'
        )
        assert note.endswith(
            ' Qualifies: <a href="https://example.org/r">Report</a>, Office, 2024-05-01.'
            "<blockquote>It held.</blockquote> Disputes: Memo."
            ' Tags: Energy. <a href="#claim-c1">Back to the text</a></li>\n'
        )
        assert "No source cited" not in note

    def test_a_note_without_sources_or_tags_says_so_briefly(self):
        document = {
            "sections": [{"heading": "Part 0", "anchor": "part-0", "body": "It holds."}],
            "claims": [{"id": "c1", "section": "part-0", "quote": "It holds.", "kind": "factual"}],
        }
        (note,) = notes_of(snapshots.render_body(document)[0])
        assert "Not checked by a reviewer. No source cited. <a" in note
        assert "Tags" not in note

    def test_no_repeated_visually_hidden_phrases_or_printed_urls(self, client, editor):
        generated_paper(editor)
        html = client.get("/papers/generated/").content.decode()
        notes = "".join(notes_of(html))
        assert "visually-hidden" not in notes
        assert "source__url" not in notes  # print shows a link's address from CSS
        assert "class=" not in notes  # styled from the list (static/css/standpoint.css)

    def test_numbers_continue_across_sections(self, client, editor):
        generated_paper(editor, sections=3, claims_per_section=4)
        html = client.get("/papers/generated/").content.decode()
        assert re.findall(r'<aside class="claim-notes"[^>]*>\s*<ol start="(\d+)">', html) == [
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
            assert f'<a class="claim-ref" href="#claim-note-{ident}">' in html
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
