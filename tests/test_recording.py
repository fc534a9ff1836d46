"""The recording file format: rotation, cut files, growing files, a killed recorder, the command."""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio

from tests.test_cli import CREDENTIALS, ROOT, _env, first_line, interrupt, json_lines, run, started
from trio_feeds import FeedConfig, cryptology, gateway
from trio_feeds._recordfile import PartWriter, RecordReader, part_path
from trio_feeds.recording import RecorderOverflow, RecordingError, iter_records, open_recorder, read_header
from trio_feeds.testing import open_cryptology_server, open_gateway_server

HEADER = {"format": "trio-feeds-recording", "version": 1, "exchange": "gateway", "session": "s1"}
COMPRESSIONS = [
    "gzip",
    "none",
    pytest.param(
        "zstd",
        marks=pytest.mark.skipif(
            not __import__("importlib").util.find_spec("zstandard"), reason="the zstd extra is not installed"
        ),
    ),
]


def frame_records(n: int, start: int = 0) -> list[Any]:
    return [
        (
            "t",
            100.0 + i / 1000,
            1.7e9 + i / 1000,
            f'{{"channel":"trades","data":{{"id":"{i}","price":"4265{i % 10}.5"}}}}',
        )
        for i in range(start, start + n)
    ]


def writer(path: Path, compression: str = "gzip", **options: Any) -> PartWriter:
    w = PartWriter(
        path,
        compression=compression,  # type: ignore[arg-type]
        level=None,
        rotate_bytes=options.get("rotate_bytes"),
        rotate_seconds=options.get("rotate_seconds"),
        fsync=False,
        overwrite=False,
    )
    w.open(100.0, 1.7e9)
    return w


