"""The ``trio-feeds`` command (also ``python -m trio_feeds``).

Every exchange comes from the registry (:mod:`trio_feeds.exchanges`): its ``watch`` options,
its local server, its schema. Nothing here names an exchange.

Commands:

- ``trio-feeds demo``: the local exchange servers and feeds, faults injected, shown live.
- ``trio-feeds watch PROTOCOL URL ...``: print an endpoint's typed messages and session events.
- ``trio-feeds serve PROTOCOL``: run a local test server standalone, with scheduled faults.
- ``trio-feeds conform PROTOCOL FILE|-``: check captured frames against the schema and decoder.
- ``trio-feeds record PROTOCOL URL ... -o FILE``: ``watch``, recording the session to a file.
- ``trio-feeds replay FILE``: play a recording back through the same feed, printed as ``watch``.

Exit status: 0 success, 1 failure (a feed error, a frame that does not conform), 2 bad
arguments, 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import math
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from .. import __version__, exchanges
from ..exchanges._base import ENV_NAMES, ExchangeCredentials
from ..testing.faults import FAULT_HELP, parse_fault
from ._common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    describe_error,
    run_trio,
    scrub,
)

__all__ = ["build_parser", "main"]

_EPILOG = """\
exit status: 0 ok, 1 failure, 2 bad arguments, 130 interrupted (Ctrl-C).
Run 'trio-feeds COMMAND --help' for a command's options."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535: {text!r}")
    return value


