"""The spelling-corrector components: featurizers read the corrected text, triage reads every reading.

Real components on the real training data and the shipped triage: no stubs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from clinic_nlu.spelling import build_speller, speller_settings
from clinic_nlu.spelling_corrector import (
    CORRECTED_TEXT,
    ORIGINAL_TEXT,
    WORD_STEP_TEXT,
    RestoreOriginalText,
    SpellingCorrector,
)
from clinic_nlu.triage_component import TriageOverride
from clinic_nlu.typo_noise import add_typos
from clinic_triage import semantic
from clinic_triage.engine import LEVELS, default_triage

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> LocalModelStorage:
    return LocalModelStorage(tmp_path_factory.mktemp("storage"))


@pytest.fixture(scope="module")
def corrector(storage) -> SpellingCorrector:
    context = ExecutionContext(GraphSchema({}), "test")
    component = SpellingCorrector.create(SpellingCorrector.get_default_config(), storage, Resource("speller"), context)
    component.train(load_data(str(ROOT / "data" / "nlu.yml")))
    return SpellingCorrector.load(SpellingCorrector.get_default_config(), storage, Resource("speller"), context)


def run(corrector: SpellingCorrector, text: str, intent: str = "ask_recovery_time") -> Message:
    """The message as the pipeline leaves it: corrected, classified (given), restored, triaged."""
    message = Message(data={"text": text})
    corrector.process([message])
    message.set("intent", {"name": intent, "confidence": 0.9})
    message.set("intent_ranking", [{"name": intent, "confidence": 0.9}])
    RestoreOriginalText().process([message])
    TriageOverride(TriageOverride.get_default_config(), default_triage()).process([message])
    return message


def test_the_featurizers_read_the_corrected_text_and_the_typed_text_comes_back(corrector):
    message = Message(data={"text": "how long is the recovrey aftre the enndoscopy"})
    corrector.process([message])
    assert message.get("text") == "how long is the recovery after the endoscopy"
    assert message.get(ORIGINAL_TEXT) == "how long is the recovrey aftre the enndoscopy"
    RestoreOriginalText().process([message])
    assert message.get("text") == "how long is the recovrey aftre the enndoscopy"
    assert message.get(CORRECTED_TEXT) == "how long is the recovery after the endoscopy"
    assert ORIGINAL_TEXT not in message.data
    assert CORRECTED_TEXT in message.as_dict(only_output_properties=True)


def test_a_message_without_slips_is_left_exactly_as_it_is(corrector):
    message = run(corrector, "how long is the recovery after the endoscopy")
    assert message.get("text") == "how long is the recovery after the endoscopy"
    assert message.get(CORRECTED_TEXT) is None and message.get("triage")["read"] == "typed"


def test_the_stored_vocabulary_is_json(corrector, storage):
    with storage.read_from(Resource("speller")) as directory:
        vocabulary = json.loads((directory / "domain_vocabulary.json").read_text())
    assert vocabulary["recovery"] > 0 and all(isinstance(v, int) for v in vocabulary.values())


def _config_yml_corrector_settings() -> dict:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    entry = next(c for c in pipeline if c["name"].endswith("SpellingCorrector"))
    return {**SpellingCorrector.get_default_config(), **{k: v for k, v in entry.items() if k != "name"}}


def test_config_yml_context_step_is_stored_and_loaded_with_the_model(tmp_path):
    """config.yml's context step: the word-pair counts go into the model as JSON, and the loaded
    corrector reads a real-word slip in context while the typed text stays for the triage."""
    settings = _config_yml_corrector_settings()
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    component = SpellingCorrector.create(settings, storage, Resource("ctx"), context)
    component.train(load_data(str(ROOT / "data" / "nlu.yml")))
    with storage.read_from(Resource("ctx")) as directory:
        pairs = json.loads((directory / "domain_bigrams.json").read_text())
    assert pairs["how long"] > 0 and all(isinstance(v, int) for v in pairs.values())
    loaded = SpellingCorrector.load(settings, storage, Resource("ctx"), context)
    message = run(loaded, "hwo much does it cots")
    assert message.get(CORRECTED_TEXT) == "how much does it cost"
    assert message.get(WORD_STEP_TEXT) == "how much does it cots"  # the context step changed "cots"
    assert message.get("text") == "hwo much does it cots"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> SpellingCorrector:
    """A corrector with config.yml's settings (the context step on), trained on the training data."""
    settings = _config_yml_corrector_settings()
    storage = LocalModelStorage(tmp_path_factory.mktemp("shipped"))
    context = ExecutionContext(GraphSchema({}), "test")
    SpellingCorrector.create(settings, storage, Resource("shipped"), context).train(
        load_data(str(ROOT / "data" / "nlu.yml"))
    )
    return SpellingCorrector.load(settings, storage, Resource("shipped"), context)