def as_lists(records: list[Any]) -> list[list[Any]]:
    return [msgspec.json.decode(msgspec.json.encode(r)) for r in records]


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_records_round_trip_with_a_header(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "r.jsonl"
    w = writer(path, compression)
    records = [*frame_records(50), ("b", 101.0, 1.7e9, b"\x00\xffbinary")]
    w.write(records, HEADER, 101.0, 1.7e9)
    w.close(HEADER, 102.0, 1.7e9)
    read = list(iter_records(path))
    assert read[0][0] == "header"
    assert read[0][3]["part"] == 1
    assert read[0][3]["compression"] == compression
    assert read[1:] == as_lists(records)
    assert read_header(path)["exchange"] == "gateway"


def test_rotation_by_size_chains_the_parts(tmp_path: Path) -> None:
    base = tmp_path / "rec.jsonl.gz"
    w = writer(base, rotate_bytes=2000)
    batches = [frame_records(100, start=100 * i) for i in range(6)]
    for i, batch in enumerate(batches):
        w.write(batch, HEADER, 200.0 + i, 1.7e9 + i)
    w.close(HEADER, 300.0, 1.7e9 + 10)
    assert len(w.parts) >= 3
    assert w.parts[:2] == [tmp_path / "rec.00001.jsonl.gz", tmp_path / "rec.00002.jsonl.gz"]
    for number, part in enumerate(w.parts, 1):
        assert read_header(part)["part"] == number  # each part starts with a header
    records = list(iter_records(w.parts[0]))  # the parts are followed from the first
    assert records[1:] == as_lists([r for batch in batches for r in batch])
    assert next(r[0] for r in iter_records(w.parts[1], follow_parts=False)) == "header"
    w.parts[1].unlink()
    with pytest.raises(RecordingError, match="part 2 of the recording is missing"):
        list(iter_records(w.parts[0]))


def test_rotation_by_time(tmp_path: Path) -> None:
    w = writer(tmp_path / "t.jsonl.gz", rotate_seconds=60)
    for minute in range(3):
        w.write(frame_records(10, start=10 * minute), HEADER, 100.0 + 60 * minute, 1.7e9 + 60 * minute + 1)
    w.close(HEADER, 400.0, 1.7e9 + 400)
    # A part is closed after the write that finds it a minute old: minutes 0-1, 2, then an empty one.
    assert len(w.parts) == 3
    assert [len(list(iter_records(p, follow_parts=False))) for p in w.parts] == [1 + 20, 1 + 10, 1]
    assert len(list(iter_records(w.parts[0]))) == 1 + 30


def test_part_names() -> None:
    assert part_path(Path("/x/rec.jsonl.gz"), 7) == Path("/x/rec.00007.jsonl.gz")
    assert part_path(Path("/x/rec.zst"), 1) == Path("/x/rec.00001.zst")
    assert part_path(Path("/x/capture"), 12) == Path("/x/capture.00012")


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_a_file_cut_mid_record_reads_up_to_its_last_whole_record(tmp_path: Path, compression: str) -> None:
    """A killed writer (or a full disk) leaves a file cut anywhere: it reads as a prefix, never fails."""
    path = tmp_path / "cut.jsonl"
    w = writer(path, compression)
    records = frame_records(200)
    for start in range(0, 200, 20):  # ten flushes, as ten seconds of recording would make
        w.write(records[start : start + 20], HEADER, 100.0, 1.7e9)
    data = path.read_bytes()  # before the end of the stream is written, as after a kill
    w.close(HEADER, 100.0, 1.7e9)
    expected = as_lists(records)
    cut_file = tmp_path / "cut-copy.jsonl"
    header_end = None
    for cut in range(len(data) - 1, 0, -max(1, len(data) // 150)):
        cut_file.write_bytes(data[:cut])
        try:
            read = list(iter_records(cut_file))
        except RecordingError:
            header_end = cut  # only a file cut inside its header is not a recording
            continue
        assert read[1:] == expected[: len(read) - 1], cut
    assert header_end is None or header_end < len(data) // 10
    cut_file.write_bytes(data[: len(data) // 2])
    assert 0 < len(list(iter_records(cut_file))) < 200


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_a_growing_file_reads_up_to_the_last_flush(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "grow.jsonl"
    w = writer(path, compression)
    reader = RecordReader(path)
    seen: list[Any] = []
    for second in range(5):
        batch = frame_records(30, start=30 * second)
        w.write(batch, HEADER, 100.0 + second, 1.7e9 + second)
        while records := reader.read():
            seen.extend(records)
        assert seen[1:] == as_lists(frame_records(30 * (second + 1)))  # everything flushed so far
    w.close(HEADER, 200.0, 1.7e9)
    assert reader.read() in ([], None)  # the end of the stream's trailer: no record
    assert reader.read() is None  # the end of the file: nothing more, nothing cut
    assert reader.truncated == 0
    reader.close()


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "exists.jsonl.gz"
    path.write_bytes(b"precious")

    async def main() -> None:
        with pytest.raises(FileExistsError):
            async with open_recorder(path):
                pass  # pragma: no cover

    trio.run(main)
    assert path.read_bytes() == b"precious"


def test_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "frames.jsonl"
    path.write_text('{"channel": "trades"}\n')
    with pytest.raises(RecordingError, match="not a trio-feeds recording"):
        read_header(path)
    gz = tmp_path / "garbage.gz"
    gz.write_bytes(gzip.compress(b'["header", 1, 2, {}]\n')[:10] + b"\xff" * 32)  # a reserved block type
    with pytest.raises(RecordingError, match="corrupt gzip data"):
        list(iter_records(gz))


# -- the recorder on a live feed -------------------------------------------------------------------


async def test_a_recorder_that_falls_behind_fails_instead_of_growing(tmp_path: Path) -> None:
    async with open_cryptology_server(rate=500) as server:
        with pytest.raises(RecorderOverflow, match="fell 50 records behind"):  # noqa: PT012
            recorder_cm = open_recorder(tmp_path / "o.jsonl.gz", flush_interval=60, max_pending=50)
            async with recorder_cm as rec, cryptology.open_feed(server.url, recorder=rec) as feed:
                with trio.fail_after(10):
                    async for _ in feed:
                        pass
    # What was taken before the overflow is in the file, whole.
    assert 40 < sum(r[0] in ("t", "b") for r in iter_records(tmp_path / "o.jsonl.gz")) <= 50


async def test_a_call_whose_arguments_are_not_json_is_refused(tmp_path: Path) -> None:
    creds = gateway.Credentials("k", "s")
    async with (
        open_gateway_server(api_key="k", api_secret="s", rate=None) as server,
        open_recorder(tmp_path / "c.jsonl.gz") as rec,
        gateway.open_feed(server.url, credentials=creds, recorder=rec) as feed,
    ):
        with pytest.raises(TypeError, match="takes JSON values only"):
            await feed.subscribe(["trades"], exchange=object())  # type: ignore[arg-type]


_KILLED = """
import sys, trio
from trio_feeds import cryptology
from trio_feeds.recording import open_recorder
from trio_feeds.testing import open_cryptology_server

async def main():
    async with open_cryptology_server(rate=200) as server:
        async with open_recorder(sys.argv[1], fsync=False) as rec:
            async with cryptology.open_feed(server.url, recorder=rec) as feed:
                said = False
                async for item in feed:
                    # >= 1, not == 1: on a busy machine several frames may land before an item.
                    if rec.frames >= 1 and not said:
                        said = True
                        print("recording", flush=True)

trio.run(main)
"""


def test_a_killed_recorder_loses_at_most_the_last_second(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl.gz"
    with subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(path)], stdout=subprocess.PIPE, cwd=ROOT, env=_env()
    ) as proc:
        try:
            assert first_line(proc) == "recording"  # type: ignore[arg-type]
            time.sleep(2.5)
        finally:  # never leave the recorder running (Popen's exit would wait for it forever)
            killed_at = time.time()
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    records = list(iter_records(path))  # cut anywhere: still readable
    frames = [r for r in records if r[0] in ("t", "b")]
    assert len(frames) > 200
    lost = killed_at - frames[-1][2]  # wall time of the last frame on disk
    assert lost < 1.0 + 0.6, lost  # the flush interval, plus scheduling slack on a busy machine


# -- the command ------------------------------------------------------------------------------------


def test_record_replay_and_conform_from_the_command_line(tmp_path: Path) -> None:
    output = tmp_path / "session.jsonl.gz"
    with started("serve", "gateway", "--rate", "200", "--fault", "close:1011@0.4s") as server:
        url = first_line(server)
        recorded = run(
            "record",
            "gateway",
            url,
            "--channel",
            "trades",
            "--symbol",
            "BTCUSDT",
            "--count",
            "150",
            "-o",
            str(output),
            "--json",
            **CREDENTIALS["gateway"],
        )
        again = run("record", "gateway", url, "--count", "1", "-o", str(output), **CREDENTIALS["gateway"])
        interrupt(server)
    assert recorded.returncode == 0, recorded.stderr
    events = [line["type"] for line in json_lines(recorded.stdout)]
    assert events[:3] == ["Connected", "Authenticated", "Subscribed"]
    assert "Reconnecting" in events
    assert "recorded" in recorded.stderr
    assert str(output) in recorded.stderr
    assert again.returncode == 2
    assert "exists" in again.stderr
    for secret in CREDENTIALS["gateway"].values():
        assert secret.encode() not in gzip.decompress(output.read_bytes())

    replayed = run("replay", str(output), "--speed", "inf", "--json")
    assert replayed.returncode == 0, replayed.stderr
    lines = json_lines(replayed.stdout)
    assert [line["type"] for line in lines if line["kind"] == "event"] == events
    assert sum(line["kind"] == "message" for line in lines) >= 150

    conformed = run("conform", "gateway", str(output), "--json")
    assert conformed.returncode == 0, conformed.stdout
    report = json.loads(conformed.stdout)
    assert report["input"] == "recording"
    assert report["frames"] >= 150
    assert report["failed"] == 0
    watch_json = tmp_path / "replayed.jsonl"
    watch_json.write_text(replayed.stdout)
    assert run("conform", "gateway", str(watch_json)).returncode == 0  # watch --json output too
    other = run("conform", "onyx", str(output))
    assert other.returncode == 2
    assert "a recording of gateway" in other.stderr


def test_record_rotates_and_replay_follows_the_parts(tmp_path: Path) -> None:
    output = tmp_path / "big.jsonl.gz"
    with started("serve", "cryptology", "--rate", "400") as server:
        url = first_line(server)
        with started("record", "cryptology", url, "-o", str(output), "--rotate-size", "2K") as recorder:
            # Until the recorder has rotated at least twice (a fixed sleep flaked on a loaded
            # machine, where the commands take seconds to start).
            deadline = time.monotonic() + 60
            while len(list(tmp_path.glob("big.*.jsonl.gz"))) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            code, _, err = interrupt(recorder)
        interrupt(server)
    assert code == 130, err
    parts = sorted(tmp_path.glob("big.*.jsonl.gz"))
    assert len(parts) >= 2
    assert not output.exists()
    frames = sum(r[0] in ("t", "b") for r in iter_records(parts[0]))
    replayed = run("replay", str(parts[0]), "--speed", "inf", "--json", "--no-events")
    assert replayed.returncode == 0, replayed.stderr
    # Every frame of every part, in order, but the first: in the binary (XDR) form the server
    # opens with its protocol version, which is a handshake, not a message.
    first = next(r for r in iter_records(parts[0]) if r[0] in ("t", "b"))
    assert first[0] == "b"
    assert len(base64.b64decode(first[3])) == 4
    assert len(json_lines(replayed.stdout)) == frames - 1
    later = run("replay", str(parts[1]))
    assert later.returncode == 2
    assert "replay it from its first part" in later.stderr


def test_replay_of_a_file_that_is_no_recording_says_so(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n')
    result = run("replay", str(path))
    assert result.returncode == 2
    assert "not a trio-feeds recording" in result.stderr
    assert run("replay", str(tmp_path / "missing.jsonl.gz")).returncode == 2
    assert os.path.exists(path)


async def test_record_under_the_library_config_keeps_the_config(tmp_path: Path) -> None:
    config = FeedConfig(backoff_initial=0.02, max_attempts=7)
    async with (
        open_cryptology_server(rate=50) as server,
        open_recorder(tmp_path / "c.jsonl.gz") as rec,
        cryptology.open_feed(server.url, config=config, recorder=rec, trade_pairs=["BTC_USD"]) as feed,
    ):
        async for _ in feed:
            break
    header = read_header(tmp_path / "c.jsonl.gz")
    assert header["config"]["backoff_initial"] == 0.02
    assert header["config"]["max_attempts"] == 7
    assert header["options"] == {
        "trade_pairs": ["BTC_USD"],
        "server_heartbeat": None,
        "wire_form": "auto",
        "version_timeout": 3.0,
    }
    assert header["credentials"] == []


async def test_a_recording_is_readable_while_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl.gz"
    seen = []
    async with (
        open_cryptology_server(rate=200) as server,
        open_recorder(path, flush_interval=0.2) as rec,
        cryptology.open_feed(server.url, recorder=rec) as feed,
    ):
        async for _ in feed:
            if rec.frames >= 40 * (len(seen) + 1):
                await trio.sleep(0.3)  # a flush
                records = await trio.to_thread.run_sync(lambda: list(iter_records(path)))
                seen.append(sum(r[0] in ("t", "b") for r in records))
                if len(seen) == 3:
                    break
    assert seen[0] >= 40  # what was flushed so far, while the recorder writes on
    assert seen[0] < seen[1] < seen[2]
