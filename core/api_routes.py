"""Core API routes: the OpenAPI document (``/api/v1/openapi.json``) and its readable
reference (``/api/docs``), both built from the declared operations."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, url_for

from core import openapi
from core.api import api_bp

docs_bp = Blueprint("api_docs", __name__)


def _document() -> dict:
    return openapi.document(url_for("api.openapi_document", _external=True).rsplit("/", 1)[0])


@api_bp.get("/openapi.json")
def openapi_document():
    return jsonify(_document())


@docs_bp.get("/api/docs")
def reference():
    """The API reference, rendered on the server from the same document (no scripts,
    nothing fetched from elsewhere)."""
    from core.api_reference import reference_context

    return render_template("core/api_docs.html", **reference_context(_document()))
