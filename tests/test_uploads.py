"""Editors' image uploads through the markdownx editor (R22, R7) and how media is served (R23)."""

import os
import re
import struct
import time
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, PngImagePlugin

from papers import typesetting, uploads

UPLOAD = "/admin/markdown-upload/"
IMAGE_CODE = re.compile(r"!\[\]\((/media/uploads/\d{4}/\d{2}/[\w-]{22}\.(\w+))\)")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def stored(media_root):
    return [path for path in media_root.rglob("*") if path.is_file()]


def encoded(image, pillow_format, **options):
    buffer = BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


def picture(size=(40, 30)):
    return Image.new("RGB", size, "teal")


def upload_of(content, name="figure.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_header_only(width, height):
    """A PNG of a few hundred bytes that claims width × height one-bit pixels, all zero: small on
    disk, huge once decoded (a decompression bomb)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\0" * ((width + 7) // 8 + 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


def post_image(client, upload):
    return client.post(UPLOAD, {"image": upload})


def stored_image(editor_client, media_root, upload):
    """Upload as an editor; the stored file's path and the extension in the returned URL."""
    response = post_image(editor_client, upload)
    assert response.status_code == 200, response.content
    url, extension = IMAGE_CODE.fullmatch(response.json()["image_code"]).groups()
    path = media_root / url.removeprefix("/media/")
    assert stored(media_root) == [path]
    return path, extension


# --- What is accepted, and what is stored (R22) ----------------------------------------------


@pytest.mark.parametrize(
    ("pillow_format", "extension"),
    [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif")],
)
def test_each_format_is_stored_re_encoded_under_its_own_extension(
    editor_client, media_root, pillow_format, extension
):
    """R22: bytes appended after a valid image (here a script) do not survive re-encoding."""
    content = encoded(picture(), pillow_format) + b"<script>alert(1)</script>"
    path, url_extension = stored_image(editor_client, media_root, upload_of(content))
    assert url_extension == path.suffix[1:] == extension
    assert b"<script>" not in path.read_bytes()
    with Image.open(path) as image:
        assert (image.format, image.size) == (pillow_format, (40, 30))


def test_a_png_named_html_is_stored_as_png(editor_client, media_root):
    """R22: the extension comes from the detected format, never from the name or content type."""
    upload = upload_of(encoded(picture(), "PNG"), name="x.html", content_type="text/html")
    path, extension = stored_image(editor_client, media_root, upload)
    assert extension == "png"
    assert path.suffix == ".png"


def test_stored_names_are_random(editor_client, media_root):
    first = post_image(editor_client, upload_of(encoded(picture(), "PNG"), name="same.png"))
    second = post_image(editor_client, upload_of(encoded(picture(), "PNG"), name="same.png"))
    assert first.json()["image_code"] != second.json()["image_code"]
    assert not any("same" in path.name for path in stored(media_root))


def test_exif_and_comments_are_stripped_and_the_photo_turned_upright(editor_client, media_root):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    content = encoded(picture((40, 30)), "JPEG", exif=exif, comment=b"Shot at home")
    path, _ = stored_image(editor_client, media_root, upload_of(content, "photo.jpg"))
    data = path.read_bytes()
    assert b"Camera maker" not in data
    assert b"Shot at home" not in data
    with Image.open(path) as image:
        assert dict(image.getexif()) == {}
        assert image.size == (30, 40)


def test_png_text_chunks_are_stripped(editor_client, media_root):
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Someone private")
    content = encoded(picture(), "PNG", pnginfo=text)
    path, _ = stored_image(editor_client, media_root, upload_of(content))
    assert b"Someone private" not in path.read_bytes()


def test_an_animated_gif_stays_animated_with_its_timing(editor_client, media_root):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "green", "blue")]
    content = encoded(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0
    )
    path, _ = stored_image(editor_client, media_root, upload_of(content, "anim.gif"))
    with Image.open(path) as image:
        durations = []
        for number in range(image.n_frames):
            image.seek(number)
            durations.append(image.info["duration"])
        assert image.info["loop"] == 0
    assert durations == [100, 200, 300]


def test_the_upload_is_logged_with_the_editor(editor_client, media_root, caplog):
    caplog.set_level("INFO", logger="papers.uploads")
    stored_image(editor_client, media_root, upload_of(encoded(picture(), "PNG")))
    assert [record.getMessage() for record in caplog.records][0].startswith(
        "image uploaded by editor: uploads/"
    )


