from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import maps
from ..access import ANYONE, allow
from ..extensions import db
from ..redirects import safe_next
from . import bp


@bp.get("/")
@allow(ANYONE)
def home():
    the_map = maps.base_map(current_app.config)
    return render_template("main/home.html", map=maps.embed(the_map))


@bp.post("/language")
@allow(ANYONE)
def set_language():
    """Remember the chosen language in the session and, when signed in, on the user."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("main.home")))
