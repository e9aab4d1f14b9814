from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import mail, policy, signin_links
from ..access import ANYONE, SIGNED_IN, allow
from ..extensions import db
from ..models import utcnow
from ..redirects import safe_next
from . import bp, throttle
from .forms import LinkRequestForm, LoginForm
from .service import authenticate, sign_out_everywhere


@bp.route("/login", methods=["GET", "POST"])
@allow(ANYONE)
def login():
    next_url = safe_next(request.args.get("next"))  # a malformed one is refused before anything else
    form = LoginForm()
    status = 200 if request.method == "GET" else 400
    if form.validate_on_submit():
        email = form.email.data
        if throttle.blocked(email):
            flash(_("Too many failed sign-ins for this address. Wait %(minutes)s minutes, or get a sign-in "
                    "link by e-mail.", minutes=current_app.config["LOGIN_FAILURE_MINUTES"]), "error")
            status = 429
        elif (user := authenticate(email, form.password.data)) is not None:
            throttle.succeeded(email)
            db.session.commit()
            login_user(user)
            return redirect(next_url or url_for("main.home"))
        else:
            throttle.failed(email)
            db.session.commit()
            flash(_("Wrong e-mail or password."), "error")
    elif request.method == "POST":
        flash(_("Fill in both e-mail and password."), "error")
    if current_user.is_authenticated and request.method == "GET" and not request.args.get("next"):
        return redirect(url_for("main.home"))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@allow(SIGNED_IN)
def logout():
    """Ends this session and its copies: the user's session token changes, so a copied cookie (or
    the same account signed in on another device) is signed out too."""
    sign_out_everywhere(current_user)
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/login/link", methods=["GET", "POST"])
@allow(ANYONE)
def request_link():
    """Same answer, in the same time, whether or not the address exists: no account enumeration.

    The address is looked up and the link made and mailed after the response.
    """
    form = LinkRequestForm()
    if form.validate_on_submit():
        mail.later(signin_links.mail_link_to_address, form.email.data)
        return render_template("auth/link_sent.html")
    return render_template("auth/request_link.html", form=form), 400 if form.errors else 200


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@allow(ANYONE)
def use_link(token: str):
    """GET shows a button, POST signs in: mail scanners that open links do not use them up."""
    link = signin_links.find(token)
    state = signin_links.check(link)
    if state in ("used", "expired") and current_user.is_authenticated and current_user.id == link.user_id:
        return redirect(safe_next(link.next_url, url_for("main.home")))  # still signed in: straight there
    if state != "ok":
        return render_template("auth/link_refused.html", state=state, token=token,
                               form=LinkRequestForm(formdata=None)), 404 if state == "unknown" else 410
    days = current_app.config["REMEMBER_RESPONDER_DAYS"]
    offer = bool(days) and policy.may_stay_signed_in(link.user)
    if request.method == "GET":
        return render_template("auth/use_link.html", token=token, name=link.user.name, remember_days=days if offer else 0)
    link.used_at = utcnow()
    db.session.commit()
    remember = offer and request.form.get("remember") == "1"
    login_user(link.user, remember=remember, duration=timedelta(days=int(days)) if remember else None)
    return redirect(safe_next(link.next_url, url_for("main.home")))


@bp.post("/login/link/<token>/renew")
@allow(ANYONE)
def renew_link(token: str):
    """A used or expired link may ask for a new one, sent to the same address."""
    mail.later(signin_links.mail_new_link, token)
    return render_template("auth/link_sent.html")
