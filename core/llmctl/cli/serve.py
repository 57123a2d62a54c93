"""``llmctl serve``: the OpenAI-compatible proxy on a config.yaml, as ``litellm --config``."""

from __future__ import annotations

import click

__all__ = ["serve"]


@click.command()
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    help="A LiteLLM-style config.yaml. Without one, every installed provider is served as "
    "provider/model, without a key, on loopback only.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", default=4000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes, each serving the same config.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="One log line per request, with its request id.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--graceful-timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds to let in-flight requests and streams finish on shutdown "
    "[default: until they end].",
)
def serve(
    config_path: str | None,
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    log_level: str,
    graceful_timeout: float | None,
) -> None:
    """Serve OpenAI's API (/v1/chat/completions, /v1/embeddings, ...) over llmctl's providers."""
    try:
        from llmctl.proxy.config import ConfigError
        from llmctl.proxy.server import serve as run
    except ImportError as exc:
        raise click.ClickException(
            f"llmctl serve needs the proxy extra ({exc.name} is missing): "
            "pip install 'llmctl[proxy]>=0.2'"
        ) from None
    try:
        run(
            config_path,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level=log_level,
            graceful_timeout=graceful_timeout,
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
