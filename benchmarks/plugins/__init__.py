"""Plugin benchmark: dispatch with 1 versus 50 installed providers, and CLI start-up time.

Modules:

- :mod:`benchmarks.plugins.config`: counts, targets and the provider names.
- :mod:`benchmarks.plugins.wheels`: hand-builds the provider plugin wheels (no build backend).
- :mod:`benchmarks.plugins.venvs`: the cached venvs (llmctl from this repository plus 1 or 50
  plugins) and the interpreter that runs ``litellm --help``.
- :mod:`benchmarks.plugins.worker`: runs inside a venv, times ``llmctl.completion`` to an
  entry-point provider against the provider's handler called directly.
- :mod:`benchmarks.plugins.report`: medians, ratios, PASS/FAIL, table, markdown and JSON.
- :mod:`benchmarks.plugins.run`: the entry point; interleaves workers and whole-process timings.
"""
