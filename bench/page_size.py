#!/usr/bin/env python
"""How many bytes a reader downloads for a long paper: `.venv/bin/python bench/page_size.py`.

Builds a paper of the benchmark's shape (60 sections of ~500 words, 10 claims in each, two tags
per claim, a source on every third) in a temporary SQLite database, publishes it, and prints the
size of its page: in all, its claim notes, its prose (marks and references included) and the
rest. No server, no wrk; a few seconds. The temporary directory is removed at the end.
PAGE_SIZE_DUMP=<file> also writes the page there, to look at.
"""

import os
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMP = Path(tempfile.mkdtemp(prefix="standpoint-page-size-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings",
    DJANGO_SECRET_KEY="page-size-measurement-only-0123456789abcdefghijklmnopqrstuvwxyz",
    DATABASE_URL=f"sqlite:///{TMP / 'db.sqlite3'}",
    DJANGO_ALLOWED_HOSTS="testserver",
    DJANGO_SECURE_SSL_REDIRECT="0",
)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from papers import importing, workflow  # noqa: E402

SECTIONS, WORDS_PER_SECTION, CLAIMS_PER_SECTION = 60, 500, 10
KINDS = ["factual", "historical", "causal", "predictive", "normative"]
TAGS = ["defence", "economy", "energy", "health", "migration", "trade"]
rng = random.Random(20261127)
VOCAB = sorted(
    {
        "".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(3, 10)))
        for _ in range(4000)
    }
)


def sentence(n):
    words = [rng.choice(VOCAB) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def document():
    """The shape of bench/run.py's large_document()."""
    sections, claims = [], []
    for s in range(SECTIONS):
        paragraphs, words = [], 0
        while words < WORDS_PER_SECTION:
            para = [sentence(rng.randint(12, 20)) for _ in range(5)]
            words += sum(len(x.split()) for x in para)
            paragraphs.append(para)
        sentences = [x for para in paragraphs for x in para]
        for c in rng.sample(range(len(sentences)), CLAIMS_PER_SECTION):
            source = {"title": "A source", "url": f"https://example.org/{s}/{c}"}
            claims.append(
                {
                    "section": f"section-{s + 1}",
                    "quote": sentences[c],
                    "kind": rng.choice(KINDS),
                    "tags": rng.sample(TAGS, 2),
                    **({"sources": [source]} if c % 3 == 0 else {}),
                }
            )
        sections.append(
            {
                "heading": f"Section {s + 1}: {sentence(4)[:-1]}",
                "anchor": f"section-{s + 1}",
                "body": "\n\n".join(" ".join(p) for p in paragraphs),
            }
        )
    return {
        "title": "A large benchmark paper",
        "slug": "page-size",
        "standfirst": sentence(30),
        "authors": ["Bench Author"],
        "tags": TAGS[:3],
        "taxonomy": [{"slug": t, "name": t.capitalize()} for t in TAGS],
        "sections": sections,
        "claims": claims,
    }


# Templates name static files; without collectstatic there is no manifest to look them up in.
PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@override_settings(STORAGES=PLAIN_STATIC)
def main():
    try:
        call_command("migrate", verbosity=0)
        paper = importing.save_document(document())
        workflow.publish_paper(paper, by=None)
        response = Client().get("/papers/page-size/")
        assert response.status_code == 200, response.status_code
        html = response.content.decode()
        notes = "".join(re.findall(r'<aside class="claim-notes".*?</aside>', html, re.S))
        prose = "".join(re.findall(r'<div class="prose">.*?</div>', html, re.S))
        count = html.count('id="claim-note-')
        if os.environ.get("PAGE_SIZE_DUMP"):
            Path(os.environ["PAGE_SIZE_DUMP"]).write_text(html)
        kb = 1000
        print(f"page:        {len(html.encode()) / kb:8.1f} KB")
        print(
            f"claim notes: {len(notes.encode()) / kb:8.1f} KB "
            f"({count} notes, {len(notes.encode()) / max(count, 1):.0f} bytes each)"
        )
        print(f"prose:       {len(prose.encode()) / kb:8.1f} KB (marks and references included)")
        rest = len(html.encode()) - len(notes.encode()) - len(prose.encode())
        print(f"the rest:    {rest / kb:8.1f} KB")
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
