"""How one chat-completions upstream departs from OpenAI's own API (read by ``serve.translate``).

A provider sets ``quirks`` (a :class:`Quirks`); the translator reads its fields and
never a provider's name. The defaults are OpenAI's API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Thinking = Literal["reasoning_effort", "anthropic", "none"]


@dataclass(frozen=True)
class Quirks:
    """What an OpenAI-format upstream accepts.

    - ``label``: how errors name the upstream ("the databricks upstream does not …").
    - ``image_urls``: images by URL; without, only base64 images (a URL is a 400).
    - ``file_parts``: base64 PDF documents as ``file`` parts; without, a 400 saying so.
    - ``max_stop_sequences``: how many ``stop`` strings it takes (None: any number).
    - ``user_field``: the ``user`` field (Claude Code's ``metadata.user_id``).
    - ``reasoning_models``: OpenAI's o-series and gpt-5 rules apply by model name
      (``max_completion_tokens``, no sampling parameters, no ``stop``).
    - ``thinking``: how a request's ``thinking`` is sent: ``reasoning_effort`` (to a
      reasoning model), ``anthropic`` (Anthropic's own ``thinking`` object, to Claude
      models), or ``none``.
    - ``system_mid_conversation``: a system message after the first turn; without, it
      becomes a ``<system-reminder>`` user turn, as Claude Code frames such context.
    - ``list_content``: content as a list of parts; without, a user turn's text parts
      are joined into one string (and an image is a 400).
    """

    label: str = "openai"
    image_urls: bool = True
    file_parts: bool = True
    max_stop_sequences: int | None = 4
    user_field: bool = True
    reasoning_models: bool = True
    thinking: Thinking = "reasoning_effort"
    system_mid_conversation: bool = True
    list_content: bool = True


OPENAI = Quirks()
