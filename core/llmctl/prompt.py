r"""Chat messages as one prompt string, for backends that take text rather than messages.

The template is LiteLLM's custom prompt template, so a config written for LiteLLM works as it
is: per role a ``pre_message`` and a ``post_message`` around each message's text, plus an
``initial_prompt_value`` before the first and a ``final_prompt_value`` after the last::

    model_list:
      - model_name: my-model
        litellm_params:
          model: torchserve/my-model
          initial_prompt_value: "<s>"
          roles:
            system: {pre_message: "[INST] <<SYS>>\n", post_message: "\n<</SYS>>\n"}
            user: {pre_message: "[INST] ", post_message: " [/INST]"}
            assistant: {pre_message: " ", post_message: " </s>"}
          final_prompt_value: ""

A provider reads the template from the call's ``optional_params`` with
:meth:`PromptTemplate.from_params` (the config's keys arrive there) and renders with
:meth:`PromptTemplate.render`. Without one, :data:`DEFAULT_TEMPLATE` applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from llmctl.exceptions import BadRequestError

__all__ = ["DEFAULT_TEMPLATE", "TEMPLATE_PARAMS", "PromptTemplate", "message_text"]

#: The keys of ``optional_params`` that make up a template (LiteLLM's names).
TEMPLATE_PARAMS: Final = frozenset(
    {"roles", "initial_prompt_value", "final_prompt_value", "bos_token", "eos_token"}
)


@dataclass(frozen=True)
class PromptTemplate:
    r"""How a conversation becomes one prompt.

    :param roles: per role (``system``, ``user``, ``assistant``, ``tool``), the
        ``(pre_message, post_message)`` around each of its messages. A role not listed
        gets ``("<role>: ", "\n")``.
    :param initial_prompt_value: text before the first message (a BOS token, say).
    :param final_prompt_value: text after the last message, cueing the model's answer.
    """

    roles: Mapping[str, tuple[str, str]]
    initial_prompt_value: str = ""
    final_prompt_value: str = ""

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], default: PromptTemplate | None = None
    ) -> PromptTemplate:
        """Read a template from a call's ``optional_params`` (LiteLLM's keys).

        ``bos_token`` and ``eos_token`` are accepted as LiteLLM's aliases of the initial
        and final values. Keys left out keep ``default``'s (:data:`DEFAULT_TEMPLATE`).

        :raises BadRequestError: a value is not of the documented shape.
        """
        base = default or DEFAULT_TEMPLATE
        if not TEMPLATE_PARAMS.intersection(params):
            return base
        roles = dict(base.roles)
        given = params.get("roles") or {}
        if not isinstance(given, Mapping):
            raise _bad("roles", given, "a mapping of role to {pre_message, post_message}")
        for role, parts in given.items():
            if not isinstance(parts, Mapping):
                raise _bad(f"roles.{role}", parts, "a mapping with pre_message, post_message")
            pre, post = parts.get("pre_message", ""), parts.get("post_message", "")
            if not isinstance(pre, str) or not isinstance(post, str):
                raise _bad(f"roles.{role}", parts, "string pre_message and post_message")
            roles[str(role)] = (pre, post)
        return cls(
            roles=roles,
            initial_prompt_value=_text(params, "initial_prompt_value", "bos_token", base),
            final_prompt_value=_text(params, "final_prompt_value", "eos_token", base),
        )

    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """Return the prompt for ``messages`` (OpenAI's chat message dicts)."""
        parts = [self.initial_prompt_value]
        for message in messages:
            role = str(message.get("role", "user"))
            pre, post = self.roles.get(role) or (f"{role}: ", "\n")
            parts += (pre, message_text(message), post)
        parts.append(self.final_prompt_value)
        return "".join(parts)


#: The template used when a call gives none: a plain transcript ending in ``assistant:``.
DEFAULT_TEMPLATE: Final = PromptTemplate(
    roles={
        "system": ("system: ", "\n"),
        "user": ("user: ", "\n"),
        "assistant": ("assistant: ", "\n"),
        "tool": ("tool: ", "\n"),
    },
    final_prompt_value="assistant:",
)


def message_text(message: Mapping[str, Any]) -> str:
    """Return a message's text: its string content, or its text parts joined."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return str(content)


def _text(params: Mapping[str, Any], key: str, alias: str, base: PromptTemplate) -> str:
    value = params.get(key, params.get(alias, getattr(base, key)))
    if not isinstance(value, str):
        raise _bad(key, value, "a string")
    return value


def _bad(key: str, value: Any, expected: str) -> BadRequestError:
    return BadRequestError(
        f"prompt template {key} must be {expected}, got {value!r}; see LiteLLM's custom "
        "prompt template (roles, initial_prompt_value, final_prompt_value)",
        param=key,
    )
