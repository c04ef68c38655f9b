"""An editor drops images into a section in the admin, in a real browser (`pytest -m browser`):
markdownx's own script sends them to our upload (R22), and the stored image is served (R23)."""

import base64
import io
import re

import pytest
from django.core.management import call_command
from PIL import Image

from tests.browser.test_editing import sign_in_as_editor

PAPER = "Is There a Chance of the Baltic States Leaving NATO"
SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

# Drops a file on the textarea as a desktop drag would; markdownx's widget has no file input.
DROP = """(textarea, [name, type, base64]) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, {type}));
    textarea.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
}"""


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", force=True, stdout=io.StringIO())
    return settings.MEDIA_ROOT


def open_section_editor(page, live_server):
    sign_in_as_editor(page, live_server)
    page.goto(live_server.url + "/admin/papers/paper/")
    page.get_by_role("link", name=PAPER).click()
    # The first section's own page, loaded: markdownx's script listens for drops once the
    # document has loaded, and a drop before that would fall on a bare textarea.
    with page.expect_navigation(wait_until="load"):
        page.locator("#outline tbody th a").first.click()
    return page.locator("textarea.markdownx-editor")


def drop(body, name, content_type, content):
    body.evaluate(DROP, [name, content_type, base64.b64encode(content).decode()])


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "teal").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.browser
def test_a_dropped_image_is_uploaded_inserted_and_served(demo, live_server, page, expect):
    body = open_section_editor(page, live_server)
    drop(body, "figure.html", "text/html", png())  # named .html: stored as .png all the same
    code = re.compile(r"!\[\]\((/media/uploads/\d{4}/\d{2}/[\w-]+\.png)\)")
    expect(body).to_have_value(code)
    url = code.search(body.input_value()).group(1)
    # The preview renders the image from our own origin, which the site's CSP allows.
    image = page.locator(".markdownx-preview").locator(f'img[src="{url}"]')
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 60
    # Django's live server answers /media/ itself (not through our view, whose headers
    # tests/test_uploads.py checks), as a proxy would in production.
    served = page.request.get(live_server.url + url)
    assert served.status == 200
    assert served.headers["content-type"] == "image/png"


@pytest.mark.browser
def test_a_dropped_svg_is_refused_and_nothing_stored(demo, live_server, page, expect):
    body = open_section_editor(page, live_server)
    before = body.input_value()
    with page.expect_response(lambda response: "/admin/markdown-upload/" in response.url) as sent:
        drop(body, "chart.svg", "image/svg+xml", SVG.encode())
    assert sent.value.status == 400
    # The reason shows next to the editor, and the text stays as it was (markdownx's widget
    # would have written "Invalid response" into it).
    expect(page.get_by_role("alert")).to_contain_text("SVG")
    expect(body).to_have_value(before)
    # Nothing among the uploads (the demo's versions have their PDFs in media/pdfs/).
    assert not [path for path in (demo / "uploads").rglob("*") if path.is_file()]
    # The next image that goes through clears the reason.
    drop(body, "figure.png", "image/png", png())
    expect(body).to_have_value(re.compile(r"!\[\]\(/media/uploads/"))
    expect(page.get_by_role("alert")).to_have_count(0)
