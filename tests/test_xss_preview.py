"""XSS through the admin's Markdown preview and image upload (R7, R17, R22): the preview
returns exactly the public render, only to editors and only by POST; no upload stores an SVG.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from papers.rendering import render_markdown
from tests.xss import CORPUS

# --- R17 and R7: the admin preview ------------------------------------------------------------

PREVIEW = "/admin/markdown-preview/"


def is_login_redirect(response):
    """A 302 to the admin's or the site's login page, coming back to the preview afterwards."""
    location = urlsplit(response["Location"])
    login_pages = {reverse("admin:login"), resolve_url(settings.LOGIN_URL)}
    return (
        response.status_code == 302
        and location.path in login_pages
        and parse_qs(location.query).get("next") == [PREVIEW]
    )


@pytest.mark.parametrize("payload", CORPUS)
def test_preview_returns_exactly_the_public_render(editor_client, payload):
    """R17: what an editor previews is byte for byte what readers get."""
    response = editor_client.post(PREVIEW, {"content": payload})
    assert response.status_code == 200
    assert response.content.decode() == render_markdown(payload)


def test_anonymous_preview_is_redirected_to_login(db):
    """R7: the preview is behind the admin login."""
    assert is_login_redirect(Client().post(PREVIEW, {"content": "*x*"}))


@pytest.mark.parametrize("persona", ["outsider", "reviewer"])
def test_non_editor_cannot_use_the_preview(request, persona):
    """R7: logged in is not enough; only editors reach the preview."""
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    response = client.post(PREVIEW, {"content": "*x*"})
    assert response.status_code == 403 or is_login_redirect(response)
    assert b"<em>x</em>" not in response.content


def test_preview_refuses_get(editor_client):
    """R17: previews are POSTs under CSRF protection; a GET changes nothing and renders nothing."""
    assert editor_client.get(PREVIEW, {"content": "*x*"}).status_code == 405


@pytest.mark.parametrize("path", ["/admin/markdown-upload/", "/markdownx/upload/"])
@pytest.mark.parametrize("as_editor", [False, True])
def test_no_upload_path_stores_an_svg(request, settings, tmp_path, path, as_editor):
    """R7, R22: markdownx's own upload view is not routed, and ours (editors only) refuses an SVG
    with a 400: nobody writes a script into MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    client = request.getfixturevalue("editor_client") if as_editor else Client()
    image = SimpleUploadedFile("x.svg", b'<svg onload="alert(1)"/>', content_type="image/svg+xml")
    response = client.post(path, {"image": image})
    assert response.status_code in {302, 400, 403, 404, 405}
    if as_editor and path == "/admin/markdown-upload/":
        assert response.status_code == 400
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
