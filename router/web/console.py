"""The operations console and the team queue: server-rendered pages over the service.

Sign-in stores the pasted bearer token in an HttpOnly, SameSite=Strict cookie; every page
verifies it like the API does. Ops edit schedules and watch coverage; agents work their
team's queue. The pages call the same service and domain code as the JSON API, so the
validation and the conflict rules are the API's own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ..api.auth import Principal, read_token
from ..api.deps import Context, context
from ..delivery import dead_letters
from ..domain import case as lifecycle
from ..domain.errors import FollowsunError, InputError, ScheduleError
from ..domain.timeline import parse_zone
from ..domain.validation import convert_team
from ..service import Service
from ..store import StaleTeam
from .grid import heatmap, hours_of_week, on_shift, week_start
from .team_form import field_of, form_rows, spec_data

COOKIE = "fs_token"
TZ_COOKIE = "fs_tz"


class Forbidden(Exception):
    """The signed-in role may not open this page."""


class SignInRequired(Exception):
    """No valid token in the cookie: the page answers with a redirect to sign in."""


async def _signed_in(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard for every console page but sign-in: the cookie's token, verified, becomes the
    connection's user (so the handlers' context carries it)."""
    if handler.opt.get("public"):
        return
    user = _user(connection)
    if user is None:
        raise SignInRequired
    connection.scope["user"] = user


