"""llmctl-http: call any in-house REST API from llmctl, described in config.yaml, not in code.

Installed, it serves the provider ``http`` through the entry point
``http = "llmctl_http:HttpLLM"`` in the group ``litellm.providers``. A model's
``litellm_params`` describe the API under the key ``http``::

    model_list:
      - model_name: acme-chat
        litellm_params:
          model: http/acme-chat
          api_base: https://llm.internal.acme
          http:
            path: /v2/generate/{model}
            body: {input: "{prompt}", params: {max_len: "{max_tokens}"}}
            response: {text: output.text}

:func:`load_description` validates a description without calling anything (in a test of
your config, say). docs/providers/http.md documents every key.
"""

from __future__ import annotations

from llmctl_http.description import load_description
from llmctl_http.handler import HttpLLM
from llmctl_http.schema import ApiDescription

__all__ = ["ApiDescription", "HttpLLM", "__version__", "load_description"]

__version__ = "0.1.0"
