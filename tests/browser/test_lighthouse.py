"""Lighthouse's accessibility, best-practices and SEO audits on every public page type
(`pytest -m browser`).

The pages are test_accessibility.PAGES signed out, so a page type added there is audited here
too. Lighthouse comes from .ci/node_modules (`npm ci --prefix .ci`, pinned in .ci/package.json)
and runs the system chromium; without it the test skips, except under CI (the CI variable set),
where it fails. Performance is not audited here: scores taken on a busy test machine mean little.
bench/lighthouse.py measures it against gunicorn with production settings.

Each category must score 100 (Lighthouse reports 0 to 1), with two exceptions that are right
for these pages, not shortcomings:
- search results (pages with `?q=`) are `noindex` (a page per query is no page for an index),
  so SEO's "Page is blocked from indexing" fails there by design: their SEO is not asserted;
- the 404 page is not audited: Lighthouse refuses a page whose document answers 4xx ("unable
  to reliably load the page"), and its SEO would fail "unsuccessful HTTP status code" by
  definition. axe-core and the Nu HTML Checker (test_accessibility) still check it.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _missing, ci_tool
from tests.browser.test_accessibility import PAGES

CATEGORIES = ["accessibility", "best-practices", "seo"]
AUDITED = [page for page in PAGES if not page.signed_in and page.status == 200]
TIMEOUT_S = 180  # one run on a busy 2-core machine takes 15-40 s


@pytest.fixture(scope="session")
def lighthouse_command():
    """node …/lighthouse/cli/index.js, up to the URL."""
    cli = ci_tool("lighthouse/cli/index.js")
    node = shutil.which("node")
    if node is None:
        _missing("No node on the PATH: Lighthouse needs Node.js 18.16 or later")
    return [
        node,
        str(cli),
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        "--quiet",
        "--disable-full-page-screenshot",  # not looked at here, and the slowest gatherer
        f"--chrome-flags=--headless {' '.join(CHROMIUM_ARGS)}",
    ]


def audit(command, url, path):
    """Lighthouse's report (the JSON "lhr") of one page, also kept at `path`."""
    result = subprocess.run(
        [*command, f"--output-path={path}", url],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
    )
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pytest.fail(f"Lighthouse exited {result.returncode} on {url}:\n{result.stderr[-3000:]}")
    if report.get("runtimeError"):
        pytest.fail(f"Lighthouse could not audit {url}: {report['runtimeError']}")
    return report


def is_search(page):
    """Search results (any page with a ?q=) are noindex: their SEO is not asserted."""
    return bool(re.search(r"[?&]q=", page.path))


def shortfalls(report, category):
    """The titles of a category's failing audits that count towards its score."""
    lines = []
    for ref in report["categories"][category]["auditRefs"]:
        result = report["audits"][ref["id"]]
        if ref["weight"] and result["score"] is not None and result["score"] < 1:
            lines.append(f"    {result['title']} ({ref['id']})")
            for item in (result.get("details") or {}).get("items", [])[:5]:
                text = item.get("description") or item.get("source") or item.get("url") or ""
                if isinstance(text, dict):  # a node of the page
                    text = text.get("snippet", "")
                text = text or (item.get("node") or {}).get("snippet", "")
                lines.append(f"        {str(text)[:200]}")
    return lines


@pytest.mark.browser
def test_lighthouse_scores_every_public_page_100(
    demo_site, live_server, settings, lighthouse_command, tmp_path
):
    # The pages' canonical and Open Graph addresses point at the server under test, as they
    # point at the real site in production: a canonical link to another host fails SEO.
    settings.SITE_URL = live_server.url
    problems = []
    for target in AUDITED:
        url = live_server.url + target.path.format(**demo_site)
        report = audit(lighthouse_command, url, tmp_path / f"{target.name}.json")
        for category in CATEGORIES:
            if category == "seo" and is_search(target):
                continue
            score = report["categories"][category]["score"]
            if score is None or score < 1:
                shown = "no score" if score is None else round(score * 100)
                problems.append(f"{target.name} {category} {shown}: {url}")
                problems.extend(shortfalls(report, category))
    assert not problems, "Lighthouse:\n" + "\n".join(problems)
