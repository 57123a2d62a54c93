"""The feature guide's custom handler, with ``litellm`` replaced by ``llmctl``.

The guide's chat handler (completion, acompletion) and its image handler (aimage_generation)
in one class, as ``examples/config.yaml`` serves them.
"""

import time
from typing import Any, Optional, Union

from httpx import AsyncClient as AsyncHTTPHandler

import llmctl
from llmctl import CustomLLM
from llmctl.types.utils import ImageObject, ImageResponse


class MyCustomLLM(CustomLLM):
    def completion(self, *args, **kwargs) -> llmctl.ModelResponse:
        return llmctl.completion(
            model="gpt-3.5-turbo",
            messages=[{"role": "user", "content": "Hello world"}],
            mock_response="Hi!",
        )  # type: ignore

    async def acompletion(self, *args, **kwargs) -> llmctl.ModelResponse:
        return llmctl.completion(
            model="gpt-3.5-turbo",
            messages=[{"role": "user", "content": "Hello world"}],
            mock_response="Hi!",
        )  # type: ignore

    async def aimage_generation(
        self,
        model: str,
        prompt: str,
        model_response: ImageResponse,
        optional_params: dict,
        logging_obj: Any,
        timeout: Optional[Union[float, AsyncHTTPHandler]] = None,
        client: Optional[AsyncHTTPHandler] = None,
    ) -> ImageResponse:
        return ImageResponse(
            created=int(time.time()),
            data=[ImageObject(url="https://example.com/image.png")],
        )


my_custom_llm = MyCustomLLM()
