"""QR codes as inline SVG (the order number to pay at the counter, the pick-up code).

ReportLab's own QR encoder (already a dependency for the PDFs) builds the module matrix; the
SVG is one path of unit squares, a few hundred bytes instead of a drawing per module.
"""

from __future__ import annotations

from reportlab.graphics.barcode.qr import QrCodeWidget


def matrix(text: str) -> list[list[bool]]:
    widget = QrCodeWidget(text, barLevel="M")
    qr = widget.qr
    qr.make()
    count = qr.getModuleCount()
    return [[bool(qr.isDark(r, c)) for c in range(count)] for r in range(count)]


def svg(text: str, *, size: int = 200, label: str = "QR") -> str:
    """An <svg> of the QR code of ``text`` (digits and Latin letters only are put in it)."""
    cells = matrix(text)
    n = len(cells) + 8  # a quiet zone of 4 modules on each side
    path = "".join(
        f"M{c + 4} {r + 4}h1v1h-1z"
        for r, row in enumerate(cells)
        for c, dark in enumerate(row)
        if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" '
        f'width="{size}" height="{size}" viewBox="0 0 {n} {n}" shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


__all__ = ["matrix", "svg"]
