#!/usr/bin/env python3
"""A naive Pismo client, the kind the drills exist to catch. It looks careful (it retries on
5xx, timeouts and broken connections) but makes a fresh idempotency key for every attempt, so
a payment whose answer was lost (504 after commit) is sent again as a NEW payment. It also
retries at once, with no backoff, and takes every 409 as a failure.

Same environment and tasks as good_client.py (PISMO_BASE_URL, PISMO_TOKEN, PISMO_ACCOUNT_ID,
PISMO_DRILL_TASK, PISMO_BOLETOS, PISMO_CREDENTIAL, PISMO_BANK_ACCOUNT, PISMO_CLIENT_TIMEOUT,
PISMO_CLIENT_MAX_ATTEMPTS). `pismo-sandbox drill scenarios/lost-response-on-pay.yaml --client
"python examples/naive_client.py"` fails, and its report names the duplicate payment.
"""

from __future__ import annotations

import json
import os
import sys
import uuid

import requests

BASE = os.environ["PISMO_BASE_URL"].rstrip("/")
ACCOUNT_ID = int(os.environ["PISMO_ACCOUNT_ID"])
HEADERS = {"Authorization": f"Bearer {os.environ['PISMO_TOKEN']}"}
TIMEOUT = float(os.environ.get("PISMO_CLIENT_TIMEOUT", "5"))
MAX_ATTEMPTS = int(os.environ.get("PISMO_CLIENT_MAX_ATTEMPTS", "5"))


def post(path: str, body: dict, fresh_key: bool = False) -> requests.Response | None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        headers = dict(HEADERS)
        if fresh_key:
            headers["x-idempotency-key"] = str(uuid.uuid4())  # THE BUG: a new key on every attempt
        try:
            response = requests.post(BASE + path, json=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as error:
            print(f"attempt {attempt}: {type(error).__name__}, retrying", flush=True)
            continue
        if response.status_code >= 500:
            print(f"attempt {attempt}: {response.status_code}, retrying", flush=True)
            continue
        return response
    return None


def pay(boleto: dict) -> bool:
    slip = {"type": boleto["type"], "digitable_line": boleto["digitable_line"]}
    validated = post("/integrated-payments/v1/bankslips/validate", slip)
    if validated is None or validated.status_code != 200:
        return False
    found = validated.json()
    body = {"account_id": ACCOUNT_ID, "amount": found["amount"], "bankslip": slip}
    if "external_authorization" in found:
        body["external_authorization"] = found["external_authorization"]
    paid = post("/integrated-payments/v1/bankslips/pay", body, fresh_key=True)
    print(
        f"pay {boleto.get('name')}: {paid.status_code if paid is not None else 'no answer'}"
        f" {paid.text if paid is not None else ''}",
        flush=True,
    )
    return paid is not None and paid.status_code == 202


def main(argv: list[str]) -> int:
    task = argv[1] if len(argv) > 1 else os.environ.get("PISMO_DRILL_TASK", "pay-boleto")
    if task == "pay-boleto":
        results = [pay(b) for b in json.loads(os.environ.get("PISMO_BOLETOS", "[]"))]
        return 0 if results and all(results) else 1
    if task == "register-credential":
        credential = json.loads(
            os.environ.get("PISMO_CREDENTIAL", '{"provider": "CELCOIN", "type": "BAAS", "key": "celcoin-secret"}')
        )
        response = post("/banking-auth/v1/credentials", credential)
        return 0 if response is not None and response.status_code == 201 else 1
    if task == "register-bank-account":
        wanted = json.loads(
            os.environ.get(
                "PISMO_BANK_ACCOUNT",
                '{"bank": "00000000", "branch": "0001", "account_number": "1234567", "account_type": "CACC"}',
            )
        )
        body = {
            "scheme": {
                "bank": wanted["bank"],
                "branch": wanted["branch"],
                "account_number": wanted["account_number"],
                "supplementary_data": {"account_type": wanted["account_type"]},
            }
        }
        response = post(f"/intl-bankaccounts/v2/accounts/{ACCOUNT_ID}/bank-accounts/brazil", body)
        return 0 if response is not None and response.status_code == 201 else 1
    print(f"unknown task {task}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
