"""import_paper and export_paper: formats, exact text, round trips, and refused bad input."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils.text import slugify

from papers.models import Claim, Event, Paper, Section, Source, Tag, Version
from tests.factories import TagFactory

DATA = Path(__file__).parent / "data"
DEMO = Path(__file__).parent.parent / "papers" / "demo" / "baltic-states-nato.txt"

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def database_state():
    """Every row that an import could touch, for asserting that a refusal changed nothing."""
    return {
        model.__name__: sorted(map(str, model.objects.values_list(flat=False)))
        for model in (Paper, Section, Claim, Tag, Source, Version, Event)
    }


def export(slug, fmt="md", *extra):
    return run("export_paper", slug, "--format", fmt, *extra)


class TestPlainText:
    def test_demo_paper_becomes_title_lede_and_five_sections(self):
        run("import_paper", str(DEMO))
        paper = Paper.objects.get()
        assert paper.title.startswith("Is There a Chance of the Baltic States Leaving NATO")
        assert paper.standfirst.startswith("The question of whether the Baltic States")
        assert [s.heading for s in paper.sections.all()] == [
            "Why Remaining in NATO Is the Safest Choice",
            "Historical Context and Current Solidarity",
            "Why Estonia Stays Strongly in NATO",
            "Strengthening Baltic NATO Presence",
            "Conclusion",
        ]
        assert paper.slug == slugify(paper.title)

    def test_text_survives_exactly_curly_quotes_included(self):
        run("import_paper", str(DEMO), "--slug", "baltic")
        section = Section.objects.get(anchor="strengthening-baltic-nato-presence")
        assert "NATO’s collective defense" in section.body_text

    def test_bom_and_crlf_leave_no_trace(self):
        run("import_paper", str(DATA / "crlf-bom.txt"))
        paper = Paper.objects.get()
        assert paper.title == "Title With CRLF"
        assert paper.standfirst == "A lede that ends with a full stop."
        section = paper.sections.get()
        assert section.heading == "First Heading"
        assert section.body_text == "Body text with an em dash — and Klaipėda."
        for text in (paper.title, paper.standfirst, section.heading, section.body):
            assert "\r" not in text and "\ufeff" not in text

    def test_blank_line_paragraphs_and_markdown_characters_render_as_written(self):
        run("import_paper", str(DATA / "blank-lines.txt"))
        paper = Paper.objects.get()
        background, outlook = paper.sections.all()
        assert paper.standfirst_html.count("<p>") == 1
        assert background.body_html.count("<p>") == 2
        assert "A second paragraph with *stars* and 1. numbers." in background.body_text
        assert "<em>" not in background.body_html
        assert outlook.body_text == "Things will change."

    def test_tag_option_tags_the_paper(self):
        TagFactory(slug="nato", name="NATO")
        run("import_paper", str(DEMO), "--tag", "nato", "--tag", "NATO")
        assert list(Paper.objects.get().tags.values_list("slug", flat=True)) == ["nato"]


class TestMarkdown:
    def test_front_matter_brings_claims_sources_and_tags(self):
        out = run("import_paper", str(DATA / "back-catalogue.md"))
        assert "3 claims" in out
        paper = Paper.objects.get(slug="klaipeda-port")
        assert paper.title == "The Port of Klaipėda — Lithuania’s Gateway"
        assert paper.byline == "Ana Kask and Jonas Petraitis"
        assert "<em>Klaipėda</em>" in paper.standfirst_html
        assert [s.anchor for s in paper.sections.all()] == ["the-port", "outlook", "the-port-2"]
        first = Claim.objects.get(quote="Klaipėda is Lithuania’s only deep-water port.")
        assert first.kind == "factual"
        assert [t.slug for t in first.tags.all()] == ["ports"]
        source = first.sources.get()
        assert (source.publisher, source.date.isoformat()) == (
            "Klaipėda State Seaport Authority",
            "2024-01-15",
        )
        assert Tag.objects.get(slug="ports").description == "Harbours and their defence."

    def test_setext_headings_and_spanning_quotes_are_understood(self):
        run("import_paper", str(DATA / "back-catalogue.md"))
        outlook = Section.objects.get(anchor="outlook")
        assert outlook.claims.get().quote == "will matter more in the 2030s"

    def test_publish_option_publishes_version_one(self):
        out = run("import_paper", str(DATA / "back-catalogue.md"), "--publish")
        assert "published as version 1" in out
        assert Paper.objects.get().live_version.number == 1


class TestRoundTrip:
    @pytest.mark.parametrize("fmt", ["md", "json"])
    def test_import_export_import_gives_the_same_paper(self, tmp_path, fmt):
        run("import_paper", str(DATA / "back-catalogue.md"), "--publish")
        first = export("klaipeda-port", fmt)
        path = tmp_path / f"paper.{fmt}"
        path.write_text(first, encoding="utf-8")
        run("import_paper", str(path), "--replace")
        second = export("klaipeda-port", fmt)
        assert first == second
        assert Claim.objects.count() == 3

    @pytest.mark.parametrize("fmt", ["md", "json"])
    def test_round_trip_after_the_paper_is_gone(self, tmp_path, fmt):
        run("import_paper", str(DEMO), "--slug", "demo")
        first = export("demo", fmt)
        path = tmp_path / f"paper.{fmt}"
        path.write_text(first, encoding="utf-8")
        Paper.objects.all().delete()
        run("import_paper", str(path))
        assert export("demo", fmt) == first

    def test_claim_ids_survive_the_round_trip(self, tmp_path):
        run("import_paper", str(DATA / "back-catalogue.md"))
        ids = set(Claim.objects.values_list("public_id", flat=True))
        path = tmp_path / "paper.json"
        path.write_text(export("klaipeda-port", "json"), encoding="utf-8")
        run("import_paper", str(path), "--replace")
        assert set(Claim.objects.values_list("public_id", flat=True)) == ids

    def test_markdown_export_carries_front_matter_with_claims(self):
        run("import_paper", str(DATA / "back-catalogue.md"))
        text = export("klaipeda-port")
        meta = yaml.safe_load(text.split("---\n")[1])
        assert len(meta["claims"]) == 3
        assert "## The port {#the-port-2}" in text

    def test_json_export_of_a_version_has_its_facts(self):
        run("import_paper", str(DATA / "back-catalogue.md"), "--publish")
        document = json.loads(export("klaipeda-port", "json", "--number", "1"))
        assert document["version"]["number"] == 1
        assert document["title"] == "The Port of Klaipėda — Lithuania’s Gateway"

    def test_export_of_a_draft_is_its_working_copy(self):
        run("import_paper", str(DATA / "back-catalogue.md"))
        document = json.loads(export("klaipeda-port", "json"))
        assert "version" not in document
        assert len(document["sections"]) == 3


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


CLAIM_NOT_IN_SECTION = """---
claims:
  - {section: One, quote: words that are not there, kind: factual}
