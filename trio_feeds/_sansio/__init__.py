"""Sans-IO protocol objects, one module per exchange, and the contract they share.

Each protocol turns received frames into actions (:mod:`._protocol`) and user wishes
(subscribe/unsubscribe) into frames. None of them imports trio, opens a socket or reads the
engine's clock: time comes in as ``now``. The one exception is the gateway's *wall* clock,
which its authentication needs and which is injected (see ``GatewayProtocol``).

This package sits above the codecs and below the engine; import the protocol modules
(``trio_feeds._sansio.gateway``, ...) directly.
"""
