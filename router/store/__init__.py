"""Redis persistence: key schema, atomic case transitions, teams with revisions."""

from .cases import CaseStore, Change, Created, Existing, VersionConflict, new_case_id
from .client import connect
from .keys import Keys
from .teams import StaleTeam, TeamStore

__all__ = [
    "CaseStore",
    "Change",
    "Created",
    "Existing",
    "Keys",
    "StaleTeam",
    "TeamStore",
    "VersionConflict",
    "connect",
    "new_case_id",
]
