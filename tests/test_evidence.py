"""Typed evidence: how a claim uses each source (CiTO), set in the admin and in front matter, kept
through versions, export and import, told to readers and to machines."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.template.loader import render_to_string
from django.test import Client

from papers import documents, evidence, importing, snapshots, workflow
from papers.models import Assessment, Paper, Review, Source
from papers.models.sources import ClaimSource
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    SourceFactory,
    approved,
)

pytestmark = pytest.mark.django_db

BODY = "NATO forces are present in Estonia. Russia tests them often. Nobody knows why."


def document(*, slug="evidence", uses=("supports", "supports", "qualifies")):
    return {
        "title": "Evidence",
        "slug": slug,
        "sections": [{"heading": "Facts", "anchor": "facts", "body": BODY}],
        "claims": [
            {
                "id": f"{slug[:6]}c1",
                "section": "facts",
                "quote": "NATO forces are present in Estonia.",
                "kind": "factual",
                "sources": [
                    {"title": f"Source {n}", "url": f"https://example.org/{n}", "use": use}
                    for n, use in enumerate(uses)
                ],
            },
            {
                "id": f"{slug[:6]}c2",
                "section": "facts",
                "quote": "Russia tests them often.",
                "kind": "factual",
            },
        ],
    }


def uses_of(paper):
    return sorted(
        ClaimSource.objects.filter(claim__paper=paper).values_list("source__title", "use")
    )


def published(editor, **kwargs):
    paper = importing.save_document(document(**kwargs))
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return paper


def note_of(html, public_id):
    start = html.index(f'id="claim-note-{public_id}"')
    return html[start : html.index("</li>\n", start)]


class TestWording:
    @pytest.mark.parametrize(
        ("uses", "words"),
        [
            ([], ""),
            (["supports"], "1 source supports it."),
            (["supports", "supports"], "2 sources support it."),
            (["disputes"], "1 source disputes it."),
            (["supports", "qualifies", "supports"], "2 sources support it, 1 qualifies it."),
            (
                ["background", "disputes", "qualifies", "qualifies"],
                "1 source disputes it, 2 qualify it, 1 gives background.",
            ),
            ([None], "1 source supports it."),  # stored before uses existed
        ],
    )
    def test_the_note_says_how_sources_are_used(self, uses, words):
        sources = [{"title": "T"} if use is None else {"title": "T", "use": use} for use in uses]
        assert evidence.summary(sources) == words

    def test_each_use_has_its_cito_term(self):
        assert {use.value: use.cito for use in ClaimSource.Use} == {
            "supports": "supports",
            "disputes": "disputes",
            "qualifies": "qualifies",
            "background": "citesAsBackground",
        }


class TestMigration:
    @pytest.mark.django_db(transaction=True)
    def test_existing_links_read_as_supports_and_the_migration_reverses(self):
        executor = MigrationExecutor(connection)
        executor.migrate([("papers", "0008_search_unaccent")])
        old = executor.loader.project_state([("papers", "0008_search_unaccent")]).apps
        paper = old.get_model("papers", "Paper").objects.create(title="Old", slug="old")
        claim = old.get_model("papers", "Claim").objects.create(
            paper=paper, quote="Q", kind="factual", public_id="oldclaim01"
        )
        source = old.get_model("papers", "Source").objects.create(title="Old source")
        claim.sources.add(source)

        executor = MigrationExecutor(connection)
        executor.migrate([("papers", "0009_claim_source_use")])
        new = executor.loader.project_state([("papers", "0009_claim_source_use")]).apps
        row = new.get_model("papers", "ClaimSource").objects.get()
        assert (row.claim_id, row.source_id, row.use) == (claim.pk, source.pk, "supports")

        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        assert ClaimSource.objects.get().use == "supports"


class TestAdmin:
    def inline(self, claim, rows, extra=0):
        data = {
            "paper": claim.paper_id,
            "section": claim.section_id,
            "quote": claim.quote,
            "prefix": "",
            "suffix": "",
            "kind": claim.kind,
            "note": "",
            "claimsource_set-TOTAL_FORMS": len(rows) + extra,
            "claimsource_set-INITIAL_FORMS": claim.claimsource_set.count(),
            "claimsource_set-MIN_NUM_FORMS": 0,
            "claimsource_set-MAX_NUM_FORMS": 1000,
        }
        for n, row in enumerate(rows):
            data.update({f"claimsource_set-{n}-{key}": value for key, value in row.items()})
            data[f"claimsource_set-{n}-claim"] = claim.pk
        return data

    def test_the_claim_page_edits_each_source_with_its_use(self, editor_client, draft):
        claim = draft.claims.first()
        source = SourceFactory(title="Defence review")
        page = editor_client.get(f"/admin/papers/claim/{claim.pk}/change/").content.decode()
        assert 'name="claimsource_set-0-use"' in page
        assert '<option value="qualifies">qualifies</option>' in page
        response = editor_client.post(
            f"/admin/papers/claim/{claim.pk}/change/",
            self.inline(claim, [{"source": source.pk, "use": "disputes"}]),
        )
        assert response.status_code == 302
        assert list(claim.claimsource_set.values_list("source", "use")) == [(source.pk, "disputes")]

    def test_an_unknown_use_is_refused(self, editor_client, draft):
        claim = draft.claims.first()
        source = SourceFactory()
        response = editor_client.post(
            f"/admin/papers/claim/{claim.pk}/change/",
            self.inline(claim, [{"source": source.pk, "use": "proves"}]),
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert not claim.claimsource_set.exists()

    def test_a_source_added_to_an_approved_paper_reopens_it(self, editor_client, draft):
        paper = approved(draft)
        claim = paper.claims.first()
        response = editor_client.post(
            f"/admin/papers/claim/{claim.pk}/change/",
            self.inline(claim, [{"source": SourceFactory().pk, "use": "supports"}]),
        )
        assert response.status_code == 302
        paper.refresh_from_db()
        assert paper.stage == Paper.Stage.IN_REVIEW

    def test_a_change_of_use_reopens_an_approved_paper(self, editor_client, draft):
        """How a source is used is reviewed content: "supports" turned "disputes" is an edit."""
        claim = draft.claims.first()
        claim.sources.add(SourceFactory())
        paper = approved(draft)
        row = claim.claimsource_set.get()
        response = editor_client.post(
            f"/admin/papers/claim/{claim.pk}/change/",
            self.inline(claim, [{"id": row.pk, "source": row.source_id, "use": "disputes"}]),
        )
        assert response.status_code == 302
        paper.refresh_from_db()
        assert paper.stage == Paper.Stage.IN_REVIEW

    def test_the_marking_form_keeps_uses_and_adds_supporting_sources(self, editor_client, draft):
        claim = draft.claims.first()
        kept, added = SourceFactory(title="Kept"), SourceFactory(title="Added")
        claim.sources.add(kept, through_defaults={"use": "qualifies"})
        response = editor_client.post(
            f"/admin/papers/section/{claim.section_id}/marking/claims/{claim.pk}/",
            {"kind": claim.kind, "note": "", "sources": [kept.pk, added.pk]},
        )
        assert response.status_code == 200, response.content
        assert sorted(claim.claimsource_set.values_list("source__title", "use")) == [
            ("Added", "supports"),
            ("Kept", "qualifies"),
        ]


class TestFrontMatter:
    def test_a_source_says_its_use(self, tmp_path):
        path = tmp_path / "paper.md"
        path.write_text(documents.to_markdown(document()), encoding="utf-8")
        assert "use: qualifies" in path.read_text(encoding="utf-8")
        paper = importing.import_file(path).paper
        assert uses_of(paper) == [
            ("Source 0", "supports"),
            ("Source 1", "supports"),
            ("Source 2", "qualifies"),
        ]

    def test_a_source_without_a_use_supports_its_claim(self):
        doc = document()
        for source in doc["claims"][0]["sources"]:
            del source["use"]
        paper = importing.save_document(doc)
        assert {use for _, use in uses_of(paper)} == {"supports"}

    @pytest.mark.parametrize("use", ["proves", "Supports", ["supports"]])
    def test_an_unknown_use_is_refused_and_nothing_changes(self, use):
        with pytest.raises(importing.ImportRefused) as refused:
            importing.save_document(document(uses=("supports", use)))
        message = str(refused.value)
        assert "\n" not in message
        assert "use must be one of supports, disputes, qualifies, background" in message
        assert not Paper.objects.exists() and not Source.objects.exists()

    def test_replacing_changes_a_use(self):
        importing.save_document(document())
        paper = importing.import_document(
            document(uses=("disputes", "supports", "qualifies")), replace=True
        ).paper
        assert uses_of(paper)[0] == ("Source 0", "disputes")
        assert ClaimSource.objects.count() == 3


class TestRoundTrip:
    @pytest.mark.parametrize("fmt", ["json", "md"])
    def test_import_export_import_keeps_every_use(self, client, editor, fmt):
        uses = ("background", "disputes", "qualifies", "supports")
        published(editor, uses=uses)
        exported = client.get(f"/papers/evidence/export.{fmt}").content.decode()
        read = documents.from_json(exported) if fmt == "json" else documents.from_markdown(exported)
        (cited,) = [claim["sources"] for claim in read["claims"] if claim.get("sources")]
        assert [source["use"] for source in cited] == list(uses)  # always written
        copy = importing.import_document(read, slug="evidence-copy").paper
        assert uses_of(copy) == [(f"Source {n}", use) for n, use in enumerate(uses)]
        again = snapshots.paper_document(copy)
        assert [s["use"] for c in again["claims"] for s in c.get("sources", [])] == list(uses)


class TestVersions:
    def old_version(self, editor, monkeypatch):
        """A version published before uses existed: its snapshot names none."""
        real = snapshots.paper_document

        def without_uses(paper, **kwargs):
            found = real(paper, **kwargs)
            for claim in found["claims"]:
                for source in claim.get("sources", []):
                    del source["use"]
            return found

        monkeypatch.setattr(snapshots, "paper_document", without_uses)
        paper = published(editor, uses=("supports", "supports"))
        monkeypatch.undo()
        return paper

    def test_a_version_stores_each_use(self, editor):
        paper = published(editor)
        (claim,) = [c for c in paper.live_version.snapshot["claims"] if c.get("sources")]
        assert [s["use"] for s in claim["sources"]] == ["supports", "supports", "qualifies"]

    def test_a_later_change_of_use_leaves_the_version_as_it_was(self, editor):
        paper = published(editor)
        ClaimSource.objects.update(use="disputes")
        paper.live_version.refresh_from_db()
        (claim,) = [c for c in paper.live_version.snapshot["claims"] if c.get("sources")]
        assert "disputes" not in {s["use"] for s in claim["sources"]}

    def test_an_older_version_reads_as_supports(self, client, editor, monkeypatch):
        paper = self.old_version(editor, monkeypatch)
        snapshot = paper.live_version.snapshot
        assert "use" not in json.dumps(snapshot["claims"])
        claim_id = snapshot["claims"][0]["id"]
        page = client.get(f"/claims/{claim_id}/").content.decode()
        assert "2 sources support it." in page
        assert page.count("Supports: ") == 2
        exported = client.get("/papers/evidence/export.json").content.decode()
        assert '"use"' not in exported  # the export is the stored version, byte for byte
        copy = importing.import_document(documents.from_json(exported), slug="copy").paper
        assert {use for _, use in uses_of(copy)} == {"supports"}


class TestReaders:
    def test_the_paper_page_note_says_how_sources_are_used(
        self, client, editor, django_assert_num_queries
    ):
        published(editor)
        # As without uses, and one for what the link check says of its sources.
        with django_assert_num_queries(4):
            html = client.get("/papers/evidence/").content.decode()
        note = note_of(html, "eviden" + "c1")
        assert note.count("Supports: ") == 2 and note.count("Qualifies: ") == 1
        assert "sources support it" not in note  # each source says its use; no sum repeats it
        unsourced = note_of(html, "eviden" + "c2")
        assert "No source cited." in unsourced and "support" not in unsourced

    def test_the_claim_page_says_it_too(self, client, editor, django_assert_num_queries):
        published(editor, uses=("disputes",))
        # As without uses (tests/test_claims_pages.py), and one for the link check's notes.
        with django_assert_num_queries(5):
            page = client.get("/claims/evidenc1/").content.decode()
        assert "1 source disputes it." in page
        assert "Disputes: " in page

    def test_the_pdf_carries_the_same_note(self, editor):
        version = published(editor, uses=("background",)).live_version
        html = render_to_string(
            "papers/print.html",
            {"version": version, "paper": version.paper, "short_title": "E", "digest": "d"},
        )
        assert "Background: " in html


class TestJsonLd:
    def test_a_reviewed_claim_cites_its_sources_with_their_use(self, client, editor):
        paper = PaperFactory(slug="cited")
        section = SectionFactory(paper=paper, body="One. Two.")
        one, two = (
            ClaimFactory(section=section, quote="One."),
            ClaimFactory(section=section, quote="Two."),
        )
        one.sources.add(
            SourceFactory(title="For", url="https://example.org/for", publisher="Office"),
        )
        aside = SourceFactory(title="Aside", url="", publisher="")
        one.sources.add(aside, through_defaults={"use": "background"})
        reviewer = ReviewerFactory(username="r1")
        review = Review.objects.create(
            paper=paper, round=1, reviewer=reviewer, status=Review.Status.SUBMITTED
        )
        for claim in (one, two):
            Assessment.objects.create(
                review=review,
                claim=claim,
                verdict=Assessment.Verdict.SUPPORTED,
                claim_text=claim.quote,
                claim_hash=claim.text_hash,
            )
        workflow.publish_paper(approved(paper), by=editor)
        graph = _graph(Client().get("/papers/cited/").content.decode())
        by_quote = {r["claimReviewed"]: r["itemReviewed"] for r in graph if "claimReviewed" in r}
        assert by_quote["One."]["citation"] == [
            {
                "@type": "CreativeWork",
                "name": "Aside",
                "additionalType": "http://purl.org/spar/cito/citesAsBackground",
            },
            {
                "@type": "CreativeWork",
                "name": "For",
                "additionalType": "http://purl.org/spar/cito/supports",
                "url": "https://example.org/for",
                "publisher": {"@type": "Organization", "name": "Office"},
            },
        ]
        assert "citation" not in by_quote["Two."]


def _graph(html):
    start = html.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    return json.loads(html[start : html.index("</script>", start)])["@graph"]
