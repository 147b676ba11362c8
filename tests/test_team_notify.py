"""Team notifications over real HTTP and SMTP: Slack and Teams webhooks on loopback, an
aiosmtpd server, the deployment's RQ queue run in-process, the real catalogs; and the
`locale` and `notify` fields of a team, validated and written back as TOML, its webhook
URLs shown to ops only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import receivers
from conftest import token
from harness import Harness
from litestar.datastructures import FormMultiDict
from receivers import WebhookReceiver, deployment, fast_retries, harness, work

from router.domain.case import Case, acknowledge
from router.domain.errors import ScheduleError
from router.domain.escalation import Customer, Escalation
from router.domain.model import TeamSpec
from router.domain.validation import decode_team, team_from_spec
from router.schedule_files import read_team_specs, write_team
from router.services.notify_formats import ADAPTIVE_CARD
from router.settings import Settings
from router.web.team_form import field_of, form_rows, spec_data

receiver, mailbox, plain_smtp = receivers.receiver, receivers.mailbox, receivers.plain_smtp
forget_queue = receivers.forget_queue

PUBLIC = "https://followsun.example"
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday: Frankfurt on, New York not yet
FRA_END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 17:00 in Frankfurt; 11:00 in New York
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
MAIL_FROM = "Followsun <followsun@followsun.example>"


# -- the deployment -------------------------------------------------------------------------


@pytest.fixture
def settings(
    redis_url: str,
    key_prefix: str,
    plain_smtp: str,
    forget_queue: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    fast_retries(monkeypatch, 2)
    return deployment(
        redis_url, key_prefix, public_url=PUBLIC, smtp_url=plain_smtp, mail_from=MAIL_FROM
    )


@pytest.fixture
async def svc(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    async with harness(settings, monkeypatch) as h:
        yield h


# -- teams and cases ------------------------------------------------------------------------


def team(timezone: str, **fields: Any) -> TeamSpec:
    data: dict[str, Any] = {
        "name": timezone,
        "timezone": timezone,
        "tier": 1,
        "languages": ["en"],
        "skills": ["billing"],
        "shifts": [{"days": WEEKDAYS, "start": "08:00", "end": "17:00"}],
        **fields,
    }
    return msgspec.convert(data, TeamSpec)


def teams(receiver: WebhookReceiver, **fra: Any) -> dict[str, TeamSpec]:
    """Frankfurt reads German and is told on Slack and Teams; New York reads English and is
    told on Slack."""
    notify = {"slack": f"{receiver.base}/slack/fra", "teams": f"{receiver.base}/teams/fra"}
    fields = {"languages": ["de", "en"], "locale": "de", "notify": notify, **fra}
    return {
        "fra-l1": team("Europe/Berlin", **fields),
        "nyc-l1": team("America/New_York", notify={"slack": f"{receiver.base}/slack/nyc"}),
    }


async def load(svc: Harness, specs: dict[str, TeamSpec]) -> None:
    await svc.teams.load(specs, by="test", at=MORNING)
    svc.forget_schedules()


async def intake(svc: Harness, n: int, now: datetime = MORNING, **fields: Any) -> Case:
    values: dict[str, Any] = {"priority": "P3", "skill": "billing", **fields}
    escalation = Escalation(
        customer=Customer(id=f"cust-{n}", locale="en-GB", timezone="Europe/London"),
        summary="Invoice charged twice",
        source="test",
        external_id=f"n{n}",
        **values,
    )
    case, created = await svc.intake(escalation, now, actor="test")
    assert created
    return case


async def deliver(svc: Harness, redis_url: str, key_prefix: str) -> None:
    await svc.outbox.dispatch()
    work(redis_url, key_prefix)


def slack_text(payload: dict[str, Any]) -> str:
    """Everything a Slack reader sees: the text and every block's text."""
    return json.dumps(payload, ensure_ascii=False)


ADAPTIVE_KEYS = {
    "AdaptiveCard": {"type", "$schema", "version", "lang", "body", "actions"},
    "TextBlock": {"type", "text", "size", "weight", "wrap", "color", "isSubtle"},
    "FactSet": {"type", "facts"},
    "Action.OpenUrl": {"type", "title", "url"},
}


