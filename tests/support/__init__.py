"""What the tests and the benchmarks share to run the project's servers for real.

- :mod:`tests.support.process`: free loopback ports, one server process (command, environment, log
  file) started in its own process group, a readiness condition polled until a deadline (the log's
  tail in the error when it is not met), and teardown of the whole group.
- :mod:`tests.support.servers`: the action server and the Rasa server of a checkout.
- :mod:`tests.support.cluster`: the scale-out stack of scripts/run_cluster.sh.
- :mod:`tests.support.review_app`: the staff review app and a browser-like client for it.
- :mod:`tests.support.not_covered`: the held-out "not covered" sets and how a reply to them is judged.

``bench/`` imports this package and nothing else from ``tests``.
"""
