"""Odd values in any URL or query parameter answer 404 (or the page's usual answer), never 500.

Every route of config.urls is walked, its parameters filled with real values from the demo, then
each parameter in turn replaced by an odd one: numbers too large for the database, negative
numbers, non-ASCII digits, NUL, a 10,000-character string, `../`. Every query parameter a view of
`papers/` reads gets the same values. Nothing may answer 500 or show a traceback, whoever asks.
New routes and new query parameters are covered without changing this file.
"""

import inspect
import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from papers.converters import DATABASE_INT_MAX, natural_number
from papers.models import Comment, Paper, Section
from papers.views import claims, forecasts

pytestmark = pytest.mark.django_db

PAPERS = Path(__file__).resolve().parents[1] / "papers"
ODD_VALUES = [
    "99999999999999999999999",  # beyond any database integer
    "-1",
    "²",  # a digit to str.isdigit(), not to int()
    "١٢",  # Arabic-Indic twelve: int() reads it, a route's [0-9] does not
    "\x00",
    "x" * 10_000,
    "../",
]
PERSONAS = ["anonymous", "reviewer", "editor"]  # load_demo's accounts
# Admin views Django itself writes: their POST deletes or saves whatever the id names.
DJANGO_ADMIN_VIEWS = re.compile(r"_(add|change|delete|history|changelist)$|^(index|login|logout)")
ADMIN_FORM_VIEWS = {"add_view", "change_view", "changelist_view"}
# Actions whose POST signs out or counts towards a sign-in lockout.
NOT_POSTED = {"logout", "login", "password_reset", "admin_password_reset", "password_change"}
GET_READ = re.compile(r"\bGET(?:\.get|\.getlist)?\(\s*[\"'](\w+)[\"']|\bGET\[\s*[\"'](\w+)[\"']")
GET_READ_INDIRECTLY = re.compile(
    r"\bGET(?:\.get|\.getlist)?\(\s*[^\"'\s)]|\bGET\[\s*[^\"'\s]|\bGET\.(?:items|keys|lists|dict)\("
)
# Files that read query parameters by a computed name, and the names they read.
READ_INDIRECTLY = {"views/claims.py": claims.FILTERS, "views/forecasts.py": forecasts.FILTERS}
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


# --- The routes and the parameters they read ----------------------------------------------------


