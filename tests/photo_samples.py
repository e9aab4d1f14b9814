"""Sample upload files built in memory, for the photo tests (no tests here).

The "good" samples carry every kind of metadata a phone adds, so that tests can
prove the pipeline strips it; the hostile ones are what a careless or malicious
upload looks like.
"""
from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image, ImageCms, ImageDraw

RED = (220, 20, 20)
BLUE = (20, 20, 220)
GREEN = (20, 200, 20)
WHITE = (255, 255, 255)

COMMENT = "walkapp-secret-comment"
XMP_MARKER = "walkapp-secret-xmp"
XMP_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    f' xmp:CreatorTool="{XMP_MARKER}"/>'
    "</rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>'
)
MAKE = "WalkappTestCam"


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return (float(degrees), float(minutes), seconds)


def exif_with_gps(lat: float, lon: float, orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    return exif


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def asymmetric_image(width: int, height: int) -> Image.Image:
    """Top half red, bottom half blue, and the top-left quarter green.

    The green quarter tells a rotation apart from a mirror image: for
    orientation 6 the upright result has blue on the left, red on the right and
    green in the top-right quarter.
    """
    im = Image.new("RGB", (width, height), BLUE)
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, width - 1, height // 2 - 1), fill=RED)
    draw.rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=GREEN)
    return im


def jpeg_with_orientation_and_gps(width: int = 1200, height: int = 800, orientation: int = 6,
                                  lat: float = 62.6323, lon: float = 17.9379) -> bytes:
    """A JPEG as a phone writes it: EXIF Orientation and GPS, XMP, a COM comment, ICC."""
    buffer = io.BytesIO()
    asymmetric_image(width, height).save(
        buffer,
        "JPEG",
        quality=90,
        exif=exif_with_gps(lat, lon, orientation).tobytes(),
        xmp=XMP_PACKET.encode(),
        comment=COMMENT,
        icc_profile=srgb_icc(),
    )
    return buffer.getvalue()


def heic_bytes(width: int = 800, height: int = 600, lat: float = 62.6323,
               lon: float = 17.9379) -> bytes:
    """A HEIC file (needs pillow-heif's encoder) with EXIF GPS and XMP."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buffer = io.BytesIO()
    asymmetric_image(width, height).save(
        buffer, "HEIF", quality=80, exif=exif_with_gps(lat, lon).tobytes(), xmp=XMP_PACKET.encode()
    )
    return buffer.getvalue()


def png_bytes(width: int = 300, height: int = 200) -> bytes:
    """An RGBA PNG: the left half fully transparent, the right half opaque green."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((width // 2, 0, width - 1, height - 1), fill=GREEN + (255,))
    buffer = io.BytesIO()
    im.save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes(width: int = 500, height: int = 300) -> bytes:
    buffer = io.BytesIO()
    asymmetric_image(width, height).save(buffer, "WEBP", quality=80)
    return buffer.getvalue()


# --- Hostile samples --------------------------------------------------------


def text_as_jpg() -> bytes:
    """Plain text, as if someone renamed notes.txt to photo.jpg."""
    return b"This is not a photo, just text with a .jpg name.\n" * 20


def truncated_jpeg() -> bytes:
    """A real JPEG cut off in the middle of its image data (headers intact)."""
    data = jpeg_with_orientation_and_gps(800, 600)
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload)) + kind + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width`` x ``height`` RGB pixels.

    The IDAT holds only a few compressed rows, so decoding it would fail: a
    "too many pixels" error proves the check ran on the header alone.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def big_file(size: int = 25 * 1024 * 1024) -> bytes:
    """A valid small JPEG followed by zero padding up to ``size`` bytes.

    Pillow would happily open it (bytes after EOI are ignored), so only the
    byte cap can be what rejects it.
    """
    head = jpeg_with_orientation_and_gps(64, 48)
    return head + b"\x00" * max(0, size - len(head))


def svg_bytes() -> bytes:
    return (
        b'<?xml version="1.0"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<script>alert(1)</script><rect width="100" height="100" fill="red"/></svg>\n'
    )


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    asymmetric_image(64, 48).save(buffer, "GIF")
    return buffer.getvalue()


def eps_bytes() -> bytes:
    """Encapsulated PostScript: Pillow would hand it to Ghostscript if allowed."""
    return (
        b"%!PS-Adobe-3.0 EPSF-3.0\n"
        b"%%BoundingBox: 0 0 100 100\n"
        b"%%EndComments\n"
        b"newpath 0 0 moveto 100 0 lineto 100 100 lineto closepath fill\n"
        b"showpage\n"
        b"%%EOF\n"
    )