# --- What is refused: 400, one message, nothing stored (R22) ---------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.parametrize(
    ("content", "name", "content_type", "message"),
    [
        pytest.param(SVG, "chart.svg", "image/svg+xml", uploads.NOT_AN_IMAGE, id="svg-with-script"),
        pytest.param(HTML, "chart.gif", "image/gif", uploads.NOT_AN_IMAGE, id="html-named-gif"),
        pytest.param(
            b"GIF89a<script>alert(1)</script>",
            "chart.gif",
            "image/gif",
            uploads.NOT_AN_IMAGE,
            id="gif-script-polyglot",
        ),
        pytest.param(
            encoded(picture(), "BMP"), "chart.png", "image/png", uploads.NOT_AN_IMAGE, id="bmp"
        ),
        pytest.param(b"", "empty.png", "image/png", uploads.NOT_AN_IMAGE, id="empty"),
        pytest.param(
            encoded(picture((400, 300)), "PNG")[:300],
            "cut.png",
            "image/png",
            uploads.DAMAGED,
            id="truncated-png",
        ),
        pytest.param(
            encoded(picture((400, 300)), "JPEG")[:-200],
            "cut.jpg",
            "image/jpeg",
            uploads.DAMAGED,
            id="truncated-jpeg",
        ),
        pytest.param(
            png_header_only(6_000, 6_000),  # 36 million pixels: over our limit, under Pillow's
            "bomb.png",
            "image/png",
            uploads.TOO_MANY_PIXELS,
            id="bomb-over-our-limit",
        ),
        pytest.param(
            png_header_only(20_000, 20_000),  # 400 million: Pillow refuses it on opening
            "bomb.png",
            "image/png",
            uploads.TOO_MANY_PIXELS,
            id="bomb-over-pillows-limit",
        ),
    ],
)
def test_a_hostile_or_broken_file_is_refused_and_nothing_stored(
    editor_client, media_root, content, name, content_type, message
):
    """R22."""
    response = post_image(editor_client, upload_of(content, name, content_type))
    assert response.status_code == 400
    assert response.json() == {"image": [message]}
    assert stored(media_root) == []


def test_a_truncated_image_is_refused_after_the_typesetter_is_loaded(editor_client, media_root):
    """R22: loading WeasyPrint (for a PDF) must not make uploads accept truncated images."""
    typesetting.available()
    content = encoded(picture((400, 300)), "JPEG")[:-200]
    response = post_image(editor_client, upload_of(content, "cut.jpg", "image/jpeg"))
    assert response.status_code == 400
    assert response.json() == {"image": [uploads.DAMAGED]}
    assert stored(media_root) == []


def test_a_long_animation_counts_all_its_frames_against_the_pixel_limit(editor_client, media_root):
    """R22: 40 frames of a million pixels each, 40 million in all, a few kilobytes on disk."""
    frames = [Image.new("P", (1000, 1000), number % 2) for number in range(40)]
    content = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert len(content) < 100_000
    response = post_image(editor_client, upload_of(content, "long.gif", "image/gif"))
    assert response.status_code == 400
    assert response.json() == {"image": [uploads.TOO_MANY_PIXELS]}
    assert stored(media_root) == []


