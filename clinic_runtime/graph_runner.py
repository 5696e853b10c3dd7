"""A graph runner that runs Rasa's prediction graph in a precomputed order, without dask.

Rasa 3.6 runs its prediction graph - the NLU pipeline for every message, the policies for every
action prediction (two or more per turn) - with ``DaskGraphRunner``: each run recomputes the minimal
sub-graph for the targets (new ``GraphSchema`` objects), builds a dask task dict and hands it to
``dask.get``, which orders and executes it with its generic local scheduler. For a graph of a dozen
nodes that bookkeeping was a noticeable share of the Rasa server's CPU under load (py-spy; BENCHMARKS.md).

:class:`SequentialGraphRunner` computes, once per target list, the nodes needed in dependency order
and then calls the same ``GraphNode`` objects with the same arguments as dask would: each node gets
the ``(node name, output)`` pairs of the nodes it needs, run inputs enter as ``(input name, value)``
pairs, and the result maps each target to its output. Errors propagate the same way (a
``RuntimeError`` becomes ``GraphRunError``). tests/test_graph_runner.py checks that both runners
give the same parse results and action predictions on real messages and conversations.

The Rasa server uses it through :func:`install`, called when the patient channel is created (before
the model is loaded); training and ``rasa test`` keep Rasa's runner.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

_Plan = List[Tuple[Text, Tuple[Text, ...]]]


class SequentialGraphRunner(DaskGraphRunner):
    """``DaskGraphRunner`` with a cached execution order instead of dask (see module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[Text, ...], Tuple[_Plan, frozenset]] = {}

    def _plan(self, targets: Sequence[Text]) -> Tuple[_Plan, frozenset]:
        """Nodes of the minimal graph for ``targets``, each after the nodes it needs."""
        schema = self._graph_schema.minimal_graph_schema(list(targets))
        order: _Plan = []
        state: Dict[Text, bool] = {}  # False: being visited, True: placed

        def visit(name: Text) -> None:
            if state.get(name) is True:
                return
            if state.get(name) is False:
                raise GraphRunError(f"Cycle in the graph at '{name}'.")
            state[name] = False
            needs = tuple(schema.nodes[name].needs.values())
            for need in needs:
                if need in schema.nodes:
                    visit(need)
            state[name] = True
            order.append((name, needs))

        for target in targets:
            visit(target)
        return order, frozenset(schema.nodes)

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        """Runs the graph (same contract as ``DaskGraphRunner.run``)."""
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        planned = self._plans.get(run_targets)
        if planned is None:
            planned = self._plans[run_targets] = self._plan(run_targets)
        plan, node_names = planned
        values: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in node_names:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            values[name] = (name, value)  # as DaskGraphRunner._add_inputs_to_graph
        try:
            for name, needs in plan:
                if name in values:  # an input of the same name replaces the node, as in dask
                    continue
                # An argument that is neither a node nor an input reaches the node as the bare string,
                # as dask passes unknown keys through.
                values[name] = self._instantiated_nodes[name](*[values.get(n, n) for n in needs])
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(values[target] for target in run_targets)


def install() -> None:
    """Make the Rasa server's processor load models with :class:`SequentialGraphRunner` (idempotent)."""
    import rasa.core.processor

    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]
