"""clinic_channel.guard: session ids, request validation, slash injections, rate limits."""

from __future__ import annotations

import json

import pytest

from clinic_channel.guard import (
    SLASH_GUARD,
    RequestError,
    SessionSigner,
    clean_text,
    neutralise_slash,
    parse_json_object,
    parse_message_request,
    parse_rate,
    parse_text,
)
from clinic_store.rate_limits import RateLimiter

pytestmark = pytest.mark.unit


@pytest.fixture
def signer() -> SessionSigner:
    return SessionSigner(b"k" * 32)


def request(signer: SessionSigner, **fields):
    return {"session_id": signer.issue(), "message": "how long is recovery?", **fields}


def test_issued_ids_verify_and_are_unguessable(signer):
    ids = {signer.issue() for _ in range(200)}
    assert len(ids) == 200
    assert all(signer.verify(i) for i in ids)


@pytest.mark.parametrize("bad", [None, "", "default", 42, ["p1"], "p1.abc.def", "p1." + "0" * 32 + "." + "0" * 32])
def test_ids_not_issued_are_refused(signer, bad):
    assert not signer.verify(bad)


def test_an_id_from_another_secret_or_tampered_is_refused(signer):
    other = SessionSigner(b"x" * 32).issue()
    assert not signer.verify(other)
    good = signer.issue()
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert not signer.verify(tampered)


def test_a_short_secret_is_rejected():
    with pytest.raises(ValueError):
        SessionSigner(b"short")


def test_a_valid_request_is_cleaned(signer):
    msg = parse_message_request(
        request(signer, message="  how\u200b long\n is it?\x00 ", message_id="abc-12345"), signer, 2000
    )
    assert msg.text == "how long  is it?"
    assert msg.message_id == "abc-12345" and msg.retry is False


@pytest.mark.parametrize(
    "fields, status, code",
    [
        ({"message": 12}, 400, "invalid_request"),
        ({"message": None}, 400, "invalid_request"),
        ({"message": ["hi"]}, 400, "invalid_request"),
        ({"message": "   \n\t "}, 422, "empty_message"),
        ({"message": "\u200b\u200d"}, 422, "empty_message"),
        ({"message": "a" * 2001}, 413, "message_too_long"),
        ({"message_id": "short"}, 400, "invalid_request"),
        ({"message_id": "has spaces in it"}, 400, "invalid_request"),
        ({"message_id": 12345678}, 400, "invalid_request"),
        ({"retry": "yes"}, 400, "invalid_request"),
        ({"session_id": "default"}, 403, "unknown_session"),
    ],
)
def test_bad_requests_are_refused_with_a_code(signer, fields, status, code):
    with pytest.raises(RequestError) as raised:
        parse_message_request(request(signer, **fields), signer, 2000)
    assert (raised.value.status, raised.value.code) == (status, code)


def test_missing_session_is_refused(signer):
    with pytest.raises(RequestError) as raised:
        parse_message_request({"message": "hi"}, signer, 2000)
    assert raised.value.code == "unknown_session"


def test_emoji_accents_and_rtl_text_are_kept(signer):
    text = "مرحبا 😟 rückenschmerzen"
    assert parse_message_request(request(signer, message=text), signer, 2000).text == text


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"\xff\xfe", 400, "invalid_json"),
        (b"not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b'"text"', 400, "invalid_json"),
        (json.dumps({"a": [[[[[[[[[[1]]]]]]]]]]}).encode(), 400, "invalid_request"),
        (b"[" * 100000 + b"]" * 100000, 413, "request_too_large"),
    ],
)
def test_bodies_that_are_not_a_small_json_object_are_refused(body, status, code):
    with pytest.raises(RequestError) as raised:
        parse_json_object(body, max_bytes=16384)
    assert (raised.value.status, raised.value.code) == (status, code)


def test_deeply_nested_json_within_the_size_cap_is_refused_not_a_crash():
    with pytest.raises(RequestError) as raised:
        parse_json_object(b"[" * 5000 + b"]" * 5000, max_bytes=16384)
    assert raised.value.code in {"invalid_json", "invalid_request"}


@pytest.mark.parametrize("text", ["/restart", '/ask_cost{"x": {"$gt": ""}}', "/greet@0.01", "/affirm", "/ some text"])
def test_slash_text_is_neutralised_unless_offered(text):
    assert neutralise_slash(text, []) == SLASH_GUARD + text
    assert neutralise_slash(text, ["/deny"]) == SLASH_GUARD + text


def test_an_offered_button_payload_passes_unchanged():
    assert neutralise_slash("/affirm", ["/affirm", "/deny"]) == "/affirm"
    assert neutralise_slash("hello", []) == "hello"


def test_clean_text_turns_line_breaks_into_spaces_and_drops_controls():
    assert clean_text("a\r\nb\x07c\u202e") == "a  bc"


def test_rate_limiter_allows_count_then_says_how_long_to_wait():
    limiter = RateLimiter(3, 60)
    assert [limiter.retry_after("s", now=t) for t in (0, 1, 2)] == [0, 0, 0]
    assert limiter.retry_after("s", now=3) == 57
    assert limiter.retry_after("other", now=3) == 0
    assert limiter.retry_after("s", now=60.5) == 0  # the first hit left the window


