"""A database that drops away (a restart, a failover): reads are tried once more, and what still
cannot be answered is a 503 with Retry-After, never a 500; writes are never tried twice."""

import io
import re
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client

from config.wsgi import application

pytestmark = pytest.mark.django_db


class DropsAway:
    """Fails the first `failures` queries as the driver does when the server has gone, then lets
    every query through; counts the queries the request attempted."""

    def __init__(self, failures):
        self.failures = failures
        self.attempted = 0

    def __call__(self, execute, sql, params, many, context):
        self.attempted += 1
        if self.attempted <= self.failures:
            raise OperationalError("terminating connection due to administrator command")
        return execute(sql, params, many, context)


@pytest.fixture
def client(settings):
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/", "/papers/", "/papers/draft-on-deterrence/"])
def test_a_read_that_loses_the_database_is_answered_on_the_second_try(client, published, url):
    database = DropsAway(failures=1)
    with connection.execute_wrapper(database):
        response = client.get(url)
    assert response.status_code == 200
    assert "Retry-After" not in response
    assert database.attempted > 1


def test_a_read_is_tried_once_more_and_no_more(client, published, settings):
    settings.DATABASE_OUTAGE_WAIT = 0
    first_try = DropsAway(failures=1)
    with connection.execute_wrapper(first_try):
        client.get("/papers/")
    database = DropsAway(failures=10**6)
    with connection.execute_wrapper(database):
        response = client.get("/papers/draft-on-deterrence/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    # One query failed on each of the two tries: the first query of each run.
    assert database.attempted == 2


def test_a_write_that_loses_the_database_is_not_tried_again(client, editor):
    database = DropsAway(failures=1)
    with connection.execute_wrapper(database):
        response = client.post(
            "/accounts/login/", {"username": "editor", "password": "a long enough test passphrase"}
        )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "check whether it went through" in response.content.decode()
    assert database.attempted == 1
    assert "_auth_user_id" not in client.session


def test_a_bug_is_still_a_500_and_never_retried(client, published):
    database = DropsAway(failures=0)

    def broken(execute, sql, params, many, context):
        database.attempted += 1
        raise ValueError("a bug, not an outage")

    with connection.execute_wrapper(broken):
        response = client.get("/papers/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert database.attempted == 1


# --- A kept connection the server has closed (PostgreSQL) ---------------------------------------


class Server:
    """Django's WSGI application called as gunicorn calls it, request signals and all (unlike
    the test client, which keeps the test's connection open), with the cookies it sets."""

    def __init__(self):
        self.cookies = {}

    def __call__(self, path, method="GET", form=None):
        body = urlencode(form or {}).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "wsgi.input": io.BytesIO(body),
        }
        setup_testing_defaults(environ)
        replies = []
        chunks = application(environ, lambda status, headers: replies.append((status, headers)))
        content = b"".join(chunks)
        chunks.close()
        status, headers = replies[0]
        for name, value in headers:
            if name == "Set-Cookie":
                cookie = value.split(";", 1)[0]
                self.cookies[cookie.split("=", 1)[0]] = cookie.split("=", 1)[1]
        return int(status.split()[0]), content.decode()


def closed_by_the_server():
    """End the kept connection's server process, as a restart or an idle timeout would."""
    assert connection.connection is not None, "the request's connection was not kept"
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid]
            )
    finally:
        other.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a server that closes connections")
@pytest.mark.django_db(transaction=True)
class TestAClosedKeptConnection:
    @pytest.fixture(autouse=True)
    def _served(self, settings):
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = ["127.0.0.1"]

    def test_a_read_on_it_is_answered(self, published):
        server = Server()
        assert server("/papers/")[0] == 200
        closed_by_the_server()
        status, html = server(f"/papers/{published.slug}/")
        assert status == 200 and published.title in html

    def test_a_write_checks_it_first_and_goes_through(self, editor):
        server = Server()
        status, html = server("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        closed_by_the_server()
        status, _ = server(
            "/accounts/login/",
            method="POST",
            form={
                "username": "editor",
                "password": "a long enough test passphrase",
                "csrfmiddlewaretoken": token,
            },
        )
        assert status == 302  # signed in, not a 503
