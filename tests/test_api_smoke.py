"""The service answers over HTTP against a real Redis."""

from conftest import token


async def test_intake_creates_then_repeats(api) -> None:
    """A first post answers 201 with the routed case; the same (source, external_id) answers 200."""
    body = {
        "source": "zendesk",
        "external_id": "42",
        "impact": "high",
        "urgency": "medium",
        "skill": "billing",
        "customer": {"id": "c1", "locale": "nl-NL", "accepts": ["en"]},
    }
    first = await api.post("/v1/escalations", json=body, headers=token("intake"))
    assert first.status_code == 201, first.text
    case = first.json()
    assert case["team"] == "ams-l1"
    assert case["decision"]["language_match"] == "base"
    again = await api.post("/v1/escalations", json=body, headers=token("intake"))
    assert again.status_code == 200
    assert again.json()["id"] == case["id"]
