"""Fault controls of the test servers (mixed into :class:`~trio_feeds.testing.FeedServer`)."""

from __future__ import annotations

import trio

from ._connection import CLOSE_TIMEOUT, Connection, Target

__all__ = ["AuthFaults", "FaultControls"]


class FaultControls:
    """Close, drop, stall, refuse and slow down connections while clients are connected.

    Mixed into :class:`~trio_feeds.testing.FeedServer`, which owns the state these act on.
    """

    _conns: dict[int, Connection]
    _refuse: list[int | None]
    _reply_delay: float
    _heartbeats: trio.Event
    _new_unblocked: trio.Event
    _changed: trio.Event

    def _targets(self, connection: Target) -> list[Connection]:
        if connection is None:
            return list(self._conns.values())
        cid = connection if isinstance(connection, int) else connection.id
        conn = self._conns.get(cid)
        return [conn] if conn is not None else []

    def _notify(self) -> None:
        """Wake every ``wait_for``: records or state changed."""
        self._changed.set()
        self._changed = trio.Event()

    async def close(self, code: int = 1000, reason: str = "", *, connection: Target = None) -> None:
        """Close connections with a WebSocket close frame carrying ``code`` and ``reason``.

        Returns once the connections are closed: the client answered the close frame, or
        after 2 s without an answer TCP was dropped (also when the close frame could not even
        be written because the client stopped reading). Works on blackholed connections too.
        """
        conns = self._targets(connection)
        for conn in conns:
            # Bounded: a client that stopped reading can keep a write (and so the lock) forever.
            with trio.move_on_after(CLOSE_TIMEOUT) as scope:
                await self._close_conn(conn, code, reason)
            if scope.cancelled_caught:
                conn.abort()
        for conn in conns:
            await conn.finished.wait()

    async def _close_conn(self, conn: Connection, code: int, reason: str) -> None:
        """Protocol hook: gateway sends its ``close`` event before the close frame."""
        await conn.close(code, reason)

    async def abort(self, *, connection: Target = None, reset: bool = False) -> None:
        """Drop TCP without a WebSocket close frame; the client sees an abnormal closure (1006).

        ``reset=True`` sends a TCP RST instead of a FIN. Returns once the sockets are closed.
        """
        conns = self._targets(connection)
        for conn in conns:
            conn.abort(reset=reset)
        for conn in conns:
            await conn.finished.wait()

    def blackhole(self, *, connection: Target = None, new_connections: bool = True) -> None:
        """Make connections go silent while staying open, like a dead network path.

        The server stops sending (data, replies, heartbeats) and stops *reading*, so the
        client's WebSocket pings get no pong and its messages are not processed. What the
        client sends meanwhile is processed after :meth:`resume`. With ``new_connections``
        (default, only when ``connection`` is not given) new TCP connections are accepted by
        the OS but their handshake is never answered, until :meth:`resume`. :meth:`close` and
        :meth:`abort` still work on blackholed connections.
        """
        for conn in self._targets(connection):
            conn.blackhole()
        if connection is None and new_connections and self._new_unblocked.is_set():
            self._new_unblocked = trio.Event()

    def stop_heartbeats(self) -> None:
        """Stop the server's heartbeats; data and replies continue. Undo: :meth:`resume`.

        Heartbeats are the gateway's ``ping`` events, Peatio's text ``ping`` and the WebSocket
        pings of ``ws_ping_interval``.
        """
        if self._heartbeats.is_set():
            self._heartbeats = trio.Event()

    def refuse_next(self, n: int = 1, *, status: int | None = 503) -> None:
        """Refuse the next ``n`` connection attempts.

        With a ``status`` the handshake is answered with that HTTP status (the client sees a
        rejected handshake, e.g. ``trio_websocket.ConnectionRejected``); with ``status=None``
        the TCP connection is closed as soon as the handshake request arrived, without any
        answer. Refused attempts are recorded in :attr:`refused`.
        """
        self._refuse.extend([status] * n)

    def delay_replies(self, seconds: float) -> None:
        """Answer client requests (auth, subscribe, pong replies, ...) ``seconds`` late.

        Requests are still answered in order, and WebSocket pings are still answered at once.
        ``0`` (or :meth:`resume`) switches the delay off.
        """
        self._reply_delay = max(0.0, float(seconds))

    def resume(self) -> None:
        """Undo :meth:`blackhole`, :meth:`stop_heartbeats` and :meth:`delay_replies`."""
        for conn in self._conns.values():
            conn.unblock()
        self._new_unblocked.set()
        self._heartbeats.set()
        self._reply_delay = 0.0
        self._notify()

    async def rate_limit(self, *, connection: Target = None) -> None:
        """Behave as the exchange does when a client exceeds its rate limit (see subclasses)."""
        raise NotImplementedError

    # -- waiting ------------------------------------------------------------------------------


class AuthFaults:
    """Fault controls for protocols with authentication (mixed into their servers)."""

    _reject_auth_next = 0
    _reject_auth_forever = False

    def reject_auth(self, n: int = 1) -> None:
        """Reject the next ``n`` authentication attempts, even with valid credentials.

        The rejection looks exactly like bad credentials (the protocol's auth error, or a 401
        handshake rejection for Peatio's header form). Attempts on every connection count.
        """
        self._reject_auth_next += n

    def reject_auth_always(self) -> None:
        """Reject every authentication attempt from now on, until :meth:`accept_auth`."""
        self._reject_auth_forever = True

    def accept_auth(self) -> None:
        """Undo :meth:`reject_auth` and :meth:`reject_auth_always`: valid credentials pass again."""
        self._reject_auth_next = 0
        self._reject_auth_forever = False

    def _auth_verdict(self, valid: bool) -> bool:
        """Apply the reject controls to the outcome of a credentials check."""
        if not valid:
            return False
        if self._reject_auth_forever:
            return False
        if self._reject_auth_next > 0:
            self._reject_auth_next -= 1
            return False
        return True
