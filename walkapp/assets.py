"""Static files: content-hashed, pre-compressed copies served by WhiteNoise.

At start-up the files under static/ are hashed; a build folder named after the hash of the whole tree
(``STATIC_BUILD_PATH``, by default instance/static) gets every file twice, under its own name and
under a name carrying its content hash (``leaflet.3f2a9c1b7e4d.js``), each with gzip and brotli
copies beside it. The build is written to a temporary folder and renamed into place, so several
gunicorn workers starting together build it at most once each and never see half of one; a tree
already built is reused.

``url_for('static', filename=...)`` answers the hashed URL, which WhiteNoise serves with a far-future,
immutable Cache-Control: a repeat page view makes no request for static files, and a changed file gets
a new URL. Files reached only by their plain name (images a stylesheet names relatively) are cached
for an hour. Static files are read at start-up: restart after editing static/.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

HASH_LENGTH = 12
HASHED_NAME = re.compile(r"\.[0-9a-f]{%d}\.[A-Za-z0-9]+$" % HASH_LENGTH)
PLAIN_MAX_AGE = 3600
KEEP_BUILDS = 3  # older trees are removed; a worker of the previous deploy may still serve one


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]


def hashed_name(name: str, digest: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot and stem and "/" not in ext else f"{name}.{digest}"


def manifest(source: Path) -> dict[str, str]:
    """Every static file's name (relative, with /) → its content-hashed name."""
    names = {}
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            name = path.relative_to(source).as_posix()
            names[name] = hashed_name(name, file_hash(path))
    return names


def tree_hash(names: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(names.items())).encode()).hexdigest()[:HASH_LENGTH]


def build(source: Path, target_root: Path, names: dict[str, str]) -> Path:
    """The build folder for this tree: made once, atomically, then reused."""
    target = target_root / tree_hash(names)
    if target.is_dir():
        return target
    target_root.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=target_root, prefix=".build-"))
    try:
        compressor = Compressor(quiet=True)
        for name, hashed in names.items():
            for out_name in (name, hashed):
                out = temp / out_name
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name, out)
                if compressor.should_compress(out_name):
                    for _ in compressor.compress(str(out)):
                        pass
        os.chmod(temp, 0o755)
        try:
            os.rename(temp, target)
        except OSError:  # another worker renamed its identical build first
            if not target.is_dir():
                raise
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    prune(target_root, keep=target)
    return target


def prune(target_root: Path, keep: Path) -> None:
    builds = sorted((p for p in target_root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in builds if p != keep][KEEP_BUILDS - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def is_hashed(path: str, url: str) -> bool:
    return bool(HASHED_NAME.search(url))


def nosniff(headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    source = Path(app.static_folder)
    names = manifest(source)
    target_root = Path(app.config.get("STATIC_BUILD_PATH") or Path(app.instance_path) / "static")
    built = build(source, target_root, names)
    app.extensions["static_manifest"] = names
    prefix = app.static_url_path.rstrip("/") + "/"
    app.wsgi_app = WhiteNoise(
        app.wsgi_app, root=str(built), prefix=prefix, max_age=PLAIN_MAX_AGE,
        immutable_file_test=is_hashed, add_headers_function=nosniff,
    )

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = names.get(values["filename"], values["filename"])


def static_url(app: Flask, filename: str) -> str:
    """The hashed URL of a static file, without a request (folium's asset lists, the service worker)."""
    names = app.extensions["static_manifest"]
    return f"{app.static_url_path.rstrip('/')}/{names.get(filename, filename)}"


def hashed_urls(app: Flask, prefixes: tuple[str, ...] = ("",)) -> list[str]:
    names = app.extensions["static_manifest"]
    return [static_url(app, name) for name in sorted(names) if name.startswith(prefixes)]