def _ws_url(text: str) -> str:
    if not text.startswith(("ws://", "wss://")):
        raise argparse.ArgumentTypeError(f"not a WebSocket URL (ws:// or wss://): {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``trio-feeds`` (all commands; exchanges from the registry)."""
    parser = argparse.ArgumentParser(
        prog="trio-feeds",
        description=(
            "Typed, reconnecting exchange WebSocket feeds for Trio: "
            "demo, watch, serve, conform, record, replay, publish, consume."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trio-feeds {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_demo(commands)
    _add_watch(commands)
    _add_serve(commands)
    _add_conform(commands)
    _add_record(commands)
    _add_replay(commands)
    _add_publish(commands)
    _add_consume(commands)
    return parser


_Commands = argparse._SubParsersAction  # argparse's type for add_subparsers()


def _add_demo(commands: _Commands[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the local exchange servers and feeds, inject faults, show them heal (no network)",
        description=(
            "Start the local server of every exchange in this process, open a feed to each, "
            "subscribe to every channel, inject faults on a schedule (dropped connections, a "
            "stalled server, malformed frames, a rate limit) and show live what each feed "
            "receives and how it heals. Ends with a summary table."
        ),
        epilog=_EPILOG,
    )
    demo.add_argument(
        "--duration", type=_positive_float, default=15.0, metavar="S", help="seconds to run (default 15)"
    )
    demo.add_argument(
        "--json", action="store_true", help="print JSON lines (messages, events, faults, summary) instead"
    )
    demo.add_argument("--seed", type=int, default=None, metavar="N", help="seed the reconnect jitter")
    demo.add_argument(
        "--metrics-port",
        type=_port,
        default=None,
        metavar="N",
        help=(
            "serve the feeds' metrics for Prometheus at http://127.0.0.1:N/metrics (0: any free "
            "port, printed at the start); needs the metrics extra (prometheus-client)"
        ),
    )


def _add_watch(commands: _Commands[argparse.ArgumentParser]) -> None:
    watch = commands.add_parser(
        "watch",
        help="connect to an endpoint and print its typed messages and session events",
        description=(
            "Connect to an exchange endpoint and print its typed messages and session events. "
            "Credentials come from TRIO_FEEDS_API_KEY / TRIO_FEEDS_API_SECRET (gateway) or "
            "TRIO_FEEDS_TOKEN (onyx, peatio), or from --credentials-file; never from the "
            "command line, and they are never printed."
        ),
        epilog=_EPILOG,
    )
    for sub in _feed_parsers(watch, "Watch"):
        sub.add_argument("--no-events", action="store_true", help="print messages only, not session events")


def _feed_parsers(command: argparse.ArgumentParser, verb: str) -> list[argparse.ArgumentParser]:
    """One sub-parser per exchange with the endpoint options ``watch`` and ``record`` share."""
    protocols = command.add_subparsers(dest="protocol", metavar="PROTOCOL", required=True)
    parsers = []
    for exchange in exchanges.all_exchanges():
        needs = ", ".join(sorted(ENV_NAMES[n] for n in exchange.needs))
        help_text = f"{exchange.title} ({f'needs {needs}' if needs else 'no credentials needed'})"
        sub = protocols.add_parser(
            exchange.name,
            help=help_text,
            description=f"{verb} an endpoint of {exchange.title}.",
            epilog=_EPILOG,
        )
        sub.add_argument("url", type=_ws_url, help="the WebSocket URL (ws:// or wss://)")
        sub.add_argument("--json", action="store_true", help="print JSON lines instead of text")
        sub.add_argument("--count", type=_positive_int, metavar="N", help="exit after N messages")
        sub.add_argument(
            "--normalized",
            action="store_true",
            help="print each message as its exchange-neutral items (trades, tickers, books, orders, ...)",
        )
        sub.add_argument(
            "--max-attempts",
            type=_non_negative_int,
            metavar="N",
            help="give up after N failed reconnect attempts in a row (default: never)",
        )
        sub.add_argument(
            "--credentials-file",
            metavar="PATH",
            help="read credentials from a JSON object or KEY=VALUE lines (the environment variables' names)",
        )
        exchange.add_watch_arguments(sub)
        parsers.append(sub)
    return parsers


def _size(text: str) -> int:
    units = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or unit == "":
        number, unit = text, ""
    try:
        value = int(float(number) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size (bytes, or with K, M, G): {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 byte: {text!r}")
    return value


def _speed(text: str) -> float:
    if text.lower() in ("inf", "max"):
        return math.inf
    return _positive_float(text)


def _add_record(commands: _Commands[argparse.ArgumentParser]) -> None:
    record = commands.add_parser(
        "record",
        help="watch an endpoint and record its session to a file (for replay and conform)",
        description=(
            "Connect to an endpoint as 'watch' does and record the session to a file: every "
            "received frame exactly as received with its receive time, every connection and "
            "close, the session events and the subscriptions made. Frames the client sends "
            "(they carry credentials) are never recorded. Prints the session events; stops on "
            "Ctrl-C or after --count messages. The file is JSON lines, gzip-compressed by default "
            "('zcat FILE' reads it); 'trio-feeds replay FILE' plays it back and 'trio-feeds "
            "conform PROTOCOL FILE' checks its frames."
        ),
        epilog=_EPILOG,
    )
    for sub in _feed_parsers(record, "Record"):
        sub.add_argument("-o", "--output", required=True, metavar="FILE", help="the recording to write")
        sub.add_argument(
            "--compression",
            choices=("gzip", "zstd", "none"),
            default="gzip",
            help="gzip (default), zstd (needs the zstandard package: less CPU) or none",
        )
        sub.add_argument(
            "--rotate-size",
            type=_size,
            metavar="BYTES",
            help="start a new part of the file after this many bytes (e.g. 100M); parts are FILE's "
            "name with .00001, .00002, ... before its suffixes",
        )
        sub.add_argument(
            "--rotate-time", type=_positive_float, metavar="S", help="start a new part every S seconds"
        )
        sub.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
        sub.add_argument("--messages", action="store_true", help="print the messages too, not only events")


def _add_replay(commands: _Commands[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay",
        help="play a recording back through the same feed and print it as 'watch' does",
        description=(
            "Play a recording made by 'trio-feeds record' (or the library's recorder) back "
            "through the recorded exchange's feed: the same typed messages and session events "
            "as the live session, printed as 'watch' prints them ('--json' output is 'watch "
            "--json' output). Rotated recordings are read from their first part on."
        ),
        epilog=_EPILOG,
    )
    replay.add_argument("file", metavar="FILE", help="the recording (its first part)")
    replay.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="1: as recorded (default); 2: twice as fast; inf: as fast as possible",
    )
    replay.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    replay.add_argument("--count", type=_positive_int, metavar="N", help="exit after N messages")
    replay.add_argument("--no-events", action="store_true", help="print messages only, not session events")
    replay.add_argument(
        "--lenient",
        action="store_true",
        help="go on (with a warning) where the replay's events differ from the recorded ones",
    )


def _add_publish(commands: _Commands[argparse.ArgumentParser]) -> None:
    publish = commands.add_parser(
        "publish",
        help="run the feeds a config lists and publish them to Redis Streams (needs trio-feeds[redis])",
        description=(
            "Run the feeds listed in CONFIG (TOML: a [redis] table and [[feeds]] entries, each "
            "with the arguments 'watch' takes) as one group, normalized, and publish every item "
            "and session event to Redis Streams under <prefix>:<exchange>:<kind>:<symbol>. Runs "
            "until Ctrl-C or SIGTERM, then writes what is queued. Several processes share the "
            "work by config: give each its own name and feeds."
        ),
        epilog=_EPILOG,
    )
    publish.add_argument("config", metavar="CONFIG", help="the TOML config")
    publish.add_argument(
        "--acked",
        metavar="FILE",
        help="append each entry Redis acknowledged to FILE, as JSON [stream, id] lines (an audit trail)",
    )


def _add_consume(commands: _Commands[argparse.ArgumentParser]) -> None:
    consume = commands.add_parser(
        "consume",
        help="read what publishers wrote to Redis Streams, as one consumer of a group (trio-feeds[redis])",
        description=(
            "Read the streams 'trio-feeds publish' (or the library's publisher) wrote, as consumer "
            "CONSUMER of consumer group GROUP, and print the typed items, the publishers' session "
            "events and the gaps. Items are shared with the group's other consumers and "
            "acknowledged once printed. A password in URL is never printed."
        ),
        epilog=_EPILOG,
    )
    consume.add_argument("url", metavar="URL", help="redis://[user:password@]host:port[/db]")
    consume.add_argument("--group", required=True, help="the consumer group (made where missing)")
    consume.add_argument("--consumer", required=True, help="this consumer's name in the group")
    consume.add_argument("--prefix", help="read every stream publishers under this prefix wrote")
    consume.add_argument("--match", metavar="GLOB", help="only the streams matching GLOB (with --prefix)")
    consume.add_argument(
        "--stream", action="append", default=[], metavar="KEY", help="a stream to read (repeatable)"
    )
    consume.add_argument(
        "--start",
        choices=("0", "$"),
        default="0",
        help="a new group starts at 0 (all kept, default) or $ (new)",
    )
    consume.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    consume.add_argument("--count", type=_positive_int, metavar="N", help="exit after N items")


_SERVE_EPILOG = (
    "fault syntax: " + FAULT_HELP + ".\n"
    "kinds: close[:CODE[:REASON]] (default 1011), abort (TCP drop), blackhole[:SECONDS] "
    "(stall, default 5), stop-heartbeats[:SECONDS], raw:TEXT (one frame as given), "
    "rate-limit, refuse[:STATUS] (next handshake, default 503), reject-auth. WHEN/EVERY: "
    "5s, 500ms, 2m or seconds, counted from the first client connection (or from the "
    "server's start with --faults-from start). /EVERY repeats.\n\n" + _EPILOG
)


def _add_serve(commands: _Commands[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run a local protocol server standalone (test credentials, scheduled faults)",
        description=(
            "Run the local test server of one protocol until Ctrl-C and print its URL (first "
            "line) and the test credentials it accepts, so an application can be pointed at it."
        ),
        epilog=_SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    protocols = serve.add_subparsers(dest="protocol", metavar="PROTOCOL", required=True)
    for exchange in exchanges.all_exchanges():
        sub = protocols.add_parser(
            exchange.name,
            help=f"the local {exchange.title} server",
            description=f"Run the local {exchange.title} test server until Ctrl-C.",
            epilog=_SERVE_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "--port", type=_port, default=0, help="TCP port on 127.0.0.1 (default 0: a free one)"
        )
        sub.add_argument(
            "--rate",
            type=_non_negative_float,
            default=10.0,
            metavar="R",
            help="generated messages per second per connection (default 10; 0: none)",
        )
        sub.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="SPEC",
            help="inject a fault, KIND[:ARG]@WHEN[/EVERY], e.g. close:1011@5s (repeatable)",
        )
        sub.add_argument(
            "--faults-from",
            choices=("connection", "start"),
            default="connection",
            help="count fault times from the first client connection (default) or the server's start",
        )
        sub.add_argument("--json", action="store_true", help="print JSON lines (ready, connections, faults)")
        exchange.add_serve_arguments(sub)


def _add_conform(commands: _Commands[argparse.ArgumentParser]) -> None:
    conform = commands.add_parser(
        "conform",
        help="check captured frames against the schema and the decoder; report drift",
        description=_CONFORM_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    conform.add_argument("protocol", choices=exchanges.names(), help="the frames' protocol")
    conform.add_argument("file", metavar="FILE", help="the capture, or - for standard input")
    conform.add_argument(
        "--max-failures",
        type=_positive_int,
        default=10,
        metavar="N",
        help="failing frames to show, each with every check it failed (default 10)",
    )
    conform.add_argument("--json", action="store_true", help="print the report as one JSON object")


_CONFORM_DESCRIPTION = """\
Validate captured frames against the protocol's JSON Schema and decode them with the
protocol's decoder, as a feed does. A frame passes when both accept it; a frame that
fails counts once, whichever checks it failed. Reports per message type how many
frames passed, the first failing frames with the JSON path of each bad value, and
drift. Exit status 1 when any frame fails.

input (read line by line, so any size; the form is detected from the first line):
  frames         one frame per line, as received (JSON lines)
  watch --json   the output of 'trio-feeds watch PROTOCOL --json': each message's
                 "data" is checked; session event lines are skipped and counted.
                 Messages there are as the library re-encoded them, so fields it
                 does not keep are gone: capture raw frames to see all drift.
  recording      a file of 'trio-feeds record' (or the library's recorder): its
                 frames exactly as received; other records are skipped and counted.
Blank lines and lines starting with # are skipped. gzip- or zstd-compressed input
(recordings are) is decompressed on the fly.

drift: fields and message types on the wire that the schema does not know, counted
per message type ("Tick: extra field $.foo in 120 of 500 frames", unknown message
types with their tag): how you learn that an exchange changed its API. Extra fields
are tolerated, so they are not failures; unknown message types are.

On a terminal, a progress bar shows on standard error for long files.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``trio-feeds`` command; return its exit status."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C while starting up (imports, parsing)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away (`trio-feeds ... | head`)
        _silence_stdout()
        return EXIT_FAILURE


def _silence_stdout() -> None:
    # Python flushes stdout at exit and would report the broken pipe again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # The commands show session events themselves; the library's log records would repeat them
    # on stderr (through logging's last-resort handler) unless an application configured logging.
    logging.getLogger("trio_feeds").addHandler(logging.NullHandler())
    debug = bool(os.environ.get("TRIO_FEEDS_DEBUG"))
    secrets: tuple[str | None, ...] = ()
    try:
        if args.command == "demo":
            from .demo import DemoOptions, run_demo  # noqa: PLC0415 - loaded for its command only

            if args.metrics_port is not None and importlib.util.find_spec("prometheus_client") is None:
                parser.error("--metrics-port needs the metrics extra: pip install 'trio-feeds[metrics]'")
            demo_options = DemoOptions(
                duration=args.duration, json=args.json, seed=args.seed, metrics_port=args.metrics_port
            )
            return run_trio(lambda stopper: run_demo(demo_options, stopper))
        if args.command == "watch":
            from .watch import WatchOptions, load_credentials, run_watch  # noqa: PLC0415 - loaded for its command only

            creds = load_credentials(args.credentials_file)
            secrets = creds.secrets
            watch_options = WatchOptions(
                exchange=exchanges.get(args.protocol),
                url=args.url,
                args=args,
                json=args.json,
                count=args.count,
                events=not args.no_events,
                max_attempts=args.max_attempts,
                normalized=args.normalized,
            )
            return run_trio(lambda stopper: run_watch(watch_options, creds, stopper))
        if args.command == "record":
            from .watch import load_credentials  # noqa: PLC0415 - loaded for its command only

            creds = load_credentials(args.credentials_file)
            secrets = creds.secrets
            return _record(args, creds)
        if args.command == "replay":
            return _replay(args)
        if args.command == "publish":
            return _publish(args)
        if args.command == "consume":
            secrets = (urlsplit(args.url).password,)
            return _consume(args)
        if args.command == "serve":
            from .serve import ServeOptions, run_serve  # noqa: PLC0415 - loaded for its command only

            exchange = exchanges.get(args.protocol)
            try:
                faults = tuple(
                    parse_fault(spec, has_auth=exchange.has_auth, has_sequences=exchange.has_sequences)
                    for spec in args.fault
                )
            except ValueError as exc:
                _usage_error(["serve"], f"argument --fault: {exc}")
            serve_options = ServeOptions(
                exchange=exchange,
                port=args.port,
                rate=args.rate,
                faults=faults,
                json=args.json,
                faults_from=args.faults_from,
                server_options=exchange.serve_options(args),
            )
            return run_trio(lambda stopper: run_serve(serve_options, stopper))
        from .conform import ConformOptions, run_conform  # noqa: PLC0415 - loaded for its command only

        conform_options = ConformOptions(
            exchange=exchanges.get(args.protocol),
            source=args.file,
            max_failures=args.max_failures,
            json=args.json,
        )
        return run_conform(conform_options)
    except UsageError as exc:
        _usage_error([args.command, getattr(args, "protocol", None) or ""], scrub(str(exc), secrets))
    except OSError as exc:
        print(f"trio-feeds: {describe_error(exc, secrets, debug=debug)}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback, no secret
        print(f"trio-feeds: unexpected error: {describe_error(exc, secrets, debug=debug)}", file=sys.stderr)
        if not debug:
            print("trio-feeds: set TRIO_FEEDS_DEBUG=1 to see the traceback", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_FAILURE  # pragma: no cover - _usage_error exits


def _record(args: argparse.Namespace, creds: ExchangeCredentials) -> int:
    from .record import RecordOptions, run_record  # noqa: PLC0415 - loaded for its command only
    from .watch import WatchOptions  # noqa: PLC0415 - loaded for its command only

    options = RecordOptions(
        watch=WatchOptions(
            exchange=exchanges.get(args.protocol),
            url=args.url,
            args=args,
            json=args.json,
            count=args.count,
            max_attempts=args.max_attempts,
            messages=args.messages,
            command="record",
        ),
        output=args.output,
        compression=args.compression,
        rotate_bytes=args.rotate_size,
        rotate_seconds=args.rotate_time,
        overwrite=args.overwrite,
    )
    return run_trio(lambda stopper: run_record(options, creds, stopper))


def _replay(args: argparse.Namespace) -> int:
    from .record import ReplayOptions, run_replay  # noqa: PLC0415 - loaded for its command only

    options = ReplayOptions(
        path=args.file,
        speed=args.speed,
        json=args.json,
        count=args.count,
        events=not args.no_events,
        strict=not args.lenient,
    )
    return run_trio(lambda stopper: run_replay(options, stopper))


def _publish(args: argparse.Namespace) -> int:
    try:
        from .publish import load_publish_config, run_publish  # noqa: PLC0415 - loaded for its command only
    except ImportError as exc:
        if exc.name != "coredis":
            raise
        raise UsageError("publish needs the redis extra: pip install 'trio-feeds[redis]'") from None
    settings = load_publish_config(args.config)
    return run_trio(lambda stopper: run_publish(settings, stopper, args.acked))


def _consume(args: argparse.Namespace) -> int:
    if not (args.prefix or args.stream):
        raise UsageError("give --prefix or --stream")
    try:
        from .consume import ConsumeOptions, run_consume  # noqa: PLC0415 - loaded for its command only
    except ImportError as exc:
        if exc.name != "coredis":
            raise
        raise UsageError("consume needs the redis extra: pip install 'trio-feeds[redis]'") from None
    options = ConsumeOptions(
        url=args.url,
        group=args.group,
        consumer=args.consumer,
        prefix=args.prefix,
        match=args.match,
        streams=tuple(args.stream),
        start=args.start,
        json=args.json,
        count=args.count,
    )
    return run_trio(lambda stopper: run_consume(options, stopper))


def _usage_error(path: Sequence[str], message: str) -> None:
    """Print a usage error the argparse way (``prog command: error: ...``) and exit with 2."""
    prog = " ".join(["trio-feeds", *(p for p in path if p)])
    print(f"{prog}: error: {message}\n(see '{prog} --help')", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)
