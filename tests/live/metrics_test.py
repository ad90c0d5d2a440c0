#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""GET /metrics of a live center is valid Prometheus text exposition (0.0.4)
and says what the center holds. The parser below is strict: every line is a
HELP, TYPE or sample line of the grammar; names and label names match the
format's patterns; label values use only the three escapes; each family is
declared once, before its samples, and its samples are contiguous; no series
appears twice; counters are >= 0; a histogram has _bucket series with le
labels, cumulative counts, a +Inf bucket equal to _count, and a _sum.
(promtool is not in Debian; this checks what `promtool check metrics` does
for syntax.) Exit 77 (printed reason) means SKIP.
"""
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_test  # noqa: E402
from live_test import Center, check  # noqa: E402

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class ParseError(Exception):
    pass


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise ParseError("bad value %r" % s)
    return float(s)


def parse_labels(s, i, lineno):
    """s[i] is '{'; returns (labels dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ParseError("line %d: bad label name at %r" % (lineno, s[i:]))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ParseError("line %d: expected =\" after label %s" % (lineno, name))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ParseError("line %d: unterminated label value" % lineno)
            ch = s[i]
            if ch == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ParseError("line %d: bad escape \\%s" % (lineno, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif ch == '"':
                i += 1
                break
            else:
                val.append(ch)
                i += 1
        if name in labels:
            raise ParseError("line %d: label %s twice" % (lineno, name))
        labels[name] = "".join(val)
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            raise ParseError("line %d: expected , or } after a label" % lineno)


def family_of(name, types):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) in ("histogram", "summary"):
            return name[:-len(suf)]
    return name


def parse(text):
    """Returns {family: {"type", "help", "samples": [(name, labels, value)]}}."""
    if not text.endswith("\n"):
        raise ParseError("the exposition must end with a newline")
    fams, types, done, seen = {}, {}, set(), set()
    current = None
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line == "":
            raise ParseError("line %d: empty line" % lineno)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise ParseError("line %d: bad metric name %r" % (lineno, name))
                f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
                if name in done:
                    raise ParseError("line %d: %s declared after its samples ended" % (lineno, name))
                if current != name and current is not None:
                    done.add(current)
                current = name
                key = parts[1].lower()
                if f[key] is not None:
                    raise ParseError("line %d: second %s for %s" % (lineno, parts[1], name))
                if f["samples"]:
                    raise ParseError("line %d: %s of %s after its samples" % (lineno, parts[1], name))
                val = parts[3] if len(parts) > 3 else ""
                if key == "type":
                    if val not in TYPES:
                        raise ParseError("line %d: unknown type %r" % (lineno, val))
                    types[name] = val
                f[key] = val
            continue  # other comments are allowed
        m = NAME.match(line)
        if not m:
            raise ParseError("line %d: bad sample %r" % (lineno, line))
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, lineno)
        if i >= len(line) or line[i] != " ":
            raise ParseError("line %d: expected a space before the value" % lineno)
        rest = line[i + 1:].split(" ")
        if len(rest) not in (1, 2) or (len(rest) == 2 and not re.fullmatch(r"-?\d+", rest[1])):
            raise ParseError("line %d: expected VALUE [TIMESTAMP]" % lineno)
        value = parse_value(rest[0])
        fam = family_of(name, types)
        if fam != current:
            if fam in done or (fam in fams and fams[fam]["samples"]):
                raise ParseError("line %d: samples of %s are not contiguous" % (lineno, fam))
            if current is not None:
                done.add(current)
            current = fam
        f = fams.setdefault(fam, {"type": None, "help": None, "samples": []})
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise ParseError("line %d: series %s%s twice" % (lineno, name, labels))
        seen.add(key)
        if f["type"] == "counter" and not value >= 0:
            raise ParseError("line %d: counter %s is %r" % (lineno, name, value))
        f["samples"].append((name, labels, value))
    for fam, f in fams.items():
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"])
    return fams


def check_histogram(fam, samples):
    groups = {}
    for name, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if name == fam + "_bucket":
            if "le" not in labels:
                raise ParseError("%s: a bucket without le" % fam)
            g["buckets"].append((parse_value(labels["le"]), value))
        elif name == fam + "_sum":
            g["sum"] = value
        elif name == fam + "_count":
            g["count"] = value
        else:
            raise ParseError("%s: stray sample %s in a histogram" % (fam, name))
    for rest, g in groups.items():
        b = g["buckets"]
        if not b or b[-1][0] != math.inf:
            raise ParseError("%s: no +Inf bucket last" % fam)
        if g["sum"] is None or g["count"] is None:
            raise ParseError("%s: _sum or _count missing" % fam)
        for (le0, v0), (le1, v1) in zip(b, b[1:]):
            if not le1 > le0 or v1 < v0:
                raise ParseError("%s: buckets not increasing and cumulative" % fam)
        if b[-1][1] != g["count"]:
            raise ParseError("%s: +Inf bucket %s != _count %s" % (fam, b[-1][1], g["count"]))


def self_test():
    """The parser refuses what it must (so a pass below means something)."""
    bad = [
        "x 1",  # no final newline
        "# TYPE x counter\nx -1\n",
        "# TYPE x gauge\nx{a=\"\\t\"} 1\n",
        "x 1\ny 1\nx 2\n",
        "x{a=\"1\"} 1\nx{a=\"1\"} 2\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
        "x 1\n# TYPE x gauge\n",
        "1x 1\n",
        "x one\n",
    ]
    for t in bad:
        try:
            parse(t)
            check(False, "parser refuses %r" % t)
        except ParseError:
            pass
    good = ("# HELP h a histogram\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
            "h_bucket{le=\"+Inf\"} 2\nh_sum 3.5\nh_count 2\nx{a=\"q\\\"\\\\\\n\"} 1 123\n")
    parse(good)
    check(True, "parser self-test: refuses %d malformed texts, accepts a good one" % len(bad))


def series(fams, fam, name=None, **labels):
    return [v for n, l, v in fams.get(fam, {"samples": []})["samples"]
            if (name is None or n == name) and all(l.get(k) == v2 for k, v2 in labels.items())]


def main():
    self_test()
    c = Center(agents=2)
    try:
        done = c.submit("true")
        run = c.submit("--gpus-per-task", "1", "sleep", "300")
        check(c.wait_state(done, ("completed",))["state"] == "completed", "job %d completed" % done)
        check(c.wait_state(run, ("running",))["state"] == "running", "job %d running" % run)
        st, data = c.http("GET", "/metrics")
        check(st == 200, "GET /metrics is 200")
        text = data.decode()
        try:
            fams = parse(text)
            check(True, "valid exposition text (%d families, %d lines)" % (len(fams), text.count("\n")))
        except ParseError as e:
            check(False, "valid exposition text", str(e), text)
            return
        for fam, typ in (("aidc_jobs", "gauge"), ("aidc_jobs_live", "gauge"),
                         ("aidc_queue_wait_seconds", "histogram"),
                         ("aidc_sched_pass_duration_seconds", "histogram"),
                         ("aidc_store_commit_seconds", "histogram"),
                         ("aidc_jobs_submitted_total", "counter"),
                         ("aidc_devices", "gauge"), ("aidc_node_devices", "gauge"),
                         ("aidc_node_device_memory_bytes", "gauge"),
                         ("aidc_node_heartbeat_age_seconds", "gauge")):
            check(fams.get(fam, {}).get("type") == typ and fams[fam]["help"],
                  "%s is a %s with help" % (fam, typ))
        check(series(fams, "aidc_jobs_live", state="running", partition="default") == [1],
              "one running job in partition default",
              series(fams, "aidc_jobs_live"))
        check(series(fams, "aidc_jobs", state="completed") == [1], "one completed job")
        check(series(fams, "aidc_jobs_submitted_total") == [2], "2 submissions counted")
        check(sum(series(fams, "aidc_devices", state="allocated")) == 1,
              "1 device allocated", fams["aidc_devices"]["samples"])
        check(sum(series(fams, "aidc_devices", state="free")) == 3, "3 devices free")
        check(sum(series(fams, "aidc_node_devices", state="total")) == 4, "4 devices in all")
        w = series(fams, "aidc_queue_wait_seconds", "aidc_queue_wait_seconds_count")
        check(w == [2], "queue wait observed at each of 2 starts", w)
        check(series(fams, "aidc_sched_pass_duration_seconds",
                     "aidc_sched_pass_duration_seconds_count")[0] >= 1, "passes timed")
        check(series(fams, "aidc_store_commit_seconds", "aidc_store_commit_seconds_count")[0] >= 2,
              "commits timed")
        ages = series(fams, "aidc_node_heartbeat_age_seconds")
        check(len(ages) == 2 and all(0 <= a < 60 for a in ages), "heartbeat age of 2 nodes", ages)
        # The Grafana dashboard asks only for series the controller exports.
        src = os.environ.get("AIDC_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "../..")
        dash = json.load(open(os.path.join(src, "contrib/grafana/aidc-center.json")))
        names = set()
        for p in dash["panels"]:
            for t in p["targets"]:
                names |= set(re.findall(r"aidc_[a-z_]+", t["expr"]))
        known = {n for f in fams.values() for n, _, _ in f["samples"]}
        check(names and names <= known, "the dashboard's %d metric names are all exported" % len(names),
              sorted(names - known))
        # aidc nodes: model, free/total devices, state and reason.
        c.cli("drain", "node-0", check_rc=0)
        out = c.cli("nodes", check_rc=0).stdout.splitlines()
        head = out[0].split()
        rows = {ln.split()[0]: ln for ln in out[1:]}
        check(head[:9] == ["NAME", "STATE", "PARTITION", "CPUS", "MEM_MIB", "MODEL", "FREE/DEVS",
                           "TASKS", "REASON"], "aidc nodes header", out[0])
        frees = [int(r.split()[6].split("/")[0]) for r in rows.values()]
        check(sum(frees) == 3 and all(r.split()[6].endswith("/2") for r in rows.values()),
              "aidc nodes: 3 of 4 devices free, 2 per node", out)
        check(all(r.split()[5].startswith("mock") for r in rows.values()), "aidc nodes: model", out)
        check("up+drain" in rows["node-0"] and "drained by an admin" in rows["node-0"],
              "aidc nodes: node-0 drained, with the reason", rows["node-0"])
        c.cli("resume", "node-0", check_rc=0)
        c.cli("cancel", str(run))
    finally:
        if live_test.FAILS:
            c.dump_logs()
    if live_test.FAILS:
        sys.exit(1)
    print("metrics: all checks passed")


if __name__ == "__main__":
    main()
