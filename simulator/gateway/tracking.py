"""Request tracking: the x-cid every response carries and every event records."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pismo_sandbox.ids import Ids

if TYPE_CHECKING:
    from flask import Request

# Accept the client's id when it looks like an id (no spaces or control characters).
_SAFE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def cid_for(request: Request, ids: Ids) -> str:
    """Echo the client's x-cid (or banking-auth's tracking_id), else a fresh UUID."""
    for header in ("x-cid", "tracking_id", "tracking-id"):
        value = request.headers.get(header)
        if value and _SAFE.match(value):
            return value
    return ids.uuid()
