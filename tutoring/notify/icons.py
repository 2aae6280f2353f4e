"""The home-screen icons, drawn without an image library: `python -m tutoring.notify.icons`.

A person reading an open book, white on the site's blue. Shapes are signed distance
functions, so edges come out anti-aliased at every size.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

BLUE = (0x1F, 0x4F, 0xBF)
WHITE = (0xFF, 0xFF, 0xFF)
SIZES = {
    "icon-180.png": (180, False),
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
}
TARGET = Path(__file__).resolve().parent.parent.parent / "static" / "notify"


def _box(x: float, y: float, hw: float, hh: float, r: float) -> float:
    qx, qy = abs(x) - hw + r, abs(y) - hh + r
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - r


def _page(x: float, y: float, cx: float, cy: float, angle: float) -> float:
    c, s = math.cos(angle), math.sin(angle)
    dx, dy = x - cx, y - cy
    return _box(dx * c + dy * s, -dx * s + dy * c, 0.16, 0.2, 0.03)


def _figure(x: float, y: float) -> float:
    """Return the distance to the white shapes, in units of the icon's width (centre at 0, 0)."""
    head = math.hypot(x, y + 0.24) - 0.1
    left = _page(x, y, -0.155, 0.13, math.radians(-14))
    right = _page(x, y, 0.155, 0.13, math.radians(14))
    return min(head, left, right)


def render(size: int, maskable: bool) -> bytes:
    """Return the PNG of the icon at a size; a maskable icon fills the square, art in the safe zone."""
    scale = 0.78 if maskable else 1.0
    radius = 0.0 if maskable else 0.2
    rows = []
    for j in range(size):
        row = bytearray([0])  # filter: none
        y = (j + 0.5) / size - 0.5
        for i in range(size):
            x = (i + 0.5) / size - 0.5
            bg = min(1.0, max(0.0, 0.5 - _box(x, y, 0.5, 0.5, radius) * size))
            fg = min(1.0, max(0.0, 0.5 - _figure(x / scale, y / scale + 0.04) * scale * size))
            colour = [round(b + (w - b) * fg) for b, w in zip(BLUE, WHITE, strict=True)]
            row += bytes(colour) + bytes([round(255 * max(bg, 0.0))])
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, (size, maskable) in SIZES.items():
        (TARGET / name).write_bytes(render(size, maskable))
        print(f"wrote {TARGET / name}")


if __name__ == "__main__":
    main()
