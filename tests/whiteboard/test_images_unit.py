"""whiteboard.images without an app: content checks, metadata stripped, upright, scaled, stored."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from tutoring.validation import ValidationError
from tutoring.whiteboard import images

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(size=(400, 200), color="red", *, exif: Image.Exif | None = None, **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif or Image.Exif(), **options)
    return out.getvalue()


def png(size=(40, 20), mode="RGB", color="white", **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG", **options)
    return out.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """Return EXIF as a phone writes it: where the photo was taken, and maybe its rotation."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation is not None:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (35.0, 39.0, 29.16)
    gps[3] = "E"
    gps[4] = (139.0, 41.0, 30.12)
    return exif


def with_declared_size(data: bytes, width: int, height: int) -> bytes:
    """Return a PNG whose header claims another size (how a decompression bomb looks)."""
    assert data[12:16] == b"IHDR"
    body = struct.pack(">II", width, height) + data[24:29]
    chunk = b"IHDR" + body
    return (
        data[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]
    )


def opened(encoded: images.Encoded) -> Image.Image:
    return Image.open(io.BytesIO(encoded.data))


def test_a_photo_loses_its_exif_and_gps():
    source = jpeg(exif=gps_exif(), comment=b"Tama-shi, home")
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS_IFD)  # the test's premise
    encoded = images.reencode(source, "image")
    result = opened(encoded)
    assert encoded.format == "JPEG"
    assert result.format == "JPEG"
    assert dict(result.getexif()) == {}
    assert result.getexif().get_ifd(GPS_IFD) == {}
    assert "exif" not in result.info
    assert "comment" not in result.info
    assert b"Exif" not in encoded.data
    assert b"Tama-shi" not in encoded.data


def test_a_rotated_photo_comes_back_upright():
    # Orientation 6: the camera was held upright, the sensor stored it on its side.
    encoded = images.reencode(jpeg((400, 200), exif=gps_exif(orientation=6)), "image")
    assert (encoded.width, encoded.height) == (200, 400)
    assert opened(encoded).size == (200, 400)
    assert ORIENTATION not in opened(encoded).getexif()


def test_a_large_photo_is_scaled_down_to_the_long_side():
    encoded = images.reencode(jpeg((5000, 2500)), "image")
    assert (encoded.width, encoded.height) == (2000, 1000)
    small = images.reencode(jpeg((300, 200)), "image")
    assert (small.width, small.height) == (300, 200)  # never scaled up


def test_the_long_side_is_configurable():
    encoded = images.reencode(png((1000, 500)), "image", max_side=100)
    assert (encoded.width, encoded.height) == (100, 50)


def test_transparency_stays_png_and_opaque_pictures_become_jpeg():
    clear = images.reencode(png(mode="RGBA", color=(0, 0, 0, 0)), "image")
    assert clear.format == "PNG"
    assert opened(clear).mode == "RGBA"
    assert clear.extension == "png"
    opaque = images.reencode(png(mode="RGBA", color=(10, 20, 30, 255)), "image")
    assert opaque.format == "JPEG"
    assert opaque.extension == "jpg"
    palette = images.reencode(png(mode="P", color=0, transparency=0), "image")
    assert palette.format == "PNG"


def test_keep_png_keeps_a_line_drawing_lossless():
    encoded = images.reencode(png(), "snapshot", formats=images.PNG_ONLY, keep_png=True)
    assert encoded.format == "PNG"
    assert opened(encoded).getpixel((0, 0)) == (255, 255, 255)


def test_png_text_chunks_are_dropped():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Hinata Tanaka")
    encoded = images.reencode(
        png(mode="RGBA", color=(0, 0, 0, 0), pnginfo=info), "image", keep_png=True
    )
    assert b"Hinata" not in encoded.data
    assert "Author" not in opened(encoded).info


@pytest.mark.parametrize(
    "data",
    [b"just some text, renamed photo.jpg", b"", b"GIF89a" + b"\0" * 40, b"%PDF-1.7\n"],
)
def test_anything_but_png_or_jpeg_is_refused_by_content(data):
    with pytest.raises(ValidationError) as caught:
        images.reencode(data, "image")
    assert caught.value.field == "image"
    assert caught.value.code == "invalid"


def test_a_real_gif_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(ValidationError, match="image"):
        images.reencode(out.getvalue(), "image")


def test_a_snapshot_must_be_png():
    with pytest.raises(ValidationError) as caught:
        images.reencode(jpeg(), "snapshot", formats=images.PNG_ONLY)
    assert caught.value.field == "snapshot"