def adaptive_card(payload: dict[str, Any]) -> dict[str, Any]:
    """The card of a Teams workflow message, its structure checked against the Adaptive
    Card 1.4 elements it may use."""
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    card = attachment["content"]
    assert set(card) <= ADAPTIVE_KEYS["AdaptiveCard"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["version"] == "1.4"
    assert card["body"]
    for element in card["body"]:
        assert set(element) <= ADAPTIVE_KEYS[element["type"]], element
        if element["type"] == "TextBlock":
            assert isinstance(element["text"], str)
            assert element["text"]
        else:
            for fact in element["facts"]:
                assert set(fact) == {"title", "value"}
                assert all(isinstance(v, str) and v for v in fact.values())
    [action] = card["actions"]
    assert set(action) <= ADAPTIVE_KEYS[action["type"]]
    assert action["type"] == "Action.OpenUrl"
    return card


def facts_of(card: dict[str, Any]) -> dict[str, str]:
    [factset] = [e for e in card["body"] if e["type"] == "FactSet"]
    return {f["title"]: f["value"] for f in factset["facts"]}


# -- notifications ------------------------------------------------------------------------


async def test_intake_assigned_to_a_team_posts_to_its_slack_and_teams_in_its_locale(
    svc, receiver, redis_url, key_prefix
) -> None:
    """A case assigned at intake reaches the team's Slack (text and blocks) and Teams (an
    Adaptive Card) once each, in German, with the deadline on Frankfurt's clock."""
    await load(svc, teams(receiver))
    case = await intake(svc, 1)
    assert (case.team, case.ack_due) == ("fra-l1", MORNING + timedelta(hours=4))
    await deliver(svc, redis_url, key_prefix)

    link = f"{PUBLIC}/console/cases/{case.id}"
    due = "23.11.2026, 14:00 (Mitteleuropäische Normalzeit)"  # 13:00Z in Frankfurt
    [slack] = receiver.payloads("/slack/fra")
    assert slack["text"].startswith(f"Neuer Fall {case.id} (P3): Fall {case.id} mit Priorität P3")
    assert f"Bitte bestätigen Sie ihn bis {due}." in slack["text"]
    assert f"<{link}|In der Konsole öffnen>" in slack["text"]
    header, section, fields, actions = slack["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": f"Neuer Fall {case.id} (P3)"},
    }
    assert section["text"]["type"] == "mrkdwn"
    assert due in section["text"]["text"]
    assert [f["text"] for f in fields["fields"]] == [
        f"*Fall*\n{case.id}",
        "*Priorität*\nP3",
        f"*Bestätigen bis*\n{due}",
    ]
    [button] = actions["elements"]
    assert (button["type"], button["url"]) == ("button", link)
    assert button["text"] == {"type": "plain_text", "text": "In der Konsole öffnen"}

    [teams_message] = receiver.payloads("/teams/fra")
    card = adaptive_card(teams_message)
    assert card["lang"] == "de"
    assert card["body"][0]["text"] == f"Neuer Fall {case.id} (P3)"
    assert facts_of(card) == {"Fall": case.id, "Priorität": "P3", "Bestätigen bis": due}
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "In der Konsole öffnen",
        "url": link,
    }
    assert receiver.payloads("/slack/nyc") == []
    assert {r["headers"]["content-type"] for r in receiver.requests} == {
        "application/json; charset=utf-8"
    }
    assert len(receiver.requests) == 2

    await deliver(svc, redis_url, key_prefix)  # nothing new: nothing sent twice
    assert len(receiver.requests) == 2


async def test_handover_tells_the_receiving_team_in_its_language(
    svc, receiver, redis_url, key_prefix
) -> None:
    """At Frankfurt's shift end its case goes to New York, whose Slack hears "handed over"
    in English, with the new acknowledgement deadline on New York's clock."""
    await load(svc, teams(receiver))
    case = await intake(svc, 2)
    await deliver(svc, redis_url, key_prefix)
    report = await svc.handover.hand_over("fra-l1", FRA_END)
    assert report.moved == {"nyc-l1": 1}
    await deliver(svc, redis_url, key_prefix)

    [told] = receiver.payloads("/slack/nyc")
    assert told["blocks"][0]["text"]["text"] == f"Case {case.id} handed over to your team (P3)"
    assert told["text"].startswith(
        f"Case {case.id} handed over to your team (P3): Case {case.id}, priority P3, has been "
        "handed over to your team at a shift end."
    )
    due = "Nov 23, 2026, 3:00\u202fPM (Eastern Standard Time)"  # 16:00Z + 4 h, in New York
    assert [f["text"] for f in told["blocks"][2]["fields"]] == [
        f"*Case*\n{case.id}",
        "*Priority*\nP3",
        f"*Acknowledge by*\n{due}",
        "*Previous team*\nfra-l1",
    ]
    assert f"<{PUBLIC}/console/cases/{case.id}|Open in the console>" in told["text"]
    assert len(receiver.payloads("/slack/fra")) == 1  # its own assignment, nothing more


