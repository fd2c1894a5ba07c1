#!/usr/bin/env python3
"""Read a Cascade Lens study file with h5py + numpy from data/STUDY_FORMAT.md alone, and check it.

usage: read_study_h5py.py STUDY.h5 SHOW.json

SHOW.json is `cascadelens-cli study show STUDY.h5 --format json [--tau X]`; its "tau" picks the
τ index t (the position of that τ in /taus). The reader

  * reads every documented part of the file (root attributes, /params, the axes, /bootstrap,
    /documents with the ids sliced by ids_offsets, /timings, /failures, every array of
    /array_names, /aggregates with over_layers, /paired) and checks the documented invariants
    (shapes against D, L, nτ, M, K, the `axes` attributes, ids_offsets);
  * compares every value with the JSON exactly (float == float, NaN <-> null);
  * recomputes, independently in numpy, every aggregate's n, mean, sd, median, q25, q75, min, max
    (and over_layers) from the per-document arrays (relative tolerance 1e-12), the bootstrap CIs
    from /bootstrap's description, and every paired row's n, mean_diff, a_lower, b_lower, ties,
    CI, wilcoxon_n, w_plus (and the exact p): the quality rows (ada-cascade vs ada-independent)
    and the method rows (cascade vs another method, at taus[0]).

Exit 0 on success (printing what was checked), 1 with a message on the first mismatch.
"""
import json
import math
import re
import sys

import h5py
import numpy as np

COUNTS = {}
STATS = ("n", "mean", "sd", "median", "q25", "q75", "min", "max", "ci95_lo", "ci95_hi")
REL = 1e-12


class Mismatch(Exception):
    pass


def fail(msg):
    raise Mismatch(msg)


def count(what, k=1):
    COUNTS[what] = COUNTS.get(what, 0) + k


def check(cond, msg):
    if not cond:
        fail(msg)


def strings(ds):
    return [str(s) for s in ds.asstr()[()]]


def sattr(obj, name):
    """A string attribute (format 2: fixed-length UTF-8, read by h5py as bytes), or None."""
    v = obj.attrs.get(name)
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8")
    return v


def same(file_value, json_value, where):
    """Exact comparison of a file number with a JSON number (null <-> NaN)."""
    a = float(file_value)
    if json_value is None:
        check(math.isnan(a), f"{where}: file has {a!r}, JSON has null")
    else:
        b = float(json_value)
        check(not math.isnan(a), f"{where}: file has NaN, JSON has {json_value!r}")
        check(a == b, f"{where}: file has {a!r}, JSON has {b!r}")
    count("values compared with the JSON (exact)")


