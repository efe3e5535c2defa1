"""Pure document renderers: plain data in, bytes out (no models, no database)."""

from .labels import LabelData, label_pdf, label_sheet_pdf, label_size_mm
from .qr import qr_png, qr_svg

__all__ = ["LabelData", "label_pdf", "label_sheet_pdf", "label_size_mm", "qr_png", "qr_svg"]
