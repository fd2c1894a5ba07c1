#!/usr/bin/env python3
"""Read the /comparisons of a Cascade Lens session with h5py alone, following data/SESSION_FORMAT.md.

usage: read_comparisons_h5py.py SESSION.h5 COMPARE.json [INDEX]

Written from data/SESSION_FORMAT.md ("/comparisons") only, not from the C++ reader or writer.
Checks the documented types and shapes, the set encoding (sets + set_offsets: r ascending tokens
in [0, T), back to back, -1 for no set), /analysis/layer as the rows, then compares comparison
INDEX (default: the last) with COMPARE.json, the C++ values (`cascadelens-cli compare ... --format
json` of the same run): every attribute, method, per-layer number, set and `why`.

Exit 0 with a one-line summary when everything holds, 1 with the first mismatch, 77 (skip) when
h5py (or numpy) cannot be imported.
"""
import json
import math
import sys

try:
    import numpy as np
    import h5py
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: cannot import h5py/numpy ({e})")
    sys.exit(77)

METHODS = ("independent", "cascade", "random", "inherit-only", "recency", "streaming-llm", "h2o",
           "snapkv", "tova", "knorm", "keydiff", "leverage", "kmeans", "top-k", "top-theta")
ELEMENT = ("top-k", "top-theta")
INT_ROWS = ("layer", "r", "selection_macs")  # selection_macs: -1 = no value
REAL_ROWS = ("coverage", "covered", "attn_err", "selection_ms")  # NaN = no value


class Mismatch(Exception):
    pass


def fail(where, msg):
    raise Mismatch(f"{where}: {msg}")


def is_utf8(dtype):
    """Format version 3: fixed-length UTF-8, NUL-padded (versions 1-2: variable-length)."""
    info = h5py.check_string_dtype(dtype)
    return info is not None and info.encoding == "utf-8"


def text(v):
    """A string attribute's value: bytes (fixed-length, version 3) or str (variable-length)."""
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else v


def attr(obj, name, kind):
    where = f"{obj.name}@{name}"
    if name not in obj.attrs:
        fail(where, "missing attribute")
    dt = obj.attrs.get_id(name).dtype
    v = obj.attrs[name]
    if kind == "str":
        if not is_utf8(dt) or not isinstance(v, (str, bytes, np.bytes_)) or np.ndim(v) != 0:
            fail(where, f"expected a UTF-8 string, got {dt!r}")
        return text(v)
    want = {"int": np.dtype("<i8"), "uint": np.dtype("<u8"), "float": np.dtype("<f8")}[kind]
    if dt != want or np.ndim(v) != 0:
        fail(where, f"expected a scalar {want}, got {dt!r}")
    return float(v) if kind == "float" else int(v)


def dataset(group, name, dtype, shape=None):
    where = f"{group.name}/{name}"
    if name not in group or not isinstance(group[name], h5py.Dataset):
        fail(where, "missing dataset")
    ds = group[name]
    if dtype == "str":
        if not is_utf8(ds.dtype):
            fail(where, f"expected UTF-8 strings, got {ds.dtype!r}")
        if ds.ndim != 1:
            fail(where, f"expected one dimension, got {ds.shape}")
        values = [x for x in ds.asstr()[()]] if ds.shape[0] else []
    else:
        if ds.dtype != np.dtype(dtype):
            fail(where, f"expected dtype {np.dtype(dtype)}, got {ds.dtype}")
        values = ds[()]
    if shape is not None and ds.shape != tuple(shape):
        fail(where, f"expected shape {tuple(shape)}, got {ds.shape}")
    if dtype != "str" and ds.ndim != 1:
        fail(where, f"expected one dimension, got {ds.shape}")
    return values


def none_or(x):
    """The documented "no value": NaN for reals."""
    return None if isinstance(x, float) and math.isnan(x) else x


def expect(where, got, want):
    if isinstance(got, float) and isinstance(want, (int, float)) and not isinstance(want, bool):
        if got == want or math.isclose(got, want, rel_tol=0, abs_tol=0):
            return
        fail(where, f"file {got!r}, C++ {want!r}")
    if got != want:
        fail(where, f"file {got!r}, C++ {want!r}")


