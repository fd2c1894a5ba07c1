#!/usr/bin/env python3
"""The peer of bench_llama_cpu: a plain PyTorch forward of the same Llama model (HF
LlamaForCausalLM's arithmetic in float32, written with torch only — no transformers), on the
checkpoint and ids bench_llama_cpu wrote to --dir. Prints load time and peak RSS after loading,
runs a warm-up and prints READY, then times one forward per "run" line on stdin ("SECONDS s"),
so that bench_llama_cpu interleaves them with its own; at any other line or EOF it prints
max |logits - ours| at the last position and exits.

  /usr/bin/python3 tests/bench/llama_peer.py --dir /tmp/cascade-bench-llama1b
"""
import argparse
import json
import math
import mmap
import os
import resource
import struct
import sys
import time
import warnings

import torch
import torch.nn.functional as F

# frombuffer on the read-only mapping: the tensors are copied to float32 at once, never written.
warnings.filterwarnings("ignore", message="The given buffer is not writable")

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


def read_safetensors(path, names):
    """The named tensors of one file as float32 (copies; the file is memory-mapped)."""
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    (length,) = struct.unpack("<Q", mapped[:8])
    header = json.loads(mapped[8:8 + length])
    out = {}
    for name in names:
        entry = header[name]
        begin, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        count = (end - begin) // torch.tensor([], dtype=dtype).element_size()
        raw = torch.frombuffer(mapped, dtype=dtype, count=count, offset=8 + length + begin)
        out[name] = raw.reshape(entry["shape"]).float()
    return out


def load(dir):
    with open(os.path.join(dir, "model.safetensors.index.json")) as f:
        weight_map = json.load(f)["weight_map"]
    by_shard = {}
    for name, shard in weight_map.items():
        by_shard.setdefault(shard, []).append(name)
    weights = {}
    for shard, names in by_shard.items():
        weights.update(read_safetensors(os.path.join(dir, shard), names))
    return weights


def read_npy_f32(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY"
    header_len = struct.unpack("<H", data[8:10])[0] if data[6] == 1 else struct.unpack("<I", data[8:12])[0]
    start = (10 if data[6] == 1 else 12) + header_len
    return torch.frombuffer(bytearray(data[start:]), dtype=torch.float32)


def llama3_inv_freq(c):
    dim = c["head_dim"]
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    s = c["rope_scaling"]
    factor, low, high, old = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled)


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(w, c, ids):
    T = ids.shape[0]
    H, KV, hd, eps = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["rms_norm_eps"]
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), llama3_inv_freq(c))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    x = w["model.embed_tokens.weight"][ids]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = F.linear(h, w[p + "self_attn.q_proj.weight"]).view(T, H, hd).transpose(0, 1)
        k = F.linear(h, w[p + "self_attn.k_proj.weight"]).view(T, KV, hd).transpose(0, 1)
        v = F.linear(h, w[p + "self_attn.v_proj.weight"]).view(T, KV, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=0)
        v = v.repeat_interleave(H // KV, dim=0)
        probs = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd) + mask, dim=-1)
        x = x + F.linear((probs @ v).transpose(0, 1).reshape(T, H * hd), w[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate, up = F.linear(h, w[p + "mlp.gate_proj.weight"]), F.linear(h, w[p + "mlp.up_proj.weight"])
        x = x + F.linear(F.silu(gate) * up, w[p + "mlp.down_proj.weight"])
    return F.linear(rms_norm(x, w["model.norm.weight"], eps), w["model.embed_tokens.weight"])  # tied head


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    with open(os.path.join(a.dir, "config.json")) as f:
        config = json.load(f)
    t0 = time.perf_counter()
    weights = load(a.dir)
    load_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1048576.0
    print(f"  PyTorch {torch.__version__} peer, {torch.get_num_threads()} intra-op threads: loaded float32 "
          f"in {load_s:.1f} s, peak RSS {peak:.2f} GiB", flush=True)
    with open(os.path.join(a.dir, "ids.txt")) as f:
        ids = torch.tensor([int(line) for line in f if line.strip()], dtype=torch.long)
    with torch.inference_mode():
        logits = forward(weights, config, ids)  # warm-up
        print("READY", flush=True)
        # One timed forward per "run" line, so that bench_llama_cpu interleaves them with its own.
        for line in sys.stdin:
            if line.strip() != "run":
                break
            t0 = time.perf_counter()
            logits = forward(weights, config, ids)
            print(f"SECONDS {time.perf_counter() - t0}", flush=True)
    ours = read_npy_f32(os.path.join(a.dir, "last_logits.npy"))
    diff = (logits[-1] - ours).abs().max().item()
    scale = ours.abs().max().item()
    print(f"  last position's logits: max |peer - cascade| = {diff:.2e} (max |logit| {scale:.2f})", flush=True)


if __name__ == "__main__":
    main()