def test_rate_limiter_memory_is_bounded():
    limiter = RateLimiter(1, 10, max_keys=100)
    for i in range(1000):
        limiter.retry_after(f"k{i}", now=float(i))
    assert len(limiter._hits) <= 100


@pytest.mark.parametrize("spec, expected", [("20/60", (20, 60.0)), ("5/1", (5, 1.0))])
def test_parse_rate(spec, expected):
    assert parse_rate(spec) == expected


@pytest.mark.parametrize("spec", ["0/60", "5/0", "x/60"])
def test_parse_rate_rejects_nonsense(spec):
    with pytest.raises(ValueError):
        parse_rate(spec)


def test_nesting_just_under_the_json_recursion_limit_is_refused_cleanly():
    body = b'{"a":' * 900 + b"1" + b"}" * 900
    with pytest.raises(RequestError) as raised:
        parse_json_object(body, max_bytes=16384)
    assert raised.value.code == "invalid_request"


def test_lone_surrogates_from_json_become_a_replacement_character():
    assert clean_text("hi \ud83d there") == "hi \ufffd there"


def test_feedback_requests_are_validated(signer):
    from clinic_channel.guard import parse_feedback_request

    sid = signer.issue()
    assert (
        parse_feedback_request({"session_id": sid, "message_id": "m-00000001", "rating": "down"}, signer)["rating"]
        == "down"
    )
    for bad in ({"rating": "meh"}, {"message_id": "x"}, {"rating": 1}):
        with pytest.raises(RequestError) as raised:
            parse_feedback_request({"session_id": sid, "message_id": "m-00000001", "rating": "up", **bad}, signer)
        assert raised.value.code == "invalid_request"
    with pytest.raises(RequestError) as raised:
        parse_feedback_request({"session_id": "default", "message_id": "m-00000001", "rating": "up"}, signer)
    assert raised.value.code == "unknown_session"


def test_the_session_key_file_is_created_once_private_and_reused(tmp_path):
    import os
    import stat
    from concurrent.futures import ThreadPoolExecutor

    from clinic_channel.patient import load_secret

    key_file = tmp_path / "var" / "patient-session.key"
    with ThreadPoolExecutor(8) as pool:  # servers starting at the same time
        keys = set(pool.map(lambda _: load_secret({}, key_file), range(16)))
    assert len(keys) == 1 and len(next(iter(keys))) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert (
        load_secret({"PATIENT_SESSION_SECRET": "from-the-environment-1234"}, key_file) == b"from-the-environment-1234"
    )
    assert [p.name for p in key_file.parent.iterdir()] == ["patient-session.key"], "no temporary files left"


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\x00"])
def test_an_issued_id_with_anything_after_it_is_refused(signer, suffix):
    """ "<id>\\n" would be a second conversation with its own rate-limit budget."""
    good = signer.issue()
    assert not signer.verify(good + suffix)
    with pytest.raises(RequestError) as raised:
        parse_message_request({"session_id": good + suffix, "message": "hi"}, signer, 2000)
    assert raised.value.code == "unknown_session"


@pytest.mark.parametrize("message_id", ["abc-12345\n", "abc-12345\r\n", "\nabc-12345"])
def test_a_message_id_with_a_line_break_is_refused(signer, message_id):
    from clinic_channel.guard import parse_feedback_request

    with pytest.raises(RequestError) as raised:
        parse_message_request(request(signer, message_id=message_id), signer, 2000)
    assert raised.value.code == "invalid_request"
    with pytest.raises(RequestError) as raised:
        parse_feedback_request({"session_id": signer.issue(), "message_id": message_id, "rating": "up"}, signer)
    assert raised.value.code == "invalid_request"


@pytest.mark.parametrize("sender", ["default\n", "abc\n", "web-user-1\n", "web-user-1\r\n"])
def test_a_rest_sender_with_a_trailing_line_break_is_refused(sender):
    from clinic_channel.rest import parse_rest_request

    if sender.rstrip() != "default":
        assert parse_rest_request({"sender": sender.rstrip(), "message": "hi"}, 2000)["sender"] == sender.rstrip()
    with pytest.raises(RequestError) as raised:
        parse_rest_request({"sender": sender, "message": "hi"}, 2000)
    assert raised.value.code == "invalid_sender"


@pytest.mark.parametrize(
    "invisible",
    [
        "\u00ad",
        "\u180e",
        "\u200e",
        "\u200f",
        "\u2062",
        "\U000e0041",
        "\u061c",
        "\u3164",
        "\u2800",
        "\u115f\u1160",
        "\uffa0",
    ],
)
def test_a_message_of_invisible_or_blank_characters_is_empty(invisible):
    assert clean_text(invisible * 3) == ""
    with pytest.raises(RequestError) as raised:
        parse_text(f" {invisible} ", 2000)
    assert raised.value.code == "empty_message"


def test_format_characters_inside_words_are_dropped_and_visible_text_is_kept():
    assert (
        clean_text("can\u00ad't p\u200eee \u2800 caf\u00e9 \U0001f600 \u05e9\u05dc\u05d5\u05dd")
        == "can't pee   caf\u00e9 \U0001f600 \u05e9\u05dc\u05d5\u05dd"
    )
