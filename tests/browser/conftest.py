"""Fixtures for the browser tests: Debian's chromium driven by Playwright's sync API.

These tests run only with `pytest -m browser` (the default addopts deselect them). They need the
`browser` extra (`pip install -e '.[dev,browser]'`) and a chromium binary; Playwright's own
browser downloads are never used. `.ci/run` installs both.

Environment:
  STANDPOINT_CHROMIUM  the chromium executable (default /usr/bin/chromium)
"""

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
