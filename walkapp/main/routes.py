from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import maps, workflow
from ..access import ANYONE, allow
from ..extensions import db
from ..redirects import safe_next
from ..labels import STATUS, WALK_STATUS
from . import bp
from . import home as home_items


@bp.get("/")
@allow(ANYONE)
def home():
    view, shown = home_items.for_user(current_user)
    the_map = maps.base_map(current_app.config, zoom=13)
    return render_template("main/home.html", view=view, shown=shown, map=maps.embed(the_map),
                           status_labels=STATUS, walk_status=WALK_STATUS, is_overdue=workflow.is_overdue)


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
