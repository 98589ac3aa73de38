"""The link: greeting, bounded frames, heartbeat; hostile bytes end the link with a
message and never crash or allocate without bound."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time

import pytest

from tutor.sessions.link import (
    FRAME, LINK_VERSION, QUEUED_FRAMES, MAX_BLOB, MAX_HEADER, MAX_PREAMBLE, Channel, Frame, FrameDecoder, Greeting, Link,
    LinkClosed, LinkError, encode, greeting, parse_greeting, version_mismatch,
)


def test_frames_round_trip_split_anywhere():
    data = (encode(Channel.EVENT, {"t": "ev", "n": 1}, b"\x00\x01blob") + encode(Channel.REQUEST, {"t": "x"})
            + encode(Channel.SESSION, {"t": "é ☃"}))
    for cut in range(len(data) + 1):
        decoder = FrameDecoder()
        frames = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert frames == [Frame(Channel.EVENT, {"t": "ev", "n": 1}, b"\x00\x01blob"),
                          Frame(Channel.REQUEST, {"t": "x"}), Frame(Channel.SESSION, {"t": "é ☃"})]
        assert decoder.pending == 0


@pytest.mark.parametrize("bad, why", [
    (FRAME.pack(9, 2, 0) + b"{}", "unknown channel"),
    (FRAME.pack(1, MAX_HEADER + 1, 0), "impossible size"),
    (FRAME.pack(1, 10, MAX_BLOB + 1), "impossible size"),
    (FRAME.pack(1, 0, 0), "impossible size"),
    (FRAME.pack(1, 4, 0) + b"{x: ", "not JSON"),
    (FRAME.pack(1, 2, 0) + b"\xff\xfe", "not JSON"),
    (FRAME.pack(1, 2, 0) + b"[]", "not a message"),
    (FRAME.pack(1, 8, 0) + b'{"t": 1}', "not a message"),
])
def test_malformed_frames_are_refused_with_a_reason(bad, why):
    with pytest.raises(LinkError, match=why):
        FrameDecoder().feed(bad)


def test_deeply_nested_json_is_refused_not_a_crash():
    header = b'{"t":"x","a":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(LinkError):
        FrameDecoder().feed(FRAME.pack(1, len(header), 0) + header)


def test_a_huge_announced_frame_is_refused_before_anything_is_kept():
    decoder = FrameDecoder()
    with pytest.raises(LinkError):
        decoder.feed(struct.pack("!BII", 2, 0xFFFFFFFF, 0xFFFFFFFF))
    # a frame within bounds is only kept up to what arrived
    decoder = FrameDecoder()
    decoder.feed(FRAME.pack(2, 1000, 0) + b"{" * 10)
    assert decoder.pending == FRAME.size + 10


def test_greeting_names_version_tutor_and_role():
    parsed = parse_greeting(greeting("host"))
    assert parsed.version == LINK_VERSION and parsed.role == "host" and parsed.tutor
    with pytest.raises(LinkError):
        parse_greeting(b"SSH-2.0-OpenSSH_9.2\n")
    with pytest.raises(LinkError):
        parse_greeting(b"tutor-link x y z\n")


def test_version_mismatch_says_which_versions_and_what_to_upgrade():
    newer = version_mismatch("gpu-box", Greeting(LINK_VERSION + 1, "9.9.9", "host"))
    assert "9.9.9" in newer and f"link protocol {LINK_VERSION + 1}" in newer and "upgrade tutor here" in newer
    older = version_mismatch("gpu-box", Greeting(0, "0.0.1", "host"))
    assert "install this tutor on gpu-box" in older and "rsync -a --exclude .venv" in older
    assert "pip install ./tutor" in older and "pytorch-tutor" not in older  # not published on PyPI


async def pair(**kwargs) -> tuple[Link, Link]:
    """Two links over a socketpair, handshaken."""
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    left = Link(ra, wa, role="app", peer="the host", **kwargs)
    right = Link(rb, wb, role="host", peer="the app", **kwargs)
    await asyncio.gather(left.handshake(), right.handshake())
    return left, right


async def test_frames_flow_both_ways_and_pings_stay_inside():
    left, right = await pair(interval=0.05, timeout=2)
    await asyncio.sleep(0.2)  # several pings each way
    left.send(Channel.REQUEST, {"t": "execute", "code": "1"})
    right.send(Channel.EVENT, {"t": "ev"}, b"xyz")
    assert (await right.receive()) == Frame(Channel.REQUEST, {"t": "execute", "code": "1"})
    assert (await left.receive()) == Frame(Channel.EVENT, {"t": "ev"}, b"xyz")
    left.close("done", goodbye="see you")
    with pytest.raises(LinkClosed, match="see you"):
        await right.receive()


async def test_silence_is_noticed_within_the_timeout():
    """A half-open link: the peer's socket stays open but nothing arrives."""
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    link = Link(ra, wa, role="app", peer="gpu-box", interval=0.1, timeout=0.6)
    b.sendall(greeting("host"))  # the far end greets, then goes silent for ever
    await link.handshake()
    started = asyncio.get_running_loop().time()
    with pytest.raises(LinkClosed, match="no word from gpu-box for 0.6 s"):
        await link.receive()
    assert asyncio.get_running_loop().time() - started < 2.0
    b.close()


