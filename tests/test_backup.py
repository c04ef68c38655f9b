"""Backups round trip: the JSON export of each paper's live version, imported into an emptied
database and published, shows readers the same paper.

Limitation (by design of the format): the JSON export carries the latest version only, so the
version history, its notes and numbers, the corrections log, the event log and the review record
are not restored; a restored paper starts again at version 1. A full backup is a database dump;
these exports are for moving a paper's content. The comparison is therefore of content: title,
standfirst, sections, claims (with their permanent ids), tags and sources.
"""

import html
import json
import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from papers import permissions, workflow
from papers.models import Paper, Version
from tests.factories import (
    ClaimFactory,
    EditorFactory,
    PaperFactory,
    SectionFactory,
    SourceFactory,
    TagFactory,
    approved,
)

pytestmark = pytest.mark.django_db(transaction=True)

_MAIN = re.compile(r"<main\b.*?</main>", re.DOTALL)
# Parts of the page about the version history and the review record, which are not restored.
_HISTORY = [
    re.compile(r'<aside class="notice notice--correction".*?</aside>', re.DOTALL),
    re.compile(r'<nav class="paper__meta" aria-label="Versions">.*?</nav>', re.DOTALL),
    re.compile(r'<section class="claim-key".*?</section>', re.DOTALL),
]
_VOLATILE = [
    # Dates and times of publication, in any of the forms the pages use.
    re.compile(r"\d{4}-\d\d-\d\d(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?"),
    re.compile(
        r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|"
        r"November|December) \d{4}(?:,? \d{1,2}:\d\d(?: UTC)?)?"
    ),
    re.compile(
        r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}"
        r"(?:,? \d{1,2}:\d\d(?: [ap]\.m\.)?)?"
    ),
    re.compile(r"\b[0-9a-f]{64}\b"),  # fingerprints
    re.compile(r"/v\d+/"),
    re.compile(r"\b[Vv]ersion \d+\b"),
    re.compile(r"\bv\d+\b"),
]


@pytest.fixture(autouse=True)
def _roles():
    permissions.ensure_roles(Group, Permission)


def main_of(slug):
    response = Client().get(f"/papers/{slug}/")
    assert response.status_code == 200
    return _MAIN.search(response.content.decode()).group(0)


def text_of(fragment):
    text = html.unescape(re.sub(r"<[^>]+>", " ", fragment))
    return " ".join(text.split())


def normalised(fragment):
    """The page's content: history and record panels dropped, dates and numbers blanked."""
    for pattern in _HISTORY:
        fragment = pattern.sub("", fragment)
    text = text_of(fragment)
    for pattern in _VOLATILE:
        text = pattern.sub("…", text)
    return text


def make_papers(editor):
    defence = TagFactory(slug="defence", name="Defence")
    baltics = TagFactory(slug="baltics", name="Baltics")
    factsheet = SourceFactory(
        title="NATO factsheet", url="https://www.nato.int/factsheet", publisher="NATO"
    )
    report = SourceFactory(title="Annual report", url="https://example.org/report", publisher="")

    first = PaperFactory(
        slug="forward-defence", title="Forward defence", standfirst="The *eastern* flank."
    )
    first.tags.set([defence, baltics])
    intro = SectionFactory(paper=first, position=0, heading="Presence")
    outlook = SectionFactory(
        paper=first,
        position=1,
        heading="Outlook",
        body="Deterrence will hold *for a decade*, the authors expect.\n\nA second paragraph.",
    )
    fact = ClaimFactory(section=intro, note="See the factsheet.")
    fact.tags.set([defence])
    fact.sources.set([factsheet, report])
    guess = ClaimFactory(
        section=outlook, quote="Deterrence will hold for a decade", kind="predictive"
    )
    guess.tags.set([baltics])
    workflow.publish_paper(approved(first), by=editor, note="First edition.")
    # A correction: the working copy changes and is published as version 2.
    outlook.body = "Deterrence will hold *for a decade*, the authors expect.\n\nCorrected."
    outlook.save()
    workflow.publish_correction(first, by=editor, note="Fixed the second paragraph.")

    second = PaperFactory(slug="sanctions", title="Sanctions at work", standfirst="")
    second.tags.set([defence])
    section = SectionFactory(
        paper=second, position=0, heading="Effects", body="Sanctions cut imports by half."
    )
    claim = ClaimFactory(section=section, quote="Sanctions cut imports by half.", kind="causal")
    claim.sources.set([report])
    workflow.publish_paper(approved(second), by=editor)
    return ["forward-defence", "sanctions"]


def export(slug, tmp_path):
    out = StringIO()
    call_command("export_paper", slug, "--format", "json", stdout=out)
    path = tmp_path / f"{slug}.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def facts(slug):
    """What readers are shown of a paper, from its live version's stored snapshot."""
    version = Paper.objects.get(slug=slug).live_version
    document = version.snapshot
    return {
        "title": version.title,
        "standfirst": document.get("standfirst"),
        "tags": sorted(version.tags.values_list("slug", flat=True)),
        "sections": [(s["heading"], s["anchor"], s["body"]) for s in document["sections"]],
        "claims": sorted(
            version.claims.values_list("public_id", "quote", "kind", "section_anchor")
        ),
        "claim_tags": sorted(
            (c["id"], tuple(sorted(c.get("tags", [])))) for c in document["claims"]
        ),
        "sources": sorted(
            (c["id"], s["title"], s.get("url"), s.get("publisher"))
            for c in document["claims"]
            for s in c.get("sources", [])
        ),
    }


def test_exported_papers_restore_into_an_emptied_database(tmp_path):
    editor = EditorFactory(username="eda")
    slugs = make_papers(editor)
    assert Paper.objects.get(slug="forward-defence").live_version.number == 2
    before = {slug: (normalised(main_of(slug)), facts(slug)) for slug in slugs}
    files = {slug: export(slug, tmp_path) for slug in slugs}
    for path in files.values():
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["claims"] and document["sections"]

    call_command("flush", interactive=False, verbosity=0)
    assert not Paper.objects.exists() and not Version.objects.exists()
    permissions.ensure_roles(Group, Permission)

    for path in files.values():
        call_command("import_paper", str(path), "--publish", stdout=StringIO())

    for slug in slugs:
        paper = Paper.objects.get(slug=slug)
        # The history is not in the export: numbering restarts (see the module docstring).
        assert list(paper.versions.values_list("number", flat=True)) == [1]
        page, shown = before[slug]
        assert facts(slug) == shown
        assert normalised(main_of(slug)) == page

    # The corrected text, not the first edition's, is what was restored.
    restored = text_of(main_of("forward-defence"))
    assert "Corrected." in restored and "A second paragraph." not in restored
    for text in ("NATO factsheet", "Annual report", "Defence", "Baltics"):
        assert text in restored
    client = Client()
    for public_id, *_ in facts("forward-defence")["claims"]:
        assert client.get(f"/claims/{public_id}/").status_code == 200  # ids survive the trip
