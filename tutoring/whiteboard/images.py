"""Pictures on the whiteboard: check an upload by its content, re-encode it, store it.

Pure apart from the file system: the functions take bytes (or a folder) and return bytes
and sizes, so they are tested without an app. The view decides the limits from the config.

A phone photo arrives with EXIF: the camera's orientation, often GPS coordinates, the
device, the time. Re-encoding from the pixels keeps none of it (nor XMP, comments or the
ICC profile), after the orientation has been applied so the picture is upright.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from tutoring.validation import ValidationError

MAX_BYTES = 10 * 1024 * 1024
# 50 million pixels: a 48 MP phone camera still fits; Pillow's own alarm is at ~89 M.
MAX_PIXELS = 50_000_000
# The long side after scaling down: sharp on a 1600-unit page zoomed in, a few hundred kB.
MAX_SIDE = 2000
JPEG_QUALITY = 85
# A board page in board units (static/src/whiteboard/README.md).
PAGE_WIDTH = 1600
PAGE_HEIGHT = 1000

# Pillow calls a JPEG with extra pictures (depth maps of some phone cameras) "MPO".
PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG"})
PNG_ONLY = frozenset({"PNG"})

EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
# Names are made here, never taken from the upload: 22 URL-safe characters and a suffix.
STORED_NAME = re.compile(r"[A-Za-z0-9_-]{22}\.(?:jpg|png)")


class TooLarge(ValidationError):
    """The upload has more bytes than allowed (HTTP 413)."""

    def __init__(self, field: str, max_bytes: int) -> None:
        megabytes = max(1, max_bytes // (1024 * 1024))
        super().__init__(
            field, _l("The picture is too large: at most %(n)d MB.", n=megabytes), "too_large"
        )


@dataclass(frozen=True, slots=True)
class Encoded:
    """A re-encoded picture: the bytes to store and their size in pixels."""

    data: bytes
    format: str  # "JPEG" or "PNG"
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def read_limited(stream: io.BufferedIOBase, field: str, max_bytes: int = MAX_BYTES) -> bytes:
    """Return the stream's bytes, or raise TooLarge without reading much past the limit."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(field, max_bytes)
    return data


def reencode(
    raw: bytes,
    field: str,
    *,
    formats: frozenset[str] = PHOTO_FORMATS,
    keep_png: bool = False,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
) -> Encoded:
    """Return the picture in `raw` upright, scaled to `max_side`, without any metadata.

    Photos become JPEG; a picture with transparency (or any, with `keep_png`) stays PNG.
    Raises TooLarge, or ValidationError naming `field` for anything but an allowed picture.
    """
    if len(raw) > max_bytes:
        raise TooLarge(field, max_bytes)
    try:
        image = _open(raw, field, formats, max_pixels)
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size: a 48 MP photo never has to
        # sit in memory at full size when 2000 pixels are kept anyway.
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", (max_side, max_side))
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode == "I" or image.mode.startswith("I;16"):
            # 16-bit greyscale (some scanner apps): convert() would clip it, not scale it.
            image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        transparent = _has_transparency(image)
        image = image.convert("RGBA" if transparent else "RGB")
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(field) from error
    except Exception as error:
        # Truncated or corrupt data that the header did not give away: Pillow's decoders
        # raise OSError, SyntaxError, struct.error and more on hostile input.
        raise ValidationError(field, _l("The picture could not be read.")) from error
    as_png = keep_png or transparent
    # Nothing of the source travels on: EXIF, XMP, comments, ICC profile, PNG text chunks.
    image.info = {}
    out = io.BytesIO()
    if as_png:
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return Encoded(out.getvalue(), "PNG" if as_png else "JPEG", image.width, image.height)


def _open(raw: bytes, field: str, formats: frozenset[str], max_pixels: int) -> Image.Image:
    """Open the header only, refusing other formats and too many pixels before decoding."""
    wrong = (
        _l("Send a PNG picture.") if formats == PNG_ONLY else _l("Choose a PNG or JPEG picture.")
    )
    try:
        # Pillow warns about more than MAX_IMAGE_PIXELS and raises above twice that; both
        # are caught by the caller. Our own limit is never above Pillow's, so whatever Pillow
        # lets through with a warning is refused here all the same.
        # MPO has no opener of its own: the JPEG opener recognises it.
        image = Image.open(io.BytesIO(raw), formats=sorted(formats - {"MPO"}))
    except UnidentifiedImageError as error:
        raise ValidationError(field, wrong) from error
    if image.format not in formats:
        raise ValidationError(field, wrong)
    width, height = image.size
    if width < 1 or height < 1 or width * height > min(max_pixels, Image.MAX_IMAGE_PIXELS):
        raise _too_many_pixels(field)
    return image


def _too_many_pixels(field: str) -> ValidationError:
    return ValidationError(field, _l("The picture has too many pixels."))


def _has_transparency(image: Image.Image) -> bool:
    """Tell whether any pixel is see-through (an opaque RGBA screenshot is not)."""
    if "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode not in ("RGBA", "LA", "PA"):
        return False
    low, _high = image.getchannel("A").getextrema()
    return low < 255


def fit_on_page(
    width: int, height: int, *, page_width: int = PAGE_WIDTH, page_height: int = PAGE_HEIGHT
) -> tuple[float, float, float, float]:
    """Return (x, y, w, h) in board units: the picture as large as fits, centred on the page."""
    scale = min(page_width / width, page_height / height)
    w, h = round(width * scale, 1), round(height * scale, 1)
    return round((page_width - w) / 2, 1), round((page_height - h) / 2, 1), w, h


# Storage: instance/whiteboard/<session_id>/<random name>.


def new_name(extension: str) -> str:
    """Return a fresh random file name; never derived from what the user sent."""
    return f"{secrets.token_urlsafe(16)}.{extension}"


def store(root: Path, session_id: int, encoded: Encoded) -> str:
    """Write the picture under root/<session_id>/ with a new name; return the name."""
    folder = root / str(session_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = new_name(encoded.extension)
    # Written aside and renamed, so a reader never sees half a file.
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(encoded.data)
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return name


def stored_path(root: Path, session_id: int, name: str) -> Path | None:
    """Return the path of a stored picture, or None for a name we never make or a missing file."""
    if not STORED_NAME.fullmatch(name):
        return None
    path = root / str(session_id) / name
    return path if path.is_file() else None


def remove(root: Path, session_id: int, name: str) -> None:
    """Delete a stored picture (after a failed database write)."""
    path = stored_path(root, session_id, name)
    if path is not None:
        path.unlink(missing_ok=True)


def content_type(name: str) -> str:
    """Return the MIME type of a stored name."""
    return CONTENT_TYPES[name.rsplit(".", 1)[-1]]