def test_a_truncated_picture_is_refused():
    data = png((300, 300), color="green")
    with pytest.raises(ValidationError) as caught:
        images.reencode(data[: len(data) // 2], "image")
    assert caught.value.field == "image"


def test_too_many_bytes_is_too_large():
    with pytest.raises(images.TooLarge) as caught:
        images.reencode(jpeg(), "image", max_bytes=100)
    assert (caught.value.field, caught.value.code) == ("image", "too_large")


def test_read_limited_stops_past_the_limit():
    assert images.read_limited(io.BytesIO(b"x" * 10), "image", 10) == b"x" * 10
    with pytest.raises(images.TooLarge):
        images.read_limited(io.BytesIO(b"x" * 11), "image", 10)


@pytest.mark.parametrize(
    "size",
    [
        (8000, 8000),  # 64 M pixels: over our limit, under Pillow's
        (10000, 10000),  # over Pillow's MAX_IMAGE_PIXELS: a warning
        (30000, 30000),  # over twice it: DecompressionBombError
    ],
)
def test_a_decompression_bomb_is_refused_before_decoding(size):
    bomb = with_declared_size(png((1, 1)), *size)
    assert Image.open(io.BytesIO(png((1, 1)))).size == (1, 1)
    with pytest.raises(ValidationError) as caught:
        images.reencode(bomb, "image")
    assert caught.value.field == "image"
    assert "pixels" in str(caught.value.message)


def test_a_real_compressed_bomb_is_refused():
    # 60 M pixels of one colour compress to a few kB: small upload, huge in memory.
    data = png((10000, 6000), mode="1", color=0)
    assert len(data) < 100_000
    with pytest.raises(ValidationError, match="image"):
        images.reencode(data, "image")


def test_the_pixel_limit_is_configurable():
    with pytest.raises(ValidationError):
        images.reencode(png((100, 100)), "image", max_pixels=9999)
    assert images.reencode(png((100, 100)), "image", max_pixels=10_000).width == 100


def test_sixteen_bit_grey_is_scaled_not_clipped():
    encoded = images.reencode(png((4, 4), mode="I;16", color=40000), "image")
    grey = opened(encoded).convert("L").getpixel((0, 0))
    assert 150 <= grey <= 160


@pytest.mark.parametrize(
    ("size", "placed"),
    [
        ((1600, 1000), (0, 0, 1600, 1000)),
        ((800, 500), (0, 0, 1600, 1000)),  # as large as fits
        ((1000, 2000), (550, 0, 500, 1000)),  # portrait: centred across
        ((2000, 500), (0, 300, 1600, 400)),  # panorama: centred down
    ],
)
def test_fit_on_page_centres_and_fits(size, placed):
    assert images.fit_on_page(*size) == placed


def test_store_writes_under_the_session_with_a_new_name(tmp_path):
    encoded = images.reencode(jpeg(), "image")
    name = images.store(tmp_path, 7, encoded)
    assert images.STORED_NAME.fullmatch(name)
    assert name.endswith(".jpg")
    assert (tmp_path / "7" / name).read_bytes() == encoded.data
    assert images.store(tmp_path, 7, encoded) != name
    assert images.stored_path(tmp_path, 7, name) == tmp_path / "7" / name
    assert images.stored_path(tmp_path, 8, name) is None  # another session's folder
    assert [p.name for p in (tmp_path / "7").iterdir() if p.name.startswith(".")] == []
    images.remove(tmp_path, 7, name)
    assert images.stored_path(tmp_path, 7, name) is None


@pytest.mark.parametrize(
    "name",
    [
        "../../config.py",
        "..%2F..%2Fconfig.py",
        "/etc/passwd",
        "abc.jpg",
        "AAAAAAAAAAAAAAAAAAAAAA.svg",
        "AAAAAAAAAAAAAAAAAAAAAA.jpg/../x",
        "AAAAAAAAAAAAAAAAAAAAAA.jpg\n",
        ".upload-abc",
    ],
)
def test_stored_path_refuses_names_we_never_make(tmp_path, name):
    (tmp_path / "1").mkdir()
    (tmp_path / "config.py").write_text("SECRET_KEY = 'x'")
    assert images.stored_path(tmp_path, 1, name) is None


def test_content_types():
    assert images.content_type("AAAAAAAAAAAAAAAAAAAAAA.jpg") == "image/jpeg"
    assert images.content_type("AAAAAAAAAAAAAAAAAAAAAA.png") == "image/png"
