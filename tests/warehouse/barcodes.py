"""Read the barcodes of a rendered PDF as a scanner would: pdftoppm renders each page to a PNG,
zxing-cpp decodes the Code 128 symbols on it."""

import subprocess
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image


def decode_pages(pdf: bytes, *, dpi: int = 200) -> list[list[str]]:
    """The Code 128 texts of every page, top to bottom."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", "-gray", str(source), str(Path(tmp) / "page")],
            check=True,
        )
        pages = []
        for png in sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1])):
            with Image.open(png) as image:
                found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)
            found = sorted(found, key=lambda b: (b.position.top_left.y, b.position.top_left.x))
            pages.append([b.text for b in found])
        return pages
