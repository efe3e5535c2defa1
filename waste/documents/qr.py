"""QR codes for batch labels: PNG and SVG bytes, and the bare module matrix for PDF drawing.

Labels live on drums and bags in yards and trucks, so they get dirty and scuffed: we use error
correction level Q (25 % of codewords recoverable) rather than the usual M.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
QUIET_ZONE = 4  # modules; ISO/IEC 18004 asks for at least 4


def _qr(payload: str, *, box_size: int = 10, border: int = QUIET_ZONE) -> qrcode.QRCode:
    if not payload:
        raise ValueError("QR payload must not be empty")
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=box_size, border=border)
    code.add_data(payload)
    code.make(fit=True)
    return code


def qr_png(payload: str, *, box_size: int = 10, border: int = QUIET_ZONE) -> bytes:
    """A black-on-white PNG; ``box_size`` pixels per module, ``border`` modules of quiet zone."""
    image = _qr(payload, box_size=box_size, border=border).make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def qr_svg(payload: str, *, border: int = QUIET_ZONE) -> bytes:
    """A standalone SVG document (one path on a white background), 1 mm per module."""
    image = _qr(payload, border=border).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def qr_matrix(payload: str) -> list[list[bool]]:
    """The modules, dark = True, row by row from the top, without quiet zone."""
    return _qr(payload, border=0).get_matrix()
