"""Where a form or link may send the browser afterwards: only pages of this site (no open redirect).

Every ``next``/``back`` value a request carries goes through safe_next(); the value is normalised
before it is judged, the way a browser would read it, so that ``/%09/evil.example`` (a tab the browser
drops, leaving ``//evil.example``) or ``/\\evil.example`` cannot leave the site.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import abort

# C0 controls, DEL and the C1 controls: a browser drops or mangles them, a header cannot hold them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_next(value: str | None, fallback: str | None = None) -> str | None:
    """``value`` when it is a path on this site, else ``fallback``.

    Control characters are a malformed request: 400. Backslashes, a scheme, a host, or anything not
    starting with exactly one ``/`` (also once the path is percent-decoded) give the fallback.
    """
    if not value:
        return fallback
    if _CONTROL.search(value):
        abort(400)
    target = value.strip()
    if "\\" in target or not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    path = unquote(parts.path)
    if parts.scheme or parts.netloc or path.startswith("//") or "\\" in path or _CONTROL.search(path):
        return fallback
    return target
