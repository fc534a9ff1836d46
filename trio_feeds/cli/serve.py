"""``trio-feeds serve``: run one local protocol server standalone, with scheduled faults."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs
import trio

from ..exchanges import Exchange
from ..testing import FeedServer
from ..testing.faults import Fault
from ._common import EXIT_OK, Stopper, json_line, write_line
from ._servers import SendTimes

__all__ = ["ServeOptions", "run_serve"]


@attrs.frozen
class ServeOptions:
    """Options of ``trio-feeds serve``.

    Attributes:
        faults_from: fault times count from the first client connection (``"connection"``) or
            from the server's start (``"start"``).
        server_options: the exchange's own options of its server (its wire forms, ...).
    """

    exchange: Exchange
    port: int = 0
    rate: float = 10.0
    faults: tuple[Fault, ...] = ()
    json: bool = False
    faults_from: Literal["connection", "start"] = "connection"
    server_options: Mapping[str, Any] = attrs.field(factory=dict)


async def run_serve(options: ServeOptions, stopper: Stopper) -> int:
    """Serve until Ctrl-C; the first line printed is the server's URL."""
    exchange = options.exchange
    server_cm = exchange.open_server(rate=options.rate or None, port=options.port, **options.server_options)
    async with server_cm as server:
        creds = exchange.test_credentials.environment()
        start = trio.current_time()
        if options.json:
            write_line(
                json_line(
                    {
                        "kind": "ready",
                        "protocol": exchange.name,
                        "url": server.url,
                        "credentials": creds,
                        "faults": [f.spec for f in options.faults],
                    }
                )
            )
        else:
            _print_banner(options, server, creds)
        async with trio.open_nursery() as nursery:
            # Bounded records: a long-running server must not keep every frame it sent.
            nursery.start_soon(SendTimes(server, timed=False).watch)
            nursery.start_soon(_report_connections, server, options.json, start)

            def report(fault: Fault) -> None:
                t = trio.current_time() - start
                if options.json:
                    write_line(json_line({"t": round(t, 3), "kind": "fault", "spec": fault.spec}))
                else:
                    write_line(f"{t:8.2f}s  fault: {fault.describe()}")

            if options.faults:
                nursery.start_soon(_run_faults, options, server, nursery, report)
            await stopper.wait()
            nursery.cancel_scope.cancel()
        if not options.json:
            write_line("stopping: closing connections (1001)")
    return EXIT_OK


async def _run_faults(
    options: ServeOptions, server: FeedServer, nursery: trio.Nursery, report: Callable[[Fault], None]
) -> None:
    """Start the fault schedule: at once, or when the first client connected (the default)."""
    if options.faults_from == "connection":
        await server.wait_for_connection(1, timeout=math.inf)
    start = trio.current_time()
    for fault in options.faults:
        nursery.start_soon(fault.run, server, nursery, start, report)


def _print_banner(options: ServeOptions, server: FeedServer, creds: dict[str, str]) -> None:
    write_line(server.url)
    p = options.exchange.name
    write_line(f"  {p} test server, {options.rate:g} messages/s per connection")
    if creds:
        env = " ".join(f"{k}={v}" for k, v in creds.items())
        write_line(f"  accepts the test credentials {env}")
    else:
        write_line("  no authentication")
    env_prefix = " ".join(f"{k}={v}" for k, v in creds.items())
    example = " ".join(
        x for x in (env_prefix, "trio-feeds watch", p, server.url, options.exchange.watch_example) if x
    )
    write_line(f"  try: {example}")
    since = "the first connection" if options.faults_from == "connection" else "start"
    for fault in options.faults:
        every = f", every {fault.every:g} s" if fault.every else ""
        write_line(f"  fault {fault.at:g} s after {since}{every}: {fault.describe()}")
    write_line("  Ctrl-C to stop")


async def _report_connections(server: FeedServer, as_json: bool, start: float) -> None:
    opened = 0
    closed: set[int] = set()
    while True:
        await trio.sleep(0.1)
        for record in server.connections[opened:]:
            _say(
                as_json, start, "connection", f"connection {record.id} opened: {record.target}", id=record.id
            )
        opened = len(server.connections)
        for record in server.connections:
            if record.id not in closed and not record.open:
                closed.add(record.id)
                how = record.closed_by or "?"
                code = "" if record.close_code is None else f" {record.close_code}"
                _say(
                    as_json,
                    start,
                    "disconnection",
                    f"connection {record.id} closed by {how}{code}",
                    id=record.id,
                )


def _say(as_json: bool, start: float, kind: str, text: str, **fields: object) -> None:
    t = trio.current_time() - start
    if as_json:
        write_line(json_line({"t": round(t, 3), "kind": kind, "text": text, **fields}))
    else:
        write_line(f"{t:8.2f}s  {text}")
