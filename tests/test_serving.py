"""Serving: the health check, conditional GET on paper pages, the cache/session/log settings and
gunicorn's configuration, down to a real gunicorn answering on a local port."""

import importlib.util
import json
import logging
import os
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import dj_database_url
import pytest
from django.db.utils import ConnectionHandler
from django.test import Client
from django.utils.http import http_date
from prometheus_client.parser import text_string_to_metric_families

from config.logging import OneLineJSONFormatter
from papers import pagecache, workflow
from papers.models import Tag
from papers.views import health
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, TagFactory, approved

ROOT = Path(__file__).parent.parent

needs_gunicorn = pytest.mark.skipif(
    importlib.util.find_spec("gunicorn") is None, reason="gunicorn is not installed"
)


def unused_port():
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path, **extra):
    """The environment of a production server, on a SQLite database of its own."""
    ours = ("DJANGO_", "GUNICORN_")
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(ours)
        and key not in {"DATABASE_URL", "REDIS_URL", "PORT", "WEB_CONCURRENCY"}
    }
    return {
        **base,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    }


def run(*args, env, timeout=120):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def paper(editor):
    tag = TagFactory(slug="nato", name="NATO")
    paper = PaperFactory(slug="deterrence")
    paper.tags.set([tag])
    section = SectionFactory(paper=paper, position=0)
    ClaimFactory(section=section)
    workflow.publish_paper(approved(paper), by=editor, note="First edition.")
    paper.refresh_from_db()
    return paper


class TestHealthz:
    def test_it_answers_ok_to_anyone_and_is_never_cached(self, anonymous, db):
        response = anonymous.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert "no-store" in response["Cache-Control"]

    def test_it_costs_one_query(self, anonymous, db, django_assert_num_queries):
        with django_assert_num_queries(1):
            assert anonymous.get("/healthz").status_code == 200

    def test_it_answers_head_but_not_post(self, anonymous, db):
        assert anonymous.head("/healthz").status_code == 200
        assert anonymous.post("/healthz").status_code == 405

    def test_it_answers_503_when_the_database_does_not_answer(self, anonymous, db, monkeypatch):
        # A real PostgreSQL connection to a port where nothing listens, as when the server is down.
        url = f"postgres://standpoint@127.0.0.1:{unused_port()}/standpoint"
        unreachable = ConnectionHandler({"default": dj_database_url.parse(url)})["default"]
        monkeypatch.setattr(health, "connection", unreachable)
        try:
            response = anonymous.get("/healthz")
        finally:
            unreachable.close()
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "reason": "database unavailable"}
        assert "no-store" in response["Cache-Control"]

    def test_it_checks_a_shared_cache(self, anonymous, db, settings, tmp_path):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        assert (tmp_path / "cache").exists()

    def test_a_shared_cache_that_does_not_answer_is_reported_but_keeps_the_server_in(
        self, anonymous, db, settings, editor
    ):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{unused_port()}/0",
            }
        }
        response = anonymous.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "degraded", "reason": "cache unavailable"}
        # What it stays in for: signed-in work, whose sessions live in the database.
        signed_in = Client()
        signed_in.force_login(editor)
        assert signed_in.get("/review/").status_code == 200


