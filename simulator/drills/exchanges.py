"""The requests a drill sends itself (its steps and its request assertions): interpolated from
the drill context, sent as the scenario says (whose token, which headers, how long to wait), and
kept as Exchanges; steps capture values from their answers and check them."""

from __future__ import annotations

import time

import requests

from pismo_sandbox.client import decoded_body
from pismo_sandbox.drills import assertions
from pismo_sandbox.drills.errors import DrillError
from pismo_sandbox.drills.model import Check, DrillResult, Exchange
from pismo_sandbox.drills.references import interpolate
from pismo_sandbox.drills.scenario import Scenario


class Sender:
    """Sends a scenario's requests to the sandbox at ``base`` (over ``http``); a request to the
    admin API without its own auth carries ``admin_headers``."""

    def __init__(self, base: str, http: requests.Session, admin_headers: dict[str, str]):
        self.base = base
        self.http = http
        self.admin_headers = admin_headers

    def send(self, name: str, request: dict, context: dict) -> Exchange:
        method = request["method"].upper()
        path = str(interpolate(request["path"], context))
        headers = {k: str(v) for k, v in interpolate(request["headers"], context).items()}
        auth = request.get("auth")
        if auth is None and path.startswith("/_sandbox"):
            headers = {**self.admin_headers, **headers}
        elif auth is None:
            headers.setdefault("Authorization", f"Bearer {context['token']}")
        elif auth not in (None, "none"):
            headers.setdefault("Authorization", f"Bearer {context['accounts'][auth]['token']}")
        kwargs = {
            "headers": headers,
            "params": interpolate(request["query"], context) or None,
            "timeout": request["timeout_seconds"],
        }
        if request["json"] is not None:
            kwargs["json"] = interpolate(request["json"], context)
        elif method == "POST" and not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"  # every POST is JSON (docs/security.md)
        exchange = Exchange(name, method, path)
        started = time.monotonic()
        try:
            response = self.http.request(method, self.base + path, **kwargs)
            exchange.status = response.status_code
            exchange.headers = dict(response.headers)
            exchange.body = decoded_body(response)
        except requests.Timeout as error:
            exchange.error, exchange.error_text = "timeout", str(error)
        except requests.ConnectionError as error:
            exchange.error, exchange.error_text = "connection", str(error)
        exchange.duration = time.monotonic() - started
        return exchange

    def run_steps(self, scenario: Scenario, context: dict, result: DrillResult) -> None:
        for i, step in enumerate(scenario.steps or []):
            try:
                exchange = self.send(step["name"], step, context)
            except KeyError as error:
                raise DrillError(f"steps[{i}] ({step['name']}): {error.args[0]}") from None
            result.exchanges.append(exchange)
            seen = {
                "status": exchange.status,
                "body": exchange.body,
                "headers": {k.lower(): v for k, v in exchange.headers.items()},
            }
            context["steps"][step["name"]] = seen
            line = scenario.line_of(("steps", i))
            for var, where in step["capture"].items():
                head, _, rest = where.partition(".")
                value = assertions.dig(seen[head], rest) if rest else seen[head]
                if value is assertions.MISSING:
                    result.checks.append(
                        Check(
                            "step",
                            f"{step['name']}: capture {var}",
                            False,
                            f"{where} is not in the response ({exchange.describe()})",
                            [f"response body: {str(exchange.body)[:500]}"],
                            [],
                            line,
                        )
                    )
                    value = None
                context[var] = value
            expect = interpolate(step["expect"], context) if step["expect"] else None
            if expect is not None:
                result.checks.append(assertions.response_check("step", step["name"], exchange, expect, line, []))
