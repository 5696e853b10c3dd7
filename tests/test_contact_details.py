"""actions.contact_details: what counts as a name, a phone number, a preferred time."""

from __future__ import annotations

import pytest

from actions.contact_details import clean_name, clean_phone, clean_time, detail_given_unasked

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Anna", "Anna"),
        ("  maria   garcía lópez ", "maria garcía lópez"),
        ("Jean-Luc O'Neill", "Jean-Luc O'Neill"),
        ("Dr. Smith", "Dr. Smith"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
    ],
)
def test_names_are_kept_as_given(text, expected):
    assert clean_name(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12345",
        "how much does it cost",
        "i want a doctor",
        "what is the recovery time",
        "a b c d e f",
        "x" * 81,
        "<script>alert(1)</script>",
        "anna@example.com",
        None,
    ],
)
def test_things_that_are_not_names_are_refused(text):
    assert clean_name(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my name is john smith", "john smith"),
        ("My name's Anna", "Anna"),
        ("name: Ahmed Khan", "Ahmed Khan"),
        ("I'm Maria", "Maria"),
        ("I\u2019m Maria", "Maria"),
        ("I am Ahmed Khan", "Ahmed Khan"),
        ("It's Tom", "Tom"),
        ("This is Anna", "Anna"),
        ("Call me Dave", "Dave"),
        ("i'm john smith", "john smith"),
        ("this is anna", "anna"),
        ("Im Sook Park", "Im Sook Park"),
        ("john smith please", "john smith"),
        ("Anna, thanks", "Anna"),
    ],
)
def test_a_name_introduced_the_way_patients_write_it_is_the_name_alone(text, expected):
    assert clean_name(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "i'm scared",
        "I'm Scared",
        "it's urgent",
        "It's not urgent",
        "this is urgent",
        "This is Urgent",
        "I Am Numb",
        "call me back",
        "Call Me Back",
        "call me later",
        "i am worried",
        "i'm not sure",
        "my name is what",
    ],
)
def test_a_sentence_that_starts_like_an_introduction_is_not_a_name(text):
    assert clean_name(text) is None


@pytest.mark.parametrize(
    "text",
    ["+44 20 7946 0958", "(555) 123-4567", "0301234567", "+49/30/1234567", "555.123.4567"],
)
def test_phone_numbers_in_common_formats_are_kept(text):
    assert clean_phone(text) == text


@pytest.mark.parametrize(
    "text",
    ["12345", "1" * 16, "call me maybe", "+44 20 7946 0958 ext 12", "five five five", "", None, "555-CALL-NOW"],
)
def test_things_that_are_not_phone_numbers_are_refused(text):
    assert clean_phone(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my number is 07700 900123", "07700 900123"),
        ("it's +44 20 7946 0958", "+44 20 7946 0958"),
        ("call me on 0301234567", "0301234567"),
        ("my mobile number is (555) 123-4567", "(555) 123-4567"),
        ("phone: 555.123.4567", "555.123.4567"),
        ("07700900123 please", "07700900123"),
    ],
)
def test_a_number_introduced_the_way_patients_write_it_is_the_number_alone(text, expected):
    assert clean_phone(text) == expected


@pytest.mark.parametrize("text", ["my number is 12", "it's 555-CALL-NOW", "call me on monday"])
def test_an_introduced_non_number_is_still_refused(text):
    assert clean_phone(text) is None


@pytest.mark.parametrize("text", ["weekday mornings", "after 5pm", "Tuesday 10:00", "any time"])
def test_preferred_times_in_the_patients_words(text):
    assert clean_time(text) == text


@pytest.mark.parametrize("text", ["", "a", "when is best?", "https://example.com", "x" * 121, None])
def test_bad_preferred_times_are_refused(text):
    assert clean_time(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "stop",
        "Stop.",
        "CANCEL",
        "no thanks",
        "No thank you!",
        "never mind",
        "forget it",
        "i changed my mind",
        "don't call me",
        # A lead-in or a courtesy around the stop words (a walk's patient was stuck on "nah forget it").
        "nah forget it",
        "no, forget it",
        "oh never mind",
        "ok stop",
        "just cancel it please",
        "actually i changed my mind",
        "no thanks, forget it",
        # "nah" where the name is asked was stored as the name
        "nah",
        "Nah thanks",
    ],
)
def test_stop_words_leave_the_form(text):
    from actions.contact_details import is_stop

    assert is_stop(text)


