"""``python -m llmctl``: the command line."""

from llmctl.cli import main

main()
