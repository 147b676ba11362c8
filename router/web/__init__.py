"""Server-rendered pages: the customer's status page and the operations console.

The pages call the services (`router.wiring.Services`) the API calls, never the API
itself, and never the store's client.
"""

from __future__ import annotations

from pathlib import Path

from .cases import Cases
from .coverage import CoveragePage
from .customers import CustomersPage
from .now import Now
from .postmortem import PostmortemPage
from .reports import ReportsPage
from .sign_in import SignIn
from .status import StatusPage
from .teams import Teams

__all__ = ["CONSOLE_HANDLERS", "TEMPLATES", "StatusPage"]

TEMPLATES = Path(__file__).parent / "templates"

# The console's controllers, all under /console (see `router.web.console`).
CONSOLE_HANDLERS = [
    SignIn,
    Now,
    CoveragePage,
    Teams,
    Cases,
    ReportsPage,
    PostmortemPage,
    CustomersPage,
]