def close(a, b, where):
    """a (recomputed) vs b (stored): both NaN, or equal within REL relative."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        check(math.isnan(a) and math.isnan(b), f"{where}: recomputed {a!r}, stored {b!r}")
    else:
        check(abs(a - b) <= REL * max(abs(a), abs(b), 1e-300) or a == b,
              f"{where}: recomputed {a!r}, stored {b!r}")
    count("values recomputed in numpy (rel 1e-12)")


def dataset(f, path, dtype=None, shape=None):
    check(path in f, f"missing dataset /{path}")
    ds = f[path]
    check(isinstance(ds, h5py.Dataset), f"/{path} is not a dataset")
    if dtype is not None:
        if dtype == "str":
            check(ds.dtype.kind == "S" and h5py.check_string_dtype(ds.dtype) is not None,
                  f"/{path}: dtype {ds.dtype}, the document says string")
        else:
            check(ds.dtype == np.dtype(dtype), f"/{path}: dtype {ds.dtype}, the document says {dtype}")
    if shape is not None:
        check(ds.shape == tuple(shape), f"/{path}: shape {ds.shape}, the document says {tuple(shape)}")
    count("datasets read")
    return ds


# --------------------------------------------------------------------------------------------
# The bootstrap as /bootstrap describes it: mt19937_64(seed), Lemire's bounded integers,
# index i of resample b = the (b*n+i)-th draw, percentile CI (type 7) of the resample means.

class MT19937_64:
    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & 0xFFFFFFFFFFFFFFFF
        for i in range(1, 312):
            self.mt[i] = (6364136223846793005 * (self.mt[i - 1] ^ (self.mt[i - 1] >> 62)) + i) & 0xFFFFFFFFFFFFFFFF
        self.i = 312

    def _twist(self):
        mt = self.mt
        for i in range(312):
            x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
            xa = x >> 1
            if x & 1:
                xa ^= 0xB5026F5AA96619E9
            mt[i] = mt[(i + 156) % 312] ^ xa
        self.i = 0

    def next(self):
        if self.i >= 312:
            self._twist()
        y = self.mt[self.i]
        self.i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & 0xFFFFFFFFFFFFFFFF


_INDEX_CACHE = {}


def bootstrap_indices(seed, resamples, n):
    key = (seed, resamples, n)
    if key not in _INDEX_CACHE:
        rng = MT19937_64(seed)
        out = np.empty(resamples * n, dtype=np.int64)
        threshold = ((1 << 64) - n) % n
        for j in range(resamples * n):
            while True:
                m = rng.next() * n
                if (m & 0xFFFFFFFFFFFFFFFF) >= threshold:
                    break
            out[j] = m >> 64
        _INDEX_CACHE[key] = out.reshape(resamples, n)
    return _INDEX_CACHE[key]


def bootstrap_ci(values, seed, resamples):
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    if n == 1:
        return float(values[0]), float(values[0])
    means = values[bootstrap_indices(seed, resamples, n)].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


# --------------------------------------------------------------------------------------------

def describe(values, boot):
    """The ten aggregate statistics of a 1-D array (NaN = no value)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return {"n": 0, **{k: math.nan for k in STATS[1:]}}
    out = {"n": n, "mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if n >= 2 else math.nan,
           "median": float(np.quantile(v, 0.5)), "q25": float(np.quantile(v, 0.25)),
           "q75": float(np.quantile(v, 0.75)), "min": float(np.min(v)), "max": float(np.max(v))}
    if boot is not None:
        out["ci95_lo"], out["ci95_hi"] = bootstrap_ci(v, *boot)
    return out


def compare_stats(stored, idx, values, where, boot):
    """stored: dict stat -> array; idx: the cell; values: the column over documents."""
    want = describe(values, boot)
    got_n = int(stored["n"][idx])
    check(got_n == want["n"], f"{where} n: recomputed {want['n']}, stored {got_n}")
    count("values recomputed in numpy (rel 1e-12)")
    for k in STATS[1:]:
        if k in want:
            close(want[k], stored[k][idx], f"{where} {k}")
    if want["n"] == 1:
        check(stored["ci95_lo"][idx] == stored["ci95_hi"][idx] == stored["mean"][idx],
              f"{where}: n = 1 but the CI is not [x, x]")


def compare_json_stats(stored, idx, js, where):
    check(isinstance(js, dict), f"{where}: JSON has no aggregate object")
    check(int(stored["n"][idx]) == js["n"], f"{where} n: file {int(stored['n'][idx])}, JSON {js['n']}")
    count("values compared with the JSON (exact)")
    for k in ("mean", "sd", "median", "q25", "q75", "min", "max"):
        same(stored[k][idx], js[k], f"{where} {k}")
    check(isinstance(js["ci95"], list) and len(js["ci95"]) == 2, f"{where}: JSON ci95 is not [lo, hi]")
    same(stored["ci95_lo"][idx], js["ci95"][0], f"{where} ci95_lo")
    same(stored["ci95_hi"][idx], js["ci95"][1], f"{where} ci95_hi")


def read_stats(f, group, shape):
    check(group in f and isinstance(f[group], h5py.Group), f"missing group /{group}")
    out = {}
    for k in STATS:
        out[k] = dataset(f, f"{group}/{k}", "int64" if k == "n" else "float64", shape)[()]
    return out