async def test_corrupt_bytes_end_the_link_with_a_message():
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    link = Link(ra, wa, role="app", peer="gpu-box", timeout=5)
    b.sendall(greeting("host") + encode(Channel.EVENT, {"t": "ev"}) + b"\x07garbage that is no frame at all")
    await link.handshake()
    assert (await link.receive()).message == {"t": "ev"}
    with pytest.raises(LinkClosed, match="gpu-box sent an unreadable frame"):
        await link.receive()
    b.close()


async def test_peer_of_another_version_is_refused_with_both_versions():
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    link = Link(ra, wa, role="app", peer="gpu-box", timeout=5)
    b.sendall(greeting("host", version=LINK_VERSION + 1))
    with pytest.raises(LinkClosed, match=f"link protocol {LINK_VERSION + 1}"):
        await link.handshake()
    b.close()


async def test_login_noise_before_the_greeting_is_skipped_only_when_allowed():
    for allowed in (True, False):
        a, b = socket.socketpair()
        ra, wa = await asyncio.open_connection(sock=a)
        link = Link(ra, wa, role="app", peer="gpu-box", timeout=5)
        b.sendall(b"Welcome to gpu-box!\nconda: base activated\n" + greeting("host"))
        if allowed:
            await link.handshake(preamble=True)
            assert "Welcome to gpu-box" in link.preamble
        else:
            with pytest.raises(LinkClosed, match="not a tutor session"):
                await link.handshake()
        b.close()


async def test_endless_noise_without_a_greeting_is_bounded():
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    link = Link(ra, wa, role="app", peer="gpu-box", timeout=5)
    noise = (b"x" * 99 + b"\n") * (MAX_PREAMBLE // 100 + 10)

    async def spew():
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(b, noise)

    b.setblocking(False)
    task = asyncio.get_running_loop().create_task(spew())
    with pytest.raises(LinkClosed, match="no tutor greeting in the first 64 KiB"):
        await link.handshake(preamble=True)
    task.cancel()
    b.close()


async def test_an_end_before_the_greeting_keeps_what_was_printed():
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    link = Link(ra, wa, role="app", peer="gpu-box", timeout=5)
    b.sendall(b"/usr/bin/python3: No module named tutor\n")
    b.shutdown(socket.SHUT_WR)
    with pytest.raises(LinkClosed) as caught:
        await link.handshake(preamble=True)
    assert "No module named tutor" in caught.value.output


async def test_a_consumer_that_falls_behind_is_not_taken_for_silence():
    left, right = await pair(interval=0.05, timeout=2.0)
    for n in range(20_000):  # more than the read-ahead: the reader pauses
        right.send(Channel.EVENT, {"t": "ev", "n": n})
    await asyncio.sleep(3.0)  # longer than the timeout, while we do not read
    got = [(await left.receive()).message["n"] for _ in range(20_000)]
    assert got == list(range(20_000))
    assert not left.closed and not right.closed
    left.close("done")
    right.close("done")


async def test_a_process_that_stood_still_does_not_blame_the_peer():
    """The whole loop stands still past the timeout (a busy app, a suspended laptop): the
    peer could not be heard meanwhile, so neither end takes that for its silence."""
    left, right = await pair(interval=0.05, timeout=1.0)
    time.sleep(1.5)
    await asyncio.sleep(0.3)  # the heartbeats run again
    left.send(Channel.REQUEST, {"t": "still here"})
    assert (await right.receive()).message == {"t": "still here"}
    assert not left.closed and not right.closed
    left.close("done")
    right.close("done")


async def test_a_link_that_resumes_reading_gives_the_peer_a_full_timeout():
    """The silence clock stands still while we do not read, and restarts when we do: the
    peer gets a whole timeout from then, and no more."""
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    link = Link(ra, wa, role="app", peer="gpu-box", interval=0.05, timeout=1.0)
    b.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(b, greeting("host"))
    await link.handshake()
    sent = b"".join(encode(Channel.EVENT, {"t": "ev", "n": n}) for n in range(QUEUED_FRAMES))
    await loop.sock_sendall(b, sent)  # exactly the read-ahead, then the far end says nothing more
    await asyncio.sleep(1.5)  # longer than the timeout, while we do not read
    got = [(await link.receive()).message["n"] for _ in range(QUEUED_FRAMES // 2 + 1)]  # reading again
    await asyncio.sleep(0.5)
    assert not link.closed, link.closed_reason
    for _ in range(100):  # (a loaded machine may delay the heartbeat: it counts no stall as silence)
        if link.closed:
            break
        await asyncio.sleep(0.05)
    assert "no word from gpu-box" in (link.closed_reason or "")  # a whole timeout after reading began
    got += [(await link.receive()).message["n"] for _ in range(QUEUED_FRAMES - len(got))]
    assert got == list(range(QUEUED_FRAMES))  # what arrived before the end is all there
    b.close()
