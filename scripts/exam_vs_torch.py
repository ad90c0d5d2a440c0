#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side by side: the exam's GEMM, convolution and attention questions against
PyTorch on the same shapes and dtypes, on the same GPU (scripts/gpu_check.sh).

    exam_vs_torch.py REPORT.json            time PyTorch, print exam/PyTorch per question
    exam_vs_torch.py --dry-run REPORT.json  parse only, print the PyTorch call planned
                                            (needs no torch: the test suite runs this)

Both sides are compared on the exam's own work count (flops per call), so
the ratio is PyTorch's time over the exam's median time ("padded" GEMMs run
dense in PyTorch: their row padding only changes strides). PyTorch runs with
TF32 off (the exam's fp32 tolerance forbids it) and cuDNN's heuristic
algorithm choice (benchmark off), as the cuda plugin's cuDNN path does.
Each line also prints the path the exam question took (the report's
"path": cudnn, cublaslt, builtin (why), ...). Exit 0 when every question
could be planned (and, without --dry-run, timed); 1 otherwise.
"""
import json
import re
import statistics
import sys
import time

KINDS = ("gemm", "conv", "attention")
DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64"}


def parse_shape(kind, shape):
    """The question's shape string (src/exam/catalog.c exam_shape_str) as a dict."""
    d = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)(?![.\d])", shape)}
    flags = set(re.findall(r"(A\^T|B\^T|causal|padded)", shape))
    if "beta=0.5" in shape:
        flags.add("beta")
    need = {"gemm": ("m", "n", "k"), "conv": ("n", "c", "h", "w", "k", "r", "s", "stride", "pad"),
            "attention": ("batch", "heads", "seq", "head_dim")}[kind]
    missing = [k for k in need if k not in d]
    if missing:
        raise ValueError(f"shape {shape!r}: no {', '.join(missing)}")
    d["flags"] = flags
    return d


def plan(q):
    """A one-line description of the PyTorch call for question q."""
    s = parse_shape(q["kind"], q["shape"])
    f = s["flags"]
    if q["kind"] == "gemm":
        # stored shapes, as the exam lays them out: A^T is stored k x m
        a = f"[{s['k']}x{s['m']}]^T" if "A^T" in f else f"[{s['m']}x{s['k']}]"
        b = f"[{s['n']}x{s['k']}]^T" if "B^T" in f else f"[{s['k']}x{s['n']}]"
        return f"{'addmm(beta=0.5)' if 'beta' in f else 'matmul'} {a} @ {b}"
    if q["kind"] == "conv":
        return (f"conv2d x[{s['n']},{s['c']},{s['h']},{s['w']}] w[{s['k']},{s['c']},{s['r']},"
                f"{s['s']}] stride {s['stride']} pad {s['pad']}")
    return (f"scaled_dot_product_attention [{s['batch']},{s['heads']},{s['seq']},"
            f"{s['head_dim']}]{' causal' if 'causal' in f else ''}")


def torch_call(torch, q):
    """A function that runs the question's operation once in PyTorch on the GPU."""
    s = parse_shape(q["kind"], q["shape"])
    f = s["flags"]
    dt = getattr(torch, DTYPES[q["dtype"]])
    rnd = lambda *shape: torch.randn(*shape, device="cuda", dtype=dt)  # noqa: E731
    if q["kind"] == "gemm":
        a = rnd(s["k"], s["m"]).t() if "A^T" in f else rnd(s["m"], s["k"])
        b = rnd(s["n"], s["k"]).t() if "B^T" in f else rnd(s["k"], s["n"])
        if "beta" in f:
            c = rnd(s["m"], s["n"])
            return lambda: torch.addmm(c, a, b, beta=0.5)
        return lambda: torch.matmul(a, b)
    if q["kind"] == "conv":
        x, w = rnd(s["n"], s["c"], s["h"], s["w"]), rnd(s["k"], s["c"], s["r"], s["s"])
        conv = torch.nn.functional.conv2d
        return lambda: conv(x, w, stride=s["stride"], padding=s["pad"])
    qkv = [rnd(s["batch"], s["heads"], s["seq"], s["head_dim"]) for _ in range(3)]
    sdpa = torch.nn.functional.scaled_dot_product_attention
    return lambda: sdpa(*qkv, is_causal="causal" in f)


def median_s(torch, fn, budget_s=0.3):
    """Median seconds per call: 3 warm-up calls, then 5 samples of enough calls each."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    once = max(time.perf_counter() - t, 1e-6)
    iters = max(1, min(1000, int(budget_s / 5 / once)))
    samples = []
    for _ in range(5):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / 1e3 / iters)
    return statistics.median(samples)


def main(argv):
    dry = "--dry-run" in argv
    args = [a for a in argv[1:] if a != "--dry-run"]
    if len(args) != 1:
        print("usage: exam_vs_torch.py [--dry-run] REPORT.json", file=sys.stderr)
        return 2
    report = json.load(open(args[0]))
    qs = [q for q in report["questions"] if q["kind"] in KINDS]
    torch = None
    if not dry:
        import torch  # noqa: F811 (only where a GPU and PyTorch are)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        print(f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN "
              f"{torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}")
    print(f"{'question':34} {'exam GFLOP/s':>12} {'torch GFLOP/s':>13} {'exam/torch':>10}  path")
    bad = 0
    for q in qs:
        path = q.get("path") or "(not reported)"
        try:
            line = plan(q)
            if dry:
                print(f"{q['id']:34} {q['status']:>12} {'-':>13} {'-':>10}  {path}  | {line}")
                continue
            t = median_s(torch, torch_call(torch, q))
            ref = q["work"] / t / 1e9 if q["work"] > 0 else 0.0
            exam = q["value"] if q["status"] == "pass" else 0.0
            ratio = f"{exam / ref:.2f}x" if exam > 0 and ref > 0 else q["status"]
            print(f"{q['id']:34} {exam:12.1f} {ref:13.1f} {ratio:>10}  {path}")
        except Exception as e:  # one bad question must not hide the others
            bad += 1
            print(f"{q['id']:34} FAILED: {type(e).__name__}: {e}")
    return 1 if bad or not qs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
