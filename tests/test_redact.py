"""Secret redaction (trio_feeds/_redact.py): the secret goes, the rest of the message stays."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trio_feeds._redact import PLACEHOLDER, redact
from trio_feeds._sansio._protocol import AuthFailed, Deliver
from trio_feeds._sansio._shared import Credentials
from trio_feeds._sansio.gateway import GatewayProtocol
from trio_feeds._sansio.onyx import OnyxProtocol


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        # Short secrets inside ordinary words leave the words whole (the old substring rule
        # printed "inv***lid token" and "***ub***cribe not an***wered").
        ("authentication failed: invalid token", ("a",), "authentication failed: invalid token"),
        ("gateway subscribe not answered", ("s",), "gateway subscribe not answered"),
        ("invalid token", ("va",), "invalid token"),
        # ...and the same short secret echoed as a value is removed.
        ("authentication failed: invalid token a", ("a",), "authentication failed: invalid token ***"),
        ("bad key s, subscribe refused", ("s",), "bad key ***, subscribe refused"),
        # Echoed in JSON, as key=value, in brackets, quoted, at the start and the end.
        ('{"token":"tok-123","error":"bad"}', ("tok-123",), '{"token":"***","error":"bad"}'),
        ("rejected token=tok-123&x=1", ("tok-123",), "rejected token=***&x=1"),
        ("(tok-123) [tok-123] {tok-123}", ("tok-123",), "(***) [***] {***}"),
        ("'tok-123' \"tok-123\"", ("tok-123",), "'***' \"***\""),
        ("tok-123 is not valid", ("tok-123",), "*** is not valid"),
        ("not valid: tok-123", ("tok-123",), "not valid: ***"),
        ("tok-123", ("tok-123",), "***"),
        ("not valid: tok-123.", ("tok-123",), "not valid: ***."),
        ("Bearer tok-123\n", ("tok-123",), "Bearer ***\n"),
        # Repeated, and next to each other with separators.
        ("tok-123, tok-123;tok-123", ("tok-123",), "***, ***;***"),
        # Glued to a longer word on a word-character end: a different value, left alone.
        ("xtok-123 tok-1234 tok-123_b", ("tok-123",), "xtok-123 tok-1234 tok-123_b"),
        # A secret's own punctuation ends need no boundary: "-123" is not glued to "tok".
        ("tok-123", ("-123",), "tok***"),
        # Regex metacharacters are plain characters.
        ("key a.b*c+d?(e)[f]$^|\\ given", ("a.b*c+d?(e)[f]$^|\\",), "key *** given"),
        ("key axbxc given", ("a.b",), "key axbxc given"),
        # Unicode letters are word characters; combining marks belong to their letter.
        ("mot de passe: pässwörd!", ("pässwörd",), "mot de passe: ***!"),
        ("pässwörds", ("pässwörd",), "pässwörds"),
        ("café", ("cafe",), "café"),
        ("cafe\u0301", ("cafe",), "cafe\u0301"),
        ("clé «秘密» rejected", ("秘密",), "clé «***» rejected"),
        ("秘密鍵", ("秘密",), "秘密鍵"),
        # Several secrets; the longer first, so one inside another leaves nothing behind.
        ("key AK-1 sig AK-1-secret", ("AK-1", "AK-1-secret"), "key *** sig ***"),
        ("key AK-1 sig AK-1-secret", ("AK-1-secret", "AK-1"), "key *** sig ***"),
        # None and empty secrets are skipped; a text without secrets is returned unchanged.
        ("nothing here", (None, ""), "nothing here"),
        ("", ("x",), ""),
    ],
)
def test_redact(text: str, secrets: tuple[str | None, ...], expected: str) -> None:
    assert redact(text, *secrets) == expected


_words = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12)
_separators = st.sampled_from([" ", ": ", "=", '"', "'", ",", ";", "(", ")", "[", "]", "{", "}", "\n", "."])


@given(
    secret=st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=40),
    before=_words,
    after=_words,
    sep1=_separators,
    sep2=_separators,
)
@settings(max_examples=300, deadline=None, database=None)
def test_an_echoed_secret_never_survives(secret: str, before: str, after: str, sep1: str, sep2: str) -> None:
    text = f"{before}{sep1}{secret}{sep2}{after}"
    assume(text.count(secret) == 1 and PLACEHOLDER not in text)
    assert redact(text, secret) == f"{before}{sep1}{PLACEHOLDER}{sep2}{after}"


@given(word=_words, secret=_words)
@settings(max_examples=300, deadline=None, database=None)
def test_a_word_that_is_not_the_secret_is_never_changed(word: str, secret: str) -> None:
    assume(secret not in (word, "error", "rejected"))
    text = f"error: {word} rejected"
    assert redact(text, secret) == text


# -- the protocols use it ------------------------------------------------------------------------


def test_onyx_short_token_does_not_mangle_the_auth_error() -> None:
    p = OnyxProtocol("wss://onyx.example/ws", "a")
    p.connection_made(0)
    reply = {"id": "tf:1", "method": "auth", "message": "invalid token", "error": True}
    (failed,) = p.receive_frame(json.dumps(reply), 1)
    assert isinstance(failed, AuthFailed)
    assert failed.reason.endswith("invalid token")
    # ...while the same token echoed as a value is removed.
    p = OnyxProtocol("wss://onyx.example/ws", "a")
    p.connection_made(0)
    reply["message"] = "invalid token a"
    (failed,) = p.receive_frame(json.dumps(reply), 1)
    assert isinstance(failed, AuthFailed)
    assert failed.reason.endswith("invalid token ***")


def test_gateway_short_secret_does_not_mangle_delivered_errors() -> None:
    p = GatewayProtocol("ws://gw.example/ws", Credentials("key", "s"), wall_clock_ms=lambda: 1)
    p.connection_made(0)
    p.receive_frame(json.dumps({"event": "authenticated", "success": True, "timestamp": 1}), 0)
    assert p.ready
    text = "subscribe not answered; secret s is wrong"
    (action,) = p.receive_frame(
        json.dumps({"event": "error", "message": text, "code": 400, "timestamp": 1}), 1
    )
    assert isinstance(action, Deliver)
    assert action.item.message == "subscribe not answered; secret *** is wrong"
