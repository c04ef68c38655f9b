#!/usr/bin/env python
"""How many bytes a reader downloads for a long paper: `.venv/bin/python bench/page_size.py`.

Builds the benchmark's long paper (bench/generated.py) in a temporary SQLite database,
publishes it, and prints the size of its page: in all, its claim notes, its prose (marks and
references included) and the rest, and how many elements it holds (what the browser styles and
lays out: Lighthouse's "DOM size", a large part of a long page's blocking time). No server, no
wrk; a few seconds. The temporary directory is removed at the end.
PAGE_SIZE_DUMP=<file> also writes the page there, to look at.
"""

import os
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
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from generated import large_document  # noqa: E402

from papers import importing, workflow  # noqa: E402

# Templates name static files; without collectstatic there is no manifest to look them up in.
PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@override_settings(STORAGES=PLAIN_STATIC)
def main():
    try:
        call_command("migrate", verbosity=0)
        paper = importing.save_document(large_document(slug="page-size"))
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
        print(f"elements:    {len(re.findall(r'<[a-zA-Z]', html)):8,d}")
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
