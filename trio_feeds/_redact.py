"""Removing secrets from texts that leave the library (errors, events, logs, the command's output).

Server texts end up in exceptions and events, and a server may echo the token it rejected. The
text must lose the secret and keep everything else: replacing every *substring* equal to a short
secret turns ``"invalid token"`` into ``"inv***lid token"`` when the secret is ``"va"``.

So a secret is removed where it stands as a value: an occurrence is replaced unless it is glued
to a longer word, that is unless a word character (a letter, digit, ``_`` or combining mark)
touches one of its word-character ends. ``token abc``, ``"abc"``, ``key=abc``, ``(abc)``,
``abc.`` and ``Bearer abc`` all lose ``abc``; ``abcdef`` and ``xabc`` keep their letters. A
secret's own punctuation ends need no boundary (``-abc`` is found in ``x-abc``).

There is no minimum length: a one-letter secret echoed alone is still removed, while the
words around it, which merely contain the letter, are untouched. The cost of this rule is that
an ordinary word that *equals* a secret is redacted too: the text cannot tell them apart, and
hiding a word is better than showing a secret.
"""

from __future__ import annotations

import unicodedata

__all__ = ["PLACEHOLDER", "redact"]

PLACEHOLDER = "***"
"""What a redacted secret is replaced with."""


def _is_word_char(ch: str) -> bool:
    # Combining marks belong to the letter before them: "é" may be "e" + U+0301.
    return ch.isalnum() or ch == "_" or unicodedata.category(ch).startswith("M")


def _redact_one(text: str, secret: str) -> str:
    bound_start = _is_word_char(secret[0])
    bound_end = _is_word_char(secret[-1])
    size = len(secret)
    parts: list[str] = []
    done = 0  # text[:done] is settled
    at = text.find(secret)
    while at != -1:
        end = at + size
        glued = (bound_start and at > 0 and _is_word_char(text[at - 1])) or (
            bound_end and end < len(text) and _is_word_char(text[end])
        )
        if glued:
            at = text.find(secret, at + 1)
            continue
        parts.append(text[done:at])
        parts.append(PLACEHOLDER)
        done = end
        at = text.find(secret, end)
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` replaced by ``***`` where it stands as a value.

    ``None`` and empty secrets are skipped. Longer secrets go first, so a secret that contains
    another (an API key inside a token) leaves no part of itself behind.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = _redact_one(text, secret)
    return text
