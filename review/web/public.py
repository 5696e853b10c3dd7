"""Routes without a login: the health check and an empty favicon."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request

bp = Blueprint("public")


@bp.get("/healthz")
async def healthz(request: Request) -> response.HTTPResponse:
    """For health checks: "ok" without a login."""
    return response.text("ok")


@bp.get("/favicon.ico")
async def favicon(request: Request) -> response.HTTPResponse:
    """An empty favicon (browsers ask for one)."""
    return response.empty()
