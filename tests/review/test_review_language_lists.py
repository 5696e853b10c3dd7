"""The language a patient wrote in, in the lists staff triage from: a real review server over real
HTTP, on SQLite and PostgreSQL.

The conversation page names the language the not-English check recorded ("French (fr)"); Open items
(the flagged rows and the callback requests), the conversations list and "What the bot couldn't
answer" name it too, beside the "Not in English" flag, from the index (``review_conversations.language``
and ``review_messages.language``). A conversation in English, or a name the callback form took as a
detail (no flag), shows no language. A database indexed by the version before the column existed
gets it when the app starts, keeps working, and is filled by ``review.cli index --rebuild``."""

from __future__ import annotations

import time
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from markupsafe import escape

from review import message_index, store
from review.settings import load_settings
from tests.review.conftest import seeded_database
from tests.review.conversations import _parse, write_conversations
from tests.support.review_app import Staff, cli, conversation_ids, logged_in_staff

pytestmark = pytest.mark.integration

FRENCH = "je ne sens plus mes jambes et je ne peux plus uriner"
SPANISH = "necesito hablar con el doctor sobre mi espalda"
CYRILLIC = "у меня болит спина после операции"
ENGLISH = "the thingy with the nerve"
FRENCH_BADGE = '<span class="flag flag-language">French (fr)</span>'
SPANISH_BADGE = '<span class="flag flag-language">Spanish (es)</span>'
NOT_ENGLISH_BADGE = '<span class="flag flag-not_english">Not in English</span>'
LANGUAGE_BADGE = "flag-language"


def _user(text: str, ts: float, intent: str, conf: float = 1.0, metadata: Optional[dict] = None, **extra: Any):
    from rasa.shared.core.events import UserUttered

    parse = _parse(text, intent, conf, triage={"level": "none", "findings": []}, **extra)
    return UserUttered(
        text, intent=parse["intent"], parse_data=parse, timestamp=ts, input_channel="rest", metadata=metadata or {}
    )


def _not_english(text: str, ts: float, language: str, **kwargs: Any):
    """A message the not-English check read as ``language`` (clinic_nlu/language_component.py)."""
    why = {"replaced": {"name": "ask_recovery_time", "confidence": 0.61}, "language": language}
    return _user(text, ts, "not_english", not_english=why, **kwargs)


def _told_english_only(ts: float) -> list:
    from rasa.shared.core.events import ActionExecuted, BotUttered

    return [
        ActionExecuted("utter_not_english", policy="RulePolicy", confidence=1.0, timestamp=ts),
        BotUttered("I can only read English.", metadata={"utter_action": "utter_not_english"}, timestamp=ts),
    ]


def conversations(now: float) -> Dict[str, List[Any]]:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

    return {
        # the reply was rated thumbs down: also a question the bot could not answer
        "ll-french": [
            _not_english(FRENCH, now - 900, "fr", metadata={"feedback": "down"}),
            *_told_english_only(now - 899),
        ],
        # then asked for a callback in English: the callback request names the language too
        "ll-spanish": [
            _not_english(SPANISH, now - 800, "es"),
            *_told_english_only(now - 799),
            _user("please call me back", now - 700, "request_human", 0.9),
            SlotSet(
                "callback_request",
                {"name": "Ana Example", "phone": "0151 1111 2222", "preferred_time": "mornings", "consent": True},
                timestamp=now - 699,
            ),
        ],
        # another script: not in English, but the check named no language
        "ll-cyrillic": [_not_english(CYRILLIC, now - 650, ""), *_told_english_only(now - 649)],
        "ll-english": [
            _user(ENGLISH, now - 600, "nlu_fallback", 0.3, metadata={"feedback": "down"}),
            ActionExecuted("action_default_fallback", policy="RulePolicy", confidence=1.0, timestamp=now - 599),
            BotUttered("Sorry, I am not sure I understood.", timestamp=now - 599),
        ],
        # a name typed into the callback form, read as French: form input raises no classifier flag
        "ll-form-name": [
            _user("can someone call me", now - 500, "request_human", 0.9),
            ActionExecuted("action_handoff", policy="RulePolicy", confidence=1.0, timestamp=now - 499),
            ActionExecuted("callback_form", timestamp=now - 499),
            ActionExecuted("action_listen", timestamp=now - 499),
            _not_english("Jean-Pierre de la Fontaine", now - 450, "fr"),
            ActionExecuted("callback_form", timestamp=now - 449),
            SlotSet("callback_name", "Jean-Pierre de la Fontaine", timestamp=now - 449),
        ],
    }


def _row(page: str, sender_id: str) -> str:
    link = 'href="/conversation?id=' + urlencode({"x": sender_id})[2:] + '"'
    at = page.index(link)
    return page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]


def _section(page: str, css_class: str) -> str:
    start = page.index(f'<section class="{css_class}"')
    return page[start : page.index("</section>", start)]


