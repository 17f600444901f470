"""The proxy model: a Llama-style decoder small enough to train per blend, read top to bottom in one sitting.

Why this shape: GPT-S-1.4M (OpenSeek) shows a ~1.4M-parameter Llama ranks pretraining data the way large
models do, so a data team can afford several seeds per candidate blend. The architecture is exactly
Hugging Face's ``LlamaForCausalLM`` (pre-norm RMSNorm, rotary embeddings, grouped-query attention, SwiGLU,
optionally tied embeddings) and the parameter names are Llama's, so :func:`curate.proxy.train.export_hf`
writes a folder that transformers and vLLM load with identical logits.

Shapes in comments: B batch, T sequence, C hidden, H query heads, K key/value heads, D head size, V vocab.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ProxyConfig:
    """Every size of the model; the defaults are the GPT-S-1.4M shape (about 1.45M parameters)."""

    vocab_size: int = 4096  # tokenizer entries (special tokens included)
    hidden: int = 128  # C: residual stream width
    layers: int = 5  # decoder blocks
    heads: int = 4  # H: query heads; head size D = hidden / heads
    kv_heads: int = 2  # K: key/value heads shared by groups of H/K query heads (GQA)
    intermediate: int = 352  # SwiGLU width: 8/3 * hidden rounded up to a multiple of 32
    context: int = 384  # longest sequence trained and evaluated
    rope_theta: float = 2500.0  # rotary base: small, because the context is short
    norm_eps: float = 1e-5  # RMSNorm epsilon
    tie_embeddings: bool = True  # output head shares the input embedding matrix
    init_std: float = 0.02  # normal init of every matrix; output projections scaled by 1/sqrt(2*layers)

    def __post_init__(self) -> None:
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be a multiple of heads ({self.heads})")
        if self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})")
        if (self.hidden // self.heads) % 2:
            raise ValueError(f"head size hidden/heads = {self.hidden // self.heads} must be even for rotary embeddings")

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    """x / rms(x) * weight, computed in float32 like Llama (matters under bf16 autocast)."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_tables(config: ProxyConfig, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of every position's rotation, (T, D), in Llama's half-split layout."""
    d = config.head_dim
    inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64, device=positions.device).float() / d))
    angles = positions.float()[:, None] * inv_freq[None, :]  # (T, D/2)
    angles = torch.cat([angles, angles], dim=-1)  # (T, D)
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x_i, x_{i+D/2}) by the position's angle; x is (B, heads, T, D)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)


class Attention(nn.Module):
    def __init__(self, config: ProxyConfig) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = config.heads, config.kv_heads, config.head_dim
        self.q_proj = nn.Linear(config.hidden, config.heads * config.head_dim, bias=False)
        self.k_proj = nn.Linear(config.hidden, config.kv_heads * config.head_dim, bias=False)
        self.v_proj = nn.Linear(config.hidden, config.kv_heads * config.head_dim, bias=False)
        self.o_proj = nn.Linear(config.heads * config.head_dim, config.hidden, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape  # (B, T, C)
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)  # (B, K, T, D)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)  # (B, K, T, D)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.kv_heads != self.heads)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))  # (B, T, C)


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, config: ProxyConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden, config.intermediate, bias=False)
        self.up_proj = nn.Linear(config.hidden, config.intermediate, bias=False)
        self.down_proj = nn.Linear(config.intermediate, config.hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: ProxyConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden, config.norm_eps)
        self.self_attn = Attention(config)
        self.post_attention_layernorm = RMSNorm(config.hidden, config.norm_eps)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class ProxyModel(nn.Module):
    """Token ids (B, T) in, next-token logits (B, T, V) out. Module names follow Hugging Face Llama."""

    def __init__(self, config: ProxyConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = RMSNorm(config.hidden, config.norm_eps)
        self.lm_head = nn.Linear(config.hidden, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Normal(0, init_std) matrices, residual output projections scaled down by depth (GPT-2)."""
        std = self.config.init_std
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight":
                nn.init.ones_(p)
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                nn.init.normal_(p, 0.0, std / math.sqrt(2 * self.config.layers))
            else:
                nn.init.normal_(p, 0.0, std)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        if t > self.config.context:
            raise ValueError(f"sequence of {t} tokens is longer than the model's context ({self.config.context})")
        cos, sin = rope_tables(self.config, torch.arange(t, device=ids.device))  # (T, D) each
        x = self.embed_tokens(ids)  # (B, T, C)
        for block in self.layers:
            x = block(x, cos, sin)
        return self.lm_head(self.norm(x))  # (B, T, V)

    def num_parameters(self, embeddings: bool = True) -> int:
        """Distinct parameters (a tied head counts once); without the embedding matrix when asked."""
        n = sum(p.numel() for p in self.parameters())
        return n if embeddings else n - self.embed_tokens.weight.numel()

    def flops_per_token(self) -> float:
        """Training FLOPs per token (forward + backward): 6 per weight plus attention scores (PaLM appendix B)."""
        c = self.config
        weights = self.num_parameters(embeddings=False)
        if c.tie_embeddings:
            weights += c.vocab_size * c.hidden  # the tied head still multiplies
        return 6.0 * weights + 12.0 * c.layers * c.hidden * c.context
