"""SequentialGraphRunner (clinic_runtime/graph_runner.py) gives what Rasa's DaskGraphRunner gives, on the real model."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from clinic_runtime import graph_runner
from clinic_runtime.graph_runner import SequentialGraphRunner
from tests.conftest import ROOT, parse_probe_texts

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("rasa_restored")]

MODEL = ROOT / "models" / "spine-clinic.tar.gz"


@pytest.fixture(scope="module")
def agents() -> Dict[str, Agent]:
    if not MODEL.exists():
        pytest.skip("no trained model (make train)")
    import rasa.core.processor

    dask_agent = Agent.load(str(MODEL))
    original = rasa.core.processor.DaskGraphRunner
    try:
        graph_runner.install()
        sequential_agent = Agent.load(str(MODEL))
    finally:
        rasa.core.processor.DaskGraphRunner = original
    assert type(dask_agent.processor.graph_runner) is DaskGraphRunner
    assert type(sequential_agent.processor.graph_runner) is SequentialGraphRunner
    return {"dask": dask_agent, "sequential": sequential_agent}


@pytest.mark.asyncio
async def test_both_runners_parse_every_message_the_same(agents):
    async def outcome(agent: Agent, text: str) -> Any:
        try:
            return await agent.parse_message(text)
        except Exception as error:  # noqa: BLE001 - the same failure is the same outcome
            return type(error).__name__, str(error)

    for text in parse_probe_texts():
        dask_parse = await outcome(agents["dask"], text)
        assert await outcome(agents["sequential"], text) == dask_parse, text


def _story_trackers(agent: Agent) -> List[Any]:
    from rasa.core.training import load_data as load_stories

    domain = agent.domain
    return load_stories(str(ROOT / "tests" / "test_stories.yml"), domain, augmentation_factor=0)


@pytest.mark.asyncio
async def test_both_runners_predict_the_same_actions_through_every_test_story(agents):
    domain = agents["dask"].domain
    trackers = _story_trackers(agents["dask"])
    assert len(trackers) >= 10
    points = 0
    for story in trackers:
        tracker = DialogueStateTracker(story.sender_id, domain.slots)
        for event in story.events:
            if isinstance(event, ActionExecuted) and tracker.latest_action_name is not None:
                predictions = [
                    agents[name].processor._predict_next_with_tracker(tracker) for name in ("dask", "sequential")
                ]
                dask_prediction, sequential_prediction = predictions
                assert sequential_prediction.policy_name == dask_prediction.policy_name
                assert sequential_prediction.probabilities == dask_prediction.probabilities
                assert sequential_prediction.events == dask_prediction.events
                points += 1
            tracker.update(event)
    assert points >= 50


@pytest.mark.asyncio
async def test_handle_message_gives_the_same_replies(agents):
    """Whole turns without an action server: both fail the custom action the same way."""
    replies = {}
    for name, agent in agents.items():
        replies[name] = [
            await agent.handle_message(UserMessage(text, sender_id="same-patient")) for text in ["hi", "thanks"]
        ]
    assert replies["sequential"] == replies["dask"]


def test_an_input_named_like_a_node_is_refused(agents):
    runner = agents["sequential"].processor.graph_runner
    node = next(iter(runner._graph_schema.nodes))
    with pytest.raises(GraphRunError, match="clashes"):
        runner.run(inputs={"__message__": node}, targets=[agents["sequential"].processor.model_metadata.nlu_target])


def test_a_failing_node_is_a_graph_run_error(agents, monkeypatch):
    runner = agents["sequential"].processor.graph_runner
    target = agents["sequential"].processor.model_metadata.nlu_target
    name = next(n for n, _ in runner._plan([target])[0] if n != target)

    def broken(*_args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(runner._instantiated_nodes, name, broken)
    with pytest.raises(GraphRunError):
        runner.run(inputs={"__message__": [UserMessage("hi")]}, targets=[target])
