"""Security headers on every response: a nonce-based Content-Security-Policy, no framing, a referrer
policy that keeps token paths on this site, and cookie flags that stay as configured."""
import re

from walkapp.models import Role


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split("; ")}


def test_pages_carry_the_policy_and_a_fresh_nonce(client, users, auth):
    auth.login_as(Role.coordinator)
    first, second = client.get("/inbox"), client.get("/inbox")
    policy = directives(first)
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
    assert len(nonce) >= 32 and nonce not in directives(second)["script-src"]
    html = first.get_data(as_text=True)
    assert f'<script nonce="{nonce}">' in html  # the inbox map's script
    assert first.headers["X-Frame-Options"] == "DENY"
    assert first.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert first.headers["X-Content-Type-Options"] == "nosniff"


def test_tiles_are_the_only_other_image_source(app_factory):
    for url in ("https://{s}.tiles.example.org/{z}/{x}/{y}.png", "https://tile-{s}.tiles.example.org/{z}/{x}/{y}"):
        client = app_factory(TILE_URL=url).test_client()
        img = directives(client.get("/login"))["img-src"].split()
        assert img == ["'self'", "data:", "blob:", "https://*.tiles.example.org"], url


def test_no_https_redirect_and_hsts_only_over_https(client):
    """TLS belongs to the proxy in front; the app neither redirects nor sends HSTS over plain http."""
    plain = client.get("/login")
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
    proxied = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in proxied.headers["Strict-Transport-Security"]


def test_cookie_flags_stay_as_configured(app_factory, users):
    """Talisman would force Secure on the session cookie; the local demo over http needs it off."""
    relaxed = app_factory(SESSION_COOKIE_SECURE=False).test_client()
    relaxed.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    strict = app_factory(SESSION_COOKIE_SECURE=True).test_client()
    strict.post("/login", data={"email": "coordinator@example.se", "password": "correct horse battery"})
    relaxed_cookie = relaxed.get_cookie("session")
    strict_cookie = strict.get_cookie("session")
    assert relaxed_cookie is not None and not relaxed_cookie.secure
    assert strict_cookie is not None and strict_cookie.secure
