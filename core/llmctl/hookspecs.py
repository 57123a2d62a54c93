"""The pluggy hook specs: the provider contract and the call hooks.

A provider plugin may be a module of ``@llmctl.hookimpl`` functions named after
:class:`ProviderSpecs`; each function names only the arguments it wants. A call-hook plugin
implements :class:`CallHookSpecs` and sees every call. docs/hooks.md renders these docstrings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import pluggy

if TYPE_CHECKING:
    from llmctl.exceptions import LLMCtlError
    from llmctl.request import CallRequest

__all__ = ["PROJECT", "CallHookSpecs", "ProviderSpecs", "hookimpl", "hookspec"]

#: The pluggy project name: markers set ``llmctl_impl`` / ``llmctl_spec`` attributes.
PROJECT: Final = "llmctl"

hookspec: Final = pluggy.HookspecMarker(PROJECT)
#: The marker plugin authors put on their hook functions: ``@llmctl.hookimpl``.
hookimpl: Final = pluggy.HookimplMarker(PROJECT)


class ProviderSpecs:
    """The operations a provider plugin implements; one call reaches one provider's hook."""

    @hookspec(firstresult=True)
    def completion(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: Any,
        print_verbose: Any,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: bool,
        litellm_params: dict[str, Any],
        logger_fn: Any,
        headers: dict[str, str],
        timeout: Any,
        client: Any,
    ) -> Any:
        """Answer a chat completion: return a ``ModelResponse`` or a dict of its fields.

        ``model`` is the part of the model string after ``provider/``; ``optional_params``
        holds the call's OpenAI parameters and keywords of its own.
        """

    @hookspec(firstresult=True)
    def acompletion(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: Any,
        print_verbose: Any,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: bool,
        litellm_params: dict[str, Any],
        logger_fn: Any,
        headers: dict[str, str],
        timeout: Any,
        client: Any,
    ) -> Any:
        """Answer a chat completion asynchronously (an ``async def``); as ``completion``."""

    @hookspec(firstresult=True)
    def streaming(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: Any,
        print_verbose: Any,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: bool,
        litellm_params: dict[str, Any],
        logger_fn: Any,
        headers: dict[str, str],
        timeout: Any,
        client: Any,
    ) -> Any:
        """Stream a chat completion: return an iterator of ``GenericStreamingChunk`` dicts."""

    @hookspec(firstresult=True)
    def astreaming(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: Any,
        print_verbose: Any,
        encoding: Any,
        api_key: str | None,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: bool,
        litellm_params: dict[str, Any],
        logger_fn: Any,
        headers: dict[str, str],
        timeout: Any,
        client: Any,
    ) -> Any:
        """Stream a chat completion asynchronously: an async iterator of chunk dicts."""

    @hookspec(firstresult=True)
    def image_generation(
        self,
        model: str,
        prompt: str,
        api_key: str | None,
        api_base: str | None,
        model_response: Any,
        optional_params: dict[str, Any],
        litellm_params: dict[str, Any],
        logging_obj: Any,
        timeout: Any,
        client: Any,
    ) -> Any:
        """Generate images from ``prompt``: return an ``ImageResponse`` or a dict of it."""

    @hookspec(firstresult=True)
    def aimage_generation(
        self,
        model: str,
        prompt: str,
        api_key: str | None,
        api_base: str | None,
        model_response: Any,
        optional_params: dict[str, Any],
        litellm_params: dict[str, Any],
        logging_obj: Any,
        timeout: Any,
        client: Any,
    ) -> Any:
        """Generate images asynchronously; as ``image_generation``."""

    @hookspec(firstresult=True)
    def embedding(
        self,
        model: str,
        input: Any,
        model_response: Any,
        print_verbose: Any,
        logging_obj: Any,
        optional_params: dict[str, Any],
        litellm_params: dict[str, Any],
        api_key: str | None,
        api_base: str | None,
        timeout: Any,
        client: Any,
        headers: dict[str, str],
    ) -> Any:
        """Embed ``input`` (a string or a list): return an ``EmbeddingResponse`` or a dict."""

    @hookspec(firstresult=True)
    def aembedding(
        self,
        model: str,
        input: Any,
        model_response: Any,
        print_verbose: Any,
        logging_obj: Any,
        optional_params: dict[str, Any],
        litellm_params: dict[str, Any],
        api_key: str | None,
        api_base: str | None,
        timeout: Any,
        client: Any,
        headers: dict[str, str],
    ) -> Any:
        """Embed ``input`` asynchronously; as ``embedding``."""

    @hookspec(firstresult=True)
    def get_supported_openai_params(self, model: str) -> list[str] | None:
        """Return the OpenAI parameters ``model`` accepts, or None to accept every one.

        A call passing another OpenAI parameter fails with ``UnsupportedParamsError``, or
        has it dropped when the call says ``drop_params=True``.
        """

    @hookspec(firstresult=True)
    def health_check(self, api_base: str | None, api_key: str | None, timeout: float) -> Any:
        """Ask the backend whether it is up without billing a completion (sync or async).

        Return what it said (a str or a dict); raise when it is down.
        """


class CallHookSpecs:
    """Hooks any plugin may implement to see every call, in pluggy's order.

    Implementations run last registered first (``tryfirst``/``trylast`` move them); entry
    point plugins register before those registered in code, so code runs first. ``pre_call``
    and ``post_call`` chain: each gets what the previous one returned, so they cannot be
    pluggy wrappers.
    """

    @hookspec
    def pre_call(self, request: CallRequest) -> CallRequest | None:
        """Inspect or rewrite a call before its provider is looked up, or refuse it by raising.

        :param request: the call: ``payload`` (the messages, prompt or input),
            ``optional_params``, ``arguments``, ``model``; it may be changed in place.
        :returns: a replacement request (the next hook gets it), or None to keep this one.
            An ``llmctl.exceptions`` error raised here reaches the caller as it is.
        """

    @hookspec
    def post_call(self, request: CallRequest, response: Any) -> Any | None:
        """See or rewrite a call's response before the caller gets it.

        :param response: the ``ModelResponse``, ``ImageResponse`` or ``EmbeddingResponse``;
            it may be changed in place.
        :returns: a replacement response (the next hook gets it), or None to keep this one.
            For ``stream=True`` it runs once, after the last chunk, with the response rebuilt
            from the chunks; what it returns or changes then reaches no caller.
        """

    @hookspec
    def on_error(self, request: CallRequest, error: LLMCtlError) -> None:
        """See the error a call is about to raise; the error still reaches the caller."""
