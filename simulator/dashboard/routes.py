"""HTTP views of the dashboard (/_sandbox/ui): pages, their live fragments, and the JSON actions
the pages' buttons and forms send. Thin: read the filters, call queries/actions, render.

Every request here is gated like the admin API (access.py) and kept out of the request journal
(the journal records API traffic; a dashboard polling it would bury that traffic).
Actions take JSON bodies only: a page of another site cannot send one without the browser asking
first, and nothing here answers that question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, make_response, redirect, render_template, request, url_for

from pismo_sandbox.dashboard import access, actions, presentation, queries
from pismo_sandbox.domains.tenancy.service import ACCOUNT_STATUSES
from pismo_sandbox.errors import SandboxError, Unauthorized, error_response
from pismo_sandbox.request_context import current
from pismo_sandbox.core import current_sandbox

if TYPE_CHECKING:
    from flask.blueprints import BlueprintSetupState
    from flask.typing import ResponseReturnValue

blueprint = Blueprint(
    "dashboard", __name__, url_prefix="/_sandbox/ui", template_folder="templates", static_folder="static"
)
OPEN_ENDPOINTS = frozenset({"dashboard.static", "dashboard.login", "dashboard.login_page"})


@blueprint.record_once
def _filters(state: BlueprintSetupState) -> None:
    state.app.jinja_env.filters.update(presentation.FILTERS)


@blueprint.context_processor
def _layout() -> dict:
    return {"protected": bool(current_sandbox().config.admin_token)}


class UnsupportedMediaType(SandboxError):
    status, code, message = 415, "SANDBOX_UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json"


class AdminTokenRequired(Unauthorized):
    code, message = "SANDBOX_UNAUTHORIZED", "Admin token required"


@blueprint.before_request
def _gate() -> ResponseReturnValue | None:
    current().unjournaled = True
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    admin_token = current_sandbox().config.admin_token
    if access.allowed(admin_token, request.headers.get("Authorization"), request.cookies.get(access.COOKIE)):
        return None
    if _wants_page():
        return _login_page(request.full_path.rstrip("?"), status=401)
    raise AdminTokenRequired(details="log in at /_sandbox/ui/login, or send Authorization: Bearer <admin token>")


@blueprint.after_request
def _no_caching(response: Response) -> Response:
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _wants_page() -> bool:
    return request.method == "GET" and not request.path.startswith(("/_sandbox/ui/live/", "/_sandbox/ui/actions/"))


@blueprint.errorhandler(SandboxError)
def _error(error: SandboxError) -> ResponseReturnValue:
    """A page that cannot be shown says why on a page; live fragments and actions answer JSON."""
    current().error = error
    if _wants_page():
        return render_template("dashboard/error.html", error=error), error.status
    return error_response(error)


def _json_body() -> dict:
    if not request.is_json:
        raise UnsupportedMediaType(details="Content-Type must be application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise actions.InvalidAction(details="the body must be a JSON object")
    return body


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = (args.get(name) or "").strip()
    return value or None


def _number(args: Mapping[str, str], name: str) -> int | None:
    """A whole number filter; anything else (or a number no row can carry) filters nothing."""
    value = _text(args, name)
    return int(value) if value is not None and actions.WHOLE_NUMBER.fullmatch(value) else None


# -- login -----------------------------------------------------------------------------------------


def _login_page(next_url: str | None, status: int = 200) -> tuple[str, int]:
    needed = bool(current_sandbox().config.admin_token)
    return render_template("dashboard/login.html", next_url=_local(next_url), needed=needed), status


def _local(url: str | None) -> str:
    """Only a path of the dashboard itself is a place to go after logging in."""
    if url and url.startswith("/_sandbox/ui") and not url.startswith("//"):
        return url
    return url_for("dashboard.payments_page")


@blueprint.get("/login")
def login_page() -> ResponseReturnValue:
    return _login_page(request.args.get("next"))


@blueprint.post("/login")
def login() -> Response:
    body = _json_body()
    admin_token = current_sandbox().config.admin_token
    token = body.get("token")
    if admin_token and not access.token_matches(token if isinstance(token, str) else None, admin_token):
        raise AdminTokenRequired(details="that is not the admin token")
    next_url = body.get("next")
    response = jsonify({"next": _local(next_url if isinstance(next_url, str) else None)})
    if admin_token:
        response.set_cookie(
            access.COOKIE, access.session_value(admin_token), path=access.COOKIE_PATH, httponly=True, samesite="Strict"
        )
    return response


@blueprint.post("/logout")
def logout() -> Response:
    _json_body()
    response = jsonify({"next": url_for("dashboard.login_page")})
    response.delete_cookie(access.COOKIE, path=access.COOKIE_PATH)
    return response


# -- pages -----------------------------------------------------------------------------------------


def _payment_query(args: Mapping[str, str]) -> queries.PaymentQuery:
    return queries.PaymentQuery(
        tenant_id=_text(args, "tenant_id"), account_id=_number(args, "account_id"), status=_text(args, "status")
    )


def _journal_query(args: Mapping[str, str]) -> queries.JournalQuery:
    return queries.JournalQuery(
        tenant_id=_text(args, "tenant_id"),
        cid=_text(args, "cid"),
        operation_id=_text(args, "operation_id"),
        idempotency_key=_text(args, "idempotency_key"),
    )


def _event_query(args: Mapping[str, str]) -> queries.EventQuery:
    return queries.EventQuery(
        tenant_id=_text(args, "tenant_id"),
        cid=_text(args, "cid"),
        event_type=_text(args, "type"),
        domain=_text(args, "domain"),
    )


# Each live section: its partial template, and what the partial needs from the filters (args).
SECTIONS = {
    "tenants": ("dashboard/_tenants.html", lambda s, args: {"tenants": queries.tenants(s)}),
    "payments": ("dashboard/_payments.html", lambda s, args: {"payments": queries.payments(s, _payment_query(args))}),
    "payment": (
        "dashboard/_payment.html",
        lambda s, args: queries.payment(s, _text(args, "tenant_id") or "", _number(args, "authorization_id") or 0),
    ),
    "journal": ("dashboard/_journal.html", lambda s, args: {"rows": queries.journal(s, _journal_query(args))}),
    "events": ("dashboard/_events.html", lambda s, args: {"events": queries.events(s, _event_query(args))}),
    "faults": ("dashboard/_faults.html", lambda s, args: {"faults": queries.faults(s)}),
    "deliveries": ("dashboard/_deliveries.html", lambda s, args: queries.deliveries(s, _event_query(args))),
    "delivery_faults": (
        "dashboard/_delivery_faults.html",
        lambda s, args: {"delivery_faults": queries.delivery_faults(s)},
    ),
}


def _also(section: str, args: Mapping[str, str]) -> dict:
    """A second live section of a page: its rows now, and where to poll for them."""
    partial, gather = SECTIONS[section]
    # Filter names are never url_for's own keywords (_external...), which its signature cannot know.
    return {
        f"{section}_partial": partial,
        f"{section}_url": url_for("dashboard.live", section=section, **args),  # type: ignore[arg-type]
        **gather(current_sandbox(), args),
    }


def _page(template: str, section: str, args: Mapping[str, str] | None = None, **context: object) -> str:
    """A page: its layout, its live section rendered now, and where to poll for the section."""
    sandbox = current_sandbox()
    args = request.args.to_dict() if args is None else args
    partial, gather = SECTIONS[section]
    return render_template(
        template,
        section=section,
        partial=partial,
        args=args,
        live_url=url_for("dashboard.live", section=section, **args),  # type: ignore[arg-type]
        clock=queries.clock(sandbox),
        **gather(sandbox, args),
        **context,
    )


@blueprint.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("dashboard.payments_page"))


@blueprint.get("/tenants")
def tenants_page() -> str:
    return _page("dashboard/tenants.html", "tenants", statuses=ACCOUNT_STATUSES)


@blueprint.get("/payments")
def payments_page() -> str:
    return _page(
        "dashboard/payments.html",
        "payments",
        tenant_ids=queries.tenant_ids(current_sandbox()),
        statuses=queries.PAYMENT_STATUSES,
    )


@blueprint.get("/payments/<tenant_id>/<int:authorization_id>")
def payment_page(tenant_id: str, authorization_id: int) -> str:
    return _page(
        "dashboard/payment.html", "payment", args={"tenant_id": tenant_id, "authorization_id": str(authorization_id)}
    )


@blueprint.get("/journal")
def journal_page() -> str:
    sandbox = current_sandbox()
    return _page(
        "dashboard/journal.html",
        "journal",
        tenant_ids=queries.tenant_ids(sandbox),
        operation_ids=queries.operation_ids(sandbox),
    )


@blueprint.get("/events")
def events_page() -> str:
    return _page(
        "dashboard/events.html",
        "events",
        tenant_ids=queries.tenant_ids(current_sandbox()),
        **_also("deliveries", request.args.to_dict()),
    )


@blueprint.get("/faults")
def faults_page() -> str:
    return _page(
        "dashboard/faults.html",
        "faults",
        operation_ids=queries.operation_ids(current_sandbox()),
        **_also("delivery_faults", {}),
    )


@blueprint.get("/live/<section>")
def live(section: str) -> dict:
    """A section's rows as HTML, and the clock: what the pages poll to stay current."""
    if section not in SECTIONS:
        raise actions.InvalidAction(details=f"section: must be one of {', '.join(SECTIONS)}")
    sandbox = current_sandbox()
    partial, gather = SECTIONS[section]
    return {"html": render_template(partial, **gather(sandbox, request.args)), "clock": queries.clock(sandbox)}


# -- actions (JSON in, JSON out) -----------------------------------------------------------------


@blueprint.post("/actions/clock")
def clock_action() -> dict:
    sandbox = current_sandbox()
    actions.change_clock(sandbox, _json_body())
    return queries.clock(sandbox)


@blueprint.post("/actions/accounts/<tenant_id>/<int:account_id>")
def account_action(tenant_id: str, account_id: int) -> dict:
    return actions.set_account_status(current_sandbox(), tenant_id, account_id, _json_body())


@blueprint.post("/actions/faults")
def create_fault() -> tuple[dict, int]:
    return actions.add_fault(current_sandbox(), _json_body()), 201


@blueprint.delete("/actions/faults/<fault_id>")
def delete_fault(fault_id: str) -> Response:
    actions.delete_fault(current_sandbox(), fault_id)
    return make_response("", 204)


@blueprint.delete("/actions/delivery-faults/<fault_id>")
def delete_delivery_fault(fault_id: str) -> Response:
    actions.delete_delivery_fault(current_sandbox(), fault_id)
    return make_response("", 204)
