"""A database that drops away (a restart, a failover): reads are tried once more, and what still
cannot be answered is a 503 with Retry-After, never a 500; writes are never tried twice."""

import pytest
from django.db import OperationalError, connection
from django.test import Client

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
