"""QR codes of deep links, as PNG images in a ``data:`` URL (ISO/IEC 18004, drawn by ``segno``).

The image is what a desktop page shows for a phone to scan; the text it encodes is returned
beside it (``qr_text``), so an integrator can draw its own.
"""

from __future__ import annotations

import base64
import io

import segno


def png_data_url(text: str) -> str:
    # Level M (15 % recovery) survives a phone camera at an angle; scale 6 with the standard
    # four-module quiet zone gives ~250 px for a typical deep link.
    qr = segno.make(text, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