def gif_of_frames(count):
    """A GIF of `count` one-pixel frames of 20 ms, black and white in turn (a stored copy keeps
    every frame), about 23 bytes a frame, written by hand: Pillow takes seconds to make 60,000."""
    header = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\0\0\0"

    def frame(pixel):
        return (
            b"!\xf9\x04\x04\x02\0\0\0"  # graphic control: 20 ms
            + b","
            + struct.pack("<HHHHB", 0, 0, 1, 1, 0)  # a 1 × 1 image
            + bytes([2, 2, 0x44 | pixel << 3, 1, 0])  # its pixel, LZW-coded: clear, pixel, end
        )

    black, white = frame(0), frame(1)
    return header + loop + (black + white) * (count // 2) + black * (count % 2) + b";"


def test_an_animation_of_60000_tiny_frames_is_refused_at_once(editor_client, media_root):
    """Far below the pixel limit (60,000 pixels in all), but 5 s to re-encode frame by frame."""
    content = gif_of_frames(60_000)
    assert len(content) > 1_000_000
    started = time.perf_counter()
    response = post_image(editor_client, upload_of(content, "long.gif", "image/gif"))
    assert time.perf_counter() - started < 1
    assert response.status_code == 400
    assert response.json() == {"image": [uploads.TOO_MANY_FRAMES]}
    assert stored(media_root) == []


def test_an_animation_may_have_200_frames_not_201(editor_client, media_root):
    path, extension = stored_image(
        editor_client, media_root, upload_of(gif_of_frames(200), "ok.gif", "image/gif")
    )
    with Image.open(path) as image:
        assert (extension, image.n_frames) == ("gif", 200)
    response = post_image(editor_client, upload_of(gif_of_frames(201), "no.gif", "image/gif"))
    assert response.status_code == 400
    assert response.json() == {"image": [uploads.TOO_MANY_FRAMES]}


def test_a_file_over_5_mb_is_refused_before_decoding(editor_client, media_root):
    """R22: a valid PNG of noise (which does not compress) just over the 5 MB limit."""
    noise = Image.frombytes("RGB", (1400, 1300), os.urandom(1400 * 1300 * 3))
    content = encoded(noise, "PNG", compress_level=0)
    assert 5 * 1024 * 1024 < len(content) < 6 * 1024 * 1024
    response = post_image(editor_client, upload_of(content))
    assert response.status_code == 400
    assert response.json()["image"][0].endswith("an image may be at most 5.0\xa0MB.")
    assert stored(media_root) == []


def test_the_size_limit_is_a_setting(editor_client, media_root, settings):
    content = encoded(picture(), "PNG")
    settings.STANDPOINT_UPLOAD_MAX_BYTES = len(content) - 1
    response = post_image(editor_client, upload_of(content))
    assert response.status_code == 400
    assert stored(media_root) == []


def test_a_post_without_a_file_is_refused(editor_client, media_root):
    response = editor_client.post(UPLOAD, {"file": upload_of(encoded(picture(), "PNG"))})
    assert response.status_code == 400
    assert response.json() == {"image": [uploads.NO_FILE]}
    assert stored(media_root) == []


# --- Who may upload, and how (R7) ------------------------------------------------------------


def test_anonymous_upload_is_sent_to_sign_in_and_stores_nothing(db, media_root):
    """R7."""
    response = post_image(Client(), upload_of(encoded(picture(), "PNG")))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/markdown-upload/")
    assert stored(media_root) == []


@pytest.mark.parametrize("persona", ["reviewer", "outsider"])
def test_a_signed_in_non_editor_is_refused_and_nothing_stored(request, media_root, persona):
    """R7: signed in is not enough; only editors reach the upload."""
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    response = post_image(client, upload_of(encoded(picture(), "PNG")))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert stored(media_root) == []


def test_an_upload_without_a_csrf_token_is_refused(editor, media_root):
    """R7, R8: the enforcing client, signed in as an editor, without a token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = post_image(client, upload_of(encoded(picture(), "PNG")))
    assert response.status_code == 403
    assert stored(media_root) == []


def test_the_upload_takes_only_post(editor_client, media_root):
    assert editor_client.get(UPLOAD).status_code == 405


# --- How media is served (R23) ---------------------------------------------------------------


def test_an_uploaded_image_is_served_inline_and_inert(editor_client, media_root):
    """R23."""
    content = encoded(picture(), "PNG")
    response = post_image(editor_client, upload_of(content))
    url, _ = IMAGE_CODE.fullmatch(response.json()["image_code"]).groups()
    served = Client().get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'"
    assert served["Content-Disposition"].startswith("inline")
    assert b"".join(served.streaming_content) == (media_root / url[len("/media/") :]).read_bytes()


def test_a_file_that_is_not_an_image_is_only_ever_downloaded(db, media_root):
    """R23: whatever else lands in MEDIA_ROOT is never shown as a page."""
    (media_root / "uploads").mkdir()
    (media_root / "uploads" / "page.html").write_bytes(HTML)
    served = Client().get("/media/uploads/page.html")
    assert served.status_code == 200
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'"


@pytest.mark.parametrize(
    "url",
    [
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/uploads/../../secret.txt",
        "/media/{outside}",
        "/media/link-out",
        "/media/missing.png",
        "/media/uploads/",
        "/media/a%00b.png",
    ],
)
def test_nothing_outside_media_root_is_served(db, media_root, url):
    """R23: no path, encoded or absolute, and no symbolic link leads out of MEDIA_ROOT."""
    secret = media_root.parent / "secret.txt"
    secret.write_text("not for readers")
    (media_root / "uploads").mkdir()
    (media_root / "link-out").symlink_to(secret)
    response = Client().get(url.format(outside=secret))
    assert response.status_code == (400 if "%00" in url else 404)  # NUL: refused before a view
    assert b"not for readers" not in b"".join(getattr(response, "streaming_content", [b""]))


def test_media_takes_only_get_and_head(db, media_root):
    (media_root / "figure.png").write_bytes(encoded(picture(), "PNG"))
    assert Client().head("/media/figure.png").status_code == 200
    assert Client().post("/media/figure.png").status_code == 405
