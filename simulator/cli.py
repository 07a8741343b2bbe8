"""The pismo-sandbox command: serve, token, reset, contract, drill."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NoReturn

import click

from pismo_sandbox.config import Config

if TYPE_CHECKING:
    from pismo_sandbox.drills.model import DrillResult


def _config(**overrides: object) -> Config:
    """The settings from PISMO_SANDBOX_* and the options; a bad value is a one-line error."""
    try:
        return Config.from_env(None, **overrides)
    except ValueError as error:
        _startup_failed(error)


def _startup_failed(error: Exception | str) -> NoReturn:
    """A start-up mistake: one line naming the setting and the fix, exit status 2."""
    click.echo(f"pismo-sandbox: error: {error}", err=True)
    sys.exit(2)


def _db_option(db_path: str | None) -> str:
    """How the user named the database: the option, the variable, or neither (the default)."""
    return (
        "--db"
        if db_path is not None
        else ("PISMO_SANDBOX_DB_PATH" if os.environ.get("PISMO_SANDBOX_DB_PATH") else "the default --db")
    )


def _checked(check: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Run a start-up check (pismo_sandbox.startup_checks); its error ends the command."""
    from pismo_sandbox.startup_checks import StartupError

    try:
        check(*args, **kwargs)
    except StartupError as error:
        _startup_failed(error)


@contextlib.contextmanager
def _key_file_errors() -> Iterator[None]:
    """A damaged key file beside the database is one line saying what to do (exit 2)."""
    from pismo_sandbox.crypto import KeyFileError

    try:
        yield
    except KeyFileError as error:
        _startup_failed(error)


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
@click.option(
    "--faults",
    "faults_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="YAML/JSON fault rules to load at start-up (replaces the stored ones)",
)
@click.option(
    "--state",
    "state_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="state file (tenants, accounts, keys, credentials, bank accounts) applied at every start, idempotently",
)
@click.option(
    "--subscribe",
    "subscribe",
    multiple=True,
    metavar="URL",
    help="push every event to this receiver (repeatable; see docs/events.md)",
)
@click.option(
    "--subscribe-format",
    type=click.Choice(["pismo", "sns", "pubsub"]),
    default=None,
    help="framing of the --subscribe pushes  [default: pismo]",
)
@click.option(
    "--subscribe-secret", default=None, help="signing secret of the --subscribe pushes  [default: generated, not shown]"
)
def serve(
    host: str,
    port: int,
    db_path: str | None,
    workers: int,
    threads: int,
    faults_file: str | None,
    state_file: str | None,
    subscribe: tuple[str, ...] = (),
    subscribe_format: str | None = None,
    subscribe_secret: str | None = None,
) -> None:
    """Serve the simulator with gunicorn; prints the URL it serves on (one line, stdout) once
    bound (--port 0: a free port)."""
    # The server's modules (Flask, gunicorn, the app) are imported once the checks pass: a
    # mistake is reported without loading them.
    from pismo_sandbox.startup_checks import check_serve, misspelt_settings

    config = _config(
        db_path=db_path,
        faults_file=faults_file,
        state_file=state_file,
        subscribe=",".join(subscribe) or None,
        subscribe_format=subscribe_format,
        subscribe_secret=subscribe_secret,
    )
    for warning in misspelt_settings():
        click.echo(f"pismo-sandbox: warning: {warning}", err=True)
    _checked(check_serve, config, host, port, workers, threads, db_option=_db_option(db_path))
    if config.faults_file:
        from pismo_sandbox.domains.deliveries.files import read_delivery_rules
        from pismo_sandbox.faults.files import FaultFileError

        try:
            read_delivery_rules(config.faults_file)
        except FaultFileError as error:
            _startup_failed(f"--faults {error}".replace("\n", "; "))
    if subscribe:
        from pismo_sandbox.domains.deliveries.service import allowed_hosts, url_problem

        for url in subscribe:
            problem = url_problem(url, allowed_hosts(config))
            if problem:
                _startup_failed(f"--subscribe {url}: {problem}")
    from pismo_sandbox.state import StateFileError, read_state

    if config.state_file:
        try:
            read_state(config.state_file)
        except StateFileError as error:
            _startup_failed(f"invalid state file:\n{error}")
    from pismo_sandbox.server import serve as run

    click.echo(
        f"pismo-sandbox: starting on http://{host}:{port or '<a free port>'} (database: {config.db_path})", err=True
    )
    try:
        with _key_file_errors():
            run(config, host, port, workers, threads)
    except StateFileError as error:
        _startup_failed(f"the state file could not be applied:\n{error}")


