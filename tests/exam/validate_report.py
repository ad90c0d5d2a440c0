#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Validates an `aidc exam` JSON report against schema aidc-exam-report v1
(the field list in src/exam/report.c, documented in docs/exam.md).
Usage: validate_report.py REPORT.json   Exit 0 valid, 1 invalid (reason printed)."""
import json
import math
import sys

NUM = (int, float)
TOP = {"schema": str, "schema_version": int, "aidc_version": str, "created": str, "level": str,
       "seed": int, "plugin": dict, "devices_total": int, "device": dict, "reference": str,
       "summary": dict, "questions": list}
DEVICE = {"index": int, "name": str, "vendor": str, "model": str, "driver": str, "uuid": str,
          "mem_bytes": int, "compute_units": int, "peak_gflops": dict, "peak_mem_gbps": NUM,
          "peak_host_link_gbps": NUM, "caps": int}
SUMMARY = {"verdict": str, "score": NUM, "group_scores": dict, "questions": int, "passed": int,
           "wrong": int, "errors": int, "unsupported": int, "wall_s": NUM}
QUESTION = {"id": str, "group": str, "kind": str, "dtype": str, "shape": str, "source": str,
            "status": str, "error": str, "metric": str, "value": NUM, "work": NUM,
            "median_s": NUM, "min_s": NUM, "max_s": NUM, "spread_pct": NUM, "samples": int,
            "iters": int, "peak": NUM, "peak_fraction": NUM, "ref_value": NUM, "score": NUM,
            "check": dict}
CHECK = {"tolerance": NUM, "max_err": NUM, "checked": int}
OPTIONAL_QUESTION = {"path": str}  # absent when the plugin does not say which path ran


def need(obj, spec, where):
    for k, t in spec.items():
        if k not in obj:
            raise ValueError(f"{where}: missing {k}")
        v = obj[k]
        if isinstance(v, bool) or not isinstance(v, t):
            raise ValueError(f"{where}: {k} has type {type(v).__name__}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{where}: {k} is not finite")
        if isinstance(v, NUM) and v < 0:
            raise ValueError(f"{where}: {k} is negative")


def validate(r):
    need(r, TOP, "report")
    if r["schema"] != "aidc-exam-report" or r["schema_version"] != 1:
        raise ValueError("unknown schema or version")
    if r["level"] not in ("quick", "standard", "full"):
        raise ValueError("bad level")
    need(r["device"], DEVICE, "device")
    need(r["summary"], SUMMARY, "summary")
    if r["summary"]["verdict"] not in ("pass", "fail"):
        raise ValueError("bad verdict")
    counts = {"pass": 0, "wrong": 0, "error": 0, "unsupported": 0}
    for i, q in enumerate(r["questions"]):
        need(q, QUESTION, f"question {i}")
        need(q["check"], CHECK, f"question {i} check")
        need({k: v for k, v in q.items() if k in OPTIONAL_QUESTION},
             {k: t for k, t in OPTIONAL_QUESTION.items() if k in q}, f"question {i}")
        if q["status"] not in counts:
            raise ValueError(f"question {i}: bad status {q['status']}")
        counts[q["status"]] += 1
        if q["metric"] not in ("GFLOP/s", "GB/s"):
            raise ValueError(f"question {i}: bad metric")
        if q["status"] == "pass":
            if not (q["value"] > 0 and q["min_s"] <= q["median_s"] <= q["max_s"] and q["samples"] >= 3):
                raise ValueError(f"question {q['id']}: inconsistent timing")
            if q["check"]["max_err"] > 1 or q["check"]["checked"] <= 0:
                raise ValueError(f"question {q['id']}: passed without a valid check")
        elif q["status"] in ("wrong", "error") and not q["error"]:
            raise ValueError(f"question {q['id']}: failure without a message")
    s = r["summary"]
    if (s["passed"], s["wrong"], s["errors"], s["unsupported"], s["questions"]) != (
            counts["pass"], counts["wrong"], counts["error"], counts["unsupported"], len(r["questions"])):
        raise ValueError("summary counts do not match the questions")
    if (s["verdict"] == "pass") != (counts["wrong"] == 0 and counts["error"] == 0 and counts["pass"] > 0):
        raise ValueError("verdict does not match the questions")


def main():
    try:
        with open(sys.argv[1]) as f:
            validate(json.load(f))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"invalid report {sys.argv[1]}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
