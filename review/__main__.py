"""``python -m review`` serves the web app (same as ``python -m review.cli serve``)."""

from review.app import main

main()
