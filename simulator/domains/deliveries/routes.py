"""HTTP views of event delivery (contracts/openapi/sandbox-admin-deliveries.yaml and
sandbox-sns.yaml): subscriptions, the delivery log, delivery faults, and the SNS endpoints a
receiver calls. Thin: parse, call, wrap."""

from __future__ import annotations

from flask import Blueprint, Response, request

from pismo_sandbox.responses import bodiless
from pismo_sandbox.request_context import current
from pismo_sandbox.services import services

blueprint = Blueprint("sandbox_deliveries", __name__, url_prefix="/_sandbox")


def _deliveries():
    return services().deliveries


@blueprint.post("/subscriptions")
def create_subscription():
    return _deliveries().subscribe(current().checked.body, request.host_url), 201


@blueprint.get("/subscriptions")
def list_subscriptions():
    return {"items": _deliveries().list()}


@blueprint.get("/subscriptions/<subscription_id>")
def get_subscription(subscription_id: str):
    return _deliveries().get(subscription_id)


@blueprint.delete("/subscriptions/<subscription_id>")
def delete_subscription(subscription_id: str):
    _deliveries().delete(subscription_id)
    return bodiless(204)


@blueprint.get("/deliveries")
def list_deliveries():
    q = current().checked.query
    return {"items": _deliveries().deliveries(q.get("subscription_id"), q.get("event_id"), q.get("status"),
                                               q.get("limit", 100))}


@blueprint.post("/delivery-faults")
def create_delivery_fault():
    return _deliveries().add_rule(current().checked.body), 201


@blueprint.get("/delivery-faults")
def list_delivery_faults():
    return {"items": _deliveries().rules()}


@blueprint.delete("/delivery-faults")
def clear_delivery_faults():
    _deliveries().clear_rules()
    return bodiless(204)


@blueprint.get("/delivery-faults/<fault_id>")
def get_delivery_fault(fault_id: str):
    return _deliveries().get_rule(fault_id)


@blueprint.delete("/delivery-faults/<fault_id>")
def delete_delivery_fault(fault_id: str):
    _deliveries().delete_rule(fault_id)
    return bodiless(204)


@blueprint.get("/sns")
def sns_action():
    q = current().checked.query
    return _deliveries().sns_action(q["Action"], q.get("TopicArn"), q.get("Token"), q.get("SubscriptionArn"))


@blueprint.get("/sns/SimpleNotificationService-sandbox.pem")
def sns_certificate():
    return Response(_deliveries().keys.certificate_pem(), mimetype="text/plain")
