"""Export and import pages.

Exports take the inbox's query string unchanged (ObservationFilter plus sort), so
"export this view" is the inbox URL with another path. Imports go upload →
preview → confirm; the confirm form carries the file back (compressed, with a
signature binding it to the user and to what was previewed) and the server
reads and checks it again in full before writing anything.
"""
from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import datetime

from flask import Response, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from ..i18n import local_zone
from ..access import allow
from ..extensions import db
from ..labels import SOURCE
from ..models import Category, Source
from ..observations.filters import FilterError, ObservationFilter
from ..policy import STAFF
from . import bp, export, importer
from .forms import ImportForm

PREVIEW_ROWS = 200
PREVIEW_ERRORS = 500


# --- exports --------------------------------------------------------------------------

def export_filters() -> ObservationFilter | Response:
    try:
        return ObservationFilter.from_args(request.args)  # the inbox's links name kind=problem themselves
    except FilterError as exc:
        message = " ".join(" ".join(str(m) for m in messages) for messages in exc.errors.values())
        return Response(message + "\n", status=400, mimetype="text/plain")


def download_name(extension: str) -> str:
    stamp = datetime.now(local_zone()).strftime("%Y-%m-%d-%H%M")
    return f"observationer-{stamp}.{extension}"


def attachment(body, content_type: str, filename: str) -> Response:
    response = Response(body, content_type=content_type)  # as given: mimetype= would add a second charset
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/export/observations.csv")
@allow(*STAFF)
def export_csv():
    filters = export_filters()
    if isinstance(filters, Response):
        return filters
    variant = request.args.get("variant", "excel")
    if variant not in export.VARIANTS:
        return Response(_("Unknown variant: choose excel or utf8.") + "\n", status=400, mimetype="text/plain")
    rows = export.observations(current_user, filters, request.args.get("sort", "newest"))
    body = stream_with_context(export.csv_export(rows, variant))
    return attachment(body, "text/csv; charset=utf-8", download_name("csv"))


@bp.get("/export/observations.geojson")
@allow(*STAFF)
def export_geojson():
    filters = export_filters()
    if isinstance(filters, Response):
        return filters
    rows = export.observations(current_user, filters, request.args.get("sort", "newest"))
    body = stream_with_context(export.geojson_export(rows))
    return attachment(body, "application/geo+json", download_name("geojson"))


# --- imports ------------------------------------------------------------------------------

@bp.url_value_preprocessor
def allow_large_confirm(endpoint, values):
    """The confirm form carries the file in a field: let it be as large as an upload may be.

    (Runs before the before-request hooks, where the CSRF check reads the form.)
    """
    if endpoint == "exchange.import_confirm":
        request.max_form_memory_size = importer.max_bytes() * 4 // 3 + 64 * 1024


def serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="walkapp.exchange.import")


def digest(payload: str, source: str, sender: str, filename: str) -> str:
    return hashlib.sha256("\x00".join((payload, source, sender, filename)).encode()).hexdigest()


def pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def unpack(payload: str) -> bytes:
    inflater = zlib.decompressobj()
    data = inflater.decompress(base64.b64decode(payload, validate=True), importer.max_bytes() + 1)
    if inflater.unconsumed_tail:
        return data + b"\x00"  # longer than allowed: read_table refuses it
    return data


def import_page(form: ImportForm, status: int = 200, file_error: str | None = None):
    return render_template(
        "exchange/import.html", form=form, file_error=file_error,
        max_mb=importer.max_bytes() // (1024 * 1024) or 1, max_rows=importer.max_rows(),
        sources=SOURCE, categories=db.session.scalars(db.select(Category).order_by(Category.sort_order)).all(),
    ), status


@bp.get("/import")
@allow(*STAFF)
def import_form():
    return import_page(ImportForm())


@bp.get("/import/template.csv")
@allow(*STAFF)
def import_template():
    return attachment(export.template_csv(), "text/csv; charset=utf-8", "importmall.csv")


def preview(result: importer.Plan, payload: str, status: int = 200):
    seal = serializer().dumps([current_user.id, digest(payload, result.source.value, result.sender, result.filename)])
    return render_template(
        "exchange/preview.html", plan=result, payload=payload, seal=seal,
        shown_rows=result.rows[:PREVIEW_ROWS], shown_errors=result.errors[:PREVIEW_ERRORS],
        preview_limit=PREVIEW_ROWS, error_limit=PREVIEW_ERRORS, sources=SOURCE,
    ), status


@bp.post("/import")
@allow(*STAFF)
def import_upload():
    form = ImportForm()
    if not form.validate():
        return import_page(form, 400)
    upload = form.file.data
    data = upload.read(importer.max_bytes() + 1)
    filename = (upload.filename or "import.csv").replace("\\", "/").rsplit("/", 1)[-1][:200]
    try:
        result = importer.plan(data, filename, Source(form.source.data), form.sender.data or "")
    except importer.ImportFileError as exc:
        return import_page(form, 400, exc.message)
    return preview(result, pack(data), 200 if result.ok else 400)


@bp.post("/import/confirm")
@allow(*STAFF)
def import_confirm():
    payload = request.form.get("payload", "")
    source_code = request.form.get("source", "")
    sender = request.form.get("sender", "")
    filename = request.form.get("filename", "")
    try:
        user_id, expected = serializer().loads(request.form.get("seal", ""))
        if user_id != current_user.id or expected != digest(payload, source_code, sender, filename):
            raise BadSignature("mismatch")
        data = unpack(payload)
        source = Source(source_code)
    except (BadSignature, ValueError, TypeError, zlib.error):
        flash(_("The import could not be confirmed. Upload the file again."), "error")
        return redirect(url_for("exchange.import_form"))
    try:
        result = importer.plan(data, filename, source, sender)
    except importer.ImportFileError as exc:
        return import_page(ImportForm(formdata=None, source=source.value, sender=sender), 400, exc.message)
    if not result.ok:  # the data changed since the preview (e.g. an organisation was removed)
        return preview(result, payload, 400)
    try:
        created, skipped = importer.apply(result, current_user)
        db.session.commit()
    except IntegrityError:  # the same rows imported at the same moment by someone else
        db.session.rollback()
        flash(_("Some rows were imported by someone else meanwhile. Nothing was imported; check the preview "
                "again."), "error")
        return preview(importer.plan(data, filename, source, sender), payload, 409)
    message = ngettext("%(num)d observation imported.", "%(num)d observations imported.", created)
    if skipped:
        message += " " + ngettext("%(num)d row was already imported and was skipped.",
                                  "%(num)d rows were already imported and were skipped.", skipped)
    flash(message, "success")
    sources = sorted({r.values["source"].value for r in result.rows}) or [source.value]
    return redirect(url_for("triage.inbox", source=",".join(sources), status="new"))
