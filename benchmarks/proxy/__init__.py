"""Proxy benchmark: ``llmctl serve`` vs LiteLLM's proxy vs a bare Starlette ceiling, over HTTP.

Modules: ``run`` (the command and its rounds), ``servers`` (start, check, stop, memory),
``load`` (wrk and ``post.lua``), ``venv`` (LiteLLM's cached proxy venv), ``report`` (medians,
ratios, PASS/FAIL, tables), ``config`` (load points and targets), ``ceiling`` (the bare app).
The handler both proxies serve is ``handler_llmctl.py`` / ``handler_litellm.py``, named in
``llmctl_config.yaml`` / ``litellm_config.yaml``.
"""