def routes(patterns=None, prefix=""):
    """(route text with its parameters, URLPattern) for every route of config.urls."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            yield text, pattern


def view_source_files(callback):
    """The files defining a route's view: its function, and for the admin's forms its
    ModelAdmin's class too (they call the class's get_form, get_queryset and the like)."""
    view = inspect.unwrap(callback)
    owner = getattr(view, "__self__", None)
    targets = [getattr(view, "__func__", view), getattr(view, "view_class", None)]
    if owner is not None and view.__name__ in ADMIN_FORM_VIEWS:
        targets.append(type(owner))
    files = set()
    for target in filter(None, targets):
        try:
            files.add(Path(inspect.getsourcefile(target)).resolve())
        except TypeError:
            continue
    return files


def query_parameters_read(path):
    """The names of the query parameters a file of papers/ reads from request.GET."""
    if not path.is_relative_to(PAPERS):
        return set()
    source = path.read_text(encoding="utf-8")
    names = {a or b for a, b in GET_READ.findall(source)}
    if GET_READ_INDIRECTLY.search(source):
        key = path.relative_to(PAPERS).as_posix()
        assert key in READ_INDIRECTLY, f"{key} reads request.GET by a computed name: add it above"
        names |= set(READ_INDIRECTLY[key])
    return names


def view_query_parameters(callback):
    return set().union(*(query_parameters_read(f) for f in view_source_files(callback)))


@pytest.fixture
def demo():
    """The demo (two versions, a review with threads), and a good value for every parameter."""
    call_command("load_demo", force=True, stdout=io.StringIO())
    paper = Paper.objects.get(slug="baltic-states-nato")
    claim = paper.claims.order_by("pk").first()
    section = Section.objects.filter(paper=paper).order_by("position").first()
    comment = Comment.objects.filter(claim__paper=paper).order_by("pk").first()
    good = {
        "slug": paper.slug,
        "number": "1",
        "a": "1",
        "b": "2",
        "fmt": "json",
        "public_id": claim.public_id,
        "comment_id": str(comment.pk),
        "token": "no-such-link",
        "action": "publish",
        "object_id": str(paper.pk),
        "content_type_id": "1",
        "section_id": str(section.pk),
        "claim_id": str(claim.pk),
        "link_id": "1",
        "anchor": section.anchor,
        "id": "1",
        "app_label": "papers",
        "url": "nothing-here/",
        "uidb64": "MQ",
        "path": "uploads/none.png",
    }
    return good


def clients():
    users = get_user_model().objects
    result = {"anonymous": Client()}
    for name in ("reviewer", "editor"):
        result[name] = Client()
        result[name].force_login(users.get(username=name))
    return result


def fill(route, good, odd_name=None, odd=None):
    def value(match):
        name = match.group(2) or match.group(3)
        if name not in good:
            raise KeyError(f"No good value for <{name}> in {route}: add one to demo() above")
        return quote(odd if name == odd_name else good[name], safe="")

    return "/" + PARAMETER.sub(value, route)


def parameter_names(route):
    return [m.group(2) or m.group(3) for m in PARAMETER.finditer(route)]


def ask(client, method, url, data, failures, persona):
    try:
        response = getattr(client, method)(url, data)
    except Exception as error:  # the test client re-raises what would have been a 500
        failures.append(f"{persona} {method.upper()} {url[:120]} {data!s:.80}: {error!r:.300}")
        return
    body = response.content[:200_000]
    if response.status_code >= 500 or b"Traceback" in body:
        failures.append(
            f"{persona} {method.upper()} {url[:120]} {data!s:.80}: {response.status_code}"
        )


def report(failures):
    return f"{len(failures)} odd requests failed:\n" + "\n".join(failures[:40])


# --- Tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_odd_values_in_url_parameters_never_answer_500(persona, demo):
    client, failures, asked = clients()[persona], [], 0
    for route, pattern in routes():
        names = parameter_names(route)
        posted = pattern.name not in NOT_POSTED and not (
            route.startswith("admin/") and DJANGO_ADMIN_VIEWS.search(pattern.name or "index")
        )
        for name in names:
            for odd in ODD_VALUES:
                url = fill(route, demo, name, odd)
                ask(client, "get", url, None, failures, persona)
                if posted:
                    ask(client, "post", url, {}, failures, persona)
                asked += 1
    assert asked > 200, "The walk found too few parameters: did the routes change shape?"
    assert not failures, report(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_odd_values_in_query_parameters_never_answer_500(persona, demo):
    client, failures, walked = clients()[persona], [], set()
    for route, pattern in routes():
        names = view_query_parameters(pattern.callback)
        if not names or (route.startswith("admin/") and persona != "editor"):
            continue  # the admin sends anyone else to its sign-in page before reading anything
        url = fill(route, demo)
        for name in sorted(names):
            walked.add(name)
            for odd in ODD_VALUES:
                ask(client, "get", url, {name: odd}, failures, persona)
    assert {"page", "part", "q", "tag", "kind", "status"} <= walked
    assert persona != "editor" or {"paper", "since"} <= walked  # the admin's own
    assert not failures, report(failures)


def test_every_query_parameter_papers_reads_is_walked():
    """A parameter read outside a view's own file (a helper module) would escape the walk above:
    this names it, so that the walk learns where it is read."""
    read = {}
    for path in PAPERS.rglob("*.py"):
        for name in query_parameters_read(path.resolve()):
            read.setdefault(name, set()).add(path.relative_to(PAPERS).as_posix())
    walked = set()
    for _, pattern in routes():
        walked |= view_query_parameters(pattern.callback)
    missing = {name: files for name, files in read.items() if name not in walked}
    assert not missing, f"Query parameters read outside any routed view's file: {missing}"


def test_a_part_in_non_ascii_digits_opens_the_workspace_as_without_one(demo):
    reviewer = clients()["reviewer"]
    plain = reviewer.get(f"/review/{demo['slug']}/")
    for odd in ("²", "١٢", "99999999999999999999999", "-1"):
        response = reviewer.get(f"/review/{demo['slug']}/", {"part": odd})
        assert response.status_code == 200
        assert response.context["part"] == plain.context["part"]


def test_a_diff_of_a_version_number_too_large_for_the_database_is_404(demo):
    response = Client().get(f"/papers/{demo['slug']}/diff/1/99999999999999999999999/")
    assert response.status_code == 404
    assert Client().get(f"/papers/{demo['slug']}/diff/1/{DATABASE_INT_MAX + 1}/").status_code == 404
    assert Client().get(f"/papers/{demo['slug']}/diff/1/2/").status_code == 200


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/claims/%00/", {}),
        ("/claims/", {"tag": "\x00"}),
        ("/papers/", {"tag": "nato\x00"}),
        ("/papers/", {"q": "\x00nato"}),
        ("/review/", {"part": "\x00"}),
    ],
)
def test_a_nul_in_the_address_is_refused_before_any_view(demo, path, query):
    """PostgreSQL refuses NUL in every query: any address holding one is a 400 for everyone."""
    for persona in PERSONAS:
        response = clients()[persona].get(path, query)
        assert response.status_code == 400, persona
        assert response.content.decode() == "An address cannot hold a NUL character."
        assert response["Permissions-Policy"]


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("1", 1),
        ("12", 12),
        (str(DATABASE_INT_MAX), DATABASE_INT_MAX),
        (str(DATABASE_INT_MAX + 1), None),
        ("99999999999999999999999", None),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("١٢", None),
        (" 1", None),
        ("", None),
        (None, None),
    ],
)
def test_natural_number_takes_ascii_digits_that_fit_the_database(value, number):
    assert natural_number(value) == number
