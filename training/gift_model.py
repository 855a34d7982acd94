"""The bundled image->CadQuery model: a small CNN(+transformer) image encoder and an autoregressive
transformer decoder with cross-attention, written with explicit key/value caches so the exported
ONNX decodes one token per step at constant cost in model work (attention grows with the prefix).

Cache layouts (what ONNX exposes, see export_onnx.py):
  cross_kv:  [layers, 2, B_or_1, heads, memory_len, head_dim]   (computed once per image)
  past_kv:   [layers, 2, B, heads, past_len, head_dim]           (self-attention, grows by T)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int
    image_size: int = 128
    cnn_channels: tuple = (32, 64, 128, 192)  # one stride-2 stage each
    d_model: int = 192
    heads: int = 4
    encoder_layers: int = 1
    decoder_layers: int = 4
    ffn_mult: int = 4
    max_len: int = 512
    dropout: float = 0.1

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    @property
    def grid(self) -> int:
        return self.image_size // (2 ** len(self.cnn_channels))

    @property
    def memory_len(self) -> int:
        return self.grid * self.grid

    def to_json(self) -> dict:
        d = asdict(self)
        d["cnn_channels"] = list(self.cnn_channels)
        d["head_dim"] = self.head_dim
        d["memory_len"] = self.memory_len
        return d


CONFIGS = {
    # tests and smoke models: trains on CPU in well under a minute
    "tiny": dict(image_size=64, cnn_channels=(16, 32, 64), d_model=64, heads=2, encoder_layers=0,
                 decoder_layers=2, max_len=256, dropout=0.0),
    # what a 2-core CPU trains in an hour or two (with OpenBLAS): ~2 M parameters, 96² input
    "compact": dict(image_size=96, cnn_channels=(16, 32, 64, 128), d_model=160, heads=4,
                    encoder_layers=1, decoder_layers=3, max_len=384, dropout=0.0),
    # GPU target for the bundled model: ~3.9 M parameters
    "small": dict(image_size=128, cnn_channels=(32, 64, 128, 192), d_model=192, heads=4,
                  encoder_layers=1, decoder_layers=4, max_len=1024, dropout=0.1),
    # GPU training target: ~23.5 M parameters
    "base": dict(image_size=224, cnn_channels=(48, 96, 192, 384, 384), d_model=384, heads=6,
                 encoder_layers=2, decoder_layers=6, max_len=1024, dropout=0.1),
}


class ConvStage(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1)
        self.norm1 = nn.GroupNorm(min(8, cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(min(8, cout), cout)

    def forward(self, x):
        x = F.gelu(self.norm1(self.conv1(x)))
        return x + F.gelu(self.norm2(self.conv2(x)))


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.up = nn.Linear(cfg.d_model, cfg.d_model * cfg.ffn_mult)
        self.down = nn.Linear(cfg.d_model * cfg.ffn_mult, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.drop(self.down(F.gelu(self.up(x))))


def split_heads(x, heads: int):
    b, t, d = x.shape
    return x.reshape(b, t, heads, d // heads).transpose(1, 2)


def merge_heads(x):
    b, h, t, dh = x.shape
    return x.transpose(1, 2).reshape(b, t, h * dh)


def attend(q, k, v, scale: float, mask=None):
    """q [B,H,T,dh], k/v [B or 1,H,S,dh] (batch broadcasts), mask [T,S] bool (True = keep)."""
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e9)
    return torch.matmul(torch.softmax(scores, dim=-1), v)


class EncoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.heads = cfg.heads
        self.scale = 1.0 / math.sqrt(cfg.head_dim)
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ffn = FeedForward(cfg)

    def forward(self, x):
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        a = attend(split_heads(q, self.heads), split_heads(k, self.heads), split_heads(v, self.heads), self.scale)
        x = x + self.proj(merge_heads(a))
        return x + self.ffn(self.norm2(x))


class ImageEncoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        chans = [1] + list(cfg.cnn_channels)
        self.stages = nn.Sequential(*[ConvStage(a, b) for a, b in zip(chans[:-1], chans[1:])])
        self.to_model = nn.Linear(chans[-1], cfg.d_model)
        self.pos = nn.Parameter(torch.randn(1, cfg.memory_len, cfg.d_model) * 0.02)
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg.encoder_layers)])
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, image):  # [B,1,S,S] -> [B,M,D]
        f = self.stages(image)
        x = self.to_model(f.flatten(2).transpose(1, 2)) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.heads = cfg.heads
        self.scale = 1.0 / math.sqrt(cfg.head_dim)
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.self_proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.cross_q = nn.Linear(cfg.d_model, cfg.d_model)
        self.cross_kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.cross_proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.norm3 = nn.LayerNorm(cfg.d_model)
        self.ffn = FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def memory_kv(self, memory):  # [B,M,D] -> [2,B,H,M,dh]
        k, v = self.cross_kv(memory).chunk(2, dim=-1)
        return torch.stack([split_heads(k, self.heads), split_heads(v, self.heads)])

    def forward(self, x, past, cross, mask):
        """x [B,T,D]; past [2,B,H,P,dh]; cross [2,B|1,H,M,dh]; mask [T,P+T]. -> (x, present)."""
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        k = torch.cat([past[0], split_heads(k, self.heads)], dim=2)
        v = torch.cat([past[1], split_heads(v, self.heads)], dim=2)
        a = attend(split_heads(q, self.heads), k, v, self.scale, mask)
        x = x + self.drop(self.self_proj(merge_heads(a)))
        c = attend(split_heads(self.cross_q(self.norm2(x)), self.heads), cross[0], cross[1], self.scale)
        x = x + self.drop(self.cross_proj(merge_heads(c)))
        x = x + self.ffn(self.norm3(x))
        return x, torch.stack([k, v])


class GiftModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ImageEncoder(cfg)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.decoder_layers)])
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied: fewer parameters, better small-data behaviour
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def encode(self, image):  # [B,1,S,S] -> cross_kv [L,2,B,H,M,dh]
        memory = self.encoder(image)
        return torch.stack([layer.memory_kv(memory) for layer in self.layers])

    def empty_past(self, batch: int, device=None):
        c = self.cfg
        return torch.zeros(c.decoder_layers, 2, batch, c.heads, 0, c.head_dim, device=device)

    def decode(self, input_ids, past_kv, cross_kv):
        """input_ids [B,T] int64 -> (logits [B,T,V], present_kv [L,2,B,H,P+T,dh])."""
        t = input_ids.shape[1]
        p = past_kv.shape[4]
        positions = torch.arange(t, device=input_ids.device) + p
        x = self.embed(input_ids) + self.pos(positions).unsqueeze(0)
        rows = torch.arange(t, device=input_ids.device).unsqueeze(1) + p
        cols = torch.arange(p + t, device=input_ids.device).unsqueeze(0)
        mask = cols <= rows
        presents = []
        for i, layer in enumerate(self.layers):
            x, present = layer(x, past_kv[i], cross_kv[i], mask)
            presents.append(present)
        return self.head(self.norm(x)), torch.stack(presents)

    def forward(self, image, input_ids):  # teacher forcing
        cross = self.encode(image)
        logits, _ = self.decode(input_ids, self.empty_past(input_ids.shape[0], input_ids.device), cross)
        return logits


def build_config(name: str, vocab_size: int, **overrides) -> ModelConfig:
    if name not in CONFIGS:
        raise SystemExit(f"unknown --config {name!r}; choose one of {', '.join(CONFIGS)}")
    params = dict(CONFIGS[name])
    params.update({k: v for k, v in overrides.items() if v is not None})
    cfg = ModelConfig(vocab_size=vocab_size, **params)
    if cfg.image_size % (2 ** len(cfg.cnn_channels)) != 0:
        raise SystemExit(f"image size {cfg.image_size} must be a multiple of {2 ** len(cfg.cnn_channels)}")
    if cfg.d_model % cfg.heads != 0:
        raise SystemExit(f"d_model {cfg.d_model} must be divisible by heads {cfg.heads}")
    return cfg


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
