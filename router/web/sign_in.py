"""Signing in to the console (a pasted bearer token kept in a cookie) and out again."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from ..http.auth import key_revoked, read_token
from .console import COOKIE, ConsoleController

__all__ = ["SignIn"]

_LOGIN = "console/login.html.j2"


class SignIn(ConsoleController):
    @get("/login", opt={"public": True})
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str] = "/console"
    ) -> Template:
        return Template(_LOGIN, media_type=MediaType.HTML, context={"next": next, "error": ""})

    @post("/login", status_code=303, opt={"public": True})
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        token = (form.get("token") or "").strip().removeprefix("Bearer ").strip()
        target = form.get("next") or "/console"
        if not target.startswith("/console"):
            target = "/console"
        user = read_token(request.app.state.secret, token) if token else None
        if user is None or await key_revoked(request.app, user):
            return Template(
                media_type=MediaType.HTML,
                template_name=_LOGIN,
                status_code=401,
                context={"next": target, "error": "That token is not valid (or has expired)."},
            )
        if user.role == "agent" and target == "/console":
            target = "/console/queue"
        response = Redirect(target, status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path="/console",
            secure=request.url.scheme == "https",
            max_age=12 * 3600,
        )
        return response

    @post("/logout", status_code=303, opt={"public": True})
    async def logout(self) -> Redirect:
        response = Redirect("/console/login", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response
