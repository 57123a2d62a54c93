"""A 30-second tour: register the guide's handler, then call it every way llmctl can.

Run: python examples/quickstart.py
"""

import asyncio

from custom_handler import my_custom_llm

import llmctl

llmctl.custom_provider_map = [{"provider": "my-custom-llm", "custom_handler": my_custom_llm}]
messages = [{"role": "user", "content": "Hello world!"}]

response = llmctl.completion(model="my-custom-llm/my-model", messages=messages)
print("completion:       ", response.choices[0].message.content)

# The handler has no `streaming`: llmctl streams its complete answer as OpenAI chunks.
for chunk in llmctl.completion(model="my-custom-llm/my-model", messages=messages, stream=True):
    print("stream chunk:     ", chunk.choices[0].delta.content, chunk.choices[0].finish_reason)


async def main() -> None:
    response = await llmctl.acompletion(model="my-custom-llm/my-model", messages=messages)
    print("acompletion:      ", response.choices[0].message.content)
    image = await llmctl.aimage_generation(model="my-custom-llm/my-model", prompt="An otter")
    print("aimage_generation:", image.data[0].url)


asyncio.run(main())
# The handler has only `aimage_generation`: llmctl serves the sync call too.
image = llmctl.image_generation(model="my-custom-llm/my-model", prompt="An otter")
print("image_generation: ", image.data[0].url)
