"""import_paper --dry-run, a copy of a paper imported under a new slug, and --replace of a paper
that is approved."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError

from papers.models import Claim, Event, Paper
from tests.factories import approved
from tests.test_importing import BAD_INPUTS, CONTENTS, DATA, database_state, export, run, write

pytestmark = pytest.mark.django_db

BACK_CATALOGUE = DATA / "back-catalogue.md"


def ids(slug):
    return dict(Claim.objects.filter(paper__slug=slug).values_list("public_id", "quote"))


class TestDryRun:
    def test_it_says_what_would_be_created_and_changes_nothing(self):
        before = database_state()
        out = run("import_paper", str(BACK_CATALOGUE), "--dry-run")
        assert database_state() == before
        assert not Paper.objects.exists()
        assert "“The Port of Klaipėda — Lithuania’s Gateway” (klaipeda-port)" in out
        assert "Slug: klaipeda-port" in out
        assert "Standfirst: 12 words" in out
        assert "  The port (#the-port): 17 words, 2 claims" in out
        assert "  Outlook (#outlook): 12 words, 1 claim\n" in out
        assert "  The port (#the-port-2): 11 words, 0 claims" in out
        assert "  1. Factual in “The port”: “Klaipėda is Lithuania’s only deep-water port.”" in out
        assert "  3. Predictive in “Outlook”: “will matter more in the 2030s”" in out

    def test_what_it_says_is_what_the_import_then_does(self):
        dry = run("import_paper", str(DATA / "messy.txt"), "--dry-run")
        done = run("import_paper", str(DATA / "messy.txt"))
        assert done.removeprefix("Imported ") in dry
        for section in Paper.objects.get().sections.all():
            words = len(section.body_text.split())
            assert f"  {section.heading} (#{section.anchor}): {words} words, 0 claims" in dry

    def test_replace_and_publish_are_tried_and_rolled_back(self):
        run("import_paper", str(BACK_CATALOGUE))
        before = database_state()
        out = run("import_paper", str(BACK_CATALOGUE), "--replace", "--publish", "--dry-run")
        assert "published as version 1" in out
        assert database_state() == before
        assert not Paper.objects.get().versions.exists()

    @pytest.mark.parametrize("case", ["quote not in section", "unknown tag", "no title"])
    def test_a_problem_is_one_line_and_changes_nothing(self, tmp_path, case):
        run("import_paper", str(BACK_CATALOGUE))
        before = database_state()
        name, message = BAD_INPUTS[case]
        with pytest.raises(CommandError, match=message) as error:
            run("import_paper", write(tmp_path, name, CONTENTS[name]), "--dry-run")
        assert "\n" not in str(error.value)
        assert database_state() == before

    def test_an_existing_slug_is_a_problem_without_replace(self):
        run("import_paper", str(BACK_CATALOGUE))
        with pytest.raises(CommandError, match="use --replace"):
            run("import_paper", str(BACK_CATALOGUE), "--dry-run")

    def test_on_the_command_line_a_problem_exits_non_zero_with_one_line(self, tmp_path):
        path = write(tmp_path, "untitled.md", CONTENTS["untitled.md"])
        result = subprocess.run(
            [sys.executable, "manage.py", "import_paper", path, "--dry-run"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent.parent,
            env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"},
        )
        assert result.returncode != 0
        assert result.stdout == ""
        assert result.stderr.strip().count("\n") == 0
        assert "no title" in result.stderr


class TestCopy:
    @pytest.mark.parametrize("fmt", ["md", "json"])
    def test_a_copy_under_a_new_slug_keeps_every_claim_with_fresh_ids(self, tmp_path, fmt):
        run("import_paper", str(BACK_CATALOGUE))
        original = ids("klaipeda-port")
        path = write(tmp_path, f"paper.{fmt}", export("klaipeda-port", fmt))
        out = run("import_paper", path, "--slug", "klaipeda-copy")
        copy = ids("klaipeda-copy")
        assert sorted(copy.values()) == sorted(original.values())
        assert not set(copy) & set(original)
        assert ids("klaipeda-port") == original
        first, second = out.splitlines()
        assert "3 claims" in first
        assert "3 claims' ids belong to another paper" in second

    def test_the_copy_keeps_the_originals_sections_tags_and_sources(self, tmp_path):
        run("import_paper", str(BACK_CATALOGUE))
        run("import_paper", write(tmp_path, "p.md", export("klaipeda-port")), "--slug", "copy")
        original, copy = (Paper.objects.get(slug=slug) for slug in ("klaipeda-port", "copy"))
        for claim in copy.claims.all():
            twin = original.claims.get(quote=claim.quote, prefix=claim.prefix)
            assert claim.section.anchor == twin.section.anchor
            assert list(claim.sources.all()) == list(twin.sources.all())
            assert list(claim.tags.all()) == list(twin.tags.all())

    def test_the_import_event_of_a_copy_says_so(self, tmp_path):
        run("import_paper", str(BACK_CATALOGUE))
        run(
            "import_paper",
            write(tmp_path, "p.json", export("klaipeda-port", "json")),
            "--slug",
            "c",
        )
        event = Event.objects.get(paper__slug="c", action=Event.Action.IMPORT)
        assert "another paper" in event.note

    def test_only_the_ids_that_belong_to_another_paper_are_renewed(self, tmp_path):
        run("import_paper", str(BACK_CATALOGUE))
        taken = Claim.objects.first().public_id
        text = f"""---