@main.command()
@click.option("--tenant", "tenant_id", required=True)
@click.option("--account", "account_id", type=int, default=None, help="issue an account token")
@click.option("--ttl", "ttl_seconds", type=int, default=None, help="lifetime in seconds")
@click.option("--db", "db_path", default=None)
def token(tenant_id: str, account_id: int | None, ttl_seconds: int | None, db_path: str | None) -> None:
    """Print a token for TENANT (and ACCOUNT) signed with this database's key."""
    from pismo_sandbox.startup_checks import check_database, check_settings

    config = _config(db_path=db_path)
    _checked(check_settings, config)
    if _db_option(db_path) == "the default --db" and not os.path.exists(config.db_path):
        _startup_failed(
            f"no database: give --db FILE (the database `pismo-sandbox serve --db FILE` uses)"
            f" or set PISMO_SANDBOX_DB_PATH; there is no {config.db_path} here"
        )
    _checked(check_database, config.db_path, must_exist=True, option=_db_option(db_path))
    from pismo_sandbox.app import build_sandbox  # the app's modules once the checks pass
    from pismo_sandbox.errors import SandboxError

    with _key_file_errors():
        sandbox = build_sandbox(config)
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
    """Delete all simulated state in the database (tenants, accounts, events, the journal, ...)."""
    from pismo_sandbox.startup_checks import check_database, check_settings

    config = _config(db_path=db_path)
    _checked(check_settings, config)
    _checked(check_database, config.db_path, must_exist=True, option=_db_option(db_path))
    from pismo_sandbox.app import build_sandbox  # the app's modules once the checks pass

    with _key_file_errors():
        sandbox = build_sandbox(config)
    sandbox.reset()
    click.echo(f"reset {sandbox.store.path}")


