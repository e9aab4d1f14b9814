"""No page loads anything from a third-party host (scripts, styles, images, fonts), and every script a
page runs inline carries the nonce of the page's Content-Security-Policy (no inline event handlers)."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from walkapp import demo
from walkapp.models import Role

LOCAL_HOSTS = {"", "localhost", "127.0.0.1"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


class AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.links: list[str] = []
        self.inline_nonces: list[str | None] = []  # one per inline script that would run
        self.handlers: list[str] = []  # onclick= and friends
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "source", "audio", "video", "iframe", "embed") and a.get("src"):
            self.assets.append(a["src"])
        if tag in ("img", "source") and a.get("srcset"):
            self.assets += [part.split()[0] for part in a["srcset"].split(",")]
        if tag == "link" and a.get("href"):
            self.assets.append(a["href"])
        if tag == "a" and a.get("href") and "download" not in a:  # pages, not file downloads
            self.links.append(a["href"])
        if a.get("style"):
            self.assets += CSS_URL.findall(a["style"])
        if tag == "script" and not a.get("src") and a.get("type") != "application/json":
            self.inline_nonces.append(a.get("nonce"))
        self.handlers += [f"<{tag} {name}>" for name in a if name.startswith("on")]
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.assets += CSS_URL.findall(data)

    def handle_endtag(self, tag):
        self._in_style = False


def crawl(client, start="/", limit=150):
    """Pages reached by links from start: (paths seen, foreign assets, inline scripts without the nonce)."""
    seen, queue, foreign, unsafe = set(), [start], [], []
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            response.close()
            continue
        parser = AssetParser()
        parser.feed(response.get_data(as_text=True))
        nonce = re.search(r"script-src [^;]*'nonce-([^']+)'", response.headers.get("Content-Security-Policy", ""))
        unsafe += [f"{path}: inline script without the nonce" for found in parser.inline_nonces
                   if nonce is None or found != nonce.group(1)]
        unsafe += [f"{path}: {handler}" for handler in parser.handlers]
        for asset in parser.assets:
            url = urlsplit(urljoin("http://localhost" + path, asset))
            if (url.hostname or "") not in LOCAL_HOSTS and url.scheme != "data":
                foreign.append(f"{path}: {asset}")
            elif url.path.endswith(".css") and url.path not in seen:
                seen.add(url.path)
                css = client.get(url.path).get_data(as_text=True)
                foreign += [f"{url.path}: {u}" for u in CSS_URL.findall(css)
                            if (urlsplit(u).hostname or "") not in LOCAL_HOSTS and not u.startswith("data:")]
        for link in parser.links:
            url = urlsplit(urljoin("http://localhost" + path, link))
            if url.hostname in LOCAL_HOSTS and url.path.startswith("/") and not url.path.startswith("/static/"):
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return seen, foreign, unsafe


@pytest.mark.parametrize("role", [None, Role.walker, Role.responder, Role.coordinator, Role.admin])
def test_only_our_assets_and_only_nonced_inline_scripts(app, client, users, auth, role):
    with app.app_context():
        demo.seed("demo-password-123")  # walks, items and protocols to reach
    if role is not None:
        auth.login_as(role)
    seen, foreign, unsafe = crawl(client)
    assert len(seen) >= 2
    if role is Role.coordinator:
        assert any(path.endswith("/protocol") for path in seen) and any("/poster" in path for path in seen)
    assert foreign == []
    assert unsafe == []
