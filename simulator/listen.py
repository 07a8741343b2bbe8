"""`pismo-sandbox listen`: follow a sandbox's events and forward them to a local URL (the
command; the forwarding itself is simulator/domains/deliveries/forwarder.py)."""

from __future__ import annotations

import signal
import sys
import threading

import click


@click.command()
@click.option(
    "--forward-to",
    "forward_to",
    required=True,
    metavar="URL",
    help="where to post each event, e.g. http://127.0.0.1:3000/webhooks/pismo",
)
@click.option(
    "--base-url",
    envvar="PISMO_BASE_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="the sandbox to follow  [env PISMO_BASE_URL]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pismo", "sns", "pubsub"]),
    default="pismo",
    show_default=True,
    help="framing of the posts (docs/events.md)",
)
@click.option("--secret", default=None, help="signing secret of the pismo format  [default: generated, shown]")
@click.option(
    "--admin-token",
    envvar="PISMO_SANDBOX_ADMIN_TOKEN",
    default=None,
    help="admin token of the sandbox, if it requires one  [env PISMO_SANDBOX_ADMIN_TOKEN]",
)
@click.option("--domain", default=None, help="only events of this domain")
@click.option("--event-type", default=None, help="only events of this type (with or without -<version>)")
@click.option("--tenant-id", default=None, help="only events of this tenant")
@click.option("--from-start", is_flag=True, help="forward the events already in the log too")
@click.option("--max-events", type=click.IntRange(1), default=None, help="stop after forwarding this many")
@click.option("--poll-seconds", type=click.FloatRange(0.05, 60), default=0.5, show_default=True)
def listen(
    forward_to: str,
    base_url: str,
    fmt: str,
    secret: str | None,
    admin_token: str | None,
    domain: str | None,
    event_type: str | None,
    tenant_id: str | None,
    from_start: bool,
    max_events: int | None,
    poll_seconds: float,
) -> None:
    """Forward a sandbox's events to a local URL as they are written, like `stripe listen`.

    For a sandbox that cannot reach your machine (a shared one): this command polls its event
    log and posts each event to --forward-to in the chosen format. Stop with Ctrl-C."""
    from pismo_sandbox.domains.deliveries.forwarder import Forwarder

    forwarder = Forwarder(
        base_url,
        forward_to,
        fmt,
        secret,
        admin_token,
        {"domain": domain, "event_type": event_type, "tenant_id": tenant_id},
        echo=lambda line: click.echo(line),
        poll_seconds=poll_seconds,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if fmt == "pismo" and not secret:
        click.echo(f"signing secret for this run: {forwarder.secret} (x-sandbox-signature; docs/events.md)", err=True)
    click.echo(f"forwarding events of {base_url} to {forward_to} ({fmt}); Ctrl-C to stop", err=True)
    try:
        count = forwarder.run(stop, max_events=max_events, from_start=from_start)
    except KeyboardInterrupt:
        count = None
    except Exception as error:  # the sandbox is unreachable at start, or refuses the admin token
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    finally:
        forwarder.close()
    if count is not None:
        click.echo(f"{count} event(s) forwarded", err=True)
