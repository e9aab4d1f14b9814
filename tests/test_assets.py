"""No page loads anything from a third-party host (scripts, styles, images, fonts)."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from walkapp.models import Role

LOCAL_HOSTS = {"", "localhost", "127.0.0.1"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


class AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.links: list[str] = []
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
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.assets += CSS_URL.findall(data)

    def handle_endtag(self, tag):
        self._in_style = False


def crawl(client, start="/", limit=150):
    seen, queue, foreign = set(), [start], []
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
    return seen, foreign


@pytest.mark.parametrize("role", [None, Role.walker, Role.responder, Role.coordinator, Role.admin])
def test_no_third_party_assets(client, users, auth, role):
    if role is not None:
        auth.login_as(role)
    seen, foreign = crawl(client)
    assert len(seen) >= 2
    assert foreign == []
