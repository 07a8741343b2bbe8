"""What the in-process delivery tests share: a retry policy with no waiting, and one published
event."""

from __future__ import annotations

from tests.deliveries.flow import SCHEME

FAST = {"backoff_seconds": 0, "backoff_max_seconds": 0, "max_attempts": 5}


def publish(sandbox, tenant) -> str:
    """One event (a bank account registered); its event_id."""
    response = sandbox.client.post(
        f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/brazil",
        headers=tenant.headers,
        json={"scheme": SCHEME},
    )
    assert response.status_code == 201, response.json
    return sandbox.events(tenant_id=tenant.tenant_id)[-1]["event_id"]
