"""The conformance kit: one pytest base class that checks a provider keeps llmctl's contract.

Subclass :class:`ProviderConformance` in your plugin's tests and name a model::

    from llmctl.testing import ProviderConformance


    class TestExample(ProviderConformance):
        model = "example/echo"

pytest then runs the standard suite against the installed provider, through llmctl as users
call it: sync and async completion, both stream kinds and the shape of their chunks, usage,
image generation and embeddings (or, where the provider does not declare them, the
``UnsupportedOperationError`` a caller gets), the OpenAI parameters it declares, its health
check, and HTTP error statuses mapped to llmctl's error classes. Every failure says what the
provider did and what the contract is.

The kit needs pytest (``pip install pytest``), and nothing else: async calls run in
``asyncio.run`` inside plain tests, so pytest-asyncio is not required. llmctl itself never
imports this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final, cast

try:
    import pytest
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "llmctl.testing is a pytest kit; install pytest to use it: pip install pytest"
    ) from exc

import llmctl
from llmctl._conformance import (
    FINISH_REASONS,
    check_embedding_response,
    check_image_response,
    check_model_response,
    check_stream,
    fail,
    require,
    require_stream,
)
from llmctl.exceptions import (
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    LLMCtlError,
    NotFoundError,
    PermissionDeniedError,
    ProviderNotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
    UnprocessableEntityError,
    UnsupportedOperationError,
    UnsupportedParamsError,
)
from llmctl.health import check_provider
from llmctl.registry import Provider, registry
from llmctl.request import CALL_ARGUMENTS
from llmctl.types.responses import (
    EmbeddingResponse,
    ImageResponse,
    ModelResponse,
    ModelResponseStream,
)

__all__ = ["ERROR_CLASSES", "FINISH_REASONS", "ProviderConformance"]

#: The HTTP statuses the kit checks, and the error class a caller must receive for each.
ERROR_CLASSES: Final[Mapping[int, type[LLMCtlError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: Timeout,
    422: UnprocessableEntityError,
    429: RateLimitError,
    500: InternalServerError,
    503: ServiceUnavailableError,
}

_CHAT: Final = frozenset({"completion", "acompletion", "streaming", "astreaming"})
_IMAGES: Final = frozenset({"image_generation", "aimage_generation"})
_EMBEDDINGS: Final = frozenset({"embedding", "aembedding"})
_EMBEDDING_INPUT: Final = ("The quick brown fox", "jumps over the lazy dog")
_IMAGE_PROMPT: Final = "a red square on a white background"
# OpenAI parameters the unsupported-parameter check may send, each with a harmless value.
_PROBE_PARAMS: Final[tuple[tuple[str, Any], ...]] = (
    ("presence_penalty", 0.0),
    ("frequency_penalty", 0.0),
    ("top_p", 1.0),
    ("seed", 1),
    ("user", "llmctl-conformance"),
    ("temperature", 0.0),
    # Harmless values of parameters that backends with many knobs still lack.
    ("n", 1),
    ("logit_bias", {}),
    ("parallel_tool_calls", True),
)
_STREAM_ERROR_STATUS: Final = 429


class ProviderConformance:
    """Base class of a provider's conformance tests: subclass it and set :attr:`model`.

    Every ``test_*`` method is one rule of the contract. Configure the suite with class
    attributes, and override :meth:`error_kwargs` to have error mapping checked.
    """

    #: Required: the chat model to call, ``"<provider>/<model>"``; the provider is its prefix.
    model: ClassVar[str] = ""
    #: The model for image generation tests; by default :attr:`model`.
    image_model: ClassVar[str | None] = None
    #: The model for embedding tests; by default :attr:`model`.
    embedding_model: ClassVar[str | None] = None
    #: Extra keywords for every call (``api_base``, ``api_key``, a mock server's address).
    call_kwargs: ClassVar[Mapping[str, Any]] = {}
    #: A handler (``CustomLLM`` instance or subclass) registered in code under the provider
    #: name for each test; by default the suite calls the plugin installed through its
    #: ``litellm.providers`` entry point, which is what users get after ``pip install``.
    handler: ClassVar[object | None] = None
    #: The chat messages the suite sends; the answer must have non-empty content.
    messages: ClassVar[Sequence[Mapping[str, Any]]] = (
        {"role": "user", "content": "Say hello in five words."},
    )
    #: True when one request always gets one answer (an echo, a seeded mock): the suite then
    #: also checks that streamed text equals the complete answer's text.
    deterministic: ClassVar[bool] = False

    def error_kwargs(self, status_code: int) -> dict[str, Any] | None:
        """Return call keywords that make the provider fail with HTTP ``status_code``.

        Override it to have error mapping checked, for example by pointing ``api_base`` at a
        mock server that answers that status, or with a parameter of your own. The default
        returns None: the error tests are then skipped, with a reason saying so.

        :param status_code: one of :data:`ERROR_CLASSES`' statuses.
        :returns: keywords merged over :attr:`call_kwargs`, or None to skip that status.
        """
        return None

    # -- setup ---------------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _conformance_provider(self) -> Iterator[None]:
        """Register :attr:`handler` in code for one test (if set); restore the map after."""
        __tracebackhide__ = True
        name = self._provider_name()
        saved = llmctl.custom_provider_map
        handler = self.handler
        if handler is not None:
            if isinstance(handler, type):
                handler = handler()
            others = [
                e for e in saved if not (isinstance(e, Mapping) and e.get("provider") == name)
            ]
            llmctl.custom_provider_map = [*others, {"provider": name, "custom_handler": handler}]
        try:
            yield
        finally:
            llmctl.custom_provider_map = saved

    # -- the provider --------------------------------------------------------------------------

    def test_provider_loads(self) -> None:
        """The provider is found by name, loads, and implements at least one operation."""
        provider = self._provider()
        require(
            bool(provider.operations),
            f"provider {provider.name!r} implements no operation",
            "a provider implements at least one of completion, acompletion, streaming, "
            "astreaming, image_generation, aimage_generation, embedding, aembedding",
        )

    def test_supported_openai_params_is_a_list_of_names(self) -> None:
        """``get_supported_openai_params(model)`` returns None or a list of unique names."""
        for model in self._models():
            self._supported_params(model)

    def test_undeclared_openai_param_is_refused_or_dropped(self) -> None:
        """An OpenAI parameter the provider does not declare fails the call, or is dropped."""
        self._skip_unless(_CHAT, "chat")
        model = self.model.partition("/")[2]
        declared = self._supported_params(model)
        if declared is None:
            pytest.skip(f"get_supported_openai_params({model!r}) is None: every param accepted")
        probe = next(((p, v) for p, v in _PROBE_PARAMS if p not in declared), None)
        if probe is None:
            pytest.skip("the provider declares every parameter the kit knows how to probe")
        if llmctl.drop_params:
            pytest.skip("llmctl.drop_params is True: undeclared parameters are dropped")
        param, value = probe
        where = f"completion(model={self.model!r}, {param}={value!r})"
        contract = (
            f"an OpenAI parameter missing from get_supported_openai_params({model!r}) raises "
            "UnsupportedParamsError naming it, before the handler runs"
        )
        try:
            self._complete(**{param: value})
        except UnsupportedParamsError as error:
            require(
                error.param == param,
                f"{where} raised UnsupportedParamsError with param={error.param!r}",
                contract,
            )
        except LLMCtlError as error:
            fail(f"{where} raised {type(error).__name__}: {error}", contract, cause=error)
        else:
            fail(f"{where} answered although {param!r} is not declared", contract)
        self._answer(lambda: self._complete(drop_params=True, **{param: value}), where)

    def test_health_check(self) -> None:
        """``health_check``, where implemented, answers as ``llmctl providers check`` runs it."""
        name = self._provider().name
        kwargs = self.call_kwargs
        timeout = kwargs.get("timeout")
        # As the proxy runs it: the keys a config entry adds to a call are its litellm_params.
        extras = {k: v for k, v in kwargs.items() if k not in CALL_ARGUMENTS}
        report = check_provider(
            name,
            timeout=float(timeout) if isinstance(timeout, (int, float)) else 10.0,
            api_base=kwargs.get("api_base"),
            api_key=kwargs.get("api_key"),
            litellm_params={**extras, **(kwargs.get("litellm_params") or {})},
        )
        if report.status == "unchecked":
            pytest.skip(f"the health check did not run: {report.error}")
        require(
            report.status == "ok",
            f"health_check() {report.status}: {report.error}",
            "health_check answers (a str or dict) when the backend is up, within the timeout, "
            "and raises only when it is down",
        )
        require(
            report.answer is not None,
            "health_check() returned None",
            "health_check returns what the backend said, such as {'status': 'ok'}",
        )

    # -- chat ----------------------------------------------------------------------------------

    def test_completion(self) -> None:
        """``completion`` answers with a complete, valid ``ModelResponse``."""
        where = f"completion(model={self.model!r})"
        if not self._declares(_CHAT):
            self._expect_unsupported(lambda: self._complete(), where)
            return
        check_model_response(self._answer(self._complete, where), where)

    def test_acompletion(self) -> None:
        """``acompletion`` answers with a complete, valid ``ModelResponse``."""
        where = f"acompletion(model={self.model!r})"
        if not self._declares(_CHAT):
            self._expect_unsupported(lambda: asyncio.run(self._acomplete()), where)
            return
        response = self._answer(lambda: asyncio.run(self._acomplete()), where)
        check_model_response(response, where)

    def test_streaming(self) -> None:
        """``completion(stream=True)`` streams well-formed chunks that end with one finish."""
        self._skip_unless(_CHAT, "chat")
        where = f"completion(model={self.model!r}, stream=True)"
        text = check_stream(self._answer(self._stream, where), where, include_usage=False)
        self._compare_with_completion(text, where)

    def test_astreaming(self) -> None:
        """``acompletion(stream=True)`` streams well-formed chunks that end with one finish."""
        self._skip_unless(_CHAT, "chat")
        where = f"acompletion(model={self.model!r}, stream=True)"
        chunks = self._answer(lambda: asyncio.run(self._astream()), where)
        text = check_stream(chunks, where, include_usage=False)
        self._compare_with_completion(text, where)

    @pytest.mark.parametrize("kind", ["sync", "async"])
    def test_stream_include_usage(self, kind: str) -> None:
        """With ``stream_options={"include_usage": True}`` the stream ends with a usage chunk."""
        self._skip_unless(_CHAT, "chat")
        options = {"stream_options": {"include_usage": True}}
        call = "completion" if kind == "sync" else "acompletion"
        where = (
            f"{call}(model={self.model!r}, stream=True, stream_options={{'include_usage': True}})"
        )
        if kind == "sync":
            chunks = self._answer(lambda: self._stream(**options), where)
        else:
            chunks = self._answer(lambda: asyncio.run(self._astream(**options)), where)
        check_stream(chunks, where, include_usage=True)

    # -- images and embeddings -----------------------------------------------------------------

    @pytest.mark.parametrize("kind", ["sync", "async"])
    def test_image_generation(self, kind: str) -> None:
        """Image generation answers with images, or is unsupported where not declared."""
        model = self.image_model or self.model
        call = "image_generation" if kind == "sync" else "aimage_generation"
        where = f"{call}(prompt={_IMAGE_PROMPT!r}, model={model!r})"
        kwargs = self._kwargs()

        def generate() -> ImageResponse:
            if kind == "sync":
                return llmctl.image_generation(_IMAGE_PROMPT, model, **kwargs)
            return asyncio.run(llmctl.aimage_generation(_IMAGE_PROMPT, model, **kwargs))

        if not self._declares(_IMAGES):
            self._expect_unsupported(generate, where)
            return
        check_image_response(self._answer(generate, where), where)

    @pytest.mark.parametrize("kind", ["sync", "async"])
    def test_embedding(self, kind: str) -> None:
        """Embeddings answer one vector per input, or are unsupported where not declared."""
        model = self.embedding_model or self.model
        # A list for the sync call, one string for the async one: both input shapes.
        inputs: list[str] | str = list(_EMBEDDING_INPUT) if kind == "sync" else _EMBEDDING_INPUT[0]
        call = "embedding" if kind == "sync" else "aembedding"
        where = f"{call}(model={model!r}, input={inputs!r})"
        kwargs = self._kwargs()

        def embed() -> EmbeddingResponse:
            if kind == "sync":
                return llmctl.embedding(model, inputs, **kwargs)
            return asyncio.run(llmctl.aembedding(model, inputs, **kwargs))

        if not self._declares(_EMBEDDINGS):
            self._expect_unsupported(embed, where)
            return
        count = len(inputs) if isinstance(inputs, list) else 1
        check_embedding_response(self._answer(embed, where), where, count)

    # -- errors --------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("status_code", "error_class"),
        [pytest.param(s, c, id=f"{s}-{c.__name__}") for s, c in ERROR_CLASSES.items()],
    )
    def test_error_status_maps_to_class(
        self, status_code: int, error_class: type[LLMCtlError]
    ) -> None:
        """A backend failing with an HTTP status reaches the caller as that status's class."""
        self._skip_unless(_CHAT, "chat")
        extra = self._error_kwargs_or_skip(status_code)
        self._expect_error(lambda: self._complete(**extra), "completion", status_code, extra)

    @pytest.mark.parametrize("call", ["acompletion", "streaming", "astreaming"])
    def test_error_reaches_every_call_kind(self, call: str) -> None:
        """An error status reaches async and streaming callers as it reaches sync ones."""
        self._skip_unless(_CHAT, "chat")
        status = _STREAM_ERROR_STATUS
        extra = self._error_kwargs_or_skip(status)
        calls: dict[str, Callable[[], object]] = {
            "acompletion": lambda: asyncio.run(self._acomplete(**extra)),
            "streaming": lambda: self._stream(**extra),
            "astreaming": lambda: asyncio.run(self._astream(**extra)),
        }
        self._expect_error(calls[call], call, status, extra)

    # -- helpers -------------------------------------------------------------------------------

    def _provider_name(self) -> str:
        __tracebackhide__ = True
        model = self.model
        name, slash, rest = model.partition("/") if isinstance(model, str) else ("", "", "")
        if not (name and slash and rest):
            pytest.fail(
                f"{type(self).__name__}.model is {model!r}; set it to '<provider>/<model>', "
                "for example model = 'example/echo'",
                pytrace=False,
            )
        return name

    def _provider(self) -> Provider:
        __tracebackhide__ = True
        name = self._provider_name()
        try:
            return registry.provider(name, self.model)
        except ProviderNotFoundError as error:
            fail(
                f"no provider {name!r} is registered ({error})",
                f"the kit calls the installed plugin: declare an entry point named {name!r} in "
                "the group 'litellm.providers' of your pyproject.toml and `pip install -e .`, "
                f"or set handler = YourLLM() on {type(self).__name__} to test a handler in code",
                cause=error,
            )
        except LLMCtlError as error:
            fail(
                f"provider {name!r} failed to load: {error}",
                "a plugin imports cleanly and names a CustomLLM instance or subclass, or a "
                "module of @llmctl.hookimpl functions",
                cause=error,
            )

    def _declares(self, operations: frozenset[str]) -> bool:
        return bool(self._provider().operations & operations)

    def _skip_unless(self, operations: frozenset[str], what: str) -> None:
        if not self._declares(operations):
            pytest.skip(f"the provider implements no {what} operation")

    def _models(self) -> list[str]:
        models = [self.model, self.image_model or self.model, self.embedding_model or self.model]
        return list(dict.fromkeys(m.partition("/")[2] for m in models))

    def _supported_params(self, model: str) -> list[str] | None:
        __tracebackhide__ = True
        handler = self._provider().handler
        method = getattr(handler, "get_supported_openai_params", None)
        if method is None:
            return None
        try:
            declared = method(model=model)
        except Exception as error:
            fail(
                f"get_supported_openai_params({model!r}) raised {type(error).__name__}: {error}",
                "it returns None or a list of parameter names for any model it serves",
                cause=error,
            )
        if declared is None:
            return None
        where = f"get_supported_openai_params({model!r}) returned {declared!r:.200}"
        require(
            isinstance(declared, list) and all(isinstance(p, str) for p in declared),
            where,
            "it returns None (accept every OpenAI parameter) or a list of parameter names "
            "such as ['temperature', 'max_tokens']",
        )
        require(
            len(set(declared)) == len(declared),
            f"{where}, which names a parameter twice",
            "each supported parameter is listed once",
        )
        return list(declared)

    def _kwargs(self, **extra: Any) -> dict[str, Any]:
        return {**self.call_kwargs, **extra}

    def _messages(self) -> list[dict[str, Any]]:
        return [dict(m) for m in self.messages]

    def _complete(self, **extra: Any) -> ModelResponse:
        messages = self._messages()
        return cast(ModelResponse, llmctl.completion(self.model, messages, **self._kwargs(**extra)))

    async def _acomplete(self, **extra: Any) -> ModelResponse:
        answer = await llmctl.acompletion(self.model, self._messages(), **self._kwargs(**extra))
        return cast(ModelResponse, answer)

    def _stream(self, **extra: Any) -> list[ModelResponseStream]:
        kwargs = self._kwargs(**extra)
        stream = llmctl.completion(self.model, self._messages(), stream=True, **kwargs)
        require_stream(stream, f"completion(model={self.model!r}, stream=True)")
        with stream:
            return list(stream)

    async def _astream(self, **extra: Any) -> list[ModelResponseStream]:
        kwargs = self._kwargs(**extra)
        stream = await llmctl.acompletion(self.model, self._messages(), stream=True, **kwargs)
        require_stream(stream, f"acompletion(model={self.model!r}, stream=True)")
        async with stream:
            return [chunk async for chunk in stream]

    def _answer(self, call: Callable[[], Any], where: str) -> Any:
        """Return what ``call`` returns; fail, naming the call, if it raises."""
        __tracebackhide__ = True
        try:
            return call()
        except Exception as error:
            fail(
                f"{where} raised {type(error).__name__}: {error}",
                "a valid request to a provider that declares the operation is answered "
                f"(check {type(self).__name__}.call_kwargs if the backend needs an address "
                "or a key)",
                cause=error,
            )

    def _expect_unsupported(self, call: Callable[[], object], where: str) -> None:
        __tracebackhide__ = True
        try:
            call()
        except UnsupportedOperationError:
            return
        except Exception as error:
            fail(
                f"{where} raised {type(error).__name__}: {error}",
                "an operation the provider does not implement raises UnsupportedOperationError",
                cause=error,
            )
        fail(
            f"{where} answered although provider {self._provider_name()!r} implements "
            f"only {sorted(self._provider().operations)}",
            "an operation the provider does not implement raises UnsupportedOperationError",
        )

    def _compare_with_completion(self, text: str, where: str) -> None:
        __tracebackhide__ = True
        if not self.deterministic:
            return
        answer = self._answer(self._complete, f"completion(model={self.model!r})")
        content = answer.choices[0].message.content if answer.choices else None
        require(
            text == content,
            f"{where} streamed the text {text!r:.200}, but completion() answered {content!r:.200}",
            "a deterministic provider (deterministic = True) streams the same text it answers",
        )

    def _error_kwargs_or_skip(self, status_code: int) -> dict[str, Any]:
        extra = self.error_kwargs(status_code)
        if extra is None:
            pytest.skip(
                f"{type(self).__name__}.error_kwargs({status_code}) returned None; override "
                "error_kwargs(self, status_code) to return call keywords that make the "
                "provider fail with that HTTP status, and error mapping is checked"
            )
        return extra

    def _expect_error(
        self, call: Callable[[], object], name: str, status_code: int, extra: Mapping[str, Any]
    ) -> None:
        __tracebackhide__ = True
        expected = ERROR_CLASSES[status_code]
        where = f"{name}(model={self.model!r}) with error_kwargs({status_code}) = {dict(extra)!r}"
        contract = (
            f"a backend failing with HTTP {status_code} reaches the caller as "
            f"{expected.__name__} with status_code {status_code}; raise "
            f"CustomLLMError(status_code={status_code}, message=...) in the handler, or let "
            "an exception with an integer status_code attribute through"
        )
        try:
            call()
        except LLMCtlError as error:
            require(
                isinstance(error, expected) and error.status_code == status_code,
                f"{where} raised {type(error).__name__} (status {error.status_code}): {error}",
                contract,
                cause=error,
            )
            require(
                bool(error.message),
                f"{where} raised {type(error).__name__} with an empty message",
                "an error's message says what failed",
            )
            return
        fail(f"{where} answered instead of failing", contract)
