"""The ``llmctl`` command line."""

from __future__ import annotations

import click

import llmctl
from llmctl.cli.providers import providers
from llmctl.cli.serve import serve

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(llmctl.__version__, prog_name="llmctl")
def main() -> None:
    """llmctl: one OpenAI-shaped interface in front of any LLM backend."""


main.add_command(providers)
main.add_command(serve)
