"""Images that editors upload into papers: what is accepted, and how it is stored (SECURITY R22).

Nothing about an upload is believed but its pixels. Pillow, limited to the four formats we take,
detects the format (never from the file's name or the browser's content type) and decodes the
whole image; what is stored is a fresh encoding of those pixels, under a random name whose
extension comes from the detected format. Metadata is not carried over (EXIF with its GPS
position and camera serial, XMP, text chunks, comments); the colour profile is, as colours
shift without it.

Animations stay animated (GIF, and animated PNG and WebP): every frame is decoded and
re-encoded with its duration. The pixel limit counts all frames, so a long animation of small
frames cannot stand in for a huge image; and an animation may have at most MAX_FRAMES frames,
counted without reading past the limit, since re-encoding costs time per frame however small.
"""

import logging
import secrets
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

# Pillow's name for a detected format → (the format it is saved as, the stored extension).
# MPO is Pillow's name for a JPEG carrying extra pictures (many phone photos): only the first
# picture is kept, as a plain JPEG.
FORMATS = {
    "PNG": ("PNG", "png"),
    "JPEG": ("JPEG", "jpg"),
    "MPO": ("JPEG", "jpg"),
    "WEBP": ("WEBP", "webp"),
    "GIF": ("GIF", "gif"),
}
# Only these decoders ever see an upload: none of Pillow's other formats (EPS, which runs
# Ghostscript, among them) is even tried.
DECODERS = ["PNG", "JPEG", "WEBP", "GIF"]
ANIMATED = {"PNG", "WEBP", "GIF"}
# A 6,000 × 5,000 photo: 120 MB once decoded as RGBA, about as much as one request should hold.
# Pillow's own limit (Image.MAX_IMAGE_PIXELS, about 89 million) is three times higher.
MAX_PIXELS = 30_000_000
# Ten seconds at 20 frames a second. A 1.4 MB GIF of 60,000 one-pixel frames is far below the
# pixel limit, yet took 5 s to re-encode.
MAX_FRAMES = 200
# What a stored copy keeps of the original's info: how to draw it, not who made it, when or where.
DRAWING_INFO = {"transparency", "duration", "loop", "background"}

NO_FILE = "No image was uploaded."
NOT_AN_IMAGE = "The file is not a PNG, JPEG, WebP or GIF image (SVG is not accepted)."
TOO_MANY_PIXELS = "The image is too large: at most 30 million pixels, all frames together."
TOO_MANY_FRAMES = f"The animation is too long: at most {MAX_FRAMES} frames."
DAMAGED = "The image is damaged or incomplete and could not be read."

log = logging.getLogger(__name__)


def store_image(upload, *, by):
    """Check an editor's upload and store a clean copy of it; return the copy's URL.

    Raises ValidationError, with one message for the editor, and stores nothing, when the
    upload is missing, too big, not one of our formats or not decodable."""
    data, extension = clean_image(upload)
    name = f"uploads/{timezone.now():%Y/%m}/{secrets.token_urlsafe(16)}.{extension}"
    name = default_storage.save(name, ContentFile(data))
    log.info("image uploaded by %s: %s", by.get_username(), name)
    return default_storage.url(name)


def clean_image(upload):
    """The upload decoded and encoded again, and the extension for its format."""
    if upload is None:
        raise ValidationError(NO_FILE)
    limit = settings.STANDPOINT_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            f"The file is {filesizeformat(upload.size)}; "
            f"an image may be at most {filesizeformat(limit)}."
        )
    try:
        return _reencoded(upload.read())
    except UnidentifiedImageError:
        raise ValidationError(NOT_AN_IMAGE) from None
    except TooManyFrames:
        raise ValidationError(TOO_MANY_FRAMES) from None
    # The warning too, for when warnings are errors: Pillow warns before our check below runs.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(TOO_MANY_PIXELS) from None
    except Exception:
        # Pillow's decoders answer hostile or broken input with many kinds of exception
        # (OSError, SyntaxError, ValueError, struct.error …); all of them mean the same here.
        log.info("undecodable image upload", exc_info=True)
        raise ValidationError(DAMAGED) from None


def _reencoded(data):
    # verify() checks structure and checksums without decoding; it leaves the image unusable,
    # hence the second open.
    with Image.open(BytesIO(data), formats=DECODERS) as image:
        image.verify()
    with Image.open(BytesIO(data), formats=DECODERS) as image:
        save_as, extension = FORMATS[image.format]
        animated = image.format in ANIMATED and getattr(image, "is_animated", False)
        if animated and _has_frame(image, MAX_FRAMES):  # frames are counted from 0
            raise TooManyFrames
        frame_count = image.n_frames if animated else 1
        if image.width * image.height * frame_count > MAX_PIXELS:
            raise Image.DecompressionBombError(f"{image.size} × {frame_count} frames")
        options = {"icc_profile": image.info["icc_profile"]} if "icc_profile" in image.info else {}
        if animated:
            frames = [_bare_copy(frame) for frame in ImageSequence.Iterator(image)]
        else:
            # Turned upright first, as the EXIF orientation tag goes with the rest of the EXIF.
            frames = [_bare_copy(ImageOps.exif_transpose(image))]

    first, *others = frames
    if others:
        options |= {
            "save_all": True,
            "append_images": others,
            "duration": [frame.info.get("duration", 100) for frame in frames],
        }
        if "loop" in first.info:
            options["loop"] = first.info["loop"]
    if save_as == "JPEG":
        options["quality"] = 90
    output = BytesIO()
    first.save(output, save_as, **options)
    return output.getvalue(), extension


class TooManyFrames(Exception):
    pass


def _has_frame(image, index):
    """Whether the animation has a frame at `index`, reading no frame beyond it (n_frames reads
    them all)."""
    try:
        image.seek(index)
    except EOFError:
        return False
    finally:
        image.seek(0)
    return True


def _bare_copy(frame):
    """A decoded copy of the frame, with no metadata beyond what drawing it needs."""
    copy = frame.copy()
    copy.info = {key: value for key, value in frame.info.items() if key in DRAWING_INFO}
    return copy
