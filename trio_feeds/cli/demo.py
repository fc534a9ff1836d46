"""``trio-feeds demo``: a local server and a feed per exchange, faults on a schedule, live.

No network and no credentials: the servers of :mod:`trio_feeds.testing` run in this process.
Each feed subscribes to every channel of its server; the schedule below drops, stalls,
rate-limits and corrupts the connections, and the view shows every feed notice it and heal.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
import trio
from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .. import events as ev
from .. import exchanges
from .._engine import Feed
from ..config import FeedConfig
from ..errors import FeedError
from ..exchanges import Exchange
from ..normalized import Trade
from ..testing import FeedServer
from ..testing.faults import Fault
from ._common import (
    EXIT_OK,
    Stopper,
    display_type,
    event_fields,
    event_text,
    is_event,
    json_line,
    message_json,
    write_line,
)
from ._lines import normalized_text
from ._servers import SendTimes

if TYPE_CHECKING:
    from ..metrics import FeedMetrics

__all__ = ["DemoOptions", "run_demo"]

RATE = 40.0  # messages per second per server
_STYLE = {
    "Connected": "green",
    "Authenticated": "green",
    "Resubscribed": "green",
    "Subscribed": "dim",
    "Disconnected": "red",
    "Reconnecting": "yellow",
    "Gap": "magenta",
    "DecodeFailed": "bright_red",
    "Overflow": "magenta",
}


def schedule(duration: float, entries: list[Exchange]) -> list[tuple[float, str, Fault]]:
    """The demo's faults: (fraction of the run, protocol, fault), each exchange's own, by time."""
    faults = [(fraction, e.name, fault) for e in entries for fraction, fault in e.demo_faults(duration)]
    return sorted(faults, key=lambda f: f[0])


def demo_config(seed: int | None) -> FeedConfig:
    """Timeouts for a demo: a dead connection is noticed in well under a second."""
    return FeedConfig(
        ping_interval=0.3,
        ping_timeout=0.3,
        connect_timeout=1.0,
        close_timeout=0.2,
        backoff_initial=0.05,
        backoff_max=0.5,
        rate_limit_backoff=0.5,
        healthy_after=1.0,
        request_timeout=1.0,
        poll_interval=0.1,
        rng=random.Random(seed),
    )


@attrs.frozen
class Arrival:
    """How a message arrived: its type name, sequence number and delivery latency (seconds)."""

    kind: str
    seq: int | None
    latency: float | None
    encode: Callable[[Any], str]


@attrs.frozen
class DemoOptions:
    """Options of ``trio-feeds demo``."""

    duration: float = 15.0
    json: bool = False
    seed: int | None = None
    metrics_port: int | None = None  # serve the feeds' metrics on 127.0.0.1 (0: any free port)


@attrs.define
class FeedState:
    """What one protocol's feed has shown so far."""

    name: str
    by_type: Counter[str] = attrs.field(factory=Counter)
    messages: int = 0
    reconnects: int = 0
    disconnects: int = 0
    gaps: int = 0
    decode_errors: int = 0
    faults: int = 0
    connected: bool = False
    ended: str | None = None
    latest: str = ""
    last_fault_at: float | None = None
    after_last_fault: int = 0
    connection_id: int | None = None
    latencies: list[float] = attrs.field(factory=list)

    def latency_ms(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000

    @property
    def healed(self) -> bool:
        """Connected at the end, and messages flowed after the last fault."""
        return self.ended is None and self.connected and (self.faults == 0 or self.after_last_fault > 0)

    def summary(self) -> dict[str, Any]:
        p50, p99 = self.latency_ms(0.5), self.latency_ms(0.99)
        return {
            "messages": self.messages,
            "by_type": dict(self.by_type.most_common()),
            "reconnects": self.reconnects,
            "disconnects": self.disconnects,
            "gaps": self.gaps,
            "decode_errors": self.decode_errors,
            "faults": self.faults,
            "latency_ms": {
                "p50": None if p50 is None else round(p50, 3),
                "p99": None if p99 is None else round(p99, 3),
                "samples": len(self.latencies),
            },
            "connected": self.connected,
            "healed": self.healed,
            "ended": self.ended,
        }


class Demo:
    """Runs the servers, feeds and faults, and reports through a view."""

    def __init__(self, options: DemoOptions, view: _View) -> None:
        self.options = options
        self.view = view
        self.entries = {e.name: e for e in exchanges.all_exchanges()}
        self.states = {name: FeedState(name) for name in self.entries}
        self.feeds: dict[str, Feed[Any]] = {}
        self.trades: deque[tuple[float, str, str]] = deque(maxlen=20)  # normalized, every exchange
        self.final_books: dict[str, dict[str, dict[str, object]]] = {}
        self.t0 = 0.0
        self.metrics: FeedMetrics | None = None

    def now(self) -> float:
        return trio.current_time() - self.t0

    async def run(self, stopper: Stopper) -> int:
        opts = self.options
        self.t0 = trio.current_time()
        end = self.t0 + opts.duration
        config = demo_config(opts.seed)
        async with AsyncExitStack() as stack:
            servers: dict[str, FeedServer] = {}
            for name, entry in self.entries.items():
                servers[name] = await stack.enter_async_context(entry.open_server(rate=RATE))
            async with trio.open_nursery() as nursery:
                if opts.metrics_port is not None:
                    await self._serve_metrics(nursery, opts.metrics_port)
                ready = {name: trio.Event() for name in self.entries}
                for name, entry in self.entries.items():
                    times = SendTimes(servers[name])
                    nursery.start_soon(times.watch)
                    nursery.start_soon(self._run_feed, entry, servers[name], times, config, ready[name])
                with trio.move_on_at(min(end, self.t0 + 5.0)):
                    for event in ready.values():
                        await event.wait()
                start = trio.current_time()
                span = max(0.0, end - start)
                for fraction, p, fault in schedule(opts.duration, list(self.entries.values())):
                    timed = attrs.evolve(fault, at=fraction * span)
                    nursery.start_soon(timed.run, servers[p], nursery, start, self._fault_reporter(p))
                nursery.start_soon(self.view.refresh_loop, self)
                with trio.move_on_at(end):
                    await stopper.wait()
                self.final_books = self.book_summary()  # before closing: closed feeds' books are unsynced
                nursery.cancel_scope.cancel()
        self.view.finish(self)
        return EXIT_OK

    async def _serve_metrics(self, nursery: trio.Nursery, port: int) -> None:
        """Serve the feeds' metrics from the demo's nursery (a task of it, ended with the demo)."""
        # Loaded only here: prometheus-client is the metrics extra, checked by the command.
        from prometheus_client import CollectorRegistry  # noqa: PLC0415

        from ..metrics import FeedMetrics, serve_metrics  # noqa: PLC0415

        registry = CollectorRegistry()
        self.metrics = FeedMetrics()
        registry.register(self.metrics)
        endpoint = await nursery.start(serve_metrics, port, "127.0.0.1", registry)
        self.view.metrics(self, endpoint.url)

    def book_summary(self) -> dict[str, dict[str, dict[str, object]]]:
        """Each feed's books: synced, best bid and ask (JSON-ready)."""
        return {
            p: {
                _key_text(key): {
                    "synced": book.synced,
                    "best_bid": None if book.best_bid is None else str(book.best_bid[0]),
                    "best_ask": None if book.best_ask is None else str(book.best_ask[0]),
                }
                for key, book in feed.books.items()
            }
            for p, feed in self.feeds.items()
        }

    def _fault_reporter(self, protocol: str) -> Callable[[Fault], None]:
        def report(fault: Fault) -> None:
            state = self.states[protocol]
            state.faults += 1
            state.last_fault_at = self.now()
            state.after_last_fault = 0
            self.view.fault(self, protocol, fault)

        return report

    async def _run_feed(
        self, entry: Exchange, server: FeedServer, times: SendTimes, config: FeedConfig, ready: trio.Event
    ) -> None:
        protocol = entry.name
        state = self.states[protocol]
        encode = entry.encode
        feed_cm = entry.open_feed(
            server.url, entry.test_credentials, config=config, **entry.demo_feed_options()
        )
        try:
            async with feed_cm as feed, trio.open_nursery() as nursery:
                self.feeds[protocol] = feed
                metrics = self.metrics
                if metrics is not None:
                    metrics.add_feed(protocol, feed)
                nursery.start_soon(_subscribe_all, entry, feed, ready)
                async for item in feed:
                    now = trio.current_time()
                    if metrics is not None:
                        metrics.note(protocol, item)
                    if is_event(item):
                        self._on_event(state, server, item)
                        continue
                    state.messages += 1
                    kind = display_type(item)
                    state.by_type[kind] += 1
                    if state.last_fault_at is not None:
                        state.after_last_fault += 1
                    latency = None
                    seq = server.sequence_of(item)
                    if seq is not None and state.connection_id is not None:
                        sent = times.pop(state.connection_id, seq)
                        if sent is not None:
                            latency = now - sent
                            state.latencies.append(latency)
                            if metrics is not None:
                                metrics.observe_latency(protocol, latency)
                    normals = feed.normalize(item)
                    state.latest = "; ".join(map(normalized_text, normals)) or kind
                    for normal in normals:
                        if isinstance(normal, Trade):
                            self.trades.append((self.now(), protocol, normalized_text(normal)))
                    arrival = Arrival(kind=kind, seq=seq, latency=latency, encode=encode)
                    self.view.message(self, protocol, item, arrival=arrival)
        except FeedError as exc:
            state.ended = str(exc)
            state.connected = False
            self.view.event(self, protocol, "FeedClosed", {"error": str(exc)}, f"feed ended: {exc}")

    def _on_event(self, state: FeedState, server: FeedServer, event: object) -> None:
        name = type(event).__name__
        if isinstance(event, ev.Connected):
            state.connected = True
            state.connection_id = server.connections[-1].id if server.connections else None
        elif isinstance(event, ev.Disconnected):
            state.connected = False
            state.disconnects += 1
        elif isinstance(event, ev.Reconnecting):
            state.reconnects += 1
        elif isinstance(event, ev.Gap):
            state.gaps += 1
        elif isinstance(event, ev.DecodeFailed):
            state.decode_errors += 1
        self.view.event(self, state.name, name, event_fields(event, clock_zero=self.t0), event_text(event))


async def _subscribe_all(entry: Exchange, feed: Feed[Any], ready: trio.Event) -> None:
    """Subscribe to every channel the exchange's local server has."""
    try:
        await entry.demo_subscribe(feed)
    finally:
        ready.set()


# -- views ------------------------------------------------------------------------------------


class _View:
    """How the demo shows what happens (live table, plain lines or JSON lines)."""

    def start(self) -> AbstractAsyncContextManager[None]:
        return _nothing()

    async def refresh_loop(self, demo: Demo) -> None:
        """Redraw periodically (live view only)."""

    def message(self, demo: Demo, protocol: str, message: object, *, arrival: Arrival) -> None:
        """A message arrived."""

    def event(self, demo: Demo, protocol: str, name: str, fields: dict[str, Any], text: str) -> None:
        """A session event arrived."""

    def fault(self, demo: Demo, protocol: str, fault: Fault) -> None:
        """A fault was injected."""

    def metrics(self, demo: Demo, url: str) -> None:
        """The feeds' metrics are served at ``url``."""

    def finish(self, demo: Demo) -> None:
        """The demo is over: show the summary."""


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


class JsonView(_View):
    """One JSON line per message, event and fault, then a summary line."""

    def message(self, demo: Demo, protocol: str, message: object, *, arrival: Arrival) -> None:
        latency = arrival.latency
        fields: dict[str, Any] = {
            "t": round(demo.now(), 4),
            "protocol": protocol,
            "kind": "message",
            "type": arrival.kind,
            "seq": arrival.seq,
            "latency_ms": None if latency is None else round(latency * 1000, 3),
        }
        write_line(json_line(fields, {"data": message_json(arrival.encode, message)}))

    def event(self, demo: Demo, protocol: str, name: str, fields: dict[str, Any], text: str) -> None:
        line = {"t": round(demo.now(), 4), "protocol": protocol, "kind": "event", "type": name, **fields}
        write_line(json_line(line))

    def fault(self, demo: Demo, protocol: str, fault: Fault) -> None:
        line = {
            "t": round(demo.now(), 4),
            "protocol": protocol,
            "kind": "fault",
            "fault": fault.kind,
            "spec": fault.spec,
            "description": fault.describe(),
        }
        write_line(json_line(line))

    def metrics(self, demo: Demo, url: str) -> None:
        write_line(json_line({"t": round(demo.now(), 4), "protocol": None, "kind": "metrics", "url": url}))

    def finish(self, demo: Demo) -> None:
        states = demo.states
        line = {
            "t": round(demo.now(), 4),
            "protocol": None,
            "kind": "summary",
            "healed": all(s.healed for s in states.values()),
            "protocols": {p: s.summary() for p, s in states.items()},
            "books": demo.final_books,
        }
        write_line(json_line(line))


class RichView(_View):
    """The live terminal view (or, when stdout is not a terminal, plain lines as things happen)."""

    def __init__(self, duration: float) -> None:
        self.console = Console(highlight=False)
        self.live_mode = self.console.is_terminal
        self.duration = duration
        self.faults: deque[tuple[float, str, str]] = deque(maxlen=10)
        self.log: deque[tuple[float, str, str, str]] = deque(maxlen=12)
        self._live: Any = None

    @asynccontextmanager
    async def _live_context(self, demo: Demo) -> AsyncIterator[None]:
        with Live(self._render(demo), console=self.console, auto_refresh=False, transient=False) as live:
            self._live = live
            try:
                yield
            finally:
                live.update(self._render(demo), refresh=True)
                self._live = None

    async def refresh_loop(self, demo: Demo) -> None:
        if not self.live_mode:
            return
        async with self._live_context(demo):
            while True:
                self._live.update(self._render(demo), refresh=True)
                try:
                    await trio.sleep(0.125)
                except trio.Cancelled:
                    self._live.update(self._render(demo), refresh=True)
                    raise

    def event(self, demo: Demo, protocol: str, name: str, fields: dict[str, Any], text: str) -> None:
        t = demo.now()
        self.log.append((t, protocol, text, _STYLE.get(name, "red")))
        if not self.live_mode and name != "Subscribed":
            self.console.print(
                f"{t:7.2f}s  {protocol:<11} {text}", style=_STYLE.get(name, "red"), markup=False
            )

    def fault(self, demo: Demo, protocol: str, fault: Fault) -> None:
        t = demo.now()
        self.faults.append((t, protocol, fault.describe()))
        if not self.live_mode:
            self.console.print(
                f"{t:7.2f}s  {protocol:<11} FAULT {fault.describe()}", style="bold yellow", markup=False
            )

    def metrics(self, demo: Demo, url: str) -> None:
        self.console.print(f"metrics for Prometheus: {url}", style="bold", markup=False)

    def _render(self, demo: Demo) -> Any:
        elapsed = min(demo.now(), self.duration)
        header = Text.assemble(
            ("trio-feeds demo", "bold"),
            f"  {elapsed:4.1f} / {self.duration:g} s · {len(demo.states)} local servers, faults on a schedule"
            " · Ctrl-C stops",
            no_wrap=True,
            overflow="ellipsis",
        )
        table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
        table.add_column("protocol", no_wrap=True)
        table.add_column("state", no_wrap=True)
        for column in ("msgs", "reconn", "gaps", "errors"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("latest message", no_wrap=True, overflow="ellipsis", ratio=1)
        for state in demo.states.values():
            if state.ended:
                status = Text("✘ ended", style="bold red")
            elif state.connected:
                status = Text("● live", style="green")
            else:
                status = Text("○ healing", style="bold yellow")
            table.add_row(
                state.name,
                status,
                str(state.messages),
                _count(state.reconnects, "yellow"),
                _count(state.gaps, "magenta"),
                _count(state.decode_errors, "bright_red"),
                state.latest,
            )
        books = _books_table(demo, rows=4)
        # Fit a terminal of 30 rows: the table takes 9, the books 6, the three panels' borders 6.
        room = max(6, self.console.size.height - 22)
        fault_rows = max(2, min(len(self.faults), room // 3))
        trade_rows = max(2, room // 3)
        faults = _log_grid()
        for t, p, text in list(self.faults)[-fault_rows:]:
            faults.add_row(f"{t:5.1f}s", p, Text(text, style="yellow"))
        trades = _log_grid()
        for t, p, text in list(demo.trades)[-trade_rows:]:
            trades.add_row(f"{t:5.1f}s", p, Text(text))
        log = _log_grid()
        for t, p, text, style in list(self.log)[-max(2, room - fault_rows - trade_rows) :]:
            log.add_row(f"{t:5.1f}s", p, Text(text, style=style))
        return Group(
            header,
            table,
            books,
            Panel(
                trades, title="trades, normalized, every exchange", border_style="green", title_align="left"
            ),
            Panel(faults, title="faults injected", border_style="yellow", title_align="left"),
            Panel(log, title="session events", border_style="cyan", title_align="left"),
        )

    def finish(self, demo: Demo) -> None:
        table = Table(
            title="trio-feeds demo: summary",
            title_style="bold",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,
        )
        table.add_column("protocol", no_wrap=True)
        for column in ("msgs", "faults", "reconn", "gaps", "errors", "p50 ms", "p99 ms"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("healed", no_wrap=True)
        types = Table(
            title="messages by type", title_justify="left", box=None, show_header=False, pad_edge=False
        )
        types.add_column("protocol", no_wrap=True)
        types.add_column("types", ratio=1)
        for state in demo.states.values():
            p50, p99 = state.latency_ms(0.5), state.latency_ms(0.99)
            healed = Text("✔ yes", style="bold green") if state.healed else Text("✘ NO", style="bold red")
            table.add_row(
                state.name,
                str(state.messages),
                str(state.faults),
                str(state.reconnects),
                str(state.gaps),
                str(state.decode_errors),
                "-" if p50 is None else f"{p50:.2f}",
                "-" if p99 is None else f"{p99:.2f}",
                healed,
            )
            types.add_row(state.name, " · ".join(f"{k} {v}" for k, v in sorted(state.by_type.items())))
        self.console.print()
        self.console.print(table)
        self.console.print(
            "reconn: reconnects · errors: frames that failed to decode (reported, feed goes on) · "
            "p50/p99: delivery latency, server send -> consumer",
            style="dim",
        )
        self.console.print(types)
        books = [
            f"{p} {key} {'✔' if b['synced'] else '✘'} {b['best_bid']}/{b['best_ask']}"
            for p, by_key in demo.final_books.items()
            for key, b in by_key.items()
        ]
        if books:
            self.console.print("order books at the end (synced, bid/ask): " + " · ".join(books), markup=False)
        states = list(demo.states.values())
        faults = sum(s.faults for s in states)
        reconnects = sum(s.reconnects for s in states)
        errors = sum(s.decode_errors for s in states)
        if all(s.healed for s in states):
            self.console.print(
                f"[bold green]✔ {_plural(faults, 'fault')} injected, {_plural(reconnects, 'reconnect')}, "
                f"{_plural(errors, 'bad frame')} reported: every feed healed and kept delivering typed "
                "messages.[/]"
            )
        else:
            broken = "; ".join(f"{s.name}: {s.ended or 'not connected'}" for s in states if not s.healed)
            self.console.print(f"[bold red]✘ not healed: {broken}[/]", markup=True)


def _books_table(demo: Demo, *, rows: int) -> Any:
    """Top of book of each market, and whether the book can be trusted (``synced``)."""
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, title="order books", title_justify="left")
    for column in ("protocol", "market", "synced", "best bid", "best ask", "spread"):
        table.add_column(
            column, no_wrap=True, justify="right" if column.startswith(("best", "spread")) else "left"
        )
    shown = 0
    for protocol, feed in demo.feeds.items():
        for key, book in feed.books.items():
            if shown == rows:
                return table
            shown += 1
            synced = (
                Text("✔ yes", style="green")
                if book.synced
                else Text(f"✘ {book.unsynced_reason}", style="red")
            )
            bid, ask, spread = book.best_bid, book.best_ask, book.spread
            table.add_row(
                protocol,
                _key_text(key),
                synced,
                "-" if bid is None else f"{bid[0]} x {bid[1]}",
                "-" if ask is None else f"{ask[0]} x {ask[1]}",
                "-" if spread is None else str(spread),
            )
    return table


def _key_text(key: object) -> str:
    return "/".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _log_grid() -> Any:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(no_wrap=True, min_width=10)
    grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    return grid


def _count(value: int, style: str) -> Any:
    return Text(str(value), style=f"bold {style}" if value else "dim")


async def run_demo(options: DemoOptions, stopper: Stopper) -> int:
    """Run the demo; return the exit status."""
    view: _View = JsonView() if options.json else RichView(options.duration)
    return await Demo(options, view).run(stopper)
