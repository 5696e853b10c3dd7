"""Keep Python's full garbage collections short in the Rasa server.

After the model is loaded the server process holds about half a million objects that live as long
as the process: Rasa's domain and graph, TensorFlow's and ONNX Runtime's Python objects, the
components' vocabularies. CPython's full (generation 2) collection walks every tracked object; with
the model loaded one takes hundreds of milliseconds (timed with ``gc.collect()`` right after
``Agent.load``; BENCHMARKS.md, "Figures behind the code"), during which the event loop answers nobody.
Under load such pauses came every few seconds and were the tail of the latency distribution.

:func:`freeze_loaded_heap` runs once when the server has started (the agent is loaded by then): one
collection to drop what loading left behind, then ``gc.freeze()``, which moves every surviving object
to a permanent generation that later collections skip. Objects created afterwards (conversations,
events, requests) are collected as before; what was frozen stays alive anyway for the life of the
process. The same technique is described in the ``gc.freeze`` documentation (to be used after startup
in a server, before forking workers).
"""

from __future__ import annotations

import gc


def freeze_loaded_heap() -> int:
    """Collect once, then freeze every object that survived; returns how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
