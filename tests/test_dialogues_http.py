"""Multi-turn conversations as patients hold them, over real HTTP (the action server, the Rasa
server and the trained model in models/): what the patient reads after a follow-up, an offer, a
correction in the callback form, or an acknowledgement of an emergency reply."""

from __future__ import annotations

import uuid
from typing import Callable, Dict, Iterator, List

import pytest
import requests

from tests.conftest import ROOT
from tests.support.servers import running_servers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chat(tmp_path_factory) -> Iterator[Callable[[], Callable[[str], str]]]:
    """A factory of conversations: each call is a new patient; ``say(text)`` returns the reply text."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    env = {"CLINIC_PHONE": "", "CLINIC_EMAIL": "", "CRISIS_LINE": ""}
    with running_servers(tmp_path_factory.mktemp("servers"), extra_env=env) as servers:

        def conversation() -> Callable[[str], str]:
            sender = f"dialogue-{uuid.uuid4()}"

            def say(text: str) -> str:
                reply = requests.post(servers.webhook, json={"sender": sender, "message": text}, timeout=30)
                assert reply.status_code == 200
                parts: List[Dict] = reply.json()
                return "\n".join(p.get("text", "") for p in parts)

            return say

        yield conversation


GOODBYE = "Goodbye, and take care"


def test_and_after_that_after_an_answer_is_not_a_goodbye(chat):
    say = chat()
    say("what is this endoscopy thing")
    reply = say("and after that?")
    assert GOODBYE not in reply
    assert "nerve root during the operation" in reply  # the topic's detail facts


def test_a_patient_who_asks_to_be_called_gives_the_details_straight_away(chat):
    say = chat()
    start = say("i want someone to call me")
    assert "What name should the clinic ask for?" in start
    assert "Would you like the clinic to call you back?" not in start
    assert "Which phone number" in say("Maria")
    assert "good time to call" in say("+44 7700 900 123")
    done = say("anytime after 5pm")
    assert "Thank you, Maria" in done and "+44 7700 900 123" in done and "anytime after 5pm" in done


def test_a_corrected_phone_number_replaces_the_first_and_is_not_stored_as_the_time(chat):
    say = chat()
    say("can someone phone me")
    say("Priya")
    say("0770090012")
    changed = say("sorry 07700900123")
    assert "07700900123" in changed and "good time to call" in changed
    done = say("evening")
    assert "at 07700900123 (evening)" in done


def test_ok_after_an_emergency_reply_repeats_what_to_do_now(chat):
    say = chat()
    assert "emergency number" in say("i suddenly cant control my bladder and my legs numb")
    reply = say("ok thanks")
    assert "call your local emergency number now" in reply.lower()
    assert "anything else" not in reply.lower()


def test_ok_after_a_crisis_reply_is_met_calmly_not_with_anything_else(chat):
    say = chat()
    say("i dont want to live anymore")
    reply = say("ok")
    assert "You don't have to go through this alone" in reply
    assert "anything else" not in reply.lower()


def test_more_twice_gives_the_details_once(chat):
    say = chat()
    say("what is endoscopic discectomy")
    first = say("more")
    assert "nerve root during the operation" in first
    again = say("more")
    assert "nerve root during the operation" not in again
    assert "That is all the clinic's information sheet says" in again


def test_yes_to_the_name_question_after_call_me_back_asks_the_name_again(chat):
    say = chat()
    say("call me back pls")
    again = say("yes")
    assert "What name should the clinic ask for?" in again
    assert "does not look like a name" not in again
    assert "Which phone number" in say("Sara")


def test_a_calm_question_right_after_an_emergency_reply_keeps_the_advice_in_view(chat):
    say = chat()
    say("i suddenly cant control my bladder and my legs numb")
    reply = say("how long is the recovery normally?")
    assert reply.index("emergency number now") < reply.index("3 to 6 weeks")


def test_a_question_typed_into_the_callback_form_is_told_how_to_ask_it(chat):
    say = chat()
    say("call me")
    reply = say("what is recovery time")
    assert 'type "stop"' in reply and "What name should the clinic ask for?" in reply
    assert "does not look like a name" not in reply
    assert "not sent a callback request" in say("stop")
    assert "3 to 6 weeks" in say("what is recovery time")


def test_nah_forget_it_in_the_callback_form_leaves_it(chat):
    say = chat()
    say("i want callback")
    say("Tom")
    assert "not sent a callback request" in say("nah forget it")


def test_a_question_typed_as_the_time_is_not_stored_as_the_time(chat):
    say = chat()
    say("can someone call me back")
    say("John")
    say("07700900123")
    reply = say("actually how long is recovery")
    assert 'type "stop"' in reply and "good time to call" in reply
    done = say("morning")
    assert "at 07700900123 (morning)" in done


STILL_APPLIES = "I can't judge this here, so please follow this advice:"
EMERGENCY_ADVICE = "This could be a medical emergency"
CRISIS_ADVICE = "I'm really sorry you are going through this"
URGENT_ADVICE = "This needs a doctor's advice today"
PERSONAL_DEFERRAL = "A doctor or surgeon at the clinic needs to look at your case"


def test_should_i_worry_turns_after_an_emergency_reply_gets_the_emergency_advice_again(chat):
    say = chat()
    say("i have sudden numbness in my groin and i cant control my bladder")
    say("how much does it cost")
    reply = say("should i worry?")
    assert STILL_APPLIES in reply and EMERGENCY_ADVICE in reply
    assert PERSONAL_DEFERRAL not in reply
    assert "call your local emergency number now" in say("ok").lower()
    assert "3 to 6 weeks" in say("how long is recovery")
    say("thanks")
    later = say("what should i do?")
    assert STILL_APPLIES in later and EMERGENCY_ADVICE in later


def test_a_personal_question_turns_after_a_crisis_reply_gets_the_calm_crisis_message_not_the_emergency_one(chat):
    say = chat()
    say("i dont want to live anymore")
    say("thanks")
    say("how long is recovery")
    reply = say("should i worry?")
    assert STILL_APPLIES in reply and CRISIS_ADVICE in reply
    assert EMERGENCY_ADVICE not in reply and PERSONAL_DEFERRAL not in reply
    assert "You don't have to go through this alone" in say("ok")


def test_is_that_normal_after_an_urgent_reply_and_a_topic_answer_gets_the_urgent_advice_again(chat):
    say = chat()
    say("the painkillers arent working at all, the pain is unbearable")
    say("ok")
    say("how big is the scar")
    reply = say("is that normal?")
    assert STILL_APPLIES in reply and URGENT_ADVICE in reply
    assert EMERGENCY_ADVICE not in reply


def test_the_most_serious_escalation_of_the_conversation_is_the_one_repeated(chat):
    say = chat()
    say("the painkillers arent working at all, the pain is unbearable")
    say("i have sudden numbness in my groin and i cant control my bladder")
    say("what is the operation")
    assert EMERGENCY_ADVICE in say("what should i do?")
    say = chat()
    say("i dont want to live anymore")
    say("i have sudden numbness in my groin and i cant control my bladder")
    say("how much does it cost")
    reply = say("should i worry?")
    assert CRISIS_ADVICE in reply and EMERGENCY_ADVICE not in reply


def test_without_an_escalation_a_personal_question_still_gets_the_calm_deferral(chat):
    say = chat()
    say("how long is recovery")
    reply = say("what should i do?")
    assert PERSONAL_DEFERRAL in reply and STILL_APPLIES not in reply


def test_a_phone_number_typed_instead_of_yes_to_the_callback_offer_starts_the_form_with_it(chat):
    say = chat()
    assert "Would you like the clinic to call you back?" in say("can i talk to a person")
    assert "What name should the clinic ask for?" in say("07700 900123")
    assert "good time to call" in say("Maria")  # the number is not asked again
    done = say("mornings")
    assert "Thank you, Maria" in done and "07700 900123" in done


def test_a_name_typed_instead_of_yes_to_the_callback_offer_starts_the_form_with_it(chat):
    say = chat()
    say("can i talk to a person")
    assert "Which phone number should they call?" in say("Maria Lopez")
    assert "good time to call" in say("07700 900123")
    assert "Thank you, Maria Lopez" in say("after 5pm")


def test_a_name_typed_in_lower_case_instead_of_yes_to_the_callback_offer_starts_the_form_with_it(chat):
    say = chat()
    say("i want to talk to someone")
    assert "Which phone number should they call?" in say("john smith")
    assert "good time to call" in say("07700 900123")
    assert "Thank you, john smith" in say("after 5pm")


def test_an_unrelated_reply_to_the_callback_offer_does_not_start_the_form(chat):
    say = chat()
    say("can i talk to a person")
    reply = say("what is the weather like today")
    assert "What name should the clinic ask for?" not in reply and "Which phone number" not in reply


def test_the_same_question_twice_is_answered_again_after_a_short_lead(chat):
    say = chat()
    first = say("how long is recovery")
    again = say("how long is the recovery?")
    assert "As I said" not in first
    assert again.startswith("As I said") and "3 to 6 weeks" in again
    assert "As I said" not in say("how much does it cost")


def test_a_follow_up_with_a_subject_after_the_recovery_answer_gets_that_answer_again(chat):
    """ "what about work" / "and sports" after the recovery answer: that answer again (it names work and
    exercise), not the personal deferral or "I can only answer general questions"."""
    say = chat()
    say("how long is recovery")
    for follow_up in ("what about work", "and sports"):
        reply = say(follow_up)
        assert reply.startswith("As I said") and "3 to 6 weeks" in reply, (follow_up, reply)
    say = chat()
    say("what does it cost")
    other = say("and sports")  # a subject of another topic: that topic's answer
    assert "3 to 6 weeks" in other and not other.startswith("As I said")


def test_a_bare_follow_up_after_an_answer_asks_for_more_not_goodbye(chat):
    say = chat()
    say("what does it cost")
    reply = say("and for that one?")
    assert GOODBYE not in reply
    assert "That is all the clinic's information sheet says" in reply
    say = chat()
    say("what is endoscopic discectomy")
    assert "nerve root during the operation" in say("what about that one")


def test_will_it_come_back_gets_what_the_sheet_does_not_say_and_the_callback_offer(chat):
    say = chat()
    reply = say("will it come back?")
    assert "does not say if the problem can come back after this operation" in reply
    assert "Would you like the clinic to call you back?" in reply
    assert "pain relief" not in reply.lower() and "The clinic's sheet says" not in reply  # no topic's facts
    assert "What name should the clinic ask for?" in say("yes please")
    later = chat()("is the surgery permanent or do i need another one later")
    assert "if you may need another operation later" in later and "rephrase" not in later.lower()


def test_a_recurrence_question_in_the_writers_own_case_keeps_the_deferral_and_a_red_flag_its_escalation(chat):
    own = chat()("my disc slipped again after my endoscopy, what should i do")
    assert PERSONAL_DEFERRAL in own and "does not say if the problem can come back" not in own
    red = chat()("will it come back? since yesterday i cant control my bladder")
    assert "emergency number" in red and "does not say if the problem can come back" not in red


def test_a_name_that_is_also_a_word_of_another_language_is_taken_as_the_name(chat):
    """'Kamar' is on the reviewed list of other languages' words (Hindi and Urdu for the back): typed
    as the name in the callback form, it is the name, not a message in another language."""
    say = chat()
    say("call me back pls")
    asked = say("yes")
    assert "What name should the clinic ask for?" in asked
    reply = say("Kamar")
    assert "Which phone number" in reply and "English" not in reply
    assert "good time to call" in say("07700 900123")
    assert "Thank you, Kamar" in say("mornings")
