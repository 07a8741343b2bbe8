#!/usr/bin/env python3
"""A well-behaved Pismo client, small enough to read in one sitting: it passes every shipped drill.

What makes it well behaved:
* one idempotency key per payment, generated once and reused by every retry of that payment,
  so a lost answer (504 after commit, a reset connection, a client-side timeout) is replayed,
  never paid twice;
* retries only what may succeed later (5xx, 429, 409 IDEMPOTENCY_IN_FLIGHT, timeouts, broken
  connections), with exponential backoff and jitter, and a bounded number of attempts;
* a final 4xx is an answer, not a reason to retry (409 EIBA0028 "already exists" on a bank
  account it meant to register is checked with a read, then accepted);
* a per-request timeout, and a fresh token from server login when the token is refused (401).

Configuration comes from the environment (set by `pismo-sandbox drill`, or by hand):
  PISMO_BASE_URL, PISMO_TOKEN (or PISMO_SERVER_KEY + PISMO_SERVER_SECRET), PISMO_ACCOUNT_ID,
  PISMO_DRILL_TASK (or the first argument): pay-boleto | register-credential | register-bank-account
  PISMO_BOLETOS           JSON list of boletos to pay ({type, digitable_line or bar_code, ...})
  PISMO_CREDENTIAL        JSON {provider, type, key[, provider_data]} (default CELCOIN / BAAS)
  PISMO_BANK_ACCOUNT      JSON {bank, branch, account_number, account_type[, metadata]}
  PISMO_CLIENT_TIMEOUT    seconds per request (default 5)
  PISMO_CLIENT_MAX_ATTEMPTS  attempts per request (default 5)
  PISMO_CLIENT_BACKOFF    first backoff in seconds (default 0.1), doubled per attempt, capped at 2

Standard library and requests only. Exit status 0 when every task item succeeded.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid

import requests

RETRY_STATUSES = {429, 500, 502, 503, 504}


def log(message: str, **fields: object) -> None:
    print(json.dumps({"msg": message, **fields}), flush=True)


class GaveUp(Exception):
    """Every attempt failed with something worth retrying."""


class Client:
    def __init__(self) -> None:
        self.base = os.environ["PISMO_BASE_URL"].rstrip("/")
        self.account_id = int(os.environ["PISMO_ACCOUNT_ID"])
        self.token = os.environ.get("PISMO_TOKEN")
        self.timeout = float(os.environ.get("PISMO_CLIENT_TIMEOUT", "5"))
        self.max_attempts = int(os.environ.get("PISMO_CLIENT_MAX_ATTEMPTS", "5"))
        self.backoff = float(os.environ.get("PISMO_CLIENT_BACKOFF", "0.1"))
        self.http = requests.Session()
        if not self.token:
            self.login()

    def login(self) -> None:
        """Server login (Passport): an account token for our account."""
        body = {
            "server_key": os.environ["PISMO_SERVER_KEY"],
            "server_secret": os.environ["PISMO_SERVER_SECRET"],
            "account_id": self.account_id,
        }
        response = self.call("POST", "/passport/v2/s2s/access-token", body, authenticated=False)
        response.raise_for_status()
        self.token = response.json()["token"]

    def wait(self, attempt: int, response: requests.Response | None) -> None:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = float(retry_after)
        else:  # exponential backoff with full jitter
            delay = random.uniform(0, min(2.0, self.backoff * 2 ** (attempt - 1)))
        time.sleep(delay)

    def call(
        self, method: str, path: str, body: dict | None = None, *, key: str | None = None, authenticated: bool = True
    ) -> requests.Response:
        """Send one logical request, retrying what may succeed later. The idempotency key (if
        any) is fixed by the caller, so every attempt carries the same one."""
        headers = {"x-idempotency-key": key} if key else {}
        relogged = False
        for attempt in range(1, self.max_attempts + 1):
            if authenticated:
                headers["Authorization"] = f"Bearer {self.token}"
            response = None
            try:
                response = self.http.request(method, self.base + path, json=body, headers=headers, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as error:
                log("no answer, will retry", path=path, attempt=attempt, key=key, error=type(error).__name__)
            else:
                code = _code(response)
                if response.status_code == 401 and authenticated and not relogged and "PISMO_SERVER_KEY" in os.environ:
                    relogged = True
                    self.login()
                    continue
                in_flight = response.status_code == 409 and code == "IDEMPOTENCY_IN_FLIGHT"
                if response.status_code not in RETRY_STATUSES and not in_flight:
                    return response
                log("retryable answer", path=path, attempt=attempt, key=key, status=response.status_code, code=code)
            if attempt < self.max_attempts:
                self.wait(attempt, response)
        raise GaveUp(f"{method} {path}: no usable answer after {self.max_attempts} attempts")

    # -- tasks -------------------------------------------------------------------------------------
    def pay_boleto(self, boleto: dict) -> bool:
        slip = {"type": boleto["type"]}
        slip.update(
            {"digitable_line": boleto["digitable_line"]}
            if boleto.get("digitable_line")
            else {"bar_code": boleto["bar_code"]}
        )
        validated = self.call("POST", "/integrated-payments/v1/bankslips/validate", slip)
        if validated.status_code != 200:
            log("validate refused", boleto=boleto.get("name"), status=validated.status_code, body=validated.text)
            return False
        found = validated.json()
        body = {"account_id": self.account_id, "amount": found.get("amount", boleto.get("amount")), "bankslip": slip}
        if found.get("external_authorization"):
            body["external_authorization"] = found["external_authorization"]
        key = f"pay-{uuid.uuid4()}"  # once per payment: every retry below reuses it
        paid = self.call("POST", "/integrated-payments/v1/bankslips/pay", body, key=key)
        if paid.status_code != 202:
            log("pay refused", boleto=boleto.get("name"), key=key, status=paid.status_code, body=paid.text)
            return False
        log(
            "paid",
            boleto=boleto.get("name"),
            key=key,
            authorization_id=paid.json()["authorization_id"],
            replayed=paid.headers.get("x-idempotency-replayed") == "true",
        )
        return True

    def register_credential(self, credential: dict) -> bool:
        response = self.call("POST", "/banking-auth/v1/credentials", credential)
        log("credential", provider=credential["provider"], status=response.status_code, body=response.text)
        return response.status_code == 201

    def register_bank_account(self, wanted: dict) -> bool:
        scheme = {
            "bank": wanted["bank"],
            "branch": wanted["branch"],
            "account_number": wanted["account_number"],
            "supplementary_data": {"account_type": wanted["account_type"]},
        }
        body = {"scheme": scheme, **({"metadata": wanted["metadata"]} if "metadata" in wanted else {})}
        path = f"/intl-bankaccounts/v2/accounts/{self.account_id}/bank-accounts/brazil"
        response = self.call("POST", path, body)
        if response.status_code == 201:
            log("bank account registered", status=201)
            return True
        if response.status_code == 409 and _code(response) == "EIBA0028":
            # Already there: our own earlier attempt (answer lost) or a concurrent twin. Accept it
            # only if it is the bank account we meant to register.
            current = self.call("GET", f"/intl-bankaccounts/v2/accounts/{self.account_id}/bank-accounts/BRAZIL")
            if current.status_code == 200:
                have = current.json().get("scheme", {})
                same = all(have.get(k) == v for k, v in scheme.items() if k != "branch") and have.get(
                    "branch", ""
                ).lstrip("0") == scheme["branch"].lstrip("0")
                log("bank account already registered", same=same)
                return same
        log("bank account refused", status=response.status_code, body=response.text)
        return False


def _code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def main(argv: list[str]) -> int:
    task = argv[1] if len(argv) > 1 else os.environ.get("PISMO_DRILL_TASK", "pay-boleto")
    client = Client()
    try:
        if task == "pay-boleto":
            boletos = json.loads(os.environ.get("PISMO_BOLETOS", "[]"))
            results = [client.pay_boleto(b) for b in boletos]
            ok = bool(results) and all(results)
        elif task == "register-credential":
            credential = json.loads(
                os.environ.get("PISMO_CREDENTIAL", '{"provider": "CELCOIN", "type": "BAAS", "key": "celcoin-secret"}')
            )
            ok = client.register_credential(credential)
        elif task == "register-bank-account":
            wanted = json.loads(
                os.environ.get(
                    "PISMO_BANK_ACCOUNT",
                    '{"bank": "00000000", "branch": "0001", "account_number": "1234567", "account_type": "CACC"}',
                )
            )
            ok = client.register_bank_account(wanted)
        else:
            log("unknown task", task=task)
            return 2
    except GaveUp as error:
        log("gave up", error=str(error))
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