async def test_acknowledgement_overdue_with_nobody_above_tells_the_team(
    svc, receiver, redis_url, key_prefix
) -> None:
    """A case nobody acknowledged, with no higher tier to go to: the team hears of it."""
    await load(svc, teams(receiver))
    case = await intake(svc, 3)
    await deliver(svc, redis_url, key_prefix)
    await svc.deadlines.sweep(MORNING + timedelta(hours=4, minutes=1))
    await deliver(svc, redis_url, key_prefix)

    first, overdue = receiver.payloads("/slack/fra")
    assert first["blocks"][0]["text"]["text"] == f"Neuer Fall {case.id} (P3)"
    assert overdue["blocks"][0]["text"]["text"] == f"Nicht bestätigt: Fall {case.id} (P3)"
    due = "23.11.2026, 14:00 (Mitteleuropäische Normalzeit)"
    assert f"hätte bis {due} bestätigt werden müssen" in overdue["text"]
    card = adaptive_card(receiver.payloads("/teams/fra")[1])
    assert card["body"][0]["text"] == f"Nicht bestätigt: Fall {case.id} (P3)"


async def test_an_overdue_customer_update_reminds_the_team(
    svc, receiver, redis_url, key_prefix
) -> None:
    """Past the customer-update deadline of an acknowledged case, the team is reminded,
    with the update deadline that passed."""
    await load(svc, teams(receiver))
    case = await intake(svc, 7)
    case = await svc.change(case, lambda c: acknowledge(c, now=MORNING, actor="agent"))
    assert case.update_due is not None
    await svc.deadlines.sweep(case.update_due + timedelta(minutes=1))
    await deliver(svc, redis_url, key_prefix)

    _assigned, reminder = receiver.payloads("/slack/fra")
    title = f"Kundeninformation überfällig: Fall {case.id} (P3)"
    assert reminder["blocks"][0]["text"]["text"] == title
    card = adaptive_card(receiver.payloads("/teams/fra")[1])
    due = case.update_due.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y, %H:%M")
    assert facts_of(card)["Kundeninformation bis"] == f"{due} (Mitteleuropäische Normalzeit)"


async def test_an_unroutable_case_tells_the_team_it_left(
    svc, receiver, redis_url, key_prefix
) -> None:
    """At a shift end nobody else has the skill: the leaving team hears that no team can
    take the case over (operations are alerted as before)."""
    await load(svc, teams(receiver, skills=["billing", "tax"]))
    case = await intake(svc, 4, skill="tax")
    assert case.team == "fra-l1"
    await svc.handover.hand_over("fra-l1", FRA_END)
    assert (await svc.cases.get(case.id)).status == "unroutable"
    await deliver(svc, redis_url, key_prefix)

    _assigned, unroutable = receiver.payloads("/slack/fra")
    assert unroutable["blocks"][0]["text"]["text"] == (
        f"Kein Team kann Fall {case.id} übernehmen (P3)"
    )
    card = adaptive_card(receiver.payloads("/teams/fra")[1])
    assert facts_of(card)["Grund"]  # the routing engine's reasons, as it writes them
    assert receiver.payloads("/slack/nyc") == []


async def test_a_failing_chat_webhook_is_retried_until_it_takes_the_message(
    svc, receiver, redis_url, key_prefix
) -> None:
    """A webhook answering 500 then 200 gets the same message again and takes it once."""
    receiver.answer(500, 200)
    only_slack = {"nyc-l1": team("America/New_York", notify={"slack": f"{receiver.base}/s"})}
    await load(svc, only_slack)
    await intake(svc, 5, now=FRA_END)
    await deliver(svc, redis_url, key_prefix)

    assert [r["status"] for r in receiver.requests] == [500, 200]
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert len(receiver.payloads("/s")) == 1
    assert await svc.outbox.dead_letters() == []


async def test_team_email_is_plain_utf8_text_in_the_team_locale(
    svc, receiver, mailbox, redis_url, key_prefix
) -> None:
    """A team with addresses gets one plain-text UTF-8 message, machine-sent, in German."""
    await load(svc, teams(receiver, notify={"email": ["oncall@fra.example", "lead@fra.example"]}))
    case = await intake(svc, 6)
    await deliver(svc, redis_url, key_prefix)

    [mail] = mailbox.accepted()
    assert mail.recipients == ["oncall@fra.example", "lead@fra.example"]
    message = mail.message
    assert message["Subject"] == f"Neuer Fall {case.id} (P3)"
    assert message["From"] == MAIL_FROM
    assert message["To"] == "oncall@fra.example, lead@fra.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "de"
    assert not message.is_multipart()
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "Bitte bestätigen Sie ihn bis 23.11.2026, 14:00 (Mitteleuropäische Normalzeit)." in body
    assert f"In der Konsole öffnen: {PUBLIC}/console/cases/{case.id}" in body
    assert receiver.requests == []  # this Frankfurt has no chat webhooks