def _example(page: str, text: str) -> str:
    """The list item of one example message of "What the bot couldn't answer"."""
    at = page.index(f"checked> {escape(text)}</label>")
    return page[page.rindex("<li", 0, at) : page.index("</li>", at)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ll_db(request, tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp(f"langlist-{request.param}")
    with seeded_database(request.param, tmp, lambda url: write_conversations(url, conversations(time.time()))) as url:
        yield url


@pytest.fixture(scope="module")
def alice(ll_db, tmp_path_factory) -> Iterator[Staff]:
    with logged_in_staff(ll_db, tmp_path_factory.mktemp("langlist-log") / "server.log", "alice") as staff:
        yield staff


def test_open_items_name_the_language_beside_the_flag_and_an_english_row_has_none(alice):
    page = _section(alice.get("/open").text, "open-items")
    french = _row(page, "ll-french")
    assert f"{NOT_ENGLISH_BADGE} {FRENCH_BADGE}" in french  # the worst flag, then its language
    assert SPANISH_BADGE in _row(page, "ll-spanish")
    cyrillic = _row(page, "ll-cyrillic")
    assert NOT_ENGLISH_BADGE in cyrillic and LANGUAGE_BADGE not in cyrillic
    english = _row(page, "ll-english")
    assert "flag-fallback" in english and LANGUAGE_BADGE not in english
    form = _row(page, "ll-form-name")  # listed for the handoff; the name is not a message in French
    assert "flag-handoff" in form and "flag-not_english" not in form and LANGUAGE_BADGE not in form
    assert page.count(LANGUAGE_BADGE) == 2


def test_a_callback_request_names_the_language_the_patient_wrote_in(alice):
    callbacks = _section(alice.get("/open").text, "callbacks")
    assert f"{NOT_ENGLISH_BADGE} {SPANISH_BADGE}" in _row(callbacks, "ll-spanish")
    assert callbacks.count(LANGUAGE_BADGE) == 1


def test_the_conversations_list_names_the_language(alice):
    page = alice.get("/conversations").text
    assert set(conversation_ids(page)) == set(conversations(0))
    assert FRENCH_BADGE in _row(page, "ll-french") and SPANISH_BADGE in _row(page, "ll-spanish")
    for english in ("ll-english", "ll-form-name", "ll-cyrillic"):
        assert LANGUAGE_BADGE not in _row(page, english)
    filtered = alice.get("/conversations", flag="not_english").text
    assert conversation_ids(filtered) == ["ll-cyrillic", "ll-spanish", "ll-french"]
    assert filtered.count(LANGUAGE_BADGE) == 2
    # the conversation's own page names it the same way, in its flags and in the transcript
    conversation = alice.get("/conversation", id="ll-french").text
    assert f"{NOT_ENGLISH_BADGE} {FRENCH_BADGE}" in conversation
    assert "· language French (fr)" in conversation


def test_unanswered_questions_name_the_language_of_a_message(alice):
    page = alice.get("/unanswered").text
    assert FRENCH_BADGE in _example(page, FRENCH)
    assert LANGUAGE_BADGE not in _example(page, ENGLISH)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_index_from_before_the_language_column_is_upgraded_and_filled_by_a_rebuild(kind, tmp_path):
    """The previous version's index: the same summaries and message rows, without ``language``. The app
    adds the column when it starts and its lists keep working; ``index --rebuild`` fills it."""
    with seeded_database(kind, tmp_path, lambda url: write_conversations(url, conversations(time.time()))) as url:
        settings = load_settings({"DATABASE_URL": url})
        engine = store.make_engine(settings)
        try:
            store.create_schema(engine)
            store.index_new_events(engine, settings, wait=30.0)
            message_index.index_messages(engine, settings)
            with engine.begin() as conn:  # as the previous version left it
                conn.execute(sa.text("ALTER TABLE review_conversations DROP COLUMN language"))
                conn.execute(sa.text("ALTER TABLE review_messages DROP COLUMN language"))

            with logged_in_staff(url, tmp_path / "before.log", "alice") as staff:
                page = staff.get("/open").text
                assert NOT_ENGLISH_BADGE in _row(page, "ll-french") and LANGUAGE_BADGE not in page  # not yet filled
                listed = staff.get("/conversations")
                assert listed.status_code == 200 and "ll-french" in conversation_ids(listed.text)
            for table in ("review_conversations", "review_messages"):
                assert "language" in {c["name"] for c in sa.inspect(engine).get_columns(table)}

            rebuilt = cli(url, "index", "--rebuild")
            assert rebuilt.returncode == 0, rebuilt.stderr
            with engine.connect() as conn:
                c, m = store.conversations.c, store.messages.c
                assert dict(conn.execute(sa.select(c.sender_id, c.language).where(c.language.isnot(None))).all()) == {
                    "ll-french": "fr",
                    "ll-spanish": "es",
                }
                # per message, as recorded (the form's name too: the summary leaves it out with its flag)
                assert sorted(conn.execute(sa.select(m.language).where(m.language.isnot(None))).scalars()) == [
                    "es",
                    "fr",
                    "fr",
                ]
            with logged_in_staff(url, tmp_path / "after.log", "alice") as staff:
                page = staff.get("/open").text
                assert FRENCH_BADGE in _row(page, "ll-french") and SPANISH_BADGE in _row(page, "ll-spanish")
                assert FRENCH_BADGE in _row(staff.get("/conversations").text, "ll-french")
                assert FRENCH_BADGE in _example(staff.get("/unanswered").text, FRENCH)
        finally:
            engine.dispose()
