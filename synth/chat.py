"""Prompts for instruct models: the model's own chat template, with the start of the answer prefilled.

A base model continues text, so a task prompt ends with the *lead* of the answer (``Question:``) and the
model writes on. An instruct model follows instructions given as a user turn and answers in the assistant
turn; the lead then goes at the start of the assistant turn (a prefilled answer), which small instruct
models follow far more reliably than an instruction to use a format. The string sent to the engine is
the rendered conversation, so every engine (vLLM offline, an OpenAI-compatible ``/v1/completions``
server, transformers) sees exactly the same prompt.
"""

from __future__ import annotations

from pathlib import Path


class ChatFormat:
    """Renders (instruction, prefill) pairs with a model directory's chat template."""

    def __init__(self, model_dir: str | Path) -> None:
        try:
            import transformers
        except ImportError as exc:
            raise ImportError("chat prompts need transformers: pip install 'curate[transformers]'") from exc
        self.tok = transformers.AutoTokenizer.from_pretrained(str(model_dir))
        if not getattr(self.tok, "chat_template", None):
            raise ValueError(f"{model_dir}: the tokenizer has no chat template; set chat_template: false for a base model")

    def render(self, user: str, prefill: str = "", system: str | None = None) -> str:
        """The conversation as one string: system (if any), the user turn, the assistant turn opened and prefilled."""
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
        opened = self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return opened + prefill
