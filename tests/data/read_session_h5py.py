#!/usr/bin/env python3
"""Read a Cascade Lens session file with h5py alone, following data/SESSION_FORMAT.md, and check it.

usage: read_session_h5py.py SESSION.h5 ANALYSIS.json

Written from data/SESSION_FORMAT.md and SPEC.md section 4 only (not from the C++ reader/writer):
it proves that the schema document suffices to use a session without Cascade Lens.

Checks, independently of Cascade Lens:
  - the root attributes (format, format_version, ...), /model, /tokens, /run, /quality: presence,
    types (int64, float64, variable-length UTF-8 strings) and shapes against L, T, d;
  - every analysis group (/analysis and each /sweep/analyses/NNNN): 0/1 masks; the cascade
    (reps_casc[0] == reps_ind[0]; removed ⊆ reps_casc[i-1], added ∩ reps_casc[i-1] = ∅ and
    reps_casc[i] == (reps_casc[i-1] & ~removed) | added); every per-layer count and measure and
    every summary attribute recomputed from the four masks (NaN conventions as documented);
  - /prior_max: gamma[., 0] = -inf, partner[., 0] = -1, 0 <= partner[., t] < t; with the
    prior-max rule the independent set of every analysis is {t : gamma < 1 - tau^2};
  - /sweep: tau ascending, one analysis per tau with that tau, the same rule and layers;
  - /activations/xhat when present: float16 [L, T, d], row norms 1 (or 0), gamma and partner
    recomputed from X̂ on a few layers, the independent and cascade sets re-derived from X̂ (outside
    a float16 band around theta);
then compares ANALYSIS.json (`cascadelens-cli analyze SESSION.h5 --format json`) with the file:
every per-layer number, every set, the Jaccard matrix and the summary.

Exit 0 with a one-line summary when everything holds, 1 with the first mismatch otherwise,
77 (skip) when h5py (or numpy) cannot be imported.
"""
import argparse
import json
import math
import re
import sys

try:
    import numpy as np
    import h5py
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: cannot import h5py/numpy ({e})")
    sys.exit(77)

FLOAT16_BAND = 2e-3  # SESSION_FORMAT.md: float16 moves a cosine by at most about 1e-3


class Mismatch(Exception):
    pass


def fail(where, msg):
    raise Mismatch(f"{where}: {msg}")


# ---------------------------------------------------------------------------------------------
# typed access


def is_utf8(dtype):
    """Format version 3: fixed-length UTF-8, NUL-padded (versions 1-2: variable-length)."""
    info = h5py.check_string_dtype(dtype)
    return info is not None and info.encoding == "utf-8"


def text(v):
    """A string attribute's value: bytes (fixed-length, version 3) or str (variable-length)."""
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else v


def attr(obj, name, kind):
    """kind: 'str' (variable-length UTF-8), 'int' (int64) or 'float' (float64)."""
    where = f"{obj.name}@{name}"
    if name not in obj.attrs:
        fail(where, "missing attribute")
    dt = obj.attrs.get_id(name).dtype
    v = obj.attrs[name]
    if kind == "str":
        if not is_utf8(dt) or not isinstance(v, (str, bytes, np.bytes_)) or np.ndim(v) != 0:
            fail(where, f"expected a UTF-8 string, got {dt!r}")
        return text(v)
    want = {"int": np.dtype("<i8"), "float": np.dtype("<f8")}[kind]
    if dt != want or np.ndim(v) != 0:
        fail(where, f"expected a scalar {want}, got {dt!r} shape {np.shape(v)}")
    return int(v) if kind == "int" else float(v)


def dataset(group, name, dtype, shape):
    where = f"{group.name.rstrip('/')}/{name}"
    if name not in group or not isinstance(group[name], h5py.Dataset):
        fail(where, "missing dataset")
    ds = group[name]
    if dtype == "str":
        if not is_utf8(ds.dtype):
            fail(where, f"expected UTF-8 strings, got {ds.dtype!r}")
    elif ds.dtype != np.dtype(dtype):
        fail(where, f"expected dtype {np.dtype(dtype)}, got {ds.dtype}")
    if ds.shape != tuple(shape):
        fail(where, f"expected shape {tuple(shape)}, got {ds.shape}")
    return ds


