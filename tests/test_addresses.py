"""`{% fixed_url %}` (papers/templatetags/addresses.py): the frame's links, reversed once per
process, still follow the script prefix a deployment runs under."""

import pytest
from django.template import Context, Template
from django.urls import clear_script_prefix, set_script_prefix

pytestmark = pytest.mark.django_db

LINK = Template("{% load addresses %}{% fixed_url 'papers:list' %}")


def rendered():
    return LINK.render(Context())


def test_it_gives_the_address_url_gives():
    assert rendered() == Template("{% url 'papers:list' %}").render(Context()) == "/papers/"


def test_it_follows_the_script_prefix():
    try:
        set_script_prefix("/standpoint/")
        assert rendered() == "/standpoint/papers/"
    finally:
        clear_script_prefix()
    assert rendered() == "/papers/"


def test_every_page_s_frame_links_where_url_would(client):
    html = client.get("/papers/").content.decode()
    for name, address in [("papers:home", "/"), ("papers:claims", "/claims/"), ("feed", "/feed/")]:
        assert f'href="{address}"' in html, name