@pytest.mark.parametrize(
    "typed, level",
    [
        ("cantt feeel my bum.", "emergency"),
        ("my legs are nt weak aftre surgry", "emergency"),
        ("i dnt want to be alive anymor", "crisis"),
    ],
)
def test_with_config_yml_settings_a_red_flag_the_word_step_shows_is_escalated(shipped, typed, level):
    message = run(shipped, typed)
    assert message.get("triage")["level"] == level and message.get("intent")["name"] == f"report_{level}"


def test_triage_reads_the_word_steps_text_when_the_context_step_changed_it():
    """The context step's reading alone would hide the red flag: the word step's reading decides."""
    message = Message(
        data={"text": "cantt feeel my bum.", CORRECTED_TEXT: "cantt feel my mum.", WORD_STEP_TEXT: "cant feel my bum."}
    )
    message.set("intent", {"name": "ask_recovery_time", "confidence": 0.9})
    TriageOverride(TriageOverride.get_default_config(), default_triage()).process([message])
    assert message.get("triage")["level"] == "emergency" and message.get("triage")["read"] == "word_step"
    assert message.get("intent")["name"] == "report_emergency"


def test_without_the_context_step_no_word_pairs_are_stored(corrector, storage):
    with storage.read_from(Resource("speller")) as directory:
        assert not (directory / "domain_bigrams.json").exists()


@pytest.mark.parametrize(
    "typed, level",
    [
        ("i cant feel my lges and i wet mysslef", "emergency"),
        ("my wuond is oozing pus and i hvae chills", "emergency"),
        ("i wnat to kill mysefl", "crisis"),
    ],
)
def test_a_red_flag_written_with_typos_is_still_escalated(corrector, typed, level):
    message = run(corrector, typed)
    assert message.get("triage")["level"] == level
    assert message.get("intent")["name"] == f"report_{level}"
    assert message.get("text") == typed  # the staff app and the tracker keep what was typed


@pytest.mark.parametrize(
    "typed",
    [
        "jumbness between my lsgs nad i xant lee",
        "i cat controll my bladder sinxe tnis orning",
    ],
)
def test_a_red_flag_that_the_typos_hide_from_the_typed_text_is_caught_in_the_corrected_one(corrector, typed):
    assert default_triage().assess(typed).level == "none"  # the typos alone hide it ...
    message = run(corrector, typed)
    assert message.get("triage")["level"] == "emergency"  # ... the corrected reading finds it
    assert message.get("triage")["read"] == "corrected"
    assert message.get("intent")["name"] == "report_emergency" and message.get("text") == typed


RED_FLAGS: List[str] = [
    "I cant feel my legs and I wet myself",
    "numbness between my legs and I cant pee since this morning",
    "i want to kill myself",
    "my wound is oozing pus and i have chills",
    "i cant control my bladder since this morning",
]


def test_a_typo_never_lowers_the_level_that_the_typed_text_has(corrector):
    """Over many seeded typo versions of red-flag messages: the pipeline's level is never less
    severe than the triage of exactly what was typed (the corrector cannot remove a red flag)."""
    order = ["crisis", "emergency", "urgent", "none"]
    triage = default_triage()
    for text in RED_FLAGS:
        for seed in range(25):
            typed = add_typos(text, seed, probability=0.5)
            message = run(corrector, typed)
            assert order.index(message.get("triage")["level"]) <= order.index(triage.assess(typed).level), typed