@pytest.mark.django_db
class TestConditionalGet:
    """Anonymous readers revalidate a paper page with its ETag or date and get a 304 that
    renders nothing; what the page shows besides the immutable version changes the ETag."""

    URLS = ["/papers/deterrence/", "/papers/deterrence/v1/"]

    @pytest.mark.parametrize("url", URLS)
    def test_an_anonymous_reader_gets_validators_and_a_short_public_lifetime(
        self, anonymous, paper, url
    ):
        response = anonymous.get(url)
        assert response.status_code == 200
        assert response["ETag"].startswith('W/"')
        assert response["Last-Modified"] == http_date(paper.live_version.published_at.timestamp())
        # Browsers keep it a minute; what shared caches may keep: tests/test_http_cache.py.
        assert {"public", "max-age=60"} <= set(response["Cache-Control"].split(", "))
        assert "Cookie" in response["Vary"]

    @pytest.mark.parametrize("url", URLS)
    def test_a_matching_etag_gets_304_from_the_cache_in_one_query(
        self, anonymous, paper, url, django_assert_num_queries
    ):
        first = anonymous.get(url)
        with django_assert_num_queries(1):
            again = anonymous.get(url, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304
        assert again.templates == []
        assert again.content == b""
        assert again["ETag"] == first["ETag"]
        assert again["Cache-Control"] == first["Cache-Control"]

    @pytest.mark.parametrize("url", URLS)
    def test_with_the_cache_emptied_a_matching_etag_still_gets_304_without_rendering(
        self, anonymous, paper, url, django_assert_num_queries
    ):
        etag = anonymous.get(url)["ETag"]
        pagecache.memory.clear()
        with django_assert_num_queries(3):
            again = anonymous.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.templates == []

    def test_the_page_is_rendered_once_then_served_from_the_cache_in_one_query(
        self, anonymous, paper, django_assert_num_queries
    ):
        with django_assert_num_queries(3):
            rendered = anonymous.get("/papers/deterrence/")
        assert [t.name for t in rendered.templates][0] == "papers/paper_detail.html"
        with django_assert_num_queries(1):
            cached = anonymous.get("/papers/deterrence/")
        assert cached.templates == []
        assert cached.content == rendered.content
        for header in ("ETag", "Last-Modified", "Cache-Control", "Content-Type"):
            assert cached[header] == rendered[header]

    def test_head_is_answered_304_too(self, anonymous, paper):
        etag = anonymous.get("/papers/deterrence/")["ETag"]
        assert (
            anonymous.head("/papers/deterrence/", headers={"If-None-Match": etag}).status_code
            == 304
        )

    def test_the_date_alone_gets_304_when_nothing_was_published_since(self, anonymous, paper):
        published = paper.live_version.published_at
        since = {"If-Modified-Since": http_date(published.timestamp())}
        assert anonymous.get("/papers/deterrence/", headers=since).status_code == 304
        earlier = {"If-Modified-Since": http_date((published - timedelta(days=1)).timestamp())}
        assert anonymous.get("/papers/deterrence/", headers=earlier).status_code == 200

    def test_the_etag_is_the_same_for_every_anonymous_reader(self, paper):
        assert (
            Client().get("/papers/deterrence/")["ETag"]
            == Client().get("/papers/deterrence/")["ETag"]
        )

    def test_a_new_version_changes_both_pages(self, anonymous, paper, editor):
        before = {url: anonymous.get(url)["ETag"] for url in self.URLS}
        workflow.publish_correction(paper, by=editor, note="Fixed a date.")
        for url, etag in before.items():
            response = anonymous.get(url, headers={"If-None-Match": etag})
            assert response.status_code == 200, url
            assert response["ETag"] != etag
        assert b"which is not the latest" in anonymous.get("/papers/deterrence/v1/").content

    def test_a_withdrawal_changes_the_etag(self, anonymous, paper, editor):
        etag = anonymous.get("/papers/deterrence/")["ETag"]
        workflow.withdraw_paper(paper, by=editor, reason="The data were wrong.")
        response = anonymous.get("/papers/deterrence/", headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert b"The data were wrong." in response.content

    def test_a_tag_renamed_in_the_admin_changes_the_etag(self, anonymous, paper, editor_client):
        etag = anonymous.get("/papers/deterrence/")["ETag"]
        tag = Tag.objects.get(slug="nato")
        renamed = editor_client.post(
            f"/admin/papers/tag/{tag.pk}/change/",
            {"name": "The Alliance", "slug": "nato", "description": ""},
        )
        assert renamed.status_code == 302
        response = anonymous.get("/papers/deterrence/", headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert b"The Alliance" in response.content

    def test_a_failed_if_match_is_412_and_not_cached(self, anonymous, paper):
        response = anonymous.get("/papers/deterrence/", headers={"If-Match": '"other"'})
        assert response.status_code == 412
        assert not response.has_header("ETag")

    def test_a_signed_in_reader_always_gets_a_private_fresh_page(self, anonymous, paper, editor):
        etag = anonymous.get("/papers/deterrence/")["ETag"]
        signed_in = Client()
        signed_in.force_login(editor)
        response = signed_in.get("/papers/deterrence/", headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert response["Cache-Control"] == "private"
        assert not response.has_header("ETag")
        assert not response.has_header("Last-Modified")
        assert b"Sign out" in response.content


class TestSettings:
    def show(self, tmp_path, code, **env):
        result = run(
            "manage.py", "shell", "-v", "0", "-c", code, env=production_env(tmp_path, **env)
        )
        assert result.returncode == 0, result.stderr
        return result

    def cache_and_sessions(self, tmp_path, **env):
        code = (
            "from django.conf import settings as s; cache = s.CACHES['default']; "
            "print(cache['BACKEND'], cache.get('LOCATION', '-'), s.SESSION_ENGINE)"
        )
        return self.show(tmp_path, code, **env).stdout.split()

    def test_without_redis_caches_are_local_and_sessions_are_read_from_the_database(self, tmp_path):
        assert self.cache_and_sessions(tmp_path) == [
            "django.core.cache.backends.locmem.LocMemCache",
            "-",
            "django.contrib.sessions.backends.db",
        ]

    def test_with_redis_the_cache_is_shared_and_sessions_stay_in_the_database(self, tmp_path):
        assert self.cache_and_sessions(tmp_path, REDIS_URL="redis://cache.internal:6379/1") == [
            "django.core.cache.backends.redis.RedisCache",
            "redis://cache.internal:6379/1",
            "django.contrib.sessions.backends.db",
        ]

    def test_logs_are_one_json_line_each_on_stderr_at_the_chosen_level(self, tmp_path):
        code = (
            "import logging; log = logging.getLogger('papers'); "
            "log.info('not shown'); log.warning('shown: %s', 'yes')"
        )
        result = self.show(tmp_path, code, DJANGO_LOG_LEVEL="warning")
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        entry = json.loads(line)
        assert (entry["level"], entry["logger"], entry["message"]) == (
            "WARNING",
            "papers",
            "shown: yes",
        )

    def test_a_traceback_stays_on_its_line(self):
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            record = logging.LogRecord(
                "papers", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
            )
        line = OneLineJSONFormatter().format(record)
        assert "\n" not in line
        assert "ValueError: bad" in json.loads(line)["exception"]


class TestGunicornConfig:
    def config(self, monkeypatch, **env):
        for name in ("GUNICORN_BIND", "PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    def test_it_serves_loopback_by_default(self, monkeypatch):
        conf = self.config(monkeypatch)
        assert conf["bind"] == ["127.0.0.1:8000"]
        assert conf["worker_class"] == "gthread"
        assert 3 <= conf["workers"] <= 8
        assert conf["timeout"] == 30
        assert conf["max_requests_jitter"] > 0
        assert conf["accesslog"] == "-"

    def test_a_platform_port_listens_on_every_interface(self, monkeypatch):
        assert self.config(monkeypatch, PORT="5000")["bind"] == ["0.0.0.0:5000"]

    def test_an_explicit_bind_wins(self, monkeypatch):
        conf = self.config(monkeypatch, PORT="5000", GUNICORN_BIND="10.0.0.5:8000, unix:/run/sp")
        assert conf["bind"] == ["10.0.0.5:8000", "unix:/run/sp"]

    def test_workers_and_threads_come_from_the_environment(self, monkeypatch):
        conf = self.config(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="4")
        assert (conf["workers"], conf["threads"]) == (3, 4)

    def test_a_malformed_number_stops_start_up(self, monkeypatch):
        with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
            self.config(monkeypatch, WEB_CONCURRENCY="many")

    @needs_gunicorn
    def test_gunicorn_accepts_the_config_and_loads_the_app(self, tmp_path):
        result = run(
            "-m", "gunicorn", "--check-config", "-c", "gunicorn.conf.py", "config.wsgi",
            env=production_env(tmp_path),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr


@needs_gunicorn
def test_gunicorn_serves_health_pages_and_static_files(tmp_path):
    """A production-like server: DEBUG off, a migrated database, collected static files, one
    gthread worker on a free local port. Stopped within seconds, whatever happens."""
    # STATIC_ROOT is fixed in settings (BASE_DIR/staticfiles); a settings module of this test's
    # own collects into a temporary directory instead of the project's.
    (tmp_path / "smoke_settings.py").write_text(
        f"from config.settings import *  # noqa: F403\nSTATIC_ROOT = {str(tmp_path / 'static')!r}\n"
    )
    port = unused_port()
    env = production_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="smoke_settings",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        STANDPOINT_METRICS_TOKEN="smoke-test-token",
    )
    for command in (["migrate", "--no-input"], ["collectstatic", "--no-input"]):
        result = run("manage.py", *command, env=env)
        assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    stylesheet = manifest["css/standpoint.css"]

    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers stop with it
        )
    try:
        # "Listening at" means this server holds the port, not some other process.
        deadline = time.monotonic() + 30
        while f"Listening at: {base}" not in log.read_text():
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        with urllib.request.urlopen(f"{base}/healthz", timeout=20) as health_response:
            assert health_response.status == 200
            assert json.load(health_response) == {"status": "ok"}
            assert "no-store" in health_response.headers["Cache-Control"]
        with urllib.request.urlopen(f"{base}/", timeout=5) as home:
            assert home.status == 200
            assert f"/static/{stylesheet}" in home.read().decode()
        request = urllib.request.Request(
            f"{base}/static/{stylesheet}", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=5) as css:
            assert css.status == 200
            assert css.headers["Content-Type"].startswith("text/css")
            assert css.headers["Content-Encoding"] == "gzip"
            assert "immutable" in css.headers["Cache-Control"]
            assert "camera=()" in css.headers["Permissions-Policy"]  # every response has it
        # Both workers' figures, whichever of them answers the scrape (multiprocess mode).
        scrape = urllib.request.Request(
            f"{base}/metrics", headers={"Authorization": "Bearer smoke-test-token"}
        )
        for _ in range(4):
            with urllib.request.urlopen(scrape, timeout=5) as metrics:
                families = text_string_to_metric_families(metrics.read().decode())
                counts = {
                    sample.labels["view"]: sample.value
                    for family in families
                    for sample in family.samples
                    if sample.name == "standpoint_request_seconds_count"
                }
            assert counts["healthz"] == 1
            assert counts["papers:home"] == 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    access = [line for line in log.read_text().splitlines() if "GET /healthz" in line]
    assert access and '" 200 ' in access[0]