---
# Title

## One

Some words.
"""

BAD_INPUTS = {
    "missing file": (None, "No such file"),
    "empty file": ("empty.txt", "is empty"),
    "whitespace only": ("blank.md", "is empty"),
    "binary data": ("image.png", "binary data"),
    "undecodable": ("latin1.txt", "not UTF-8"),
    "no title": ("untitled.md", "no title"),
    "malformed front matter": ("bad-yaml.md", "not valid YAML"),
    "front matter not a mapping": ("list.md", "must be a YAML mapping"),
    "quote not in section": ("claim.md", "do not appear in the section"),
    "unknown claim kind": ("kind.md", "kind must be one of"),
    "unknown section": ("section.md", "no section “Two”"),
    "unknown tag": ("tag.md", "unknown tag “nonexistent”"),
    "malformed json": ("broken.json", "JSON is malformed"),
    "bad slug": ("demo.txt", "not a valid slug"),
}
CONTENTS = {
    "empty.txt": b"",
    "blank.md": b"  \n\n\t\n",
    "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "latin1.txt": "Klaipėda café".encode("cp1257"),
    "untitled.md": "Just a paragraph.\n\n## A section\n\nText.\n",
    "bad-yaml.md": "---\ntitle: [unclosed\n---\n# T\n",
    "list.md": "---\n- a\n- b\n---\n# T\n",
    "claim.md": CLAIM_NOT_IN_SECTION,
    "kind.md": CLAIM_NOT_IN_SECTION.replace("words that are not there", "Some words").replace(
        "factual", "rumour"
    ),
    "section.md": CLAIM_NOT_IN_SECTION.replace("section: One", "section: Two"),
    "tag.md": "---\ntags: [nonexistent]\n---\n# T\n\n## One\n\nText.\n",
    "broken.json": '{"title": "T", "sections": [',
    "demo.txt": DEMO.read_bytes(),
}


class TestBadInput:
    @pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
    def test_bad_input_is_refused_with_one_line_and_changes_nothing(self, tmp_path, case):
        run("import_paper", str(DATA / "back-catalogue.md"))
        before = database_state()
        name, message = BAD_INPUTS[case]
        path = write(tmp_path, name, CONTENTS[name]) if name else str(tmp_path / "nope.md")
        extra = ["--slug", "Not A Slug!"] if case == "bad slug" else []
        with pytest.raises(CommandError, match=message) as error:
            run("import_paper", path, *extra)
        assert "\n" not in str(error.value)
        assert database_state() == before

    def test_existing_slug_needs_replace(self):
        run("import_paper", str(DATA / "back-catalogue.md"))
        before = database_state()
        with pytest.raises(CommandError, match="exists already; use --replace"):
            run("import_paper", str(DATA / "back-catalogue.md"))
        assert database_state() == before

    def test_a_late_failure_rolls_back_the_whole_import(self, tmp_path):
        """The second claim is bad: the paper, its sections and the first claim are not kept."""
        text = CLAIM_NOT_IN_SECTION.replace(
            "claims:\n", "claims:\n  - {section: One, quote: Some words., kind: factual}\n"
        )
        before = database_state()
        with pytest.raises(CommandError, match="Claim 2"):
            run("import_paper", write(tmp_path, "late.md", text))
        assert database_state() == before
        assert not Paper.objects.exists()

    def test_command_line_prints_one_line_and_exits_non_zero(self, tmp_path):
        result = subprocess.run(
            [sys.executable, "manage.py", "import_paper", str(tmp_path / "missing.md")],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent.parent,
            env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"},
        )
        assert result.returncode != 0
        assert result.stderr.strip().count("\n") == 0
        assert "No such file" in result.stderr

    def test_export_of_unknown_slug_or_version_is_refused(self):
        with pytest.raises(CommandError, match="No paper has the slug “nope”"):
            export("nope")
        run("import_paper", str(DATA / "back-catalogue.md"))
        with pytest.raises(CommandError, match="has no version 4"):
            export("klaipeda-port", "md", "--number", "4")
