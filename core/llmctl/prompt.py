r"""Chat messages as one prompt string, for backends that take text rather than messages.

The template is LiteLLM's custom prompt template, so a config written for LiteLLM works as it
is: per role a ``pre_message`` and a ``post_message`` around each message's text, plus an
``initial_prompt_value`` before the first and a ``final_prompt_value`` after the last, and
optionally a ``bos_token`` and an ``eos_token`` around each exchange::

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
:meth:`PromptTemplate.render`. Without one, the provider's default applies
(:data:`DEFAULT_TEMPLATE` unless it names another).
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

#: The roles before which a ``bos_token`` opens a new exchange, once an assistant message
#: has closed the last one. LiteLLM checks for ``system`` and ``human``; OpenAI messages say
#: ``user``, so it is here too (Llama 2's ``</s><s>[INST]`` between turns).
_OPENING_ROLES: Final = frozenset({"system", "user", "human"})


@dataclass(frozen=True)
class PromptTemplate:
    r"""How a conversation becomes one prompt.

    :param roles: per role (``system``, ``user``, ``assistant``, ``tool``), the
        ``(pre_message, post_message)`` around each of its messages.
    :param initial_prompt_value: text before the first message (after ``bos_token``).
    :param final_prompt_value: text after the last message, cueing the model's answer.
    :param bos_token: text at the very start, and again before a system or user message
        that follows an assistant message (LiteLLM's ``bos_token``).
    :param eos_token: text after each assistant message (LiteLLM's ``eos_token``).
    :param label_unknown_roles: whether a role not in ``roles`` gets ``("<role>: ", "\n")``
        around its text; if false, nothing, as in LiteLLM (what :meth:`from_params` builds).
    """

    roles: Mapping[str, tuple[str, str]]
    initial_prompt_value: str = ""
    final_prompt_value: str = ""
    bos_token: str = ""
    eos_token: str = ""
    label_unknown_roles: bool = True

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], default: PromptTemplate | None = None
    ) -> PromptTemplate:
        """Read a template from a call's ``optional_params`` (LiteLLM's keys).

        A call that gives none of :data:`TEMPLATE_PARAMS` gets ``default``
        (:data:`DEFAULT_TEMPLATE` when None). A call that gives any gets exactly its own
        template, as LiteLLM builds it: a key left out is empty, and a role left out of
        ``roles`` has nothing around its text. (Mixing in the default's keys would put, say,
        the default's ``assistant:`` cue after a Llama 2 prompt.)

        :raises BadRequestError: a value is not of the documented shape, naming the key.
        """
        if not TEMPLATE_PARAMS.intersection(params):
            return default or DEFAULT_TEMPLATE
        given = params.get("roles")
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            raise _bad("roles", given, "a mapping of role to {pre_message, post_message}")
        roles: dict[str, tuple[str, str]] = {}
        for role, parts in given.items():
            if not isinstance(parts, Mapping):
                raise _bad(f"roles.{role}", parts, "a mapping with pre_message, post_message")
            pre, post = parts.get("pre_message", ""), parts.get("post_message", "")
            if not isinstance(pre, str) or not isinstance(post, str):
                raise _bad(f"roles.{role}", parts, "string pre_message and post_message")
            roles[str(role)] = (pre, post)
        return cls(
            roles=roles,
            initial_prompt_value=_text(params, "initial_prompt_value"),
            final_prompt_value=_text(params, "final_prompt_value"),
            bos_token=_text(params, "bos_token"),
            eos_token=_text(params, "eos_token"),
            label_unknown_roles=False,
        )

    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """Return the prompt for ``messages`` (OpenAI's chat message dicts).

        :raises BadRequestError: a message is not a mapping.
        """
        parts = [self.bos_token, self.initial_prompt_value]
        closed = False  # an assistant message closed the exchange (eos); the next opens one
        for index, message in enumerate(messages):
            if not isinstance(message, Mapping):
                raise BadRequestError(
                    f"messages[{index}] must be a message dict with a role and content, "
                    f"got {message!r:.200}",
                    param="messages",
                )
            role = str(message.get("role", "user"))
            if closed and role in _OPENING_ROLES:
                parts.append(self.bos_token)
                closed = False
            around = self.roles.get(role)
            if around is None:
                around = (f"{role}: ", "\n") if self.label_unknown_roles else ("", "")
            pre, post = around
            parts += (pre, message_text(message), post)
            if role == "assistant":
                parts.append(self.eos_token)
                closed = True
        parts.append(self.final_prompt_value)
        return "".join(parts)


#: The template used when a call gives none: a plain transcript ending in ``assistant:``,
#: each message on a line of its own after its role.
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
    """Return a message's text: its string content, or its text parts joined.

    Parts of other types (``image_url``, ...) are left out; a text-only backend cannot take
    them.
    """
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


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(key, value, "a string")
    return value


def _bad(key: str, value: Any, expected: str) -> BadRequestError:
    return BadRequestError(
        f"prompt template {key} must be {expected}, got {value!r}; see LiteLLM's custom "
        "prompt template (roles, initial_prompt_value, final_prompt_value, bos_token, "
        "eos_token)",
        param=key,
    )
