"""load_demo: the demo paper with its claims, accounts, and a second run that changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from papers import permissions
from papers.models import Claim, Paper, Version

pytestmark = pytest.mark.django_db


def load_demo(**options):
    out = StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def test_it_is_refused_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published passwords"):
        load_demo()
    assert not get_user_model().objects.exists()
    assert "Demo account editor" in load_demo(force=True)


def test_it_loads_a_published_paper_with_claims_of_every_kind(settings):
    settings.DEBUG = True
    out = load_demo()
    paper = Paper.objects.get(slug="baltic-states-nato")
    assert paper.live_version.number == 1
    claims = Claim.objects.filter(paper=paper)
    assert claims.count() >= 12
    assert set(claims.values_list("kind", flat=True)) == set(Claim.Kind.values)
    assert all(claim.tags.exists() for claim in claims)
    assert claims.filter(sources__isnull=False).exists()
    assert "standpoint-editor" in out and "/papers/baltic-states-nato/" in out


def test_the_demo_accounts_have_their_roles(settings):
    settings.DEBUG = True
    load_demo()
    editor = get_user_model().objects.get(username="editor")
    reviewer = get_user_model().objects.get(username="reviewer")
    assert permissions.is_editor(editor)
    assert not permissions.is_editor(reviewer)
    assert reviewer.groups.filter(name=permissions.REVIEWERS).exists()
    assert Client().login(username="editor", password="standpoint-editor")


def test_a_second_run_changes_nothing(settings):
    settings.DEBUG = True
    load_demo()
    counts = (Paper.objects.count(), Claim.objects.count(), Version.objects.count())
    out = load_demo()
    assert "nothing changed" in out
    assert (Paper.objects.count(), Claim.objects.count(), Version.objects.count()) == counts
    assert get_user_model().objects.count() == 2


def test_the_demo_paper_page_shows_every_claim_marked(settings):
    settings.DEBUG = True
    load_demo()
    html = Client().get("/papers/baltic-states-nato/").content.decode()
    assert html.count('<sup class="claim-ref">') == Claim.objects.count()