@main.command()
@click.option(
    "--base-url",
    envvar="PISMO_BASE_URL",
    default=None,
    help="host to test, e.g. https://sandbox.pismolabs.io (each spec keeps its base path);"
    " default: an in-process simulator  [env PISMO_BASE_URL]",
)
@click.option("--token", envvar="PISMO_TOKEN", default=None, help="account token to use as is  [env PISMO_TOKEN]")
@click.option(
    "--server-key",
    envvar="PISMO_SERVER_KEY",
    default=None,
    help="server login key (tokens are refreshed before they expire)  [env PISMO_SERVER_KEY]",
)
@click.option(
    "--server-secret", envvar="PISMO_SERVER_SECRET", default=None, help="server login secret  [env PISMO_SERVER_SECRET]"
)
@click.option(
    "--account",
    "account_id",
    envvar="PISMO_ACCOUNT_ID",
    type=int,
    default=None,
    help="Pismo account to log in as (an account token)  [env PISMO_ACCOUNT_ID]",
)
@click.option(
    "--admin-token",
    envvar="PISMO_SANDBOX_ADMIN_TOKEN",
    default=None,
    help="admin token of a served simulator, for --spec sandbox-admin  [env PISMO_SANDBOX_ADMIN_TOKEN]",
)
@click.option(
    "--spec",
    "specs",
    multiple=True,
    help="bundled spec to test (repeatable or comma-separated); default: all of them on"
    " the simulator, every Pismo API against --base-url",
)
@click.option(
    "--examples",
    default=100,
    show_default=True,
    type=click.IntRange(1),
    help="generated examples per operation and phase",
)
@click.option("--seed", default=None, type=int, help="generation seed  [default: a fixed one]")
@click.option(
    "--junit", "junit_path", default=None, type=click.Path(dir_okay=False), help="write a JUnit XML report here"
)
@click.option(
    "--provision",
    is_flag=True,
    help="the --base-url target is a pismo-sandbox: create the tenant, account and bank-slip"
    " provider the run needs through its admin API (no credentials needed)",
)
@click.option(
    "--clear-faults", is_flag=True, help="remove the target's fault rules before the run (default: leave them alone)"
)
@click.option("--server-log", is_flag=True, help="show the in-process simulator's access log")
@click.option("-q", "--quiet", is_flag=True, help="no progress lines, only the summary")
@click.option("-v", "--verbose", is_flag=True, help="also print every finished scenario to stderr")
def contract(
    base_url: str | None,
    token: str | None,
    server_key: str | None,
    server_secret: str | None,
    account_id: int | None,
    admin_token: str | None,
    specs: tuple[str, ...],
    examples: int,
    seed: int | None,
    junit_path: str | None,
    provision: bool,
    clear_faults: bool,
    server_log: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Check an implementation against the bundled contract with Schemathesis.

    Without --base-url: a fresh in-process simulator (tenant, account and token made for the
    run). With it: that host, logging in with --token or --server-key/--server-secret/--account,
    or, when the host is a pismo-sandbox, with what --provision creates there. Progress (one
    line per operation) goes to stderr, the summary and the failures to stdout.
    Exit status: 0 when every check passed, 1 on failures, 2 when the run could not start.
    """
    try:
        from pismo_sandbox.contracts import harness
    except ImportError as error:  # schemathesis comes with the contract extra, not with serving
        click.echo(f"error: {error}; install the contract extra: pip install 'pismo-sandbox[contract]'", err=True)
        sys.exit(2)
    if token and (server_key or server_secret):
        raise click.UsageError("give --token or --server-key/--server-secret, not both")
    if provision and not base_url:
        raise click.UsageError("--provision needs --base-url (the in-process simulator is provisioned anyway)")
    if provision and (token or server_key or server_secret):
        raise click.UsageError("give --provision or credentials (--token, --server-key/--server-secret), not both")
    names = [name.strip() for item in specs for name in item.split(",") if name.strip()]
    credentials = harness.Credentials(
        token=token, server_key=server_key, server_secret=server_secret, account_id=account_id, admin_token=admin_token
    )
    progress = None if quiet else (lambda line: click.echo(line, err=True))
    if not base_url:  # the simulator runs in this process: its log on stderr, as when served
        from pismo_sandbox import logs

        logs.configure()
    result = harness.run(
        base_url=base_url,
        specs=names or None,
        examples=examples,
        seed=harness.DEFAULT_SEED if seed is None else seed,
        credentials=credentials,
        junit=junit_path,
        progress=progress,
        verbose=verbose,
        server_log=server_log,
        provision=provision,
        clear_faults=clear_faults,
    )
    click.echo(result.summary())
    if junit_path:
        click.echo(f"JUnit report: {junit_path}")
    sys.exit(0 if result.ok else (2 if result.errors and not result.operations else 1))


@main.command()
@click.argument("files", nargs=-1, metavar="[FILE_OR_NAME]...")
@click.option("--list", "list_only", is_flag=True, help="list the shipped drills and exit")
@click.option(
    "--junit",
    "junit_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="also write a JUnit XML report to this file",
)
@click.option(
    "--client",
    "client_command",
    default=None,
    help="run this command as the client of every scenario that has one (${...} references allowed)",
)
@click.option(
    "--base-url",
    default=None,
    help="use this running sandbox instead of starting one; it is RESET before every scenario",
)
@click.option(
    "--isolation",
    type=click.Choice(["reset", "fresh"]),
    default="reset",
    show_default=True,
    help="reset: one sandbox, POST /_sandbox/reset before each scenario; fresh: one sandbox per scenario",
)
@click.option(
    "--admin-token",
    envvar="PISMO_SANDBOX_ADMIN_TOKEN",
    default=None,
    help="admin token of the --base-url sandbox, if it requires one",
)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers of the drill sandbox")
@click.option("-v", "--verbose", is_flag=True, help="show every request, check and client output")
@click.option(
    "--consumer",
    "consumer_command",
    default=None,
    help="run this command as the consumer of every consumer drill (${consumer_port} etc. allowed)",
)
def drill(
    files: tuple[str, ...],
    list_only: bool,
    junit_path: str | None,
    client_command: str | None,
    base_url: str | None,
    isolation: str,
    admin_token: str | None,
    workers: int,
    verbose: bool,
    consumer_command: str | None = None,
) -> None:
    """Run fault-injection drills against a fresh sandbox; exit 1 if one fails.

    Each argument is a scenario FILE or the NAME of a shipped drill (--list shows them); none:
    every shipped drill. Every file is checked before anything runs: a mistake stops the run
    (exit 2) naming the file, the line and the field. The format is described in
    scenarios/README.md. A passing drill is one line unless -v."""
    from pismo_sandbox.drills import shipped
    from pismo_sandbox.drills.report import passed_line, summary_line, text_report, write_junit
    from pismo_sandbox.drills.runner import run_drills
    from pismo_sandbox.drills.scenario import ScenarioError, load_scenarios

    if list_only:
        for name, path in shipped.shipped().items():
            click.echo(f"{name:40} {shipped.describe(path)}")
        return
    try:
        scenarios = load_scenarios(shipped.resolve(files))
    except shipped.UnknownDrill as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    except ScenarioError as error:
        click.echo(f"error: invalid drill scenario:\n{error}", err=True)
        sys.exit(2)

    def show(result: DrillResult) -> None:
        if result.passed and not verbose:
            click.echo(passed_line(result))
        else:
            click.echo(text_report(result, verbose=verbose) + "\n")

    results = run_drills(
        scenarios,
        base_url=base_url,
        isolation=isolation,
        client_command=client_command,
        workers=workers,
        on_result=show,
        admin_token=admin_token,
        echo=(lambda line: click.echo(line, err=True)) if verbose else None,
        consumer_command=consumer_command,
    )
    if junit_path:
        write_junit(results, junit_path)
    click.echo(summary_line(results))
    sys.exit(0 if all(r.passed for r in results) else 1)


def _register_listen() -> None:
    from pismo_sandbox.listen import listen

    main.add_command(listen)


_register_listen()
