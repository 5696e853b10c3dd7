"""clinic_nlu.windowed_policies: predicting from a window gives the same actions as the whole history.

A long real conversation (the trained model in models/, the real action server, every kind of turn:
topics, "tell me more", yes/no, personal questions, fallbacks, the callback form started, stopped
and completed, emergencies) is replayed event by event into one growing tracker, as the tracker
store hands it to the policies. At every point where Rasa predicts an action, the windowed
policies (with a window of 2 turns, far smaller than in production, to stress it) must give the
same probabilities as Rasa's own RulePolicy and MemoizationPolicy on the whole history.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, Iterator, List

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from clinic_nlu.windowed_policies import WindowedMemoizationPolicy, WindowedRulePolicy, _needed_states, windowed
from tests.conftest import ROOT
from tests.support.servers import running_servers

pytestmark = pytest.mark.integration

SCRIPT = [
    "hi",
    "how long is recovery",
    "and the cost?",
    "tell me more",
    "yes",
    "no thanks",
    "is it safe",
    "will i end up paralysed",
    "i am pregnant can i have it",
    "no",
    "asdf qwer",
    "zxcv bnm",
    "what is the scar like",
    "yes please",
    "i want to talk to a person",
    "yes",
    "Anna Meier",
    "call me",
    "+41 44 123 45 67",
    "weekday mornings",
    "thanks",
    "how does it compare with open surgery",
    "tell me more",
    "i want to speak to someone",
    "yes",
    "Anna",
    "stop",
    "what about laser treatment",
    "my back hurts, is this for me",
    "i cant control my bladder since this morning",
    "ok",
    "are you a robot",
    "what anaesthesia is used",
    "i want to speak to someone",
    "no",
    "bye",
]


@pytest.fixture(scope="module")
def conversation(tmp_path_factory) -> Iterator[Dict[str, Any]]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    workdir = tmp_path_factory.mktemp("window")
    with running_servers(workdir, extra_env={"PATIENT_SESSION_SECRET": uuid.uuid4().hex}) as servers:
        agent = Agent.load(
            str(ROOT / "models" / "spine-clinic.tar.gz"),
            action_endpoint=EndpointConfig(f"{servers.action_url}/webhook"),
        )
        sender = "window-test"

        async def talk() -> DialogueStateTracker:
            for _ in range(3):  # long enough for many windows
                for text in SCRIPT:
                    await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
            return await agent.tracker_store.retrieve(sender)

        tracker = asyncio.run(talk())
        yield {"agent": agent, "tracker": tracker}


def policies(agent: Agent) -> List[Any]:
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    found = [n._component for n in nodes if isinstance(n._component, (WindowedRulePolicy, WindowedMemoizationPolicy))]
    assert {type(p) for p in found} == {WindowedRulePolicy, WindowedMemoizationPolicy}, "config.yml uses them"
    return found


def test_windowed_predictions_equal_whole_history_predictions(conversation):
    agent, full = conversation["agent"], conversation["tracker"]
    domain = agent.domain
    events = list(full.events)
    assert sum(1 for e in events if e.type_name == "user") == 3 * len(SCRIPT)
    stressed = []
    for policy in policies(agent):
        policy.config = {**policy.config, "window_turns": 2, "window_min_events": 0}
        stressed.append(policy)
    growing = DialogueStateTracker(full.sender_id, domain.slots)
    compared = windowed_used = 0
    for event in events:
        if isinstance(event, ActionExecuted):  # Rasa predicted this action from the tracker so far
            for policy in stressed:
                parent = RulePolicy if isinstance(policy, WindowedRulePolicy) else MemoizationPolicy
                ours = policy.predict_action_probabilities(growing, domain)
                theirs = parent.predict_action_probabilities(policy, growing, domain)
                assert np.allclose(ours.probabilities, theirs.probabilities), (
                    type(policy).__name__,
                    len(growing.events),
                )
                assert ours.is_no_user_prediction == theirs.is_no_user_prediction
                compared += 1
            windowed_used += windowed(growing, 2, 0, *_needed_states(stressed[0])) is not growing
        growing.update(event)
    assert compared > 400
    print(f"compared {compared} predictions; window used at {windowed_used} of them")
    assert windowed_used > 100, "the window was actually used"


def test_a_short_conversation_is_not_windowed():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events(
        "s",
        [
            ActionExecuted("action_listen"),
            UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ],
        slots=domain.slots,
    )
    assert windowed(tracker, 8, 120) is tracker
