"""Side-by-side core benchmark: llmctl against LiteLLM and against the bare handler.

Modules:

- :mod:`benchmarks.core.config`: iteration counts, targets and the names of the measurements.
- :mod:`benchmarks.core.handlers`: the prebuilt-response ``CustomLLM`` handler, written once and
  bound to whichever library is under test.
- :mod:`benchmarks.core.worker`: runs in a subprocess, times one library (or the bare handler).
- :mod:`benchmarks.core.report`: medians, overheads, ratios, PASS/FAIL, table and markdown.
- :mod:`benchmarks.core.run`: the entry point; spawns the workers in interleaved rounds.
"""