# -- the team document ----------------------------------------------------------------------


def problems_of(toml: str) -> list[str]:
    with pytest.raises(ScheduleError) as info:
        team_from_spec("fra-l1", decode_team("fra-l1", toml, "teams/fra-l1.toml"), "teams/x")
    return [f"{p.path}: {p.message}" for p in info.value.problems]


HEADER = 'name = "Frankfurt"\ntimezone = "Europe/Berlin"\ntier = 1\nlanguages = ["de"]\n'


def test_bad_notify_urls_addresses_and_locale_are_located() -> None:
    """Every bad webhook URL, address and locale is reported at its field, all at once."""
    toml = HEADER + (
        'locale = "pt_BR"\n'
        'notify = { slack = "http://hooks.slack.com/services/T0/B0/x", '
        'teams = "ftp://prod.westeurope.logic.azure.com/workflows/1", '
        'email = ["oncall@fra.example", "oncall@", "two words@fra.example", '
        '"ONCALL@fra.example"] }\n'
    )
    assert problems_of(toml) == [
        'locale: "pt_BR" is not a BCP 47 language tag (did you mean "pt-BR"?)',
        "notify.slack: must be an https URL",
        "notify.teams: must be an https URL",
        'notify.email[1]: "oncall@" is not an e-mail address',
        'notify.email[2]: "two words@fra.example" is not an e-mail address',
        'notify.email[3]: "ONCALL@fra.example" is listed twice',
    ]
    assert problems_of(HEADER + 'locale = "xx-nonsense-tag"\n') == [
        'locale: "xx-nonsense-tag" is not a BCP 47 language tag'
    ]
    assert problems_of(HEADER + 'notify = { slack = "https://" }\n') == [
        "notify.slack: must be an https URL"
    ]


def test_notify_structure_errors_are_located() -> None:
    """A wrong type or a misspelt key inside `notify` names its path."""
    with pytest.raises(ScheduleError) as info:
        decode_team("x", HEADER + 'notify = { slak = "https://hooks.slack.com/x" }\n', "t")
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("notify.slak", "unknown field (check the spelling)")
    ]
    with pytest.raises(ScheduleError) as info:
        decode_team("x", HEADER + "notify = { email = 'oncall@fra.example' }\n", "t")
    [problem] = info.value.problems
    assert problem.path == "notify.email"


def test_https_and_loopback_webhooks_and_cldr_locales_are_accepted() -> None:
    """https anywhere, plain http only to this machine; any locale Babel knows."""
    toml = HEADER + (
        'locale = "pt-BR"\n'
        "notify = { slack = 'https://hooks.slack.com/services/T0/B0/x', "
        "teams = 'http://127.0.0.1:8080/teams', email = ['a.b+c@fra.example'] }\n"
    )
    built = team_from_spec("fra-l1", decode_team("fra-l1", toml, "t"), "t")
    assert built.spec.locale == "pt-BR"
    assert built.spec.notify is not None
    assert built.spec.notify.email == ["a.b+c@fra.example"]


async def test_locale_and_notify_round_trip_through_the_store_and_toml(
    svc, receiver, tmp_path: Path
) -> None:
    """Loaded into the store, exported as TOML and read back: the same team, defaults left out."""
    specs = teams(receiver, notify={"email": ["oncall@fra.example"]})
    await load(svc, specs)
    stored = {tid: t.spec for tid, t in (await svc.teams.all()).items()}
    assert stored == specs
    for tid, spec in stored.items():
        write_team(tmp_path, tid, spec)
    text = (tmp_path / "teams" / "fra-l1.toml").read_text()
    assert 'locale = "de"' in text
    assert "[notify]" in text
    assert "locale" not in (tmp_path / "teams" / "nyc-l1.toml").read_text()  # "en": the default
    assert read_team_specs(tmp_path) == specs


