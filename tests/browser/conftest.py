"""Fixtures for the browser tests: Debian's chromium driven by Playwright's sync API.

These tests run only with `pytest -m browser` (the default addopts deselect them). They need the
`browser` extra (`pip install -e '.[dev,browser]'`) and a chromium binary; Playwright's own
browser downloads are never used. `.ci/run` installs both.

Environment:
  STANDPOINT_CHROMIUM  the chromium executable (default /usr/bin/chromium)
"""

import io
import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("STANDPOINT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_SLUG = "baltic-states-nato"  # the paper that load_demo makes, with versions 1 and 2
DEMO_REVIEWER = ("reviewer", "standpoint-reviewer")  # load_demo's reviewer: username, password
# Playwright waits this long for each expectation before failing: generous for a 2-core CI box.
EXPECT_TIMEOUT_MS = 10_000


@pytest.hookimpl(trylast=True)  # after -m has deselected
def pytest_collection_modifyitems(config, items):
    """Refuse a session mixing browser tests with other database tests.

    The browser tests' database must be made after Playwright starts (see django_db_setup below);
    when other tests have made it first, Django's connections no longer line up.
    """
    browser = [item for item in items if item.get_closest_marker("browser")]
    others = [item for item in items if not item.get_closest_marker("browser")]
    if browser and any(_uses_database(item) for item in others):
        raise pytest.UsageError(
            "Run the browser tests on their own: pytest -m browser (the default run leaves them "
            "out)."
        )


def _uses_database(item):
    names = getattr(item, "fixturenames", ())
    return item.get_closest_marker("django_db") is not None or "django_db_setup" in names


@pytest.fixture(scope="session")
def _async_unsafe_allowed():
    # Playwright's sync API keeps an asyncio loop running on the main thread, so Django's ORM in
    # fixtures and test bodies would raise SynchronousOnlyOperation. Allowed only while browser
    # tests run.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def playwright(_async_unsafe_allowed):
    """Playwright's driver (no browser yet), for the whole session."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[dev,browser]'")

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def django_db_setup(playwright, django_db_setup):
    """pytest-django's test databases, made only once Playwright's loop runs.

    While an asyncio loop runs on this thread, Django hands out a different connection object
    (asgiref keeps connections per context then, not per thread). Making the test database after
    Playwright starts means set-up, serialized rollback, live_server and the tests all use that
    one connection.
    """
    yield


@pytest.fixture(scope="session")
def chromium_context(playwright, live_server, tmp_path_factory):
    """One headless Debian chromium for the session, on a fresh profile in a temporary folder.

    It depends on live_server so that it closes first: the server's request threads end with
    chromium's keep-alive connections, while the database connection is still shared with them.
    """
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(
            f"No chromium at {CHROMIUM}: apt-get install chromium, or set STANDPOINT_CHROMIUM"
        )
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=tmp_path_factory.mktemp("chromium-profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="UTC",
    )
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(chromium_context, live_server, request):
    """A new tab for one test, with a screenshot in test-artifacts/ whatever the outcome."""
    chromium_context.clear_cookies()
    page = chromium_context.new_page()
    # Each test has its own database: a page cached by an earlier test must not be reused.
    chromium_context.new_cdp_session(page).send("Network.clearBrowserCache")
    yield page
    artifacts = request.config.rootpath / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    try:
        page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    finally:
        page.close()


@pytest.fixture
def expect(chromium_context):
    """Playwright's auto-waiting `expect`, imported only once chromium is up."""
    from playwright.sync_api import expect

    return expect


# --- Tools from .ci/node_modules (npm ci --prefix .ci), and the demo content ---------------------

CI_NODE_MODULES = Path(__file__).resolve().parents[2] / ".ci" / "node_modules"


def _missing(message):
    """Under CI (the CI variable set) a missing tool fails the test; elsewhere it skips it."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def ci_tool(relative):
    """A file of an npm package that .ci/package.json pins, installed in .ci/node_modules."""
    path = CI_NODE_MODULES / relative
    if not path.is_file():
        _missing(f"{path} is missing: run npm ci --prefix .ci (bash .ci/run does)")
    return path


@pytest.fixture(scope="session")
def axe_source():
    """axe-core's source, for evaluating in a page (see test_accessibility.run_axe)."""
    return ci_tool("axe-core/axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def vnu_command():
    """The Nu HTML Checker's command line, up to its options: java -jar …/vnu.jar."""
    jar = ci_tool("vnu-jar/build/dist/vnu.jar")
    java = shutil.which("java")
    if java is None:
        _missing("No java on the PATH: the Nu HTML Checker needs Java 11 or later")
    return [java, "-jar", str(jar)]


@pytest.fixture
def demo_site(transactional_db, django_db_serialized_rollback):
    """The demo paper (load_demo --force, as DEBUG is off) and a withdrawn paper.

    Returns the values that page addresses are made from: {paper}, {claim}, {tag}, {withdrawn}.
    Serialized rollback puts back what migrations made (the Editors and Reviewers groups that
    load_demo needs), which the flush after every transactional test empties.
    """
    from django.core.management import call_command

    from papers import workflow
    from papers.models import Claim
    from tests.factories import ClaimFactory, PaperFactory, SectionFactory

    call_command("load_demo", force=True, stdout=io.StringIO())
    withdrawn = PaperFactory(title="Sanctions That Worked", slug="sanctions-that-worked")
    section = SectionFactory(paper=withdrawn, position=0, heading="Background")
    ClaimFactory(paper=withdrawn, section=section)
    workflow.publish_paper(withdrawn, by=None, note="First publication.")
    workflow.withdraw_paper(withdrawn, by=None, reason="The trade figures were wrong.")
    claim = Claim.objects.filter(paper__slug=DEMO_SLUG).order_by("pk").first()
    return {
        "paper": DEMO_SLUG,
        "claim": claim.public_id,
        "tag": "nato",
        "withdrawn": withdrawn.slug,
    }


@pytest.fixture
def sign_in_demo_reviewer(page, live_server, expect):
    """A function that signs the page in as load_demo's reviewer, through the sign-in form."""

    def sign_in():
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(DEMO_REVIEWER[0])
        page.get_by_label("Password").fill(DEMO_REVIEWER[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(live_server.url + "/review/")  # a reviewer's own page

    return sign_in
