"""Every public page type against axe-core (WCAG 2.2 AA) in chromium and against the W3C Nu HTML
Checker (`pytest -m browser`).

Both tools come from .ci/node_modules (`npm ci --prefix .ci`, pinned in .ci/package.json): the
tests skip without them, except under CI (the CI variable set), where they fail.

To cover a new page type, add a Page to PAGES: both tests then check it.
"""

import json
import subprocess
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.browser.conftest import DEMO_REVIEWER

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
COLOUR_SCHEMES = ["light", "dark"]  # standpoint.css has a dark palette (prefers-color-scheme)


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # formatted with demo_site: {paper}, {claim}, {tag}, {withdrawn}
    status: int = 200
    signed_in: bool = False  # as the demo reviewer


PAGES = [
    Page("home", "/"),
    Page("paper-list", "/papers/"),
    Page("search", "/papers/?q=nato"),
    Page("paper-list-by-tag", "/papers/?tag={tag}"),
    Page("paper", "/papers/{paper}/"),
    Page("older-version", "/papers/{paper}/v1/"),
    Page("versions", "/papers/{paper}/versions/"),
    Page("diff", "/papers/{paper}/diff/1/2/"),
    Page("corrections", "/corrections/"),
    Page("forecasts", "/forecasts/"),
    Page("api-docs", "/api/v1/docs/"),
    Page("claim-list", "/claims/"),
    Page("claim-list-by-kind", "/claims/?kind=factual"),
    Page("claim", "/claims/{claim}/"),
    Page("cite-paper", "/papers/{paper}/cite/"),
    Page("cite-claim", "/claims/{claim}/cite/"),
    Page("tag", "/tags/{tag}/"),
    Page("tags", "/tags/"),
    Page("claim-search", "/claims/?q=nato"),
    Page("withdrawn-paper", "/papers/{withdrawn}/"),
    Page("not-found", "/papers/no-such-paper/", status=404),
    Page("sign-in", "/accounts/login/"),
    Page("review-dashboard", "/review/", signed_in=True),
    Page("review-paper", "/review/{paper}/", signed_in=True),
]


# --- axe-core in chromium -----------------------------------------------------------------------


def run_axe(page, axe_source):
    """axe's violations on the page as it is now.

    The source goes in through page.evaluate rather than add_script_tag: an evaluated script is
    not subject to the page's Content-Security-Policy, an added inline <script> would be.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(results => results.violations)",
        AXE_TAGS,
    )


def describe_violations(violations):
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    {' > '.join(map(str, node['target']))}")
            lines.append(f"        {node['html'][:200]}")
            if node.get("failureSummary"):
                summary = node["failureSummary"].replace("\n", "\n        ")
                lines.append(f"        {summary}")
    return "\n".join(lines)


@pytest.mark.browser
@pytest.mark.parametrize("target", PAGES, ids=lambda target: target.name)
def test_axe_finds_no_wcag_22_aa_violations(
    target, demo_site, live_server, page, axe_source, sign_in_demo_reviewer
):
    if target.signed_in:
        sign_in_demo_reviewer()
    path = target.path.format(**demo_site)
    response = page.goto(live_server.url + path)
    assert response.status == target.status, f"{path} answered {response.status}"

    report = []
    for scheme in COLOUR_SCHEMES:
        page.emulate_media(color_scheme=scheme)
        violations = run_axe(page, axe_source)
        if violations:
            report.append(f"--- {scheme} colour scheme\n{describe_violations(violations)}")
    assert not report, f"axe-core on {path}:\n" + "\n".join(report)


# --- The Nu HTML Checker ------------------------------------------------------------------------


@pytest.mark.browser
def test_the_nu_html_checker_finds_no_errors(demo_site, vnu_command, tmp_path):
    """Every page type's HTML, checked in one run of vnu.jar (the JVM is slow to start)."""
    reader, reviewer = Client(), Client()
    reviewer.force_login(get_user_model().objects.get(username=DEMO_REVIEWER[0]))
    files, problems = {}, []  # files: the name of each page's HTML file -> its path
    for target in PAGES:
        path = target.path.format(**demo_site)
        response = (reviewer if target.signed_in else reader).get(path)
        if response.status_code != target.status:
            problems.append(f"{path} answered {response.status_code}, not {target.status}")
            continue
        file = tmp_path / f"{target.name}.html"
        file.write_bytes(response.content)
        files[file.name] = path
    assert files, "No page to check"

    result = subprocess.run(
        [*vnu_command, "--errors-only", "--format", "json", *(str(tmp_path / f) for f in files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # vnu writes its JSON report to stderr; it exits 1 when it found errors.
    try:
        messages = json.loads(result.stderr)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"vnu.jar exited {result.returncode}: {result.stderr}{result.stdout}")
    for message in messages:
        url = message.get("url", "?")
        where = files.get(url.rsplit("/", 1)[-1], url)
        problems.append(
            f"{where} line {message.get('lastLine', '?')}: {message['type']}: "
            f"{message['message']}\n    {message.get('extract', '').strip()}"
        )
    assert not problems, "The Nu HTML Checker:\n" + "\n".join(problems)