def read_comparison(f, index):
    T = len(f["tokens/strings"])
    layers = f["analysis/layer"][()]
    L = len(layers)
    g = f[f"comparisons/{index}"]
    c = {"tau": attr(g, "tau", "float"), "rule": attr(g, "rule", "str"), "nearest": attr(g, "nearest", "str"),
         "budget": attr(g, "budget", "str"), "seed": attr(g, "seed", "uint"),
         "document": attr(g, "document", "uint"), "T": attr(g, "T", "int"),
         "ppl_exact": none_or(attr(g, "ppl_exact", "float")),
         "notes": dataset(g, "notes", "str"), "order": dataset(g, "methods", "str"), "methods": {}}
    if c["T"] != T:
        fail(f"{g.name}@T", f"{c['T']} != T = {T}")
    if c["rule"] not in ("prior-max", "greedy-cover"):
        fail(f"{g.name}@rule", c["rule"])
    if c["nearest"] not in ("paper", "causal-nearest"):
        fail(f"{g.name}@nearest", c["nearest"])
    b = c["budget"]
    if not (b in ("cascade", "independent") or (b.startswith("ratio:") and 0 < float(b[6:]) <= 1)
            or (b.startswith("count:") and int(b[6:]) >= 1)):
        fail(f"{g.name}@budget", b)
    if len(set(c["order"])) != len(c["order"]):
        fail(f"{g.name}/methods", f"a method is listed twice: {c['order']}")
    for name in c["order"]:
        if name not in METHODS:
            fail(f"{g.name}/methods", f"unknown method {name!r}")
        mg = g[name]
        m = {"element_level": attr(mg, "element_level", "int"),
             "self_calibrated": attr(mg, "self_calibrated", "int"),
             "ppl": none_or(attr(mg, "ppl", "float")), "delta_ppl": none_or(attr(mg, "delta_ppl", "float")),
             "kl": none_or(attr(mg, "kl", "float")), "quality_why": attr(mg, "quality_why", "str")}
        if m["element_level"] != (1 if name in ELEMENT else 0):
            fail(f"{mg.name}@element_level", m["element_level"])
        rows = {}
        for k in INT_ROWS:
            rows[k] = dataset(mg, k, "<i8", (L,))
        for k in REAL_ROWS:
            rows[k] = dataset(mg, k, "<f8", (L,))
        if not np.array_equal(rows["layer"], layers):
            fail(f"{mg.name}/layer", f"{rows['layer'].tolist()} != /analysis/layer {layers.tolist()}")
        sets = dataset(mg, "sets", "<i8")
        off = dataset(mg, "set_offsets", "<i8", (L,))
        why = dataset(mg, "why", "str", (L,))
        nxt = 0
        m["layers"] = []
        for i in range(L):
            r = int(rows["r"][i])
            row = {"layer": int(rows["layer"][i]), "r": r}
            for k in REAL_ROWS:
                row[k] = none_or(float(rows[k][i]))
            macs = int(rows["selection_macs"][i])
            if macs < -1 or r < 0:
                fail(f"{mg.name} row {i}", f"r = {r}, selection_macs = {macs}")
            row["selection_macs"] = None if macs == -1 else macs
            if off[i] == -1:
                row["set"] = None
            else:
                if off[i] != nxt:
                    fail(f"{mg.name}/set_offsets[{i}]", f"{off[i]}, expected {nxt} (back to back)")
                s = sets[off[i]:off[i] + r]
                if len(s) != r or np.any(s < 0) or np.any(s >= T) or np.any(np.diff(s) <= 0):
                    fail(f"{mg.name}/sets row {i}", f"{s.tolist()} is not {r} ascending tokens in [0, {T})")
                row["set"] = [int(x) for x in s]
                nxt += r
            row["why"] = why[i]
            m["layers"].append(row)
        if nxt != len(sets):
            fail(f"{mg.name}/sets", f"holds {len(sets)} tokens, the sets use {nxt}")
        c["methods"][name] = m
    return c


def compare(c, j, where):
    for k in ("tau", "rule", "nearest", "budget", "seed", "document", "T", "ppl_exact", "notes", "order"):
        expect(f"{where}@{k}", c[k], j[k])
    if sorted(j["methods"]) != sorted(c["order"]):
        fail(f"{where}/methods", f"{c['order']} != C++ {sorted(j['methods'])}")
    n_layers = 0
    for name, m in c["methods"].items():
        jm = j["methods"][name]
        w = f"{where}/{name}"
        expect(f"{w}@element_level", bool(m["element_level"]), jm["element_level"])
        if "self_calibrated" in jm:
            expect(f"{w}@self_calibrated", bool(m["self_calibrated"]), jm["self_calibrated"])
        for k in ("ppl", "delta_ppl", "kl"):
            expect(f"{w}@{k}", m[k], jm["summary"][k])
        expect(f"{w}@quality_why", m["quality_why"], jm.get("quality_why", ""))
        if len(m["layers"]) != len(jm["layers"]):
            fail(w, f"{len(m['layers'])} rows, C++ {len(jm['layers'])}")
        for i, (row, jr) in enumerate(zip(m["layers"], jm["layers"])):
            for k in INT_ROWS + REAL_ROWS + ("set",):
                expect(f"{w}/{k}[{i}]", row[k], jr[k])
            expect(f"{w}/why[{i}]", row["why"], jr.get("why", ""))
            n_layers += 1
    return n_layers


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        return 2
    path, json_path = sys.argv[1], sys.argv[2]
    try:
        with h5py.File(path, "r") as f:
            if attr(f, "format_version", "int") < 2:
                fail("/@format_version", "version 1 has no /comparisons")
            if "comparisons" not in f:
                fail("/comparisons", "missing group")
            count = attr(f["comparisons"], "count", "int")
            if count < 1:
                fail("/comparisons@count", f"{count}: nothing to compare")
            cs = [read_comparison(f, i) for i in range(count)]
        index = int(sys.argv[3]) if len(sys.argv) == 4 else count - 1
        with open(json_path, encoding="utf-8") as fh:
            j = json.load(fh)
        n = compare(cs[index], j, f"/comparisons/{index}")
    except Mismatch as e:
        print(f"MISMATCH {path}: {e}")
        return 1
    except (OSError, KeyError, TypeError, ValueError) as e:
        print(f"MISMATCH {path}: cannot read as documented: {type(e).__name__}: {e}")
        return 1
    print(f"OK {path}: {count} comparison(s) read as documented; /comparisons/{index}: "
          f"{len(cs[index]['order'])} methods, {n} rows match {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
