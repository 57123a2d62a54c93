"""llmctl-example: an offline provider plugin for llmctl, to copy when writing your own.

Installed, it serves the provider ``example`` through the entry point
``example = "llmctl_example:ExampleLLM"`` in the group ``litellm.providers``::

    import llmctl

    llmctl.completion(model="example/echo", messages=[{"role": "user", "content": "Hi"}])
"""

from __future__ import annotations

from llmctl_example.handler import ExampleLLM

__all__ = ["ExampleLLM", "__version__"]

__version__ = "0.1.0"
