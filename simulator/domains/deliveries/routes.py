"""Handlers of event delivery (contracts/openapi/sandbox-admin-deliveries.yaml and
sandbox-sns.yaml): subscriptions, the delivery log, delivery faults, and the SNS endpoints a
receiver calls. Thin: parse, call, reply."""

from __future__ import annotations

from pismo_sandbox.handlers import Reply, created, no_content, ok, operation
from pismo_sandbox.request_context import RequestContext


@operation("sandbox-create-subscription")
def create_subscription(ctx: RequestContext) -> Reply:
    return created(ctx.sandbox.deliveries.subscribe(ctx.body, ctx.host_url))


@operation("sandbox-list-subscriptions")
def list_subscriptions(ctx: RequestContext) -> Reply:
    return ok({"items": ctx.sandbox.deliveries.list()})


@operation("sandbox-get-subscription")
def get_subscription(ctx: RequestContext) -> Reply:
    return ok(ctx.sandbox.deliveries.get(ctx.path["subscription_id"]))


@operation("sandbox-delete-subscription")
def delete_subscription(ctx: RequestContext) -> Reply:
    ctx.sandbox.deliveries.delete(ctx.path["subscription_id"])
    return no_content()


@operation("sandbox-list-deliveries")
def list_deliveries(ctx: RequestContext) -> Reply:
    q = ctx.query
    return ok(
        {
            "items": ctx.sandbox.deliveries.deliveries(
                q.get("subscription_id"), q.get("event_id"), q.get("status"), q.get("limit", 100)
            )
        }
    )


@operation("sandbox-create-delivery-fault")
def create_delivery_fault(ctx: RequestContext) -> Reply:
    return created(ctx.sandbox.deliveries.add_rule(ctx.body))


@operation("sandbox-list-delivery-faults")
def list_delivery_faults(ctx: RequestContext) -> Reply:
    return ok({"items": ctx.sandbox.deliveries.rules()})


@operation("sandbox-clear-delivery-faults")
def clear_delivery_faults(ctx: RequestContext) -> Reply:
    ctx.sandbox.deliveries.clear_rules()
    return no_content()


@operation("sandbox-get-delivery-fault")
def get_delivery_fault(ctx: RequestContext) -> Reply:
    return ok(ctx.sandbox.deliveries.get_rule(ctx.path["fault_id"]))


@operation("sandbox-delete-delivery-fault")
def delete_delivery_fault(ctx: RequestContext) -> Reply:
    ctx.sandbox.deliveries.delete_rule(ctx.path["fault_id"])
    return no_content()


@operation("sandbox-sns-action")
def sns_action(ctx: RequestContext) -> Reply:
    q = ctx.query
    return ok(
        ctx.sandbox.deliveries.sns_action(q["Action"], q.get("TopicArn"), q.get("Token"), q.get("SubscriptionArn"))
    )


@operation("sandbox-sns-certificate")
def sns_certificate(ctx: RequestContext) -> Reply:
    return Reply(raw=ctx.sandbox.deliveries.keys.certificate_pem(), mimetype="text/plain")
