"""Reading schedule documents into validated teams, with located problems.

Every finding names its file and field (`teams/ams-l1.toml: shifts[2].start: "25:00" is
not a time`). Parsing collects all problems of a document before giving up, so an
operator fixes a file in one pass rather than one error per run.

    _documents   TOML into TeamSpec, every structural problem located, did-you-mean
    _policy      policy.toml: the matrix complete, deadlines positive
    _intake      policy.toml [intake.<helpdesk>]: priorities, tags, skills, flags
    _residency   policy.toml [residency]: customer regions, their allowed team regions
    _retention   policy.toml [retention]: days a closed case keeps personal data
    _team        one team on its own: id, zone, languages, times, rules, overrides
    _notify      a team's notification locale and channels (https webhooks, addresses)
    _links       escalation links across teams: known, higher tier, no cycle
    _dst         warnings for shifts whose real length a DST change alters
"""

from __future__ import annotations

from ._documents import convert_team, decode_team
from ._dst import dst_warnings
from ._links import check_team_links
from ._notify import REDACTED, redacted_url
from ._policy import decode_policy
from ._team import TEAM_ID, parse_time, team_from_spec

__all__ = [
    "REDACTED",
    "TEAM_ID",
    "check_team_links",
    "convert_team",
    "decode_policy",
    "decode_team",
    "dst_warnings",
    "parse_time",
    "redacted_url",
    "team_from_spec",
]
