"""A call-hook plugin: appends one line per hook to the file ``$CALLLOG_FILE`` names.

Lines read ``pre_call <model>`` and ``post_call <model> <content>``; without the variable set
the hooks do nothing, so the plugin is harmless in every other test.
"""

from __future__ import annotations

import os
from typing import Any

import llmctl


def _log(line: str) -> None:
    path = os.environ.get("CALLLOG_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")


@llmctl.hookimpl
def pre_call(request: Any) -> None:
    """Log the model about to be called."""
    _log(f"pre_call {request.model}")


@llmctl.hookimpl
def post_call(request: Any, response: Any) -> None:
    """Log the model and the content of its answer."""
    _log(f"post_call {request.model} {response.choices[0].message.content}")
