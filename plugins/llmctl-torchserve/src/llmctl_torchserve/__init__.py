"""llmctl-torchserve: call models served by TorchServe as if they were OpenAI's.

Installed, it serves the provider ``torchserve`` through the entry point
``torchserve = "llmctl_torchserve:TorchServeLLM"`` in the group ``litellm.providers``::

    import llmctl

    llmctl.completion(
        model="torchserve/llama",  # or "torchserve/llama/2.0" for a version
        messages=[{"role": "user", "content": "Hi"}],
        api_base="http://localhost:8080",
    )

See docs/providers/torchserve.md for the request body, the answer shapes and the options.
"""

from __future__ import annotations

from llmctl_torchserve.handler import TorchServeLLM

__all__ = ["TorchServeLLM", "__version__"]

__version__ = "0.1.0"