def _to_sign_in(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    return _login_redirect(request)


def _signed(ctx: Context) -> Principal:
    assert ctx.who is not None  # the controller's guard saw to it
    return ctx.who


def _user(request: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    token = request.cookies.get(COOKIE)
    return read_token(request.app.state.secret, token) if token else None


def _zone_key(request: Request[Any, Any, Any]) -> str:
    key = request.query_params.get("tz") or request.cookies.get(TZ_COOKIE) or "UTC"
    try:
        parse_zone(key)
    except InputError:
        return "UTC"
    return key


def _page(
    request: Request[Any, Any, Any],
    name: str,
    user: Principal,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    return Template(
        name,
        media_type=MediaType.HTML,
        status_code=status_code,
        context={"user": user, "tz": _zone_key(request), "path": request.url.path, **context},
    )


def _login_redirect(request: Request[Any, Any, Any]) -> Redirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/console/login?next={quote(target)}")


def _local(value: datetime | None, zone_key: str) -> str:
    return value.astimezone(parse_zone(zone_key)).strftime("%a %d %b %H:%M") if value else ""


class Console(Controller):
    path = "/console"
    include_in_schema = False
    guards = [_signed_in]
    exception_handlers = {SignInRequired: _to_sign_in}

    # -- sign in / out ---------------------------------------------------------------
    @get("/login", opt={"public": True})
    async def login_form(
        self, request: Request[Any, Any, Any], next: FromQuery[str] = "/console"
    ) -> Template:
        return Template(
            "console/login.html.j2", media_type=MediaType.HTML, context={"next": next, "error": ""}
        )

    @post("/login", status_code=303, opt={"public": True})
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        token = (form.get("token") or "").strip().removeprefix("Bearer ").strip()
        target = form.get("next") or "/console"
        if not target.startswith("/console"):
            target = "/console"
        user = read_token(request.app.state.secret, token) if token else None
        if user is None:
            return Template(
                media_type=MediaType.HTML,
                template_name="console/login.html.j2",
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

    # -- now ---------------------------------------------------------------------------
    @get("/")
    async def now_page(
        self,
        request: Request[Any, Any, Any],
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        if user.role == "agent":
            return Redirect("/console/queue")
        zone_key = _zone_key(request)
        schedules = await ctx.svc.schedules(ctx.now)
        index = await ctx.svc.index(ctx.now)
        on = sorted(index.at(ctx.now), key=lambda s: (schedules.teams[s.team].tier, s.team))
        loads = await ctx.svc.cases.team_loads(list(schedules.teams))
        upcoming = []
        for shift in sorted(
            index.between(ctx.now, ctx.now + timedelta(hours=12)), key=lambda s: s.end
        ):
            if ctx.now < shift.end <= ctx.now + timedelta(hours=12):
                nxt = [
                    s.team
                    for s in index.at(shift.end)
                    if s.team != shift.team
                    and schedules.teams[s.team].tier == schedules.teams[shift.team].tier
                ]
                upcoming.append(
                    {
                        "at": _local(shift.end, zone_key),
                        "from": shift.team,
                        "to": ", ".join(sorted(nxt)[:4]) or "nobody on shift",
                        "open": loads.get(shift.team, 0),
                    }
                )
        waiting_ids = [m.decode() for m in await ctx.svc.redis.zrange(ctx.svc.keys.waiting, 0, 49)]
        unroutable_ids = [
            m.decode() for m in await ctx.svc.redis.zrange(ctx.svc.keys.unroutable, 0, 49)
        ]
        overdue = [
            m.decode()
            for m in await ctx.svc.redis.zrangebyscore(
                ctx.svc.keys.deadlines, "-inf", ctx.now.timestamp(), start=0, num=50
            )
        ]
        dead = await dead_letters(ctx.svc.redis, ctx.svc.keys)
        return _page(
            request,
            "console/now.html.j2",
            user,
            now_local=_local(ctx.now, zone_key),
            on=[
                {
                    "team": schedules.teams[s.team],
                    "until": _local(s.end, zone_key),
                    "open": loads.get(s.team, 0),
                }
                for s in on
            ],
            upcoming=upcoming,
            waiting=await ctx.svc.cases.get_many(waiting_ids),
            unroutable=await ctx.svc.cases.get_many(unroutable_ids),
            overdue=[c for c in await ctx.svc.cases.get_many(overdue) if c.is_open],
            dead=dead,
            local=lambda v: _local(v, zone_key),
        )

    # -- coverage ----------------------------------------------------------------------
    @get("/coverage")
    async def coverage(
        self,
        request: Request[Any, Any, Any],
        skill: FromQuery[str | None] = None,
        tier: FromQuery[int | None] = 1,
        cell: FromQuery[str | None] = None,
        language: FromQuery[str | None] = None,
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        zone_key = _zone_key(request)
        zone = parse_zone(zone_key)
        schedules = await ctx.svc.schedules(ctx.now)
        start = week_start(ctx.now, zone)
        index = schedules.index(start - timedelta(days=1), start + timedelta(days=8))
        hours = hours_of_week(start, zone)
        skill = skill or None
        rows = heatmap(list(schedules.teams.values()), index, hours, skill=skill, tier=tier)
        detail = None
        if cell:
            try:
                at = datetime.fromtimestamp(int(cell), UTC)
                detail = {
                    "at": _local(at, zone_key),
                    "language": language,
                    "teams": [
                        {"team": t, "start": _local(s, zone_key), "end": _local(e, zone_key)}
                        for t, s, e in on_shift(
                            schedules.teams, index, at, language=language, skill=skill, tier=tier
                        )
                    ],
                }
            except (ValueError, FollowsunError):
                detail = None
        skills = sorted({s for t in schedules.teams.values() for s in t.skills})
        tiers = sorted({t.tier for t in schedules.teams.values()})
        response = _page(
            request,
            "console/coverage.html.j2",
            user,
            rows=rows,
            hours=hours,
            zone=zone,
            days=[hours[d * 24] for d in range(7)],
            skill=skill,
            tier=tier,
            skills=skills,
            tiers=tiers,
            detail=detail,
            zones=_zone_choices(zone_key),
            base=urlencode(
                {
                    k: v
                    for k, v in {"tz": zone_key, "skill": skill, "tier": tier}.items()
                    if v not in (None, "")
                }
            ),
            marks={"full": "●", "partial": "◐", "none": "✕"},
            words={"full": "covered", "partial": "partly covered", "none": "gap"},
        )
        if request.query_params.get("tz"):
            response.cookies.append(_tz_cookie(zone_key))
        return response

    # -- teams, editor, audit ----------------------------------------------------------
    @get("/teams")
    async def teams(
        self,
        request: Request[Any, Any, Any],
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        stored = await ctx.svc.teams.all()
        return _page(request, "console/teams.html.j2", user, teams=list(stored.values()))

    @get("/teams/{team_id:str}")
    async def edit_form(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        if user.role != "ops":
            return _forbidden(request, user, "Only operations staff can edit schedules.")
        stored = await ctx.svc.teams.get(team_id)
        if stored is None:
            return _page(
                request,
                "console/message.html.j2",
                user,
                title="No such team",
                message=f"There is no team {team_id}.",
                status_code=404,
            )
        return _page(
            request,
            "console/team_edit.html.j2",
            user,
            team_id=team_id,
            version=stored.version,
            form=form_rows(stored.spec),
            errors={},
            banner="",
            saved=request.query_params.get("saved") == "1",
        )

    @post("/teams/{team_id:str}")
    async def save(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        if user.role != "ops":
            return _forbidden(request, user, "Only operations staff can edit schedules.")
        form = await request.form()
        data = spec_data(form)
        version = int(form.get("version") or 0)
        errors: dict[str, list[str]] = {}
        banner = ""
        try:
            spec = convert_team(team_id, data, f"teams/{team_id}")
            await ctx.svc.check_team(team_id, spec, ctx.now)
            await ctx.svc.teams.put(team_id, spec, expected=version, by=user.sub, at=ctx.now)
        except ScheduleError as err:
            for p in err.problems:
                if p.severity == "error":
                    errors.setdefault(field_of(p.path) or "form", []).append(p.message)
            banner = "Nothing was saved: fix the fields marked below."
        except StaleTeam as err:
            banner = (
                f"Someone else saved this team first (it is now at version {err.found}). "
                "Nothing of yours was saved: reload the page to see their changes, then "
                "apply yours again."
            )
            errors["form"] = ["conflict"]
        else:
            ctx.svc.forget_schedules()
            from ..jobs.planner import plan_after_edit

            plan_after_edit(ctx.svc.keys.prefix, ctx.svc.url)
            return Redirect(f"/console/teams/{team_id}?saved=1", status_code=303)
        return _page(
            request,
            "console/team_edit.html.j2",
            user,
            team_id=team_id,
            version=version,
            form=form_rows(data),
            errors=errors,
            banner=banner,
            status_code=409 if "conflict" in errors.get("form", []) else 422,
        )

    @get("/teams/{team_id:str}/revisions")
    async def revisions(
        self,
        request: Request[Any, Any, Any],
        team_id: FromPath[str],
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        if user.role not in ("ops", "viewer"):
            return _forbidden(request, user, "Schedule history is for operations staff.")
        revs = list(reversed(await ctx.svc.teams.revisions(team_id)))
        return _page(
            request,
            "console/revisions.html.j2",
            user,
            team_id=team_id,
            revisions=revs,
            summary=_revision_summary(revs),
        )

    # -- cases and the queue -----------------------------------------------------------
    @get("/cases/{case_id:str}")
    async def case_page(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        case = await ctx.svc.cases.get(case_id)
        if case is None or (user.role == "agent" and case.team != user.team):
            return _page(
                request,
                "console/message.html.j2",
                user,
                title="No such case",
                message=f"There is no case {case_id} you can see.",
                status_code=404,
            )
        zone_key = _zone_key(request)
        return _page(
            request,
            "console/case.html.j2",
            user,
            case=case,
            events=await ctx.svc.cases.events(case_id),
            packets=await ctx.svc.cases.handovers(case_id),
            local=lambda v: _local(v, zone_key),
        )

    @get("/queue")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        team: FromQuery[str | None] = None,
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        team_id = user.team if user.role == "agent" else team
        if user.role not in ("agent", "ops", "viewer"):
            return _forbidden(request, user, "The queue is for support teams.")
        zone_key = _zone_key(request)
        cases: list[lifecycle.Case] = []
        packets = []
        if team_id:
            cases = await ctx.svc.cases.get_many(await ctx.svc.cases.open_ids(team_id))
            cases.sort(key=lambda c: c.next_deadline() or c.resolve_due)
            packets = await ctx.svc.cases.received(team_id, count=20)
        teams = sorted((await ctx.svc.teams.all()).keys())
        return _page(
            request,
            "console/queue.html.j2",
            user,
            team_id=team_id,
            teams=teams,
            cases=cases,
            packets=packets,
            now=ctx.now,
            flash=request.query_params.get("done"),
            local=lambda v: _local(v, zone_key),
        )

    @post("/cases/{case_id:str}/{action:str}", status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[str],
        action: FromPath[str],
    ) -> Any:
        ctx = context(request)
        user = _signed(ctx)
        case = await ctx.svc.cases.get(case_id)
        if case is None or not user.may_act_on(case.team):
            return _forbidden(request, user, "Only the case's team (or ops) can do that.")
        form = await request.form()
        text = (form.get("text") or "").strip()
        try:
            await _apply(
                ctx.svc,
                case,
                action,
                text,
                user,
                ctx.now,
                customer_visible=bool(form.get("customer_visible")),
            )
        except (lifecycle.IllegalTransition, InputError, FollowsunError) as err:
            return Redirect(f"/console/queue?done={quote(str(err))}", status_code=303)
        back = form.get("back") or "/console/queue"
        return Redirect(f"{back}?done={quote(f'{action}: {case_id}')}", status_code=303)


async def _apply(
    svc: Service,
    case: lifecycle.Case,
    action: str,
    text: str,
    user: Principal,
    now: datetime,
    *,
    customer_visible: bool,
) -> None:
    """The queue's buttons: the same lifecycle steps the API's endpoints take."""
    who = user.sub
    if action == "ack":
        await svc.change(case, lambda c: lifecycle.acknowledge(c, now=now, actor=who))
    elif action == "note":
        if not text:
            raise InputError("text", "a note needs text")
        await svc.change(
            case,
            lambda c: lifecycle.add_note(
                c, text, now=now, actor=who, customer_visible=customer_visible, policy=svc.policy
            ),
        )
    elif action == "resolve":
        if not text:
            raise InputError("text", "say how it was resolved")
        await svc.change(case, lambda c: lifecycle.resolve(c, text, now=now, actor=who))
    elif action == "escalate":
        await svc.escalate(case, now, actor=who, reason=text or "escalated from the queue")
    else:
        raise InputError("action", f"unknown action {action}")


def _forbidden(request: Request[Any, Any, Any], user: Principal, why: str) -> Template:
    return _page(
        request, "console/message.html.j2", user, title="Not allowed", message=why, status_code=403
    )


def _tz_cookie(zone_key: str) -> Any:
    from litestar.datastructures import Cookie

    return Cookie(
        key=TZ_COOKIE,
        value=zone_key,
        path="/console",
        samesite="strict",
        httponly=True,
        max_age=365 * 86400,
    )


def _zone_choices(current: str) -> list[str]:
    common = [
        "UTC",
        "Europe/London",
        "Europe/Amsterdam",
        "Europe/Berlin",
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "America/Sao_Paulo",
        "Asia/Dubai",
        "Asia/Kolkata",
        "Asia/Singapore",
        "Asia/Tokyo",
        "Australia/Sydney",
    ]
    return common if current in common else [current, *common]


def _revision_summary(revs: list[Any]) -> dict[int, str]:
    """What changed in each revision compared with the one before it (newest first)."""
    out: dict[int, str] = {}
    for newer, older in zip(revs, [*revs[1:], None], strict=True):
        if newer.spec is None:
            out[newer.version] = "deleted"
        elif older is None or older.spec is None:
            out[newer.version] = "created"
        else:
            a, b = msgspec.to_builtins(older.spec), msgspec.to_builtins(newer.spec)
            changed = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            out[newer.version] = "changed " + ", ".join(changed) if changed else "no change"
    return out
