"""A slice of the codec fuzzing of tests/fuzz.py in the default suite (`nox -s fuzz` runs 10^5 per protocol).

``TRIO_FEEDS_FUZZ_FRAMES`` sets the frames per protocol (default 2500: 10^4 in all, a few
seconds) and ``TRIO_FEEDS_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import os

import pytest

from tests import fuzz
from trio_feeds import DecodeError, UnknownMessage

FRAMES = int(os.environ.get("TRIO_FEEDS_FUZZ_FRAMES", "2500"))
SEED = int(os.environ.get("TRIO_FEEDS_FUZZ_SEED", str(fuzz.DEFAULT_SEED)))
LIVE_FRAMES = 60


@pytest.mark.parametrize("protocol", fuzz.PROTOCOLS)
def test_fuzzed_frames_keep_the_decode_contract(protocol: str) -> None:
    report = fuzz.run(protocol, FRAMES, seed=SEED)
    # The mutations reach every outcome, so the slice tests something of each.
    assert report.outcomes["message"] > FRAMES // 20
    assert report.outcomes["unknown"] > FRAMES // 20
    assert report.outcomes["error"] > FRAMES // 4
    assert set(report.mutations) >= {"unknown_tag", "deep", "huge_number", "bad_decimal", "duplicate_key"}


@pytest.mark.parametrize("protocol", fuzz.PROTOCOLS)
async def test_live_feed_survives_fuzzed_frames(protocol: str) -> None:
    frames = fuzz.bad_frames(protocol, LIVE_FRAMES, seed=SEED)
    assert any(isinstance(f, bytes) for f in frames)
    result = await fuzz.live_slice(protocol, frames)
    assert result == {"bad_frames": LIVE_FRAMES, "good_messages": LIVE_FRAMES + 1}


# -- the fuzzer itself -----------------------------------------------------------------------------


def test_a_frame_is_made_again_from_seed_protocol_and_index() -> None:
    first = [fuzz.make_case("onyx", 5, i) for i in range(50)]
    again = [fuzz.make_case("onyx", 5, i) for i in reversed(range(50))]
    assert first == list(reversed(again))
    assert len({c.frame for c in first}) > 40


@pytest.mark.parametrize("protocol", fuzz.PROTOCOLS)
def test_unknown_tag_mutation_gives_unknown_messages(protocol: str) -> None:
    cases = [c for i in range(400) if (c := fuzz.make_case(protocol, SEED, i)).expect_unknown]
    assert len(cases) > 10
    for case in cases:
        assert isinstance(fuzz.module(protocol).decode(case.frame), UnknownMessage)


def test_the_check_fails_on_a_broken_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzz check is not vacuous: an escaping exception, or a DecodeError for an unknown
    tag, is reported with the replay command."""
    case = fuzz.make_case("gateway", SEED, 0)
    module = fuzz.module("gateway")

    def explode(frame: object) -> object:
        raise RecursionError("boom")

    monkeypatch.setattr(module, "decode", explode)
    with pytest.raises(fuzz.FuzzFailure, match=r"RecursionError.*\n.*\n  replay: python -m tests.fuzz"):
        fuzz.check(case)

    def refuse(frame: object) -> object:
        raise DecodeError("gateway", "no")

    monkeypatch.setattr(module, "decode", refuse)
    unknown = next(c for i in range(200) if (c := fuzz.make_case("gateway", SEED, i)).expect_unknown)
    with pytest.raises(fuzz.FuzzFailure, match="unknown tag gave DecodeError"):
        fuzz.check(unknown)