@pytest.mark.parametrize(
    "text",
    [
        "no preference",
        "not before 10am",
        "Anna Stopford",
        "anytime but not mondays",
        "+44 7700 900123",
        "",
        None,
        "ok",
        "just mornings",
        "no mondays please",
    ],
)
def test_details_that_merely_contain_no_or_stop_are_not_stop(text):
    from actions.contact_details import is_stop

    assert not is_stop(text)


@pytest.mark.parametrize(
    "text", ["when you can", "when its convenient", "should be free after lunch", "would prefer after school run"]
)
def test_times_without_a_clock_time_are_times_not_questions(text):
    from actions.contact_details import is_question_not_time

    assert not is_question_not_time(text)


@pytest.mark.parametrize("text", ["0900-1200", "9.30 - 11.30", "1000 1200 1400", "sorry, 0900-1200", "0770"])
def test_times_written_as_numbers_never_replace_the_phone_number(text):
    from actions.contact_details import corrected_phone

    assert corrected_phone(text) is None


@pytest.mark.parametrize(
    "text, phone",
    [("07700 900123", "07700 900123"), ("sorry 07700900123", "07700900123"), ("020 7946 0958", "020 7946 0958")],
)
def test_a_phone_number_typed_where_the_time_is_asked_corrects_the_number(text, phone):
    from actions.contact_details import corrected_phone

    assert corrected_phone(text) == phone


@pytest.mark.parametrize(
    "text, expected",
    [
        ("07700 900123", ("callback_phone", "07700 900123")),
        ("+44 7700 900 123", ("callback_phone", "+44 7700 900 123")),
        ("Maria Lopez", ("callback_name", "Maria Lopez")),
        ("John", ("callback_name", "John")),
        ("my name is maria", ("callback_name", "maria")),
        ("I'm Anna", ("callback_name", "Anna")),
        # Typed in lower case on a phone: two or three words of no ordinary reply.
        ("john smith", ("callback_name", "john smith")),
        ("maria lopez", ("callback_name", "maria lopez")),
        ("ahmed al-sayed", ("callback_name", "ahmed al-sayed")),
        ("anna maria jones", ("callback_name", "anna maria jones")),
    ],
)
def test_a_detail_typed_in_reply_to_the_callback_offer_is_taken(text, expected):
    assert detail_given_unasked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "0900-1200",
        "maybe",
        "john",
        "no idea",
        "sounds good",
        "maybe tomorrow",
        "not now",
        "whatever works",
        "yes ok",
        "hmm no",
        "good morning",
        "hmm ok",
        "Hi",
        "Hello",
        "Bye",
        "No thanks",
        "Yes please",
        "Thanks",
        "what is the weather",
        "I'm scared",
        "Not sure",
        "call me back",
        "Stop",
    ],
)
def test_an_ordinary_reply_to_the_callback_offer_is_no_detail(text):
    assert detail_given_unasked(text) is None


@pytest.mark.parametrize(
    "text",
    ["neck stiff", "bad headache", "pins needles", "tingling feet", "I am dizzy", "this is painful", "Bad Headache"],
)
def test_a_complaint_typed_after_the_callback_offer_or_as_the_name_is_no_name(text):
    """A symptom is how the patient feels: taken as a name it would start the form and go unanswered."""
    assert detail_given_unasked(text) is None
    assert clean_name(text) is None


@pytest.mark.parametrize("name", ["Anna Headley", "Mary Sorenson", "José García", "Siobhan O'Neill", "John Hurt"])
def test_names_that_contain_a_complaint_word_inside_a_longer_word_are_still_names(name):
    assert clean_name(name) == name
    assert detail_given_unasked(name) == ("callback_name", name)