def test_the_console_team_editor_keeps_locale_and_notify() -> None:
    """The editor's form carries `locale` and `notify` both ways, and their errors land
    next to their fields."""
    form = FormMultiDict(
        {
            "name": "Frankfurt",
            "timezone": "Europe/Berlin",
            "tier": "1",
            "languages": "de, en",
            "locale": "de",
            "notify-slack": "https://hooks.slack.com/services/T0/B0/x",
            "notify-teams": "",
            "notify-email": "oncall@fra.example, lead@fra.example",
        }
    )
    data = spec_data(form)
    assert data["locale"] == "de"
    assert data["notify"] == {
        "slack": "https://hooks.slack.com/services/T0/B0/x",
        "email": ["oncall@fra.example", "lead@fra.example"],
    }
    spec = msgspec.convert(data, TeamSpec)
    rows = form_rows(spec)
    assert (rows["locale"], rows["notify"]["email"]) == ("de", data["notify"]["email"])
    assert field_of("notify.email[1]") == "notify-email"
    assert field_of("notify.slack") == "notify-slack"
    assert field_of("locale") == "locale"


# -- webhook URLs are credentials -------------------------------------------------------------

SLACK = "https://hooks.slack.com/services/T0AAA/B0BBB/xoxsecret42"
TEAMS = "https://user:pw@prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers?sig=s3cr3t"
OPS = token("ops")


async def put_notify(api: Any, notify: dict[str, Any]) -> Any:
    """ams-l1 (of the repository's schedules) with `notify`, PUT by ops at its version."""
    current = await api.get("/v1/teams/ams-l1", headers=OPS)
    spec = {**current.json(), "notify": notify}
    headers = {**OPS, "If-Match": current.headers["etag"]}
    return await api.put("/v1/teams/ams-l1", json=spec, headers=headers)


@pytest.mark.parametrize(
    ("role", "team"), [("viewer", None), ("agent", "ams-l1"), ("intake", None)]
)
async def test_webhook_urls_are_redacted_for_everyone_but_ops(api, role, team) -> None:
    """Viewers, agents and intake read where a team is told (host, addresses) but not the
    secret part of its webhook URLs, in the team and in its revisions; ops read it all."""
    saved = await put_notify(api, {"slack": SLACK, "teams": TEAMS, "email": ["a@ams.example"]})
    assert saved.status_code == 200, saved.text
    caller = token(role, team)

    shown = await api.get("/v1/teams/ams-l1", headers=caller)
    assert shown.status_code == 200, shown.text
    assert shown.json()["notify"] == {
        "slack": "https://hooks.slack.com/[redacted]",
        "teams": "https://prod-12.westeurope.logic.azure.com:443/[redacted]",
        "email": ["a@ams.example"],
    }
    assert "Authorization" in shown.headers["vary"]
    assert "xoxsecret42" not in shown.text
    assert "s3cr3t" not in shown.text
    assert "pw@" not in shown.text

    revisions = await api.get("/v1/teams/ams-l1/revisions", headers=token("viewer"))
    assert revisions.status_code == 200, revisions.text
    assert "xoxsecret42" not in revisions.text
    assert "s3cr3t" not in revisions.text
    assert revisions.json()[-1]["spec"]["notify"]["slack"] == "https://hooks.slack.com/[redacted]"

    listed = await api.get("/v1/teams", headers=caller)
    assert "xoxsecret42" not in listed.text

    full = await api.get("/v1/teams/ams-l1", headers=OPS)
    assert full.json()["notify"]["slack"] == SLACK
    ops_revisions = await api.get("/v1/teams/ams-l1/revisions", headers=OPS)
    assert ops_revisions.json()[-1]["spec"]["notify"]["teams"] == TEAMS


async def test_a_redacted_url_sent_back_is_refused_by_name_and_nothing_is_stored(api) -> None:
    """A document that round-trips what a viewer saw (an editor copying it, a script doing
    GET-modify-PUT with a viewer's token for the read) is 422 on `notify.slack`: the
    stored URL stays, the version does not move."""
    saved = await put_notify(api, {"slack": SLACK})
    assert saved.status_code == 200, saved.text
    version = saved.headers["etag"]

    back = await put_notify(api, {"slack": "https://hooks.slack.com/[redacted]"})
    assert back.status_code == 422, back.text
    assert back.headers["content-type"].startswith("application/problem+json")
    assert "notify.slack" in back.text
    assert "redacted" in back.text

    after = await api.get("/v1/teams/ams-l1", headers=OPS)
    assert after.headers["etag"] == version
    assert after.json()["notify"]["slack"] == SLACK


def test_a_redacted_url_in_a_team_file_is_located() -> None:
    """The same refusal for a TOML file, so the redacted form can never become the URL."""
    toml = HEADER + "notify = { teams = 'https://prod-1.logic.azure.com/[redacted]' }\n"
    [problem] = problems_of(toml)
    assert problem.startswith("notify.teams: is the redacted form")