claims:
  - {{section: One, quote: Some words., kind: factual, id: {taken}}}
  - {{section: One, quote: More words., kind: factual, id: brandnew1}}
---
# Title

## One

Some words. More words.
"""
        out = run("import_paper", write(tmp_path, "one.md", text))
        assert "1 claim's id belongs to another paper" in out
        assert set(ids("title").values()) == {"Some words.", "More words."}
        assert "brandnew1" in ids("title") and taken not in ids("title")
        assert Claim.objects.get(public_id=taken).paper.slug == "klaipeda-port"

    def test_replacing_a_copy_from_its_own_export_keeps_its_ids_and_says_nothing(self, tmp_path):
        run("import_paper", str(BACK_CATALOGUE))
        run("import_paper", write(tmp_path, "a.md", export("klaipeda-port")), "--slug", "copy")
        copy = ids("copy")
        out = run("import_paper", write(tmp_path, "b.md", export("copy")), "--replace")
        assert ids("copy") == copy
        assert len(out.splitlines()) == 1


class TestReplaceAnApprovedPaper:
    @pytest.fixture
    def paper(self):
        run("import_paper", str(BACK_CATALOGUE))
        return approved(Paper.objects.get())

    def test_a_changed_import_puts_it_back_in_review(self, paper, tmp_path):
        text = export("klaipeda-port").replace("A second section", "A changed section")
        out = run("import_paper", write(tmp_path, "p.md", text), "--replace")
        paper.refresh_from_db()
        assert paper.stage == Paper.Stage.IN_REVIEW
        assert paper.events.filter(action=Event.Action.REOPEN).count() == 1
        assert "back in review" in out.splitlines()[-1]

    def test_the_same_content_leaves_it_approved(self, paper, tmp_path):
        out = run("import_paper", write(tmp_path, "p.md", export("klaipeda-port")), "--replace")
        paper.refresh_from_db()
        assert paper.stage == Paper.Stage.APPROVED
        assert not paper.events.filter(action=Event.Action.REOPEN).exists()
        assert "back in review" not in out

    def test_a_dry_run_says_it_would_go_back_and_changes_nothing(self, paper, tmp_path):
        text = export("klaipeda-port").replace("A second section", "A changed section")
        before = database_state()
        out = run("import_paper", write(tmp_path, "p.md", text), "--replace", "--dry-run")
        assert "back in review" in out
        assert database_state() == before