def wilcoxon(d):
    """(wilcoxon_n, w_plus, exact p or None) of the non-zero differences d."""
    nz = d[d != 0]
    n = len(nz)
    if n == 0:
        return 0, 0.0, 1.0, False
    a = np.abs(nz)
    order = np.argsort(a, kind="stable")
    ranks = np.empty(n)
    sa = a[order]
    i = 0
    ties = False
    while i < n:
        j = i
        while j + 1 < n and sa[j + 1] == sa[i]:
            j += 1
        if j > i:
            ties = True
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    w_plus = float(ranks[nz > 0].sum())
    if n <= 50 and not ties:
        # distribution of W+ under H0: counts of subsets of {1..n} with each rank sum
        top = n * (n + 1) // 2
        c = np.zeros(top + 1, dtype=object)
        c[0] = 1
        for r in range(1, n + 1):
            c[r:] = c[r:] + c[:top + 1 - r]
        total = 2 ** n
        w = int(round(w_plus))
        lo = sum(c[:w + 1])
        hi = sum(c[w:])
        p = min(1.0, 2.0 * float(min(lo, hi)) / total)
        return n, w_plus, p, True
    return n, w_plus, None, False


def main(h5_path, json_path):
    with open(json_path) as fh:
        js = json.load(fh)
    f = h5py.File(h5_path, "r")

    # ---- root attributes
    check(sattr(f, "format") == "cascade-lens-study", f"root format = {f.attrs.get('format')!r}")
    fv = f.attrs.get("format_version")
    check(fv is not None and np.asarray(fv).dtype == np.int64, f"root format_version {fv!r} is not int64")
    check(int(fv) == 2, f"format_version {fv}, this reader knows 2")
    check(isinstance(sattr(f, "app_version"), str) and sattr(f, "app_version"), "root app_version missing")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sattr(f, "created") or "") is not None,
          f"root created {f.attrs.get('created')!r} is not ISO 8601 UTC")
    count("root attributes", 4)

    # ---- params
    names = strings(dataset(f, "params/names", "str"))
    values = strings(dataset(f, "params/values", "str", [len(names)]))
    params = dict(zip(names, values))
    check(len(params) == len(names), "params/names has duplicates")
    short = {k for k, v in params.items() if len(v.encode("utf-8")) <= 16384}  # longer: in the datasets only
    for k in short:
        check(sattr(f["params"], k) == params[k], f"params attribute {k!r} = {f['params'].attrs.get(k)!r}, dataset {params[k]!r}")
    check(set(f["params"].attrs.keys()) == short, "params attributes differ from params/names")
    check(params == js["params"], f"params differ from the JSON: {set(params.items()) ^ set(js['params'].items())}")
    if "app_version" in params:
        check(sattr(f, "app_version") == params["app_version"], "root app_version differs from the parameter")
    count("parameters", len(params))

    # ---- axes
    taus = dataset(f, "taus", "float64")[()]
    layer_ids = dataset(f, "layer_ids", "int64")[()]
    modes = strings(dataset(f, "quality_modes", "str"))
    methods = strings(dataset(f, "method_names", "str"))
    nt, L, M, K = len(taus), len(layer_ids), len(modes), len(methods)
    check([float(x) for x in taus] == [float(x) for x in js["taus"]], f"taus {taus} vs JSON {js['taus']}")
    check([int(x) for x in layer_ids] == js["layers"], f"layer_ids {layer_ids} vs JSON {js['layers']}")
    check(modes == js["quality_modes"], f"quality_modes {modes} vs JSON {js['quality_modes']}")
    check(methods == js["methods"], f"method_names {methods} vs JSON {js['methods']}")
    if "taus" in params:
        check([float(x) for x in params["taus"].split(",")] == list(map(float, taus)), "params taus vs /taus")
    tau = float(js["tau"])
    check(tau in list(map(float, taus)), f"JSON tau {tau} is not in /taus {taus}")
    t = list(map(float, taus)).index(tau)

    # ---- bootstrap
    b = f["bootstrap"]
    check(isinstance(b, h5py.Group), "/bootstrap is not a group")
    seed_attr = b.attrs.get("seed")
    check(seed_attr is not None and np.asarray(seed_attr).dtype == np.uint64, f"bootstrap seed {seed_attr!r} is not uint64")
    check(np.asarray(b.attrs.get("resamples")).dtype == np.int64, "bootstrap resamples is not int64")
    seed, resamples = int(seed_attr), int(b.attrs["resamples"])
    check(sattr(b, "rng") == "mt19937_64, Lemire's bounded integers", f"bootstrap rng {b.attrs.get('rng')!r}")
    check(isinstance(sattr(b, "ci"), str), "bootstrap ci missing")
    if "bootstrap" in js:
        check(js["bootstrap"].get("seed", seed) == seed and js["bootstrap"].get("resamples", resamples) == resamples,
              f"bootstrap {seed}/{resamples} vs JSON {js['bootstrap']}")
    count("root attributes", 4)
    boot = (seed, resamples)

    # ---- documents
    ids_ = strings(dataset(f, "documents/id", "str"))
    D = len(ids_)
    source = strings(dataset(f, "documents/source", "str", [D]))
    offset = dataset(f, "documents/offset", "int64", [D])[()]
    T = dataset(f, "documents/T", "int64", [D])[()]
    index = dataset(f, "documents/index", "int64", [D])[()]
    ids = dataset(f, "documents/ids", "int64")[()]
    offs = dataset(f, "documents/ids_offsets", "int64", [D + 1])[()]
    check(offs[0] == 0 and offs[-1] == len(ids), f"ids_offsets {offs[0]}..{offs[-1]}, len(ids) = {len(ids)}")
    check(bool(np.all(np.diff(offs) >= 0)), "ids_offsets not ascending")
    check(bool(np.all(np.diff(index) > 0)), "documents not in ascending index order")
    for d in range(D):
        check(re.fullmatch(r"[0-9a-f]{16}", ids_[d]) is not None, f"document {d} id {ids_[d]!r}")
    elapsed = dataset(f, "timings/elapsed_ms", "float64", [D])[()]
    jd = js["documents"]
    check(len(jd) == D, f"{D} documents in the file, {len(jd)} in the JSON")
    for d in range(D):
        e = jd[d]
        w = f"document {d}"
        check(e["id"] == ids_[d], f"{w} id {ids_[d]} vs JSON {e['id']}")
        check(e["source"] == source[d], f"{w} source {source[d]!r} vs JSON {e['source']!r}")
        check(e["offset"] == int(offset[d]) and e["T"] == int(T[d]) and e["index"] == int(index[d]),
              f"{w} offset/T/index {offset[d]}/{T[d]}/{index[d]} vs JSON {e['offset']}/{e['T']}/{e['index']}")
        doc_ids = ids[offs[d]:offs[d + 1]]
        check([int(x) for x in doc_ids] == e["ids"], f"{w} ids differ from the JSON")
        check(len(doc_ids) in (0, int(T[d])), f"{w}: {len(doc_ids)} ids stored, T = {T[d]}")
        if "elapsed_ms" in e:
            same(elapsed[d], e["elapsed_ms"], f"{w} elapsed_ms")
        count("documents")

    # ---- failures
    fs = strings(dataset(f, "failures/source", "str"))
    fw = strings(dataset(f, "failures/why", "str", [len(fs)]))
    check([{"source": s, "why": y} for s, y in zip(fs, fw)] == js["failures"],
          f"failures {list(zip(fs, fw))} vs JSON {js['failures']}")
    count("failures", len(fs))

    # ---- per-document arrays
    anames = strings(dataset(f, "array_names", "str"))
    check(len(set(anames)) == len(anames), "array_names has duplicates")
    axis_len = {"documents": D, "layers": L, "taus": nt, "quality_modes": M, "methods": K}
    arrays = {}
    for name in anames:
        check(name.split("/")[0] in ("layers", "summary", "quality", "methods") and name.count("/") == 1,
              f"array name {name!r}")
        ds = dataset(f, name, "float64")
        axes = sattr(ds, "axes")
        check(isinstance(axes, str), f"/{name} has no string attribute axes")
        grp, meas = name.split("/")
        if grp == "layers":
            want = "documents,layers,taus"
        elif grp == "summary":
            want = "documents,taus"
        elif name == "quality/ppl_exact":
            want = "documents"
        elif grp == "quality":
            want = "documents,quality_modes,taus"
        elif meas in ("r", "coverage", "covered", "attn_err"):
            want = "documents,methods,layers"
        else:
            want = "documents,methods"
        wshape = tuple(axis_len[a] for a in want.split(","))
        check(axes == want and ds.shape == wshape,
              f"/{name}: axes {axes!r} shape {ds.shape}, the document says {want!r} {wshape}")
        arrays[name] = ds[()]
        count("arrays")
    for g in ("layers", "summary", "quality", "methods"):
        check(any(n.startswith(g + "/") for n in anames), f"no {g}/* array")

    def arr(name):
        check(name in arrays, f"/array_names does not list {name}")
        return arrays[name]

    jname = {"missed": "n_missed", "extra": "n_extra"}  # file name -> JSON name
    fname = {v: k for k, v in jname.items()}
    layer_measures = [n.split("/")[1] for n in anames if n.startswith("layers/")]

    # ---- per-document values vs the JSON
    for d in range(D):
        e = jd[d]
        check(len(e["layers"]) == L, f"document {d}: {len(e['layers'])} JSON layers, L = {L}")
        for i, row in enumerate(e["layers"]):
            check(row["layer"] == int(layer_ids[i]), f"document {d} layer row {i} is layer {row['layer']}")
            keys = set(row) - {"layer"}
            check(keys == {jname.get(m, m) for m in layer_measures},
                  f"document {d} layer {i}: JSON measures {sorted(keys)} vs file {sorted(layer_measures)}")
            for k in keys:
                same(arr("layers/" + fname.get(k, k))[d, i, t], row[k], f"document {d} layer {i} {k} τ[{t}]")
        smeas = [n.split("/")[1] for n in anames if n.startswith("summary/")]
        check(set(e["summary"]) == set(smeas), f"document {d}: JSON summary {sorted(e['summary'])} vs {smeas}")
        for k, v in e["summary"].items():
            same(arr("summary/" + k)[d, t], v, f"document {d} summary {k} τ[{t}]")
        check(list(e["quality"]) == modes or set(e["quality"]) == set(modes), f"document {d} quality modes")
        for mi, mode in enumerate(modes):
            for k, v in e["quality"][mode].items():
                x = arr("quality/ppl_exact")[d] if k == "ppl_exact" else arr("quality/" + k)[d, mi, t]
                same(x, v, f"document {d} quality {mode} {k} τ[{t}]")
        check(set(e["methods"]) == set(methods), f"document {d} methods {sorted(e['methods'])}")
        for k, meth in enumerate(methods):
            for q, v in e["methods"][meth].items():
                a = arr("methods/" + q)
                if a.ndim == 3:
                    check(isinstance(v, list) and len(v) == L, f"document {d} methods {meth} {q}: not [L]")
                    for i in range(L):
                        same(a[d, k, i], v[i], f"document {d} methods {meth} {q} layer {i}")
                else:
                    same(a[d, k], v, f"document {d} methods {meth} {q}")

    # ---- aggregates: recompute from the arrays, and compare with the JSON
    agg = {}
    for name in anames:
        a = arrays[name]
        cell = a.shape[1:] if a.ndim > 1 else (1,)
        check(f"aggregates/{name}" in f, f"missing /aggregates/{name} (the JSON shows its aggregates)")
        st = read_stats(f, f"aggregates/{name}", cell)
        col = a if a.ndim > 1 else a.reshape(D, 1)
        for idx in np.ndindex(*cell):
            compare_stats(st, idx, col[(slice(None),) + idx], f"/aggregates/{name} {idx}", boot)
        over = None
        if name.startswith("layers/") or name in ("methods/r", "methods/coverage", "methods/covered", "methods/attn_err"):
            ocell = (nt,) if name.startswith("layers/") else (K,)
            over = read_stats(f, f"aggregates/{name}/over_layers", ocell)
            for j in range(ocell[0]):
                cols = a[:, :, j] if name.startswith("layers/") else a[:, j, :]  # [D, L]
                per_doc = np.array([np.mean(r[~np.isnan(r)]) if np.any(~np.isnan(r)) else math.nan for r in cols])
                compare_stats(over, (j,), per_doc, f"/aggregates/{name}/over_layers [{j}]", boot)
        agg[name] = (st, over)
        count("aggregate groups")

    ja = js["aggregates"]
    check(len(ja["layers"]) == L, "JSON aggregates.layers is not [L]")
    for i, row in enumerate(ja["layers"]):
        check(row["layer"] == int(layer_ids[i]), f"JSON aggregates.layers[{i}] layer {row['layer']}")
        keys = set(row) - {"layer"}
        check(keys == {jname.get(m, m) for m in layer_measures}, f"aggregates.layers[{i}] measures {sorted(keys)}")
        for k in keys:
            compare_json_stats(agg["layers/" + fname.get(k, k)][0], (i, t), row[k], f"aggregates layer {i} {k} τ[{t}]")
    check(set(ja["all_layers"]) == {jname.get(m, m) for m in layer_measures}, "aggregates.all_layers measures")
    for k, v in ja["all_layers"].items():
        compare_json_stats(agg["layers/" + fname.get(k, k)][1], (t,), v, f"aggregates all_layers {k} τ[{t}]")
    for k, v in ja["summary"].items():
        compare_json_stats(agg["summary/" + k][0], (t,), v, f"aggregates summary {k} τ[{t}]")
    for mi, mode in enumerate(modes):
        for k, v in ja["quality"][mode].items():
            idx = (0,) if k == "ppl_exact" else (mi, t)
            compare_json_stats(agg["quality/" + k][0], idx, v, f"aggregates quality {mode} {k}")
    unstored = []
    for k, meth in enumerate(methods):
        for q, v in ja["methods"][meth].items():
            name = "methods/" + q
            if name in agg:
                st, over = agg[name]
                compare_json_stats(over if over is not None else st, (k,), v, f"aggregates methods {meth} {q}")
            elif q == "r_over_T":
                # not an array of the file: each document's mean over layers of r / T, recomputed
                per_doc = []
                for d in range(D):
                    r = arr("methods/r")[d, k, :] / float(T[d])
                    per_doc.append(np.mean(r[~np.isnan(r)]) if np.any(~np.isnan(r)) else math.nan)
                want = describe(per_doc, boot)
                check(want["n"] == v["n"], f"aggregates methods {meth} r_over_T n")
                for s in ("mean", "sd", "median", "q25", "q75", "min", "max"):
                    close(want[s], math.nan if v[s] is None else v[s], f"JSON aggregates methods {meth} r_over_T {s}")
                close(want["ci95_lo"], v["ci95"][0], f"JSON aggregates methods {meth} r_over_T ci95_lo")
                close(want["ci95_hi"], v["ci95"][1], f"JSON aggregates methods {meth} r_over_T ci95_hi")
                unstored.append(f"{meth}/{q}")
            else:
                fail(f"JSON aggregates methods {meth} {q}: no such array in the file")

    # ---- paired
    pq = strings(dataset(f, "paired/quantity", "str"))
    P = len(pq)
    pa = strings(dataset(f, "paired/a", "str", [P]))
    pb = strings(dataset(f, "paired/b", "str", [P]))
    pf = {k: dataset(f, "paired/" + k, "float64", [P])[()] for k in ("tau", "mean_diff", "ci95_lo", "ci95_hi", "p", "w_plus", "z")}
    pi = {k: dataset(f, "paired/" + k, "int64", [P])[()] for k in ("n", "a_lower", "b_lower", "ties", "wilcoxon_n", "exact")}
    jp = js["paired"]
    check(len(jp) == P, f"{P} paired rows in the file, {len(jp)} in the JSON")
    recomputed = {"quality": 0, "methods": 0}
    for r in range(P):
        e = jp[r]
        w = f"paired row {r} ({pq[r]} {pa[r]} vs {pb[r]} τ={pf['tau'][r]})"
        check(pq[r] in ("delta_ppl", "kl", "attn_err", "coverage"), f"{w}: quantity")
        check((e["quantity"], e["a"], e["b"]) == (pq[r], pa[r], pb[r]), f"{w} vs JSON {e['quantity']} {e['a']} {e['b']}")
        for k in ("tau", "mean_diff", "p", "w_plus", "z"):
            same(pf[k][r], e[k], f"{w} {k}")
        same(pf["ci95_lo"][r], e["ci95"][0], f"{w} ci95_lo")
        same(pf["ci95_hi"][r], e["ci95"][1], f"{w} ci95_hi")
        for k in ("n", "a_lower", "b_lower", "ties"):
            check(int(pi[k][r]) == e[k], f"{w} {k}: file {pi[k][r]}, JSON {e[k]}")
        check(bool(pi["exact"][r]) == e["exact"] and pi["exact"][r] in (0, 1), f"{w} exact")
        check(pi["n"][r] == pi["a_lower"][r] + pi["b_lower"][r] + pi["ties"][r], f"{w}: n != a_lower + b_lower + ties")
        check(pi["wilcoxon_n"][r] == pi["n"][r] - pi["ties"][r], f"{w}: wilcoxon_n != n - ties")
        if pi["exact"][r] == 1:
            check(pf["z"][r] == 0, f"{w}: exact but z != 0")
        if pa[r] in modes and pb[r] in modes:
            check(float(pf["tau"][r]) in list(map(float, taus)), f"{w}: τ not in /taus")
            ti = list(map(float, taus)).index(float(pf["tau"][r]))
            q = arr("quality/" + pq[r])
            x, y = q[:, modes.index(pa[r]), ti], q[:, modes.index(pb[r]), ti]
            kind = "quality"
        else:
            check(pa[r] == "cascade" and pb[r] in methods, f"{w}: a/b are neither two quality modes nor cascade vs a method")
            check(float(pf["tau"][r]) == float(taus[0]), f"{w}: a method comparison not at taus[0]")
            q = arr("methods/" + pq[r])
            ka, kb = methods.index(pa[r]), methods.index(pb[r])
            if q.ndim == 3:
                # NOT in the document: which per-document value a [D, K, L] quantity (attn_err,
                # coverage) is compared on; each document's mean over layers (NaNs left out) fits.
                def layer_mean(m):
                    return np.array([np.mean(v[~np.isnan(v)]) if np.any(~np.isnan(v)) else math.nan for v in m])
                x, y = layer_mean(q[:, ka, :]), layer_mean(q[:, kb, :])
            else:
                x, y = q[:, ka], q[:, kb]
            kind = "methods"
        keep = ~(np.isnan(x) | np.isnan(y))
        diff = x[keep] - y[keep]
        check(int(pi["n"][r]) == len(diff), f"{w} n: recomputed {len(diff)}, stored {pi['n'][r]}")
        close(np.mean(diff) if len(diff) else math.nan, pf["mean_diff"][r], f"{w} mean_diff")
        check(int(pi["a_lower"][r]) == int(np.sum(x[keep] < y[keep])), f"{w} a_lower: recomputed {np.sum(x[keep] < y[keep])}")
        check(int(pi["b_lower"][r]) == int(np.sum(y[keep] < x[keep])), f"{w} b_lower: recomputed {np.sum(y[keep] < x[keep])}")
        check(int(pi["ties"][r]) == int(np.sum(x[keep] == y[keep])), f"{w} ties: recomputed {np.sum(x[keep] == y[keep])}")
        lo, hi = bootstrap_ci(diff, *boot)
        close(lo, pf["ci95_lo"][r], f"{w} ci95_lo")
        close(hi, pf["ci95_hi"][r], f"{w} ci95_hi")
        wn, wp, p, exact = wilcoxon(diff)
        check(wn == int(pi["wilcoxon_n"][r]), f"{w} wilcoxon_n: recomputed {wn}, stored {pi['wilcoxon_n'][r]}")
        close(wp, pf["w_plus"][r], f"{w} w_plus")
        if wn == 0:
            check(pf["p"][r] == 1.0, f"{w}: no non-zero difference but p = {pf['p'][r]}")
        check(exact == bool(pi["exact"][r]) or wn == 0, f"{w} exact: recomputed {exact}, stored {pi['exact'][r]}")
        if exact:
            close(p, pf["p"][r], f"{w} exact p")
        recomputed[kind] += 1

    f.close()
    print(f"study file {h5_path} OK against {json_path} at τ = {tau} (index {t}):"
          f" D={D} L={L} nτ={nt} M={M} K={K} F={len(fs)} Q={len(params)} A={len(anames)} P={P}")
    for k, v in COUNTS.items():
        print(f"  {k}: {v}")
    print(f"  paired rows recomputed: {recomputed['quality']} quality, {recomputed['methods']} methods")
    if unstored:
        print(f"  JSON method aggregates not stored in the file, recomputed instead: {', '.join(unstored)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except Mismatch as e:
        print(f"MISMATCH: {e}", file=sys.stderr)
        sys.exit(1)
