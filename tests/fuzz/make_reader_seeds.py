#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_readers.cpp into tests/fuzz/corpora/<reader>/seed_* (run by hand
with Debian's python3: numpy and h5py; see README.md). Seeds are small valid files of each
reader's format, from the bundled demo model and ../shared where it is there, plus a few made here
field by field; the fuzzer mutates them. Inputs the fuzzer found are committed beside them as found_*.

    /usr/bin/python3 tests/fuzz/make_reader_seeds.py [SHARED_DIR]
"""
import io
import json
import os
import struct
import sys
import tarfile

import collections
import pickle
import types
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
OUT = os.path.join(HERE, "corpora")


def put(reader, name, data):
    d = os.path.join(OUT, reader)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(a, fortran=False):
    b = io.BytesIO()
    np.save(b, np.asfortranarray(a) if fortran else a)
    return b.getvalue()


# ---- .npy
rng = np.random.default_rng(1)
put("npy", "f32_3d.npy", npy(rng.standard_normal((2, 3, 4)).astype("<f4")))
put("npy", "f16_2d.npy", npy(rng.standard_normal((3, 4)).astype("<f2")))
put("npy", "f64_fortran.npy", npy(rng.standard_normal((2, 3, 2)), fortran=True))
put("npy", "big_endian.npy", npy(rng.standard_normal((2, 2, 2)).astype(">f4")))
put("npy", "int.npy", npy(np.arange(8, dtype="<i4").reshape(2, 2, 2)))


# ---- .safetensors
def safetensors(tensors, meta=None):
    header, blob = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if meta:
        header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


x = rng.standard_normal((2, 3, 4)).astype("<f4")
put("safetensors", "f32.safetensors", safetensors({"hidden_states": ("F32", [2, 3, 4], x.tobytes())}))
put("safetensors", "f16_layers.safetensors", safetensors({
    f"layer.{i}": ("F16", [3, 4], x[i].astype("<f2").tobytes()) for i in range(2)}, {"format": "pt"}))
bf16 = (x.view("<u4") >> 16).astype("<u2").tobytes()
put("safetensors", "bf16.safetensors", safetensors({"hidden_states": ("BF16", [2, 3, 4], bf16)}))
put("safetensors", "mixed.safetensors", safetensors({"a": ("F32", [2], x.ravel()[:2].tobytes()),
                                                     "b": ("I64", [1], struct.pack("<q", 7))}))

# ---- HDF5 activations
for name, kw in (("f32.h5", {}), ("f16_gzip.h5", {"dtype": "<f2", "compression": "gzip", "chunks": (1, 3, 4)})):
    b = io.BytesIO()
    with h5py.File(b, "w") as f:
        f.create_dataset("hidden_states", data=x.astype(kw.pop("dtype", "<f4")), **kw)
    put("hdf5_activations", name, b.getvalue())

# ---- config.json: every fixture's, and the demo model's
put("config", "demo.json", open(os.path.join(ROOT, "data/demo/model/config.json"), "rb").read())
fixtures = os.path.join(SHARED, "fixtures")
if os.path.isdir(fixtures):
    for arch in sorted(os.listdir(fixtures)):
        p = os.path.join(fixtures, arch, "config.json")
        if os.path.isfile(p):
            put("config", arch + ".json", open(p, "rb").read())
else:
    print(f"{fixtures}: absent; config seeds are the demo model's only")

# ---- tokenizer.json: each real one cut to 400 vocabulary entries and the merges among them
archive = os.path.join(SHARED, "fixtures/tokenizers/tokenizers.tar.xz")
if os.path.isfile(archive):
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            if not m.name.endswith("/tokenizer.json"):
                continue
            j = json.load(tar.extractfile(m))
            model = j.get("model", {})
            vocab = model.get("vocab")
            if isinstance(vocab, dict):
                keep = dict(sorted(vocab.items(), key=lambda kv: kv[1])[:400])
                model["vocab"] = keep
                merges = model.get("merges", [])
                pairs = [(p.split(" ", 1) if isinstance(p, str) else p) for p in merges]
                model["merges"] = [merges[i] for i, p in enumerate(pairs)
                                   if len(p) == 2 and p[0] in keep and p[1] in keep and (p[0] + p[1]) in keep][:300]
            elif isinstance(vocab, list):  # unigram
                model["vocab"] = vocab[:400]
            j["added_tokens"] = [t for t in j.get("added_tokens", []) if t.get("id", 0) < 400][:20]
            put("tokenizer_json", m.name.split("/")[0] + ".json", json.dumps(j, ensure_ascii=False))
else:
    print(f"{archive}: absent; no tokenizer.json seeds from real files")
put("tokenizer_json", "minimal_bpe.json", json.dumps({
    "version": "1.0", "added_tokens": [{"id": 5, "content": "<s>", "special": True}],
    "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
    "post_processor": None, "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120ab": 4, "<s>": 5},
              "merges": ["a b", "\u0120 ab"]}}))

# ---- vocab.json + merges.txt (one input: vocab, "\n@@\n", merges)
vocab = json.load(open(os.path.join(ROOT, "data/demo/model/vocab.json")))
keep = dict(sorted(vocab.items(), key=lambda kv: kv[1])[:300])
merges = [l for l in open(os.path.join(ROOT, "data/demo/model/merges.txt"), encoding="utf-8").read().split("\n")
          if l and not l.startswith("#")]
merges = [l for l in merges if len(l.split(" ")) == 2 and all(p in keep for p in l.split(" "))
          and "".join(l.split(" ")) in keep][:200]
put("vocab_merges", "demo_cut.txt", json.dumps(keep, ensure_ascii=False) + "\n@@\n#version: 0.2\n" + "\n".join(merges) + "\n")

# ---- llama2.c tokens.json
tokens = os.path.join(SHARED, "models/stories260K-hf/tokens.json")
if os.path.isfile(tokens):
    put("tokens_json", "stories260K.json", open(tokens, "rb").read())
put("tokens_json", "small.json", json.dumps(
    [{"id": 0, "piece": "<unk>", "score": 0.0}, {"id": 1, "piece": "<s>", "score": 0.0}, {"id": 2, "piece": "</s>", "score": 0.0}]
    + [{"id": 3 + b, "piece": f"<0x{b:02X}>", "score": 0.0} for b in range(256)]
    + [{"id": 259 + i, "piece": p, "score": -float(i)} for i, p in enumerate([" ", "h", "e", "l", "o", "he", "ll", " he", "llo", " hello"])]))


# ---- sentencepiece tokenizer.model, field by field (as tests/data/test_tokenizers.cpp)
def varint(v):
    out = b""
    while True:
        b, v = v & 0x7F, v >> 7
        out += bytes([b | 0x80 if v else b])
        if not v:
            return out


def fv(field, v):
    return varint(field << 3) + varint(v & ((1 << 64) - 1))


def fb(field, s):
    s = s.encode() if isinstance(s, str) else s
    return varint((field << 3) | 2) + varint(len(s)) + s


def ff(field, x):
    return varint((field << 3) | 5) + struct.pack("<f", x)


def piece(p, score, kind):
    return fb(1, fb(1, p) + ff(2, score) + (fv(3, kind) if kind != 1 else b""))


for unigram in (False, True):
    m = piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3)
    m += b"".join(piece(f"<0x{b:02X}>", 0, 6) for b in range(256))
    for i, p in enumerate(["\u2581", "h", "e", "l", "o", "he", "ll", "\u2581he", "llo", "\u2581hello"]):
        m += piece(p, -float(i), 1)
    trainer = fv(3, 1 if unigram else 2) + fv(4, 269) + fv(35, 1) + fv(40, 0) + fv(41, 1) + fv(42, 2) + fv(43, -1)
    m += fb(2, trainer) + fb(3, fb(1, "identity") + fv(3, 1))
    put("tokenizer_model", ("unigram" if unigram else "bpe") + ".model", m)

# ---- pytorch_model.bin: torch.save's zip layout and pickle, without torch (stand-in classes
# that pickle under torch's names: torch._utils._rebuild_tensor_v2, torch.FloatStorage, ...)
fake_torch, fake_utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
sys.modules.setdefault("torch", fake_torch)
sys.modules.setdefault("torch._utils", fake_utils)


def _rebuild_tensor_v2(*args):
    raise NotImplementedError


_rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
fake_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
STORAGES = {}
for cls in ("FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage"):
    c = type(cls, (), {"__module__": "torch"})
    setattr(fake_torch, cls, c)
    STORAGES[cls] = c


class Storage:
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = STORAGES[cls], key, numel


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", obj.cls, obj.key, "cpu", obj.numel) if isinstance(obj, Storage) else None


def torch_zip(tensors, blobs):
    b = io.BytesIO()
    TorchPickler(b, protocol=2).dump(collections.OrderedDict(tensors))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b.getvalue())
        for key, data in blobs.items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")
    return out.getvalue()


w = rng.standard_normal(6).astype("<f4")
s0 = Storage("FloatStorage", "0", 6)
put("pytorch_bin", "f32.bin", torch_zip([("w", Tensor(s0, 0, [2, 3], [3, 1])), ("b", Tensor(s0, 3, [3], [1]))],
                                        {"0": w.tobytes()}))
put("pytorch_bin", "f16_bf16.bin", torch_zip(
    [("h", Tensor(Storage("HalfStorage", "0", 4), 0, [4], [1])), ("g", Tensor(Storage("BFloat16Storage", "1", 4), 0, [2, 2], [2, 1]))],
    {"0": w[:4].astype("<f2").tobytes(), "1": (w[:4].view("<u4") >> 16).astype("<u2").tobytes()}))

# ---- remote run requests (data/REMOTE_PROTOCOL.md)
for name, body in (("minimal.json", {"model": "demo", "text": "The cat sat."}),
                   ("full.json", {"model": "demo", "text": "a b c", "tau": 0.3, "rule": "greedy-cover",
                                  "attention": "ada-cascade", "nearest": "causal-nearest", "taus": [0.1, 0.2],
                                  "layers": "1:3", "quality": True, "dtype": "float32", "with_activations": True,
                                  "cancel_on_disconnect": False}),
                   ("ids.json", {"model": "demo", "ids": [1, 2, 3]})):
    put("remote_request", name, json.dumps(body))
print("seeds written under", OUT)
