from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import ANYONE, SIGNED_IN, allow
from ..extensions import db
from ..i18n import safe_next
from . import bp
from .forms import LoginForm
from .service import authenticate


@bp.route("/login", methods=["GET", "POST"])
@allow(ANYONE)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        flash(_("Wrong e-mail or password."), "error")
    elif request.method == "POST":
        flash(_("Fill in both e-mail and password."), "error")
    if current_user.is_authenticated and request.method == "GET" and not request.args.get("next"):
        return redirect(url_for("main.home"))
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 400


@bp.post("/logout")
@allow(SIGNED_IN)
def logout():
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))
