"""The `gateway` command: run the local Neo4j, migrate, seed, serve, mint tokens, check the audit."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from neo4j import Driver

from gateway.neo4j_local import LocalNeo4j, LocalNeo4jError, install
from gateway.settings import get_settings
from gateway.store.db import GraphUnavailable, connect

app = typer.Typer(help="The information-exchange gateway.", no_args_is_help=True)
neo4j_app = typer.Typer(help="The local Neo4j server (for machines without Docker).")
app.add_typer(neo4j_app, name="neo4j")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(code)


@contextmanager
def graph() -> Iterator[Driver]:
    try:
        driver = connect(get_settings())
    except GraphUnavailable as error:
        raise fail(str(error)) from None
    try:
        yield driver
    finally:
        driver.close()


def local_server() -> LocalNeo4j:
    s = get_settings()
    return LocalNeo4j(
        home=s.neo4j_home.resolve(),
        lib=s.neo4j_lib.resolve(),
        bolt_port=s.neo4j_bolt_port,
        http_port=s.neo4j_http_port,
        heap=s.neo4j_heap,
        pagecache=s.neo4j_pagecache,
    )


@neo4j_app.command("install")
def neo4j_install() -> None:
    """Fetch the Neo4j Community server jars from Maven Central (once)."""
    lib = get_settings().neo4j_lib.resolve()
    try:
        fetched = install(lib)
    except LocalNeo4jError as error:
        raise fail(str(error)) from None
    typer.echo(f"Neo4j {'installed' if fetched else 'already installed'} in {lib}")


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Start the local server and wait until Bolt answers; a no-op if it runs."""
    server = local_server()
    try:
        install(server.lib)
        status, started = server.start()
    except LocalNeo4jError as error:
        raise fail(str(error)) from None
    verb = "started" if started else "already running"
    typer.echo(f"Neo4j {verb} (pid {status.pid}): Bolt {status.bolt_uri}, HTTP {status.http_uri}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local server cleanly."""
    stopped = local_server().stop()
    typer.echo("Neo4j stopped" if stopped else "Neo4j was not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local server runs (exit 0) or not (exit 3)."""
    status = local_server().status()
    if status.running:
        typer.echo(f"Neo4j running (pid {status.pid}): Bolt {status.bolt_uri}")
    else:
        typer.echo("Neo4j not running")
        raise typer.Exit(3)


@app.command()
def migrate() -> None:
    """Apply the pending schema migrations; a no-op when the graph is up to date."""
    from graph_schema import migrations

    with graph() as driver:
        applied = migrations.apply(
            driver,
            get_settings().neo4j_database,
            report=lambda m: typer.echo(f"applied migration {m.version}: {m.name}"),
        )
    if not applied:
        typer.echo(f"schema already at version {migrations.LATEST_VERSION}")


@app.command()
def seed(
    persons: Annotated[int, typer.Option(min=0, help="How many generated persons.")] = 1_000,
    seed: Annotated[int, typer.Option(help="The random seed: same N and seed, same graph.")] = 1,
    reset: Annotated[bool, typer.Option(help="Wipe the graph's data first.")] = False,
    if_empty: Annotated[bool, typer.Option(help="Only seed a graph that holds no data.")] = False,
) -> None:
    """Build a realistic, deterministic graph, with the fixed demo records."""
    from graph_schema import migrations
    from seed.loader import SeedRefused, load

    with graph() as driver:
        if migrations.current_version(driver) < migrations.LATEST_VERSION:
            raise fail("the schema is not up to date: run `gateway migrate` first")
        if if_empty and _holds_data(driver):
            typer.echo("the graph already holds data: not seeding")
            return
        try:
            summary = load(driver, persons, seed, reset=reset, progress=sys.stderr.isatty())
        except SeedRefused as error:
            raise fail(str(error)) from None
    typer.echo(str(summary))


def _holds_data(driver: Driver) -> bool:
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:SchemaMigration RETURN count(n) > 0 AS any LIMIT 1"
    )
    return bool(records[0]["any"])


@app.command("identity-scan")
def identity_scan(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Persons compared per transaction.")] = 1_000,
) -> None:
    """Compare every person with the records it may be the same as and write candidate identity
    links; idempotent (a pair is linked once), so it may run again at any time."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from gateway.store.identity import count_persons, scan
    from graph_schema import migrations

    with graph() as driver:
        database = get_settings().neo4j_database
        if migrations.current_version(driver, database) < migrations.LATEST_VERSION:
            raise fail("the schema is not up to date: run `gateway migrate` first")
        columns = (TextColumn("[bold]comparing persons"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, console=Console(stderr=True), disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("persons", total=count_persons(driver, database))
            summary = scan(driver, get_settings().audit_hmac_key(), database, batch,
                           advance=lambda n: bar.advance(task, n))  # fmt: skip
    typer.echo(str(summary))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: GATEWAY_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: GATEWAY_PORT.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes, each with its own "
                                         "Neo4j connection pool and audit chain.")] = 1,
) -> None:
    """Serve the GraphQL endpoint (http://HOST:PORT/graphql)."""
    from pathlib import Path

    import uvicorn

    from gateway import logs
    from gateway.store import journal

    settings = get_settings()
    if problems := settings.production_problems():
        raise fail("; ".join(problems), 2)
    if settings.audit_journal and (problem := journal.problem(Path(settings.audit_journal))):
        raise fail(problem, 2)
    logs.configure()
    logging.getLogger("gateway").info(
        "starting", extra={"fields": {"env": settings.env, "playground": settings.playground,
                                      "introspection": settings.introspection, "workers": workers}},
    )  # fmt: skip
    uvicorn.run(
        "gateway.http.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,  # logs.configure's JSON lines
        access_log=False,  # one line per request comes from gateway.http.requestlog instead
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        ws_max_size=settings.max_body_bytes,  # a WebSocket message is bounded like a request body
        # Processes, not threads: each worker builds its own app (driver pool, audit writer
        # and chain, caches, rate limits) from the factory; the kernel spreads connections.
        workers=workers,
    )


@app.command()
def expire() -> None:
    """Mark published notices past their expiry as EXPIRED (R14; reads apply expiry anyway)."""
    with graph() as driver, driver.session(database=get_settings().neo4j_database) as session:
        record = session.run(
            "MATCH (n:Notice {status: 'PUBLISHED'}) WHERE n.expiresAt <= datetime() "
            "CALL (n) { SET n.status = 'EXPIRED', n.version = coalesce(n.version, 0) + 1, n.changedAt = datetime() } "
            "IN TRANSACTIONS OF 10000 ROWS RETURN count(n) AS expired"
        ).single()
    typer.echo(f"{record['expired'] if record else 0} notices marked EXPIRED")


@app.command()
def token(
    agency: Annotated[str, typer.Option(help="The agency id, e.g. ncb-fr.")],
    user: Annotated[str, typer.Option(help="The user's name.")] = "dev",
    ttl: Annotated[str, typer.Option(help="Lifetime: 90s, 30m, 1h, 7d; at most GATEWAY_MAX_TOKEN_TTL.")] = "1h",
) -> None:
    """Mint a development token (HS256) for an agency."""
    from gateway.http.auth import mint

    settings = get_settings()
    if settings.jwks_url or not settings.development:
        raise fail("tokens come from your identity provider (GATEWAY_JWKS_URL); "
                   "`gateway token` mints only with GATEWAY_ENV=development", 2)  # fmt: skip
    seconds = _seconds(ttl)
    if seconds > settings.max_token_ttl:
        raise fail(f"--ttl {ttl!r} exceeds GATEWAY_MAX_TOKEN_TTL ({settings.max_token_ttl} s): "
                   "the gateway would refuse the token", 2)  # fmt: skip
    typer.echo(mint(settings, agency, user, seconds))


def _seconds(ttl: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = ttl[:-1], ttl[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise fail(f"--ttl {ttl!r}: give a positive whole number with s, m, h or d, like 1h", 2)
    return int(number) * units[unit]


@app.command("demo-tokens")
def demo_tokens() -> None:
    """Print ready tokens for the demo agencies (the README's examples use them)."""
    from gateway.http.auth import mint

    settings = get_settings()
    if settings.jwks_url or not settings.development:
        raise fail("demo tokens exist only with GATEWAY_ENV=development", 2)
    for agency in DEMO_AGENCIES:
        typer.echo(f"{agency:14} {mint(settings, agency, f'demo-{agency}', 8 * 3600)}")


DEMO_AGENCIES = ("ncb-kz", "ncb-nl", "asylum-nl", "border-nl", "police-nl", "ncb-jp", "ncb-ca",
                 "ncb-fr", "ncb-de", "gs", "ccf", "intl-europol")  # fmt: skip

audit_app = typer.Typer(help="The audit log (R15).")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute every audit chain (one per writer process); exit 1 if one is broken."""
    from gateway.store.audit import verify

    with graph() as driver:
        result = verify(driver, get_settings().audit_hmac_key(), get_settings().neo4j_database)
    if not result.ok:
        raise fail(
            f"the audit chain {result.chain!r} is broken at event {result.broken_at} "
            f"({result.events} verified before it)"
        )
    typer.echo(f"audit chain intact: {result.events} events in {result.chains} chain(s)")


if __name__ == "__main__":
    app()
