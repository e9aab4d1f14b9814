"""Photo ingest benchmark: walkapp.photos.process() against a naive pipeline.

Run from the repository root:

    .venv/bin/python bench/photo_bench.py [--runs 9]

The input is a 12 MP (4032x3024) JPEG with EXIF orientation 6 and GPS, built
here from seeded noise and gradients so that it compresses like a phone photo
at dusk (about 4.8 MB). Both pipelines run in the same process, interleaved,
and the median of the runs is reported.

Quality: PSNR of each rendition against a Lanczos resize of the fully decoded,
upright image. Both pipelines save JPEG at quality 82, which on this grainy
input bounds both to about 31 dB; what matters is that the two are equal.

Peak memory: each pipeline runs once in a fresh subprocess, which resets its
peak resident set size (Linux /proc/self/clear_refs) after imports and after
reading the input, and reports the peak (VmHWM) minus the resident size at
that point. Not tracemalloc, which does not see Pillow's image memory
(allocated in C), and not ru_maxrss, which Linux carries over from the parent
across fork and exec.
"""
from __future__ import annotations

import argparse
import io
import math
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import PIL  # noqa: E402
from PIL import ExifTags, Image, ImageChops, ImageOps, ImageStat  # noqa: E402

from walkapp.config import Defaults  # noqa: E402
from walkapp.photos import process  # noqa: E402

TARGET_RATIO = 0.4
WIDTH, HEIGHT = 4032, 3024


def make_sample(seed: int = 12) -> bytes:
    rng = random.Random(seed)

    def noise(w: int, h: int, amplitude: int) -> Image.Image:
        layer = Image.frombytes("L", (w, h), rng.randbytes(w * h))
        return layer.point(lambda v: 128 + (v - 128) * amplitude // 128)

    # Gradients for light, blurred coarse and medium noise for shapes and
    # texture, and fine grain like a phone sensor's at dusk.
    gx = Image.linear_gradient("L").rotate(90).resize((WIDTH, HEIGHT))
    gy = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    size = (WIDTH, HEIGHT)
    channels = []
    for base in (gx, gy, ImageChops.invert(gx)):
        coarse = noise(WIDTH // 64, HEIGHT // 64, 128).resize(size, Image.Resampling.BICUBIC)
        medium = noise(WIDTH // 8, HEIGHT // 8, 128).resize(size, Image.Resampling.BILINEAR)
        channel = Image.blend(Image.blend(base, coarse, 0.5), medium, 0.25)
        channels.append(ImageChops.add(channel, noise(WIDTH, HEIGHT, 16), offset=-128))
    image = Image.merge("RGB", channels)

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "BenchCam"
    exif[ExifTags.Base.Orientation] = 6
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (62.0, 37.0, 56.28)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (17.0, 56.0, 16.44)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def naive(data: bytes) -> tuple[bytes, bytes]:
    """What one writes first: decode everything, rotate, shrink, save."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    image.thumbnail((1600, 1600))
    display = io.BytesIO()
    image.save(display, "JPEG", quality=82)
    image.thumbnail((400, 400))
    thumb = io.BytesIO()
    image.save(thumb, "JPEG", quality=82)
    return display.getvalue(), thumb.getvalue()


def ours(data: bytes) -> tuple[bytes, bytes]:
    result = process(data, max_bytes=Defaults.PHOTO_MAX_BYTES, max_pixels=Defaults.PHOTO_MAX_PIXELS)
    return result.display, result.thumbnail


PIPELINES = {"naive": naive, "process": ours}


def psnr(data: bytes, reference: Image.Image) -> float:
    """PSNR (dB) of a rendition against a Lanczos resize of the full image."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    expected = reference.resize(image.size, Image.Resampling.LANCZOS)
    squares = ImageStat.Stat(ImageChops.difference(image, expected)).sum2
    mse = sum(squares) / (image.width * image.height * 3)
    return 10 * math.log10(255**2 / mse) if mse else float("inf")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def child(name: str, path: str) -> None:
    """Print how far this process's peak RSS rises above its RSS before the run.

    ru_maxrss is inherited across fork/exec on Linux, so the child resets its
    peak (VmHWM) through /proc/self/clear_refs first.
    """
    data = Path(path).read_bytes()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        print(-1)  # not Linux, or not allowed: no figure rather than a wrong one
        return
    before = _status_kib("VmRSS")
    PIPELINES[name](data)
    print(_status_kib("VmHWM") - before)


def memory(name: str, path: Path) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    kib = int(out.strip())
    return kib / 1024 if kib >= 0 else float("nan")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per pipeline (>= 7)")
    parser.add_argument("--child", nargs=2, metavar=("PIPELINE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    import os

    import pillow_heif

    data = make_sample()
    probe = Image.open(io.BytesIO(data))
    print(f"Machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}, "
          f"Pillow {PIL.__version__}, pillow-heif {pillow_heif.__version__}")
    print(f"Input: {probe.size[0]}x{probe.size[1]} JPEG, {len(data) / 1e6:.2f} MB, "
          f"EXIF orientation {probe.getexif().get(ExifTags.Base.Orientation)}, with GPS")

    reference = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    quality = {}
    for name, pipeline in PIPELINES.items():  # warm-up, and show what each makes
        display, thumb = pipeline(data)
        quality[name] = (psnr(display, reference), psnr(thumb, reference))
        sizes = [Image.open(io.BytesIO(b)).size for b in (display, thumb)]
        print(f"  {name:8} display {sizes[0][0]}x{sizes[0][1]} ({len(display) // 1024} KiB), "
              f"thumbnail {sizes[1][0]}x{sizes[1][1]} ({len(thumb) // 1024} KiB)")
    del reference

    times: dict[str, list[float]] = {name: [] for name in PIPELINES}
    for _ in range(max(7, args.runs)):
        for name, pipeline in PIPELINES.items():  # interleaved, so drift hits both
            start = time.perf_counter()
            pipeline(data)
            times[name].append(time.perf_counter() - start)

    with tempfile.NamedTemporaryFile(suffix=".jpg") as sample:
        sample.write(data)
        sample.flush()
        peaks = {name: memory(name, Path(sample.name)) for name in PIPELINES}

    print()
    print(f"{'pipeline':10} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'peak RSS +MiB':>14} "
          f"{'PSNR display dB':>16} {'PSNR thumb dB':>14}")
    for name in PIPELINES:
        t = times[name]
        print(f"{name:10} {statistics.median(t) * 1000:10.1f} {min(t) * 1000:8.1f} "
              f"{max(t) * 1000:8.1f} {peaks[name]:14.1f} "
              f"{quality[name][0]:16.1f} {quality[name][1]:14.1f}")
    ratio = statistics.median(times["process"]) / statistics.median(times["naive"])
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"\nratio process/naive (median time): {ratio:.2f}  "
          f"(target <= {TARGET_RATIO}: {verdict})")
    print(f"runs per pipeline: {len(times['naive'])}")


if __name__ == "__main__":
    main()
