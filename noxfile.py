"""Project sessions: ``nox -s tests``, ``lint``, ``docs``, ``bench``."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the whole test suite (slow cases included), then each first-party plugin's.

    A plugin's suite (the conformance kit among it) calls the plugin through its entry
    point, so the plugin is installed beside llmctl first, as users install it: a built
    wheel (``pip install ./plugins/llmctl-ollama``), not an editable checkout.
    """
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)
    for plugin in sorted(Path("plugins").iterdir()):
        # --no-deps: a plugin needs only llmctl, which is this checkout (force-reinstalling
        # with dependencies would replace it with the index's copy).
        session.install("--force-reinstall", "--no-deps", str(plugin))
        session.run("pytest", str(plugin))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check formatting, lint and types (mypy strict, plus the assert_type pins)."""
    session.install("-e", ".[test]", "ruff", "mypy", "types-PyYAML")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("mypy")
    session.run("mypy", "tests/typing")
    for plugin in sorted(Path("plugins").iterdir()):
        session.run("mypy", "--config-file", str(plugin / "pyproject.toml"), str(plugin / "src"))


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Check that the docs' Python examples run."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/test_docs.py", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Measure llmctl side by side with LiteLLM and a bare baseline (``-- --quick``).

    The core benchmark times calls and streams; the plugins benchmark times dispatch with 1
    and 50 installed plugins and the CLI's start-up against ``litellm --help``; the proxy
    benchmark loads ``llmctl serve``, LiteLLM's proxy and a bare Starlette app with wrk; the
    backends benchmark times the ``openai_compatible`` plugin against a raw httpx call to the
    same fake server.
    """
    # LiteLLM only ever enters this venv, pinned (benchmarks/requirements.txt).
    session.install("-e", ".[proxy]", "-r", "benchmarks/requirements.txt")
    # After llmctl, so that the plugin's `llmctl>=0.2` is this repository's llmctl.
    session.install("-e", "plugins/llmctl-openai-compatible")
    session.run("python", "-m", "benchmarks.core.run", *session.posargs)
    session.run("python", "-m", "benchmarks.plugins.run", *session.posargs)
    session.run("python", "-m", "benchmarks.proxy.run", *session.posargs)
    session.run("python", "-m", "benchmarks.backends.run", *session.posargs)
