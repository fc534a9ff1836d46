"""What the commands share: running under Trio with Ctrl-C, output lines, message and event views."""

from __future__ import annotations

import json
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import IO, Any

import attrs
import trio

from .. import events as ev
from .._codecs import UnknownMessage
from .._redact import redact
from ..errors import DecodeError

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Stopper",
    "UsageError",
    "event_fields",
    "event_text",
    "json_line",
    "display_type",
    "message_json",
    "message_type",
    "run_trio",
    "scrub",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C

_GRACE = 3.0  # after Ctrl-C, how long a command may take to wind down before it is cancelled


class UsageError(Exception):
    """Bad arguments found after parsing (missing credentials, ...): exit status 2."""


class Stopper:
    """Ctrl-C handling shared by the long-running commands.

    The first SIGINT sets :attr:`event` (the command winds down: closes its feeds and servers,
    prints its summary); if it has not finished within a few seconds, or on a second SIGINT,
    the command is cancelled outright. Either way the exit status is 130 and no traceback shows.
    """

    def __init__(self) -> None:
        self.event = trio.Event()
        self.interrupted = False

    async def wait(self) -> None:
        """Wait until Ctrl-C was pressed."""
        await self.event.wait()


def run_trio(command: Callable[[Stopper], Awaitable[int]]) -> int:
    """Run ``command(stopper)`` under :func:`trio.run`; return its exit status (130 on Ctrl-C)."""
    stopper = Stopper()

    async def main() -> int:
        result = EXIT_INTERRUPTED
        async with trio.open_nursery() as nursery:
            # Before the command starts, so the first Ctrl-C already finds the receiver.
            await nursery.start(_watch_sigint, stopper, nursery.cancel_scope)
            result = await command(stopper)
            nursery.cancel_scope.cancel()
        return result

    try:
        try:
            status = trio.run(main)
        except BaseExceptionGroup as group:
            raise _single(group) from None
    except KeyboardInterrupt:  # Ctrl-C before the receiver was installed
        return EXIT_INTERRUPTED
    return EXIT_INTERRUPTED if stopper.interrupted else status


def _single(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error inside nested groups (cancellations aside), else the group itself."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for sub in exc.exceptions:
                walk(sub)
        elif not isinstance(exc, trio.Cancelled):
            leaves.append(exc)

    walk(group)
    return leaves[0] if len(leaves) == 1 else group


async def _watch_sigint(
    stopper: Stopper,
    scope: trio.CancelScope,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        task_status.started()
        async for _ in signals:
            if stopper.interrupted:  # a second Ctrl-C: stop now
                scope.cancel()
                return
            stopper.interrupted = True
            stopper.event.set()
            scope.deadline = min(scope.deadline, trio.current_time() + _GRACE)


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """Return ``text`` with every secret redacted where it stands as a value (see ``_redact``)."""
    return redact(text, *secrets)


def describe_error(exc: BaseException, secrets: Iterable[str | None], *, debug: bool = False) -> str:
    """One line for an error (with ``debug``: its traceback), every secret replaced by ``***``."""
    if debug:
        text = "".join(traceback.format_exception(exc)).rstrip()
    elif type(exc).__module__ == "trio_feeds" and str(exc):
        text = str(exc)  # our own errors say what happened in words
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return scrub(text, secrets)


# -- messages and events as text and JSON ---------------------------------------------------


def message_type(message: object) -> str:
    """A short type name: the model class, the payload class of a Ranger frame, or ``Unknown(tag)``."""
    if isinstance(message, UnknownMessage):
        return f"Unknown({message.tag})"
    data = getattr(message, "data", None)
    if type(message).__name__ == "StreamMessage" and data is not None:
        return type(data).__name__
    return type(message).__name__


def display_type(message: object) -> str:
    """The type name an application matches: a wire form shows as its message's concept class.

    (Cryptology's ``AnonymousTradeV2`` and ``AnonymousTradeMessage`` both show as
    ``AnonymousTrade``.) :func:`message_type` keeps the wire form, for conformance reports.
    """
    name = message_type(message)
    cls = type(message)
    concept = cls.__mro__[1]
    if name == cls.__name__ and concept is not object and attrs.has(concept):
        return concept.__name__
    return name


def message_json(codec_encode: Callable[[Any], str], message: object) -> str:
    """The wire JSON of a decoded message (numbers exact, as the protocol writes them)."""
    if isinstance(message, UnknownMessage):
        return json.dumps(message.raw, default=str, separators=(",", ":"))
    return codec_encode(message)


def event_fields(event: object, *, clock_zero: float = 0.0) -> dict[str, Any]:
    """The fields of a session event as JSON-ready values (times relative to ``clock_zero``)."""
    if isinstance(event, ev.DecodeFailed):
        err = event.error
        return {"error": str(err), "path": err.path, "tag": err.tag}
    if isinstance(event, ev.Gap):
        return {
            "since": round(event.since - clock_zero, 3),
            "until": round(event.until - clock_zero, 3),
            "seconds": round(event.until - event.since, 3),
        }
    if attrs.has(type(event)):
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in attrs.asdict(event, recurse=False).items()  # type: ignore[arg-type]
        }
    return {}


def event_text(event: object) -> str:
    """A session event in words, for the human views."""
    if isinstance(event, ev.Connected):
        return f"connected to {event.url}"
    if isinstance(event, ev.Authenticated):
        return "authenticated"
    if isinstance(event, ev.Subscribed):
        return f"subscribed ({event.request})"
    if isinstance(event, ev.Disconnected):
        code = "no close frame" if event.code is None else f"code {event.code}"
        return f"disconnected ({code}): {event.reason}"
    if isinstance(event, ev.Reconnecting):
        cause = f" ({event.reason})" if event.reason else ""
        return f"reconnecting: attempt {event.attempt} in {event.delay * 1000:.0f} ms{cause}"
    if isinstance(event, ev.Resubscribed):
        if not event.count:
            return "ready again: no subscription to re-send"
        refused = f", {len(event.errors)} refused or unanswered" if event.errors else ""
        noun = "subscription" if event.count == 1 else "subscriptions"
        return f"resubscribed: {event.count} {noun} sent again{refused}"
    if isinstance(event, ev.Gap):
        return f"gap of {(event.until - event.since) * 1000:.0f} ms: data may be missing"
    if isinstance(event, ev.Overflow):
        return f"overflow: {event.dropped} messages dropped"
    if isinstance(event, ev.DecodeFailed):
        return f"decode error: {_decode_error_text(event.error)}"
    return repr(event)


def _decode_error_text(error: DecodeError) -> str:
    tag = f"{error.tag} " if error.tag else ""
    return f"{tag}at {error.path}: {error.reason}"


def is_event(item: object) -> bool:
    """Whether a feed item is a session event (or ``DecodeFailed``) rather than a message."""
    return type(item).__module__ == ev.__name__


def json_line(fields: dict[str, Any], raw: dict[str, str] | None = None) -> str:
    """One JSON line: ``fields`` dumped, then ``raw`` keys whose values are JSON text already."""
    text = json.dumps(fields, default=str, separators=(",", ":"))
    if raw:
        extra = ",".join(f"{json.dumps(k)}:{v}" for k, v in raw.items())
        text = f"{text[:-1]},{extra}}}" if fields else f"{{{extra}}}"
    return text


def write_line(text: str, stream: IO[str] | None = None) -> None:
    """Write one line and flush (readers of a pipe see it at once); a closed pipe ends quietly."""
    out = stream if stream is not None else sys.stdout
    try:
        out.write(text + "\n")
        out.flush()
    except BrokenPipeError:
        raise SystemExit(EXIT_OK) from None
