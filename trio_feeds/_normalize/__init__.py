"""Pure mappings from each exchange's typed messages to :mod:`trio_feeds.normalized` items.

One module per exchange, each with ``normalize(message, received_at, symbols=None) ->
tuple[Normalized, ...]`` (several items for a message that carries several, none for control
messages), ``symbols(known=None)`` (the exchange's symbol rule, with your known names first),
``HANDLERS`` (the message classes that give items) and ``IGNORED`` (those that give none, on
purpose). Dispatch is one dict lookup on ``type(message)``; a handler registered for a
Cryptology concept class serves both of its wire forms.

This layer sits above the codecs (it reads Peatio's ``StreamMessage``) and below the sans-IO
protocols: no trio, no I/O. A new message type is one function and one ``HANDLERS`` entry.

Nothing is imported here: importing one exchange's feed loads that exchange's mapping (through
its sans-IO protocol) and no other exchange's codec or models.
"""
