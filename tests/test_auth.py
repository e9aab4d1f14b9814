import pytest

from walkapp import mail
from walkapp.extensions import db
from walkapp.models import LoginLink, Role, User

from .conftest import PASSWORD


def test_login_and_logout(client, users, auth):
    response = auth.login("coordinator@example.se", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Inloggad som Coordinator" in page
    assert auth.logout().status_code == 302
    assert "Inloggad som" not in client.get("/").get_data(as_text=True)


def test_login_follows_only_local_next(client, users):
    response = client.post("/login?next=/admin/", data={"email": "admin@example.se", "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"
    client.post("/logout")
    response = client.post("/login?next=//evil.example/x", data={"email": "admin@example.se", "password": PASSWORD})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["https://evil.example/x", "/\\evil.example", "/%2F/evil.example",
                                    "%2F%2Fevil.example", " //evil.example", "javascript:alert(1)",
                                    "/%5Cevil.example"])
def test_login_never_leaves_the_site(client, users, target):
    response = client.post("/login?next=" + target, data={"email": "admin@example.se", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0a/x", "/%0d%0aSet-Cookie:x=1", "/%00"])
def test_control_characters_in_next_are_a_bad_request(client, users, target):
    """The audit's payloads: a tab the browser drops (→ //evil.example) and a line break (was a 500)."""
    response = client.post("/login?next=" + target, data={"email": "admin@example.se", "password": PASSWORD})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "Inloggad som" not in client.get("/").get_data(as_text=True)
    assert client.get("/login?next=" + target).status_code == 400


def test_language_switch_stays_on_the_site(client):
    assert client.post("/language", data={"lang": "en", "next": "/join?x=1"}).headers["Location"] == "/join?x=1"
    for outside in ("//evil.example", "/\\evil.example", "https://evil.example/"):
        assert client.post("/language", data={"lang": "en", "next": outside}).headers["Location"] == "/"
    assert client.post("/language", data={"lang": "en", "next": "/\t/evil.example"}).status_code == 400


def test_wrong_password_and_unknown_email_get_the_same_answer(client, users):
    wrong = client.post("/login", data={"email": "walker@example.se", "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"email": "nobody@example.se", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        page = response.get_data(as_text=True)
        assert "Fel e-post eller lösenord." in page
    # the typed e-mail is kept, the password is not echoed back
    assert 'value="walker@example.se"' in wrong.get_data(as_text=True)
    assert "nope-nope-nope" not in wrong.get_data(as_text=True)
    assert "Inloggad som" not in client.get("/").get_data(as_text=True)


def test_deactivated_user_cannot_log_in_and_loses_session(app, client, users, auth):
    auth.login_as(Role.walker)
    other = app.test_client()
    other.post("/login", data={"email": "admin@example.se", "password": PASSWORD})
    response = other.post(f"/admin/users/{users[Role.walker]}/active")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, users[Role.walker]).active is False
    # the existing session no longer works
    assert "Inloggad som" not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    # and logging in again fails with the generic message
    response = auth.login("walker@example.se", PASSWORD)
    assert response.status_code == 400
    assert "Fel e-post eller lösenord." in response.get_data(as_text=True)


def test_sign_out_ends_copies_of_the_session_cookie(app, client, users, auth):
    """A cookie copied before sign-out (or the same account on another device) is signed out too."""
    auth.login_as(Role.coordinator)
    copied = client.get_cookie("session").value
    phone = app.test_client()
    phone.post("/login", data={"email": "coordinator@example.se", "password": PASSWORD})
    assert "Inloggad som" in phone.get("/").get_data(as_text=True)
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert "Inloggad som" not in thief.get("/").get_data(as_text=True)
    assert thief.get("/inbox").status_code == 302
    assert "Inloggad som" not in phone.get("/").get_data(as_text=True)
    auth.login_as(Role.coordinator)  # signing in again works
    assert "Inloggad som" in client.get("/").get_data(as_text=True)


def issue_token_and_link(app, user_id):
    """A personal API token and an unused sign-in link of the user: (bearer header, link path)."""
    from walkapp.tokens import create_token
    from walkapp import signin_links as links

    with app.test_request_context():
        user = db.session.get(User, user_id)
        _, plain = create_token(user, "script")
        url = links.create(user)
        db.session.commit()
    return {"Authorization": f"Bearer {plain}"}, "/login/link/" + url.rsplit("/", 1)[1]


def test_password_reset_revokes_tokens_links_and_sessions(app, client, users, auth):
    walker = app.test_client()
    walker.post("/login", data={"email": "walker@example.se", "password": PASSWORD})
    bearer, link = issue_token_and_link(app, users[Role.walker])
    assert client.get("/api/v1/observations", headers=bearer).status_code == 200
    assert client.get(link).status_code == 200
    auth.login_as(Role.admin)
    response = client.post(f"/admin/users/{users[Role.walker]}", data={
        "email": "walker@example.se", "name": "Walker", "role": "walker", "organisation_id": "0",
        "password": "a-brand-new-password"})
    assert response.status_code == 302
    assert "Inloggad som" not in walker.get("/").get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/observations", headers=bearer).status_code == 401
    assert anonymous.get(link).status_code == 410
    assert anonymous.post(link).status_code == 410
    assert "Inloggad som" not in anonymous.get("/").get_data(as_text=True)
    # an edit without a new password leaves new tokens alone
    bearer, link = issue_token_and_link(app, users[Role.walker])
    client.post(f"/admin/users/{users[Role.walker]}", data={
        "email": "walker@example.se", "name": "Walker W", "role": "walker", "organisation_id": "0", "password": ""})
    assert anonymous.get("/api/v1/observations", headers=bearer).status_code == 200


def test_reactivation_does_not_revive_old_tokens_or_links(app, client, users, auth):
    bearer, link = issue_token_and_link(app, users[Role.walker])
    auth.login_as(Role.admin)
    client.post(f"/admin/users/{users[Role.walker]}/active")  # deactivated
    client.post(f"/admin/users/{users[Role.walker]}/active")  # active again
    with app.app_context():
        assert db.session.get(User, users[Role.walker]).active is True
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/observations", headers=bearer).status_code == 401
    assert anonymous.post(link).status_code == 410
    assert "Inloggad som" not in anonymous.get("/").get_data(as_text=True)
    assert anonymous.post("/login", data={"email": "walker@example.se", "password": PASSWORD}).status_code == 302


def test_password_is_hashed_strongly(app, users):
    with app.app_context():
        user = db.session.get(User, users[Role.walker])
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_missing_csrf_token_gives_400_in_site_layout(app_factory, users):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"email": "admin@example.se", "password": PASSWORD})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="site-header"' in page
    assert "Formuläret hade gått ut" in page
    assert "Inloggad som" not in client.get("/").get_data(as_text=True)


def test_login_with_csrf_token_works(app_factory, users):
    import re

    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "admin@example.se", "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302


def test_session_cookie_is_secure_by_default(app_factory, users):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = client.post("/login", data={"email": "admin@example.se", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_guessing_is_stopped_per_address(app, client, users):
    """After 10 failures in 15 minutes an address cannot sign in with a password, right password or not,
    known or unknown; other addresses still can; once the failures age out, it can again."""
    from datetime import timedelta

    from walkapp.models import LoginFailure, utcnow

    for address in ("walker@example.se", "nobody@example.se"):
        for _ in range(10):
            assert client.post("/login", data={"email": address, "password": "guess-guess"}).status_code == 400
    blocked = client.post("/login", data={"email": "Walker@Example.se", "password": PASSWORD})
    unknown = client.post("/login", data={"email": "nobody@example.se", "password": "guess-guess"})
    assert blocked.status_code == unknown.status_code == 429
    for response in (blocked, unknown):
        assert "För många misslyckade inloggningar" in response.get_data(as_text=True)
    assert 'value="Walker@Example.se"' in blocked.get_data(as_text=True)
    assert "Inloggad som" not in client.get("/").get_data(as_text=True)
    assert client.post("/login", data={"email": "admin@example.se", "password": PASSWORD}).status_code == 302
    client.post("/logout")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(LoginFailure.id))) == 20  # hashes, not addresses
        assert db.session.scalar(db.select(LoginFailure).filter(LoginFailure.key_hash.contains("@"))) is None
        db.session.execute(db.update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    assert client.post("/login", data={"email": "walker@example.se", "password": PASSWORD}).status_code == 302


def test_a_successful_sign_in_clears_the_failures(app, client, users):
    from walkapp.models import LoginFailure

    for _ in range(9):
        client.post("/login", data={"email": "walker@example.se", "password": "guess-guess"})
    assert client.post("/login", data={"email": "walker@example.se", "password": PASSWORD}).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(LoginFailure.id))) == 0


@pytest.mark.parametrize("method, path", [("get", "/"), ("get", "/login"), ("post", "/login/link")])
def test_requests_for_other_hosts_are_refused(app, client, users, method, path):
    """A Host header the site does not serve gets a clear 400 page (never a link built from it)."""
    response = getattr(client, method)(path, data={"email": "walker@example.se"}, headers={"Host": "evil.example"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Webbplatsen finns inte på den här adressen." in page
    assert 'href="http://127.0.0.1:5000"' in page and "evil.example" not in page
    assert mail.wait_idle(30)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(LoginLink.id))) == 0
    # the site's own names still work
    for host in ("localhost", "127.0.0.1:5000"):
        assert client.get("/login", headers={"Host": host}).status_code == 200


def test_api_requests_for_other_hosts_get_json(client):
    response = client.get("/api/v1/observations", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["message"] == "Webbplatsen finns inte på den här adressen."
