"""The pismo-sandbox command: serve, token, reset."""

from __future__ import annotations

import sys

import click

from simulator.config import Config


@click.group()
@click.version_option(package_name="pismo-sandbox")
def main() -> None:
    """A local, stateful, contract-validated stand-in for Pismo's banking sandbox."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--db", "db_path", default=None, help="SQLite file, or :memory: [default: sandbox.db]")
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--faults", "faults_file", default=None, type=click.Path(dir_okay=False),
              help="YAML/JSON fault rules to load at start-up (replaces the stored ones)")
def serve(host: str, port: int, db_path: str | None, workers: int, threads: int,
          faults_file: str | None) -> None:
    """Serve the simulator with gunicorn."""
    from simulator.faults.files import FaultFileError, read_rules
    from simulator.server import serve as run

    config = Config.from_env(db_path=db_path, faults_file=faults_file)
    if config.faults_file:
        try:
            read_rules(config.faults_file)
        except FaultFileError as error:
            raise click.BadParameter(str(error), param_hint="--faults") from None
    click.echo(f"pismo-sandbox: starting on http://{host}:{port} (database: {config.db_path})", err=True)
    run(config, host, port, workers, threads)


@main.command()
@click.option("--tenant", "tenant_id", required=True)
@click.option("--account", "account_id", type=int, default=None, help="issue an account token")
@click.option("--ttl", "ttl_seconds", type=int, default=None, help="lifetime in seconds")
@click.option("--db", "db_path", default=None)
def token(tenant_id: str, account_id: int | None, ttl_seconds: int | None, db_path: str | None) -> None:
    """Print a token for TENANT (and ACCOUNT) signed with this database's key."""
    from simulator.app import build_services
    from simulator.errors import SandboxError

    sandbox = build_services(Config.from_env(db_path=db_path))
    try:
        sandbox.tenancy.get_tenant(tenant_id)
        if account_id is not None:
            sandbox.tenancy.get_account(tenant_id, account_id)
    except SandboxError as error:
        click.echo(f"error: {error.details or error.message}", err=True)
        sys.exit(2)
    click.echo(sandbox.tokens.issue(tenant_id, account_id, ttl_seconds).token)


@main.command()
@click.option("--db", "db_path", default=None)
def reset(db_path: str | None) -> None:
    """Delete all simulated state in the database (tenants, accounts, events, ...)."""
    from simulator.app import build_services

    sandbox = build_services(Config.from_env(db_path=db_path))
    sandbox.store.wipe()
    sandbox.clock.reset()
    click.echo(f"reset {sandbox.store.path}")