def test_with_slip_min_count_training_slips_leave_the_model_and_the_training_texts_are_corrected(tmp_path):
    """slip_min_count set: a slip seen once in the training texts is not stored as a clinic word, the
    training text is corrected as the classifier will see it at run time, and the loaded model
    corrects the same slip; off (the default) it stays a known word."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    typed = "can i spaek to the surgoen"
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    for setting, expected in ((2, "can i speak to the surgeon"), (0, typed)):
        settings = {**SpellingCorrector.get_default_config(), "slip_min_count": setting}
        extra = Message(data={"text": typed, "intent": "request_human"})
        training = TrainingData(load_data(str(ROOT / "data" / "nlu.yml")).training_examples + [extra])
        resource = Resource(f"slips{setting}")
        component = SpellingCorrector.create(settings, storage, resource, context)
        component.train(training)
        with storage.read_from(resource) as directory:
            vocabulary = json.loads((directory / "domain_vocabulary.json").read_text())
        assert ("surgoen" in vocabulary) == (setting == 0) and vocabulary["surgeon"] > 0
        component.process_training_data(training)
        assert extra.get("text") == expected
        loaded = SpellingCorrector.load(settings, storage, resource, context)
        assert run(loaded, typed).get(CORRECTED_TEXT) == (None if setting == 0 else expected)


def test_config_corrects_first_restores_before_triage_and_triage_stays_last():
    names = [c["name"] for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    if "clinic_nlu.spelling_corrector.SpellingCorrector" not in names:
        pytest.fail("config.yml has no spelling corrector")
    assert names[-1] == "clinic_nlu.triage_component.TriageOverride"
    assert names[-2] == "clinic_nlu.spelling_corrector.RestoreOriginalText"
    assert names.index("clinic_nlu.spelling_corrector.SpellingCorrector") < names.index("WhitespaceTokenizer")


@pytest.mark.integration  # a trained model
def test_the_trained_model_answers_typed_slips_and_escalates_a_red_flag_hidden_by_typos():
    """The shipped pipeline (models/): the corrected text reaches the classifier, the typed text
    stays the message's text, and a red flag visible only after correction is escalated."""
    import asyncio

    from rasa.core.agent import Agent

    model = ROOT / "models" / "spine-clinic.tar.gz"
    if not model.exists():
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    agent = Agent.load(str(model))

    async def parse(text: str) -> dict:
        return await agent.parse_message(text)

    cost = asyncio.run(parse("how mmuch does teh operatoin ocst"))
    assert cost["intent"]["name"] == "ask_cost"
    assert cost["text"] == "how mmuch does teh operatoin ocst"
    assert cost["text_corrected"] == "how much does the operation cost"
    real_word = asyncio.run(parse("waht does it cots"))  # "cots" is an English word: read in context
    assert real_word["text_corrected"] == "what does it cost" and real_word["intent"]["name"] == "ask_cost"
    assert real_word["text"] == "waht does it cots"
    slipped = asyncio.run(parse("cantt feeel my bum."))
    assert slipped["intent"]["name"] == "report_emergency" and slipped["text"] == "cantt feeel my bum."
    hidden = asyncio.run(parse("i cat controll my bladder sinxe tnis orning"))
    assert hidden["intent"]["name"] == "report_emergency" and hidden["triage"]["read"] == "corrected"
    assert hidden["text"] == "i cat controll my bladder sinxe tnis orning"


@pytest.mark.integration  # the whole triage tuning corpus, three typo versions of each message
def test_over_the_tuning_corpus_the_context_step_never_makes_triage_less_severe(shipped):
    """Every tuning message (clinic_triage/corpus/tune*.yml) with seeds 0-2 of the typo noise: the
    pipeline's level with config.yml's corrector is never less severe than with the word step alone
    (typed and word-step text read), nor than the typed text's."""
    texts = [m["text"] for m in semantic.load_corpus(sorted((ROOT / "clinic_triage" / "corpus").glob("tune*.yml")))]
    training = [m.get("text") for m in load_data(str(ROOT / "data" / "nlu.yml")).training_examples]
    word_step = build_speller(training, **{**speller_settings(_config_yml_corrector_settings()), "ratios": (0, 0, 0)})
    triage = default_triage()
    severity = {level: -index for index, level in enumerate(LEVELS)}  # higher: more severe
    lower, context_changed = [], 0
    for text in texts:
        for seed in range(3):
            typed = add_typos(text, seed)
            corrected = word_step.correct(typed)[0]
            message = run(shipped, typed)
            context_changed += message.get(WORD_STEP_TEXT) is not None
            level = severity[message.get("triage")["level"]]
            without = max(severity[triage.assess(typed).level], severity[triage.assess(corrected).level])
            if level < without:
                lower.append(typed)
    assert context_changed > 50  # the context step did change texts
    assert not lower, lower[:10]