def check_layer_chunks(ds, compressed):
    """[L, T] (and [L, T, d]) datasets: one layer per chunk; masks/gamma/partner shuffle+deflate 4.

    Storage only (h5py reads either way). The document says every [L, T] dataset is chunked and
    compressed, but the files store small ones (short texts, e.g. T < 32) contiguous and
    uncompressed: accepted here; a chunked one must have the documented chunks and filters.
    """
    if ds.shape[0] == 0 or 0 in ds.shape or ds.chunks is None:
        return
    want = (1,) + ds.shape[1:]
    if ds.chunks != want:
        fail(ds.name, f"expected chunks {want} (one layer per chunk), got {ds.chunks}")
    if compressed:
        if ds.compression != "gzip" or ds.compression_opts != 4 or not ds.shuffle:
            fail(ds.name, f"expected shuffle + deflate 4, got compression={ds.compression} "
                          f"opts={ds.compression_opts} shuffle={ds.shuffle}")
    elif ds.compression is not None:
        fail(ds.name, f"expected no compression, got {ds.compression}")


# ---------------------------------------------------------------------------------------------
# numbers


def same(a, b, rel=1e-12, abs_=1e-12):
    """Equal reals, NaN == NaN (the documented "no value")."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def expect_real(where, got, want):
    if not same(got, want):
        fail(where, f"stored {got!r}, recomputed {want!r}")


def expect_reals(where, got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        fail(where, f"shape {got.shape} != {want.shape}")
    for idx in np.ndindex(got.shape):
        if not same(got[idx], want[idx]):
            fail(f"{where}{list(idx)}", f"stored {got[idx]!r}, recomputed {want[idx]!r}")


def expect_ints(where, got, want):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        fail(where, f"shape {got.shape} != {want.shape}")
    bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
    if bad.size:
        i = np.unravel_index(bad[0], got.shape)
        fail(f"{where}{list(i)}", f"stored {got[i]}, recomputed {want[i]}")


def jaccard(a, b):
    """SPEC §4: |A ∩ B| / |A ∪ B|, 1 when both are empty. a, b: bool masks."""
    union = int(np.count_nonzero(a | b))
    return 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union


def compression(T, r):
    return 0.0 if r == 0 else T / r


# ---------------------------------------------------------------------------------------------
# groups

MASKS = ("reps_ind", "reps_casc", "added", "removed")
INT_ROWS = ("layer", "r_ind", "r_casc", "adds", "removes", "gram_entries_ind", "gram_entries_casc",
            "gram_macs_ind", "gram_macs_casc")
REAL_ROWS = ("depth_jaccard", "casc_fidelity", "turnover", "compression_ind", "compression_casc")
SUMMARY_INT = ("gram_entries_ind", "gram_entries_casc", "total_missed", "total_extra", "total_adds",
               "total_removes")
SUMMARY_REAL = ("mean_depth_jaccard", "gram_savings", "mean_r_ind", "mean_r_casc",
                "mean_compression_ind", "mean_compression_casc", "mean_casc_fidelity", "mean_turnover")


def read_analysis(g, L, T, d):
    """One analysis group, every documented check; returns its arrays (masks as bool)."""
    w = g.name
    a = {"tau": attr(g, "tau", "float"), "theta": attr(g, "theta", "float"), "rule": attr(g, "rule", "str")}
    if attr(g, "T", "int") != T:
        fail(f"{w}@T", f"{g.attrs['T']} != {T} tokens")
    if attr(g, "d", "int") != d:
        fail(f"{w}@d", f"{g.attrs['d']} != d = {d}")
    if a["rule"] not in ("prior-max", "greedy-cover"):
        fail(f"{w}@rule", f"unknown rule {a['rule']!r}")
    if not 0.0 <= a["tau"] <= 1.0:
        fail(f"{w}@tau", f"{a['tau']} outside [0, 1]")
    expect_real(f"{w}@theta (= 1 - tau^2)", a["theta"], 1.0 - a["tau"] ** 2)

    for name in MASKS:
        ds = dataset(g, name, "u1", (L, T))
        check_layer_chunks(ds, compressed=True)
        m = ds[()]
        bad = np.flatnonzero((m != 0) & (m != 1))
        if bad.size:
            i = np.unravel_index(bad[0], m.shape)
            fail(f"{w}/{name}{list(i)}", f"mask value {m[i]} (must be 0 or 1)")
        a[name] = m.astype(bool)
    for name in INT_ROWS:
        a[name] = dataset(g, name, "<i8", (L,))[()]
    for name in REAL_ROWS:
        a[name] = dataset(g, name, "<f8", (L,))[()]
    a["jaccard_matrix"] = dataset(g, "jaccard_matrix", "<f8", (L, L))[()]

    ind, casc, added, removed = a["reps_ind"], a["reps_casc"], a["added"], a["removed"]
    # the cascade
    if L:
        if not np.array_equal(casc[0], ind[0]):
            t = np.flatnonzero(casc[0] != ind[0])[0]
            fail(f"{w}/reps_casc[0]", f"differs from reps_ind[0] at token {t}")
        if added[0].any() or removed[0].any():
            fail(f"{w}/added|removed[0]", "the first row must be empty")
    for i in range(1, L):
        inherited = casc[i - 1]
        if (removed[i] & ~inherited).any():
            t = np.flatnonzero(removed[i] & ~inherited)[0]
            fail(f"{w}/removed[{i}]", f"token {t} removed but not in reps_casc[{i - 1}]")
        if (added[i] & inherited).any():
            t = np.flatnonzero(added[i] & inherited)[0]
            fail(f"{w}/added[{i}]", f"token {t} added but already inherited from reps_casc[{i - 1}]")
        want = (inherited & ~removed[i]) | added[i]
        if not np.array_equal(casc[i], want):
            t = np.flatnonzero(casc[i] != want)[0]
            fail(f"{w}/reps_casc[{i}]", f"not (reps_casc[{i - 1}] & ~removed) | added at token {t}")

    # per-layer numbers from the masks
    r_ind = ind.sum(axis=1).astype(np.int64)
    r_casc = casc.sum(axis=1).astype(np.int64)
    adds = added.sum(axis=1).astype(np.int64)
    removes = removed.sum(axis=1).astype(np.int64)
    expect_ints(f"{w}/r_ind", a["r_ind"], r_ind)
    expect_ints(f"{w}/r_casc", a["r_casc"], r_casc)
    expect_ints(f"{w}/adds", a["adds"], adds)
    expect_ints(f"{w}/removes", a["removes"], removes)
    ge_ind = np.full(L, T * T, dtype=np.int64)
    ge_casc = np.full(L, T * T, dtype=np.int64)
    for i in range(1, L):
        r_inh = int(r_casc[i - 1])
        r_valid = r_inh - int(removes[i])
        ge_casc[i] = r_inh * r_inh + (T - r_inh) * r_valid
    expect_ints(f"{w}/gram_entries_ind", a["gram_entries_ind"], ge_ind)
    expect_ints(f"{w}/gram_entries_casc", a["gram_entries_casc"], ge_casc)
    expect_ints(f"{w}/gram_macs_ind", a["gram_macs_ind"], ge_ind * d)
    expect_ints(f"{w}/gram_macs_casc", a["gram_macs_casc"], ge_casc * d)

    dj = np.array([jaccard(ind[i], ind[i + 1]) if i + 1 < L else math.nan for i in range(L)])
    cf = np.array([jaccard(casc[i], ind[i]) for i in range(L)])
    to = np.array([math.nan if i == 0 or r_casc[i - 1] == 0 else (adds[i] + removes[i]) / r_casc[i - 1]
                   for i in range(L)])
    ci = np.array([compression(T, r) for r in r_ind])
    cc = np.array([compression(T, r) for r in r_casc])
    jm = np.array([[jaccard(ind[i], ind[j]) for j in range(L)] for i in range(L)]).reshape(L, L)
    expect_reals(f"{w}/depth_jaccard", a["depth_jaccard"], dj)
    expect_reals(f"{w}/casc_fidelity", a["casc_fidelity"], cf)
    expect_reals(f"{w}/turnover", a["turnover"], to)
    expect_reals(f"{w}/compression_ind", a["compression_ind"], ci)
    expect_reals(f"{w}/compression_casc", a["compression_casc"], cc)
    expect_reals(f"{w}/jaccard_matrix", a["jaccard_matrix"], jm)

    layer = a["layer"]
    if L and (np.any(layer < 0) or np.any(np.diff(layer) <= 0)):
        fail(f"{w}/layer", f"not strictly increasing non-negative layer numbers: {layer.tolist()}")

    # the summary
    if "summary" not in g or not isinstance(g["summary"], h5py.Group):
        fail(f"{w}/summary", "missing group")
    sg = g["summary"]

    def mean(v):
        v = [x for x in v if not math.isnan(x)]
        return sum(v) / len(v) if v else math.nan

    s_ind, s_casc = int(ge_ind.sum()), int(ge_casc.sum())
    want_int = {
        "gram_entries_ind": s_ind,
        "gram_entries_casc": s_casc,
        "total_missed": int((ind & ~casc).sum()),
        "total_extra": int((casc & ~ind).sum()),
        "total_adds": int(adds.sum()),
        "total_removes": int(removes.sum()),
    }
    mean_r_ind = float(r_ind.mean()) if L else math.nan
    mean_r_casc = float(r_casc.mean()) if L else math.nan
    want_real = {
        "mean_depth_jaccard": mean(dj[:-1]) if L > 1 else math.nan,
        "gram_savings": 1.0 - s_casc / s_ind if s_ind else 0.0,
        "mean_r_ind": mean_r_ind,
        "mean_r_casc": mean_r_casc,
        "mean_compression_ind": compression(T, mean_r_ind),
        "mean_compression_casc": compression(T, mean_r_casc),
        "mean_casc_fidelity": mean(cf),
        "mean_turnover": mean(to[1:]) if L > 1 else math.nan,
    }
    a["summary"] = {}
    for k, v in want_int.items():
        got = attr(sg, k, "int")
        if got != v:
            fail(f"{sg.name}@{k}", f"stored {got}, recomputed {v}")
        a["summary"][k] = got
    for k, v in want_real.items():
        got = attr(sg, k, "float")
        expect_real(f"{sg.name}@{k}", got, v)
        a["summary"][k] = got
    a["missed"] = ind & ~casc
    a["extra"] = casc & ~ind
    return a


def check_prior_max_sets(a, gamma, where):
    """Prior-max: R_ind = {t : gamma < 1 - tau^2}; greedy-cover: that set is a subset of R_ind."""
    theta = a["theta"]
    pm = gamma.astype(np.float64) < theta
    if a["rule"] == "prior-max":
        if not np.array_equal(pm, a["reps_ind"]):
            i, t = np.argwhere(pm != a["reps_ind"])[0]
            fail(f"{where}/reps_ind[{i}, {t}]",
                 f"{int(a['reps_ind'][i, t])} but gamma = {gamma[i, t]!r} vs theta = {theta!r} "
                 f"(prior-max: representative iff gamma < 1 - tau^2)")
    else:
        # a token whose max |cos| with *all* earlier tokens is < theta is < theta with the earlier
        # representatives too: greedy-cover keeps every prior-max representative.
        miss = pm & ~a["reps_ind"] & (gamma.astype(np.float64) < theta - 1e-5)
        if miss.any():
            i, t = np.argwhere(miss)[0]
            fail(f"{where}/reps_ind[{i}, {t}]", f"greedy-cover left out token {t} although gamma = "
                                                f"{gamma[i, t]!r} < theta = {theta!r}")


def abs_gram(x16):
    x = x16.astype(np.float64)
    return np.abs(x @ x.T)


def check_with_xhat(a, xhat, rows, where):
    """Independent (greedy-cover) and cascade sets re-derived from X̂, outside a float16 band."""
    theta, band = a["theta"], FLOAT16_BAND
    ind, casc, removed, added = a["reps_ind"], a["reps_casc"], a["removed"], a["added"]

    def decided(value, is_in, what):  # token "in" iff value < theta, unless within the band
        if value < theta - band and not is_in:
            fail(where, f"{what}: max |cos| {value:.6f} < theta {theta} but not selected")
        if value > theta + band and is_in:
            fail(where, f"{what}: max |cos| {value:.6f} > theta {theta} but selected")

    for i in rows:
        G = abs_gram(xhat[i])
        T = G.shape[0]
        if a["rule"] == "greedy-cover":
            reps = []
            for t in range(T):
                m = max((G[t, s] for s in reps), default=-math.inf)
                decided(m, bool(ind[i, t]), f"reps_ind[{i}, {t}] (greedy-cover)")
                if ind[i, t]:  # follow the stored choice so that the band cannot derail the scan
                    reps.append(t)
        if i == 0:
            continue
        inherited = np.flatnonzero(casc[i - 1])
        for k, s in enumerate(inherited):  # SPEC §3 step 2
            m = max((G[s, s2] for s2 in inherited[:k]), default=-math.inf)
            decided(m, not removed[i, s], f"removed[{i}, {s}] (cascade validity)")
        valid = casc[i - 1] & ~removed[i]
        vidx = np.flatnonzero(valid)
        for t in np.flatnonzero(~casc[i - 1]):  # step 4: all valid reps, earlier and later
            m = G[t, vidx].max() if vidx.size else -math.inf
            decided(m, bool(added[i, t]), f"added[{i}, {t}] (cascade add)")


def read_session(path):
    f = h5py.File(path, "r")
    out = {"file": f}
    if "format" not in f.attrs:
        fail("/@format", "missing: not a Cascade Lens session")
    if attr(f, "format", "str") != "cascade-lens-session":
        fail("/@format", f"{f.attrs['format']!r} is not 'cascade-lens-session'")
    version = attr(f, "format_version", "int")
    if version > 3:
        fail("/@format_version", f"{version} is newer than this reader (3): update it")
    if version < 1:
        fail("/@format_version", f"{version} is not a valid version")
    for k in ("app_version", "created", "kind", "source"):
        out[k] = attr(f, k, "str")
    if version >= 3:  # a dataset of one string (a long document does not fit an attribute)
        out["text"] = dataset(f, "text", "str", (1,)).asstr()[0]
        if "text" in f.attrs:
            fail("/@text", "version 3 stores the text as the dataset /text, not an attribute")
        for k in ("format", "app_version", "created", "kind", "source"):
            if h5py.check_string_dtype(f.attrs.get_id(k).dtype).length is None:
                fail(f"/@{k}", "version 3 has no variable-length strings")
    else:
        out["text"] = attr(f, "text", "str")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", out["created"]):
        fail("/@created", f"{out['created']!r} is not ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ)")
    if out["kind"] not in ("model", "activations"):
        fail("/@kind", f"unknown kind {out['kind']!r}")

    # sizes: T from the tokens, L from /analysis/layer, d from /analysis@d
    for grp in ("tokens", "run", "prior_max", "analysis"):
        if grp not in f or not isinstance(f[grp], h5py.Group):
            fail(f"/{grp}", "missing group")
    if "strings" not in f["tokens"]:
        fail("/tokens/strings", "missing dataset")
    T = f["tokens/strings"].shape[0] if f["tokens/strings"].ndim == 1 else -1
    if "layer" not in f["analysis"]:
        fail("/analysis/layer", "missing dataset")
    L = f["analysis/layer"].shape[0] if f["analysis/layer"].ndim == 1 else -1
    d = attr(f["analysis"], "d", "int")
    if T < 0 or L < 0:
        fail("/tokens/strings|/analysis/layer", "must be one-dimensional")
    out.update(L=L, T=T, d=d)

    # /model
    model = None
    if out["kind"] == "model":
        if "model" not in f:
            fail("/model", "missing group (kind = model)")
        g = f["model"]
        model = {k: attr(g, k, "str") for k in ("name", "model_type", "config_sha256", "revision")}
        model.update({k: attr(g, k, "int") for k in ("num_layers", "hidden_size", "num_heads", "vocab_size")})
        if model["model_type"] not in ("gpt2", "opt", "gptj", "gpt_neox", "llama"):
            fail("/model@model_type", f"unknown model type {model['model_type']!r}")
        if model["config_sha256"] and not re.fullmatch(r"[0-9a-f]{64}", model["config_sha256"]):
            fail("/model@config_sha256", f"{model['config_sha256']!r} is not a hex SHA-256")
        if model["hidden_size"] != d:
            fail("/model@hidden_size", f"{model['hidden_size']} != d = {d} of /analysis")
    out["model"] = model

    # /tokens
    out["tokens"] = [s for s in dataset(f["tokens"], "strings", "str", (T,)).asstr()[()]]
    if "ids" in f["tokens"]:
        ids = dataset(f["tokens"], "ids", "<i8", (T,))[()]
        if model and T and (ids.min() < 0 or ids.max() >= model["vocab_size"]):
            fail("/tokens/ids", f"ids outside [0, vocab_size = {model['vocab_size']})")
        out["ids"] = ids
    elif out["kind"] == "model":
        fail("/tokens/ids", "missing (required for kind = model)")

    # /run
    g = f["run"]
    run = {k: attr(g, k, "str") for k in ("attention", "nearest", "device", "dtype")}
    run.update({k: attr(g, k, "float") for k in ("forward_ms", "selection_ms", "quality_ms")})
    allowed = {"attention": ("exact", "ada-independent", "ada-cascade"), "nearest": ("paper", "causal-nearest"),
               "device": ("cpu", "cuda"), "dtype": ("float32", "bfloat16", "float16")}
    for k, vals in allowed.items():
        if run[k] not in vals:
            fail(f"/run@{k}", f"{run[k]!r} not one of {vals}")
    for k in ("forward_ms", "selection_ms", "quality_ms"):
        if not run[k] >= 0:
            fail(f"/run@{k}", f"{run[k]} is not a duration")
    out["run"] = run

    # /prior_max
    g = f["prior_max"]
    gds = dataset(g, "gamma", "<f4", (L, T))
    pds = dataset(g, "partner", "<i4", (L, T))
    check_layer_chunks(gds, compressed=True)
    check_layer_chunks(pds, compressed=True)
    gamma, partner = gds[()], pds[()]
    if T:
        if not np.all(np.isneginf(gamma[:, 0])):
            fail("/prior_max/gamma[:, 0]", f"must be -inf, got {gamma[:, 0].tolist()}")
        if not np.all(partner[:, 0] == -1):
            fail("/prior_max/partner[:, 0]", f"must be -1, got {partner[:, 0].tolist()}")
        rest = gamma[:, 1:]
        if rest.size and (not np.all(np.isfinite(rest)) or rest.min() < 0 or rest.max() > 1 + 1e-3):
            fail("/prior_max/gamma[:, 1:]", "must be |cos| values in [0, 1]")
        t_idx = np.arange(T)[None, 1:]
        bad = (partner[:, 1:] < 0) | (partner[:, 1:] >= t_idx)
        if bad.any():
            i, t = np.argwhere(bad)[0]
            fail(f"/prior_max/partner[{i}, {t + 1}]", f"{partner[i, t + 1]} not in [0, {t + 1})")
    out["gamma"], out["partner"] = gamma, partner

    # /analysis
    ana = read_analysis(f["analysis"], L, T, d)
    if model and L and ana["layer"].max() > model["num_layers"]:
        fail("/analysis/layer", f"layer {ana['layer'].max()} > num_layers = {model['num_layers']} (SPEC §1)")
    check_prior_max_sets(ana, gamma, "/analysis")
    out["analysis"] = ana
    n_groups = 1

    # /sweep
    out["sweep"] = []
    if "sweep" in f:
        g = f["sweep"]
        taus = dataset(g, "tau", "<f8", (g["tau"].shape[0] if "tau" in g else 0,))[()]
        S = taus.shape[0]
        ada = dataset(g, "ada_error", "<f8", (S,))[()]
        dppl = dataset(g, "delta_ppl", "<f8", (S,))[()]
        if np.any(np.diff(taus) <= 0):
            fail("/sweep/tau", f"not ascending: {taus.tolist()}")
        if "analyses" not in g:
            fail("/sweep/analyses", "missing group")
        names = sorted(g["analyses"].keys())
        if names != [f"{k:04d}" for k in range(S)]:
            fail("/sweep/analyses", f"expected 0000..{S - 1:04d}, got {names}")
        for k in range(S):
            a = read_analysis(g["analyses"][f"{k:04d}"], L, T, d)
            w = f"/sweep/analyses/{k:04d}"
            if not same(a["tau"], taus[k], rel=0, abs_=0):
                fail(f"{w}@tau", f"{a['tau']} != /sweep/tau[{k}] = {taus[k]}")
            if a["rule"] != ana["rule"]:
                fail(f"{w}@rule", f"{a['rule']} != /analysis rule {ana['rule']}")
            if not np.array_equal(a["layer"], ana["layer"]):
                fail(f"{w}/layer", "not the layers of /analysis")
            check_prior_max_sets(a, gamma, w)
            a["ada_error"], a["delta_ppl"] = float(ada[k]), float(dppl[k])
            out["sweep"].append(a)
            n_groups += 1
            # the analysis at the saved tau, when the grid has it, is the same analysis
            if same(a["tau"], ana["tau"], rel=0, abs_=1e-12) and a["rule"] == ana["rule"]:
                for m in MASKS:
                    if not np.array_equal(a[m], ana[m]):
                        fail(f"{w}/{m}", "differs from /analysis at the same tau and rule")
    out["n_groups"] = n_groups

    # /quality
    out["quality"] = None
    if "quality" in f:
        g = f["quality"]
        q = {"mode": attr(g, "mode", "str")}
        q.update({k: attr(g, k, "float") for k in ("ppl_exact", "ppl_ada", "mean_kl")})
        want_mode = "ada-cascade" if run["attention"] == "exact" else run["attention"]
        if q["mode"] != want_mode:
            fail("/quality@mode", f"{q['mode']!r}, expected {want_mode!r} for attention = {run['attention']}")
        if "attention_error" not in g:
            fail("/quality/attention_error", "missing dataset")
        shape = g["attention_error"].shape
        if model:
            shape = (model["num_layers"], model["num_heads"])
        err = dataset(g, "attention_error", "<f8", shape)[()]
        if len(shape) != 2:
            fail("/quality/attention_error", f"expected [B, H], got {shape}")
        if err.size and not (np.nanmin(err) >= 0):
            fail("/quality/attention_error", "negative relative error")
        if T >= 2 and not (q["ppl_exact"] > 0 and q["ppl_ada"] > 0):
            fail("/quality@ppl_*", f"perplexities {q['ppl_exact']}, {q['ppl_ada']} with T = {T}")
        if T < 2 and not (math.isnan(q["ppl_exact"]) and math.isnan(q["ppl_ada"])):
            fail("/quality@ppl_*", "must be NaN with fewer than two tokens")
        q["attention_error"] = err
        out["quality"] = q

    # /activations
    out["xhat_layers"] = None
    if "activations" in f and "xhat" in f["activations"]:
        ds = dataset(f["activations"], "xhat", "<f2", (L, T, d))
        check_layer_chunks(ds, compressed=False)
        rows = sorted({0, L // 2, L - 1} | ({1} if L > 1 else set())) if L else []
        for i in range(L):
            x = ds[i]
            n = np.linalg.norm(x.astype(np.float64), axis=1)
            bad = ~((np.abs(n - 1.0) < FLOAT16_BAND) | (n == 0.0))
            if bad.any():
                t = np.flatnonzero(bad)[0]
                fail(f"/activations/xhat[{i}, {t}]", f"row norm {n[t]} (must be 1, or 0 for a zero row)")
        for i in rows:
            x = ds[i]
            G = abs_gram(x)
            for t in range(1, T):
                g_t = G[t, :t].max()
                if abs(g_t - gamma[i, t]) > FLOAT16_BAND:
                    fail(f"/prior_max/gamma[{i}, {t}]",
                         f"{gamma[i, t]!r}, but max |cos| with earlier tokens from xhat is {g_t:.6f}")
                if abs(G[t, partner[i, t]] - g_t) > FLOAT16_BAND:
                    fail(f"/prior_max/partner[{i}, {t}]",
                         f"{partner[i, t]}: |cos| {G[t, partner[i, t]]:.6f} is not the max {g_t:.6f}")
        xh = {i: ds[i] for i in range(L)}
        check_with_xhat(ana, xh, range(L), "/analysis (from xhat)")
        for k, a in enumerate(out["sweep"]):
            check_with_xhat(a, xh, range(L), f"/sweep/analyses/{k:04d} (from xhat)")
        out["xhat_layers"] = rows
    elif "activations" in f:
        fail("/activations/xhat", "group /activations without xhat")
    return out


# ---------------------------------------------------------------------------------------------
# the CLI's JSON


def json_real(v):
    return math.nan if v is None else float(v)


def compare_json(s, j):
    ana, L, T, d = s["analysis"], s["L"], s["T"], s["d"]

    def need(obj, key, where):
        if key not in obj:
            fail(where, f"missing key {key!r}")
        return obj[key]

    for k, v in (("L", L), ("T", T), ("d", d)):
        if need(j, k, "json") != v:
            fail(f"json.{k}", f"{j[k]} != {v} in the session")
    for k in ("tau", "theta"):
        if not same(need(j, k, "json"), ana[k], rel=1e-15, abs_=0):
            fail(f"json.{k}", f"{j[k]} != {ana[k]} in the session")
    if need(j, "rule", "json") != ana["rule"]:
        fail("json.rule", f"{j['rule']} != {ana['rule']}")
    if "tokens" in j and list(j["tokens"]) != s["tokens"]:
        bad = next(t for t in range(max(len(j["tokens"]), T))
                   if t >= len(j["tokens"]) or t >= T or j["tokens"][t] != s["tokens"][t])
        fail(f"json.tokens[{bad}]", "differs from /tokens/strings")
    jm = need(j, "jaccard_matrix", "json")
    expect_reals("json.jaccard_matrix vs /analysis/jaccard_matrix",
                 np.array([[json_real(x) for x in row] for row in jm]).reshape(-1, L) if L else np.zeros((0, 0)),
                 ana["jaccard_matrix"])
    for k, v in ana["summary"].items():
        got = need(need(j, "summary", "json"), k, "json.summary")
        if k in SUMMARY_INT:
            if got != v:
                fail(f"json.summary.{k}", f"{got} != {v} in the session")
        elif not same(json_real(got), v):
            fail(f"json.summary.{k}", f"{got} != {v} in the session")

    layers = need(j, "layers", "json")
    if len(layers) != L:
        fail("json.layers", f"{len(layers)} entries for L = {L}")
    sets = ("reps_ind", "reps_casc", "added", "removed", "missed", "extra")
    for i, e in enumerate(layers):
        w = f"json.layers[{i}]"
        for k in INT_ROWS:
            if need(e, k, w) != int(ana[k][i]):
                fail(f"{w}.{k}", f"{e[k]} != {int(ana[k][i])} in the session")
        for k in REAL_ROWS:
            if not same(json_real(need(e, k, w)), ana[k][i]):
                fail(f"{w}.{k}", f"{e[k]} != {ana[k][i]} in the session")
        for k in sets:
            want = np.flatnonzero(ana[k][i]).tolist()
            if list(need(e, k, w)) != want:
                fail(f"{w}.{k}", f"{e[k]} != {want} in the session")
        for k, m in (("n_missed", "missed"), ("n_extra", "extra")):
            if k in e and e[k] != int(ana[m][i].sum()):
                fail(f"{w}.{k}", f"{e[k]} != {int(ana[m][i].sum())} in the session")
    return len(layers)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("session", help="session file (.h5)")
    p.add_argument("analysis_json", help="output of `cascadelens-cli analyze SESSION.h5 --format json`")
    args = p.parse_args()
    try:
        s = read_session(args.session)
        try:
            with open(args.analysis_json, encoding="utf-8") as fh:
                j = json.load(fh)
        except (OSError, ValueError) as e:
            fail(args.analysis_json, f"cannot read the JSON: {e}")
        n = compare_json(s, j)
    except Mismatch as e:
        print(f"MISMATCH {args.session}: {e}")
        return 1
    except (OSError, KeyError, TypeError, ValueError) as e:
        print(f"MISMATCH {args.session}: cannot read as documented: {type(e).__name__}: {e}")
        return 1
    a = s["analysis"]
    acts = f"xhat checked (gamma on layers {s['xhat_layers']})" if s["xhat_layers"] is not None else "no activations"
    print(f"OK {args.session}: kind={s['kind']} L={s['L']} T={s['T']} d={s['d']} tau={a['tau']} rule={a['rule']}; "
          f"{s['n_groups']} analysis group(s) ({len(s['sweep'])} sweep) verified from the masks, prior_max "
          f"checked, quality {'present' if s['quality'] else 'absent'}, {acts}; {args.analysis_json}: "
          f"{n} layers, sets and summary match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
