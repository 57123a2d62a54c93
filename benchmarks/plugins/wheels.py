"""Hand-builds the provider plugin wheels the benchmark installs.

A wheel is a zip holding the code and a ``.dist-info`` directory (``METADATA``, ``WHEEL``,
``entry_points.txt``, ``RECORD``); writing 50 of them directly takes milliseconds, where 50
builds through a build backend would take minutes. Plugin ``i`` is the distribution
``llmctl-bench-p<i>`` with one module, ``llmctl_bench_p<i>``, whose ``handler`` (a
``CustomLLM`` instance answering from one prebuilt ``ModelResponse``) is the entry point
``p<i>`` in group ``litellm.providers``.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Final

from benchmarks.plugins.config import GROUP

VERSION: Final = "0.1.0"

#: The plugin module; ``{name}`` is the provider name.
MODULE_TEMPLATE: Final = '''\
"""Benchmark provider {name}: answers every call with one prebuilt response."""

from llmctl import CustomLLM, ModelResponse

RESPONSE_TEXT = "Hello from provider {name}."

RESPONSE = ModelResponse(
    id="chatcmpl-{name}",
    model="m",
    created=1_700_000_000,
    object="chat.completion",
    choices=[
        {{
            "index": 0,
            "message": {{"role": "assistant", "content": RESPONSE_TEXT}},
            "finish_reason": "stop",
        }}
    ],
    usage={{"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}},
)


class BenchProvider(CustomLLM):
    """Returns the prebuilt response; ignores its arguments."""

    def completion(self, *args, **kwargs):
        return RESPONSE

    async def acompletion(self, *args, **kwargs):
        return RESPONSE


handler = BenchProvider()
'''


def provider_name(index: int) -> str:
    """Return the provider (entry point) name of plugin ``index``: ``p<index>``."""
    return f"p{index}"


def module_name(index: int) -> str:
    """Return the importable module of plugin ``index``."""
    return f"llmctl_bench_p{index}"


def distribution_name(index: int) -> str:
    """Return the distribution name of plugin ``index``, as ``pip list`` shows it."""
    return f"llmctl-bench-p{index}"


def response_text(index: int) -> str:
    """Return the content of every response plugin ``index`` gives."""
    return f"Hello from provider {provider_name(index)}."


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel_files(index: int) -> dict[str, bytes]:
    """Every file of plugin ``index``'s wheel except ``RECORD``, by archive path."""
    name, module = provider_name(index), module_name(index)
    info = f"{module}-{VERSION}.dist-info"
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: {distribution_name(index)}\n"
        f"Version: {VERSION}\n"
        f"Summary: llmctl benchmark provider {name}\n"
        "Requires-Dist: llmctl\n"
    )
    wheel = (
        "Wheel-Version: 1.0\n"
        "Generator: benchmarks.plugins.wheels\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )
    entry_points = f"[{GROUP}]\n{name} = {module}:handler\n"
    return {
        f"{module}.py": MODULE_TEMPLATE.format(name=name).encode(),
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": wheel.encode(),
        f"{info}/entry_points.txt": entry_points.encode(),
    }


def build_wheel(index: int, out_dir: Path) -> Path:
    """Write plugin ``index``'s wheel into ``out_dir``; return its path."""
    files = wheel_files(index)
    record_path = f"{module_name(index)}-{VERSION}.dist-info/RECORD"
    record = [_record_line(path, data) for path, data in files.items()]
    record.append(f"{record_path},,")
    files[record_path] = ("\n".join(record) + "\n").encode()
    path = out_dir / f"{module_name(index)}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for archive_path, data in files.items():
            archive.writestr(archive_path, data)
    return path


def build_wheels(count: int, out_dir: Path) -> list[Path]:
    """Write the wheels of plugins ``0 .. count-1`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [build_wheel(i, out_dir) for i in range(count)]
