"""Every page as every role, at 360 px and 1366 px, light and dark, checked with axe-core.

axe-core comes from an installed package (axe-playwright-python ships axe.min.js) and is injected
through the DevTools protocol, so it needs no CDN and no exception in the Content-Security-Policy.

For each page: no axe violation of WCAG 2.0/2.1 A and AA; the page is no wider than the viewport;
buttons, selects, summaries, file inputs, button-like links and links that stand alone in a list item or
paragraph (no text beside them: list links, card titles, "Back to …") have a rendered box of at least
44×44 px. That is WCAG 2.5.5 "Target Size" (AAA); its "Inline" exception, also in 2.5.8 (AA in 2.2),
leaves out links inside a sentence or block of text: those are not checked.
Every <details> on the page is opened first, so what a panel hides is checked too.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import axe_playwright_python

from walkapp.demo import ONGOING_WALK_CODE, USERS
from walkapp.extensions import db
from walkapp.models import Role, User

from ..test_access import get_urls, url_values
from .conftest import DEMO_PASSWORD, serving

ROLES = ["anonymous", "guest", "walker", "responder", "coordinator", "admin"]
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1366, "height": 900}}
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
AXE_ALL = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}
AXE_COLOURS = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]},
               "resultTypes": ["violations"]}
# Routes that answer with something other than a page (files, data, downloads).
NOT_PAGES = re.compile(r"^(static|api\.|open311\.|pwa\.(manifest|service_worker|offline_tiles)|"
                       r"exchange\.(export_|import_template)|situation\..*pdf|observations\.photo|public\.photo)")
TARGETS = """() => {
    // A link stands alone when no text sits beside it in its parent: a list item's link, a card's title,
    // a "Back to …" paragraph. A link with text around it is part of a sentence (the "Inline" exception).
    const standsAlone = a => ![...a.parentElement.childNodes].some(n => n !== a && n.nodeType === 3 && n.textContent.trim());
    const small = [];
    const targets = [...document.querySelectorAll('button, select, summary, a.button, input[type=submit], input[type=file]'),
                     ...[...document.querySelectorAll('li a, p > a')].filter(standsAlone)];
    for (let el of targets) {
        if (el.closest('.leaflet-control-attribution, .visually-hidden, [hidden]')) continue;
        if (el.type === 'file' && el.labels.length && el.getBoundingClientRect().width < 2) {
            el = el.labels[0];  // a see-through file input: its label is the button
        }
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
        if (box.width < 44 || box.height < 44) {
            small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.title || '').trim().slice(0, 40)}" `
                       + `${Math.round(box.width)}×${Math.round(box.height)}`);
        }
    }
    return [...new Set(small)];
}"""
OPEN_PANELS = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared_pg_url):
    """The demo site, with one more walk, item, photo and report so that every route has a real id."""
    with serving(tmp_path_factory.mktemp("a11y"), shared_pg_url) as server:
        with server.app.app_context():
            users = {role: db.session.scalar(db.select(User.id).filter_by(email=email))
                     for role, email, _, _ in USERS}
        values = url_values(server.app, users)
        server.paths = [path for endpoint, path in get_urls(server.app, values) if not NOT_PAGES.match(endpoint)]
        yield server


def signed_in_state(browser, base: str, role: str) -> dict | None:
    """The cookies of a person in this role: a demo user signed in, or a guest who joined the ongoing walk."""
    if role == "anonymous":
        return None
    context = browser.new_context(locale="sv-SE")
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                  else route.abort())
    page = context.new_page()
    if role == "guest":
        page.goto(f"{base}/j/{ONGOING_WALK_CODE}")
        page.get_by_label("Ditt namn").fill("Gustav Gäst")
        page.get_by_label("Boende", exact=True).click()
        page.get_by_role("button", name="Gå med i vandringen").click()
        page.wait_for_url(re.compile(r"/walks/\d+$"))
        page.guest_walk = page.url
    else:
        email = next(email for r, email, _, _ in USERS if r == Role(role))
        page.goto(f"{base}/login")
        page.get_by_label("E-post").fill(email)
        page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_url(f"{base}/")
    state = context.storage_state()
    extra = [page.url.removeprefix(base)] if role == "guest" else []
    context.close()
    return {"storage_state": state, "extra": extra}


def axe_violations(page, options: dict) -> list[dict]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)  # through the DevTools protocol: no script tag for the CSP to refuse
    return page.evaluate("options => axe.run(document, options)", options)["violations"]


def check_page(page) -> list[str]:
    """What is wrong with the page as it is shown now, light and dark.

    The page's content is the same in both schemes, only its colours change: every rule runs in light,
    the colour rules again in dark."""
    problems = []
    page.evaluate(OPEN_PANELS)
    for scheme, options in (("light", AXE_ALL), ("dark", AXE_COLOURS)):
        page.emulate_media(color_scheme=scheme)
        page.evaluate("document.getAnimations().forEach(a => a.finish())")  # map markers fade in: judge the end
        for violation in axe_violations(page, options):
            nodes = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:4])
            problems.append(f"{scheme}: axe {violation['id']} ({violation['impact']}): {nodes}")
    # clientWidth, not innerWidth: on a phone the browser widens innerWidth to a page that overflows
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if width[0] > width[1]:
        problems.append(f"{width[0]} px wide in a {width[1]} px window")
    problems += [f"small target {target}" for target in page.evaluate(TARGETS)]
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe_fits_and_has_large_targets(browser, site, role):
    state = signed_in_state(browser, site.url, role)
    problems = []
    for name, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport, locale="sv-SE", timezone_id="Europe/Stockholm",
                                      is_mobile=name == "phone", has_touch=name == "phone",
                                      storage_state=state and state["storage_state"])
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site.url)
                      else route.abort())
        page = context.new_page()
        seen = set()
        for path in site.paths + (state["extra"] if state else []):
            response = page.goto(site.url + path, wait_until="domcontentloaded")  # scripts have run
            # a redirect to the sign-in page, and each error page, is checked once
            seen_as = urlsplit(page.url).path if response.status == 200 else f"error {response.status}"
            if seen_as in seen or "text/html" not in response.headers.get("content-type", ""):
                continue
            seen.add(seen_as)
            problems += [f"{name} {page.url.removeprefix(site.url)}: {p}" for p in check_page(page)]
        context.close()
    assert problems == [], "\n".join(problems)
