"""Benchmarks for llmctl, run by ``nox -s bench`` (see ``benchmarks/README.md``)."""
