"""Throwaway TLS certificates for ``wss://`` test servers.

Real exchanges are ``wss://``; to test an app's TLS path offline, run a local server with a
server-side context and give the feed's transport the matching client-side one::

    from trio_feeds import cryptology
    from trio_feeds.testing import open_cryptology_server
    from trio_feeds.testing.tls import tls_contexts
    from trio_feeds.transports import FastTransport

    server_context, client_context = tls_contexts()
    async with open_cryptology_server(ssl_context=server_context) as server:  # server.url: wss://...
        transport = FastTransport(ssl_context=client_context)
        async with cryptology.open_feed(server.url, transport=transport) as feed:
            ...

The client context verifies the certificate chain and the host name exactly as
``ssl.create_default_context()`` does for a real exchange; it only trusts the throwaway CA
instead of the system's. Needs `trustme <https://pypi.org/project/trustme/>`_:
``pip install 'trio-feeds[testing]'``.
"""

from __future__ import annotations

import ssl

from ._server import HOST

__all__ = ["tls_contexts"]


def tls_contexts(*identities: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Make a new certificate authority and a server certificate it signs; return both contexts.

    Args:
        identities: the host names and IP addresses the certificate is valid for; default
            ``127.0.0.1`` (where the test servers listen) and ``localhost``. Give another name
            to make a certificate that fails host-name verification.

    Returns:
        ``(server_context, client_context)``: pass the first as ``ssl_context=`` to an
        ``open_<protocol>_server`` function, the second as ``ssl_context=`` to a transport
        (:class:`~trio_feeds.transports.FastTransport`,
        :class:`~trio_feeds.transports.TrioWebsocketTransport`). The client context trusts only
        this call's CA: a server context from another call is a certificate it must reject.

    Raises:
        ModuleNotFoundError: ``trustme`` is not installed.
    """
    try:
        import trustme  # noqa: PLC0415 - optional: only this helper needs it
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "trio_feeds.testing.tls needs trustme: pip install 'trio-feeds[testing]'", name=exc.name
        ) from exc
    ca = trustme.CA()
    certificate = ca.issue_cert(*(identities or (HOST, "localhost")))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return server_context, client_context
