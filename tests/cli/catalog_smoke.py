#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The CPU smoke test of one catalogue recipe (issue 16 item 5): catalog_smoke.py NAME.

The recipe's command comes from `aidc catalog run NAME --dry-run --json` with the
tiny sizes of CASES[NAME] (so the resolved command line itself is what runs),
and runs under /usr/bin/python3 in a temporary directory for a few steps.
A training recipe must exit 0 and write its model file; a serving recipe is
started with PORT set to a free port, must answer GET /healthz within 120 s,
then its request must get the expected reply; it is then killed by its PID.
SKIPs (exit 77 after "SKIP: why") where /usr/bin/python3 lacks torch or
torchvision. Adding a recipe means adding its case here (docs/catalog.md).
"""
import json
import os
import shutil
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

AIDC = os.environ["AIDC_BIN"]
SRC = os.environ.get("AIDC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PY = "/usr/bin/python3"


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def free_port():
    """A free loopback port below the kernel's ephemeral range where it can:
    one inside it may be taken by any outgoing connection before the server
    binds it."""
    try:
        lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    span = (10000, lo) if lo > 12000 else (hi + 1, 65536)
    for _ in range(1000):
        port = random.randrange(*span)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    fail("no free loopback port")


def http(method, port, path, body=None, ctype="application/json", timeout=60):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                                 method=method, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


# ---- user-given data, made small in the work directory ----------------------------------

def image_folder(work):
    """An ImageFolder of 2 classes (blue, red) x 4 PNG images of 40x40."""
    from PIL import Image
    for cls, rgb in (("blue", (20, 40, 230)), ("red", (230, 30, 20))):
        os.makedirs(os.path.join(work, "images", cls))
        for i in range(4):
            Image.new("RGB", (40, 40), tuple(min(255, c + 5 * i) for c in rgb)).save(
                os.path.join(work, "images", cls, "%d.png" % i))
    return {"data": os.path.join(work, "images")}


def seg_folder(work):
    """DIR/images/N.png with DIR/masks/N.png: a class-1 and a class-2 rectangle."""
    from PIL import Image, ImageDraw
    root = os.path.join(work, "seg")
    for sub in ("images", "masks"):
        os.makedirs(os.path.join(root, sub))
    for i in range(4):
        img, mask = Image.new("RGB", (48, 48), (0, 0, 0)), Image.new("L", (48, 48), 0)
        for cls, box, rgb in ((1, (4 + i, 4, 20, 24), (255, 0, 0)),
                              (2, (26, 20 + i, 44, 44), (0, 255, 0))):
            ImageDraw.Draw(img).rectangle(box, fill=rgb)
            ImageDraw.Draw(mask).rectangle(box, fill=cls)
        img.save(os.path.join(root, "images", "%d.png" % i))
        mask.save(os.path.join(root, "masks", "%d.png" % i))
    return {"data": root}


def text_file(work):
    path = os.path.join(work, "corpus.txt")
    with open(path, "w") as f:
        f.write("The service desk answers permit questions on weekdays. " * 60)
    return {"data": path}


# ---- the cases: tiny --set values, then what to check ----------------------------------

def trained(name):
    def check(work, out):
        f = os.path.join(work, name)
        if not os.path.isfile(f) or os.path.getsize(f) == 0:
            fail("no model file %s; output:\n%s" % (f, out))
        print("ok   model file %s (%d bytes)" % (name, os.path.getsize(f)))
    return check


def check_image_service(port, work):
    st, info = http("GET", port, "/info")
    if st != 200 or info.get("weights") != os.path.join(work, "model.pt") or \
            info.get("classes") != ["blue", "red"] or info.get("image_size") != 32:
        fail("GET /info: the trained model file was not loaded: %s %s" % (st, info))
    print("ok   serving the trained model file (%s, classes blue and red, 32x32)"
          % info["arch"])
    with open(os.path.join(work, "images", "red", "0.png"), "rb") as f:
        st, r = http("POST", port, "/predict", f.read(), ctype="image/png")
    if st != 200 or r["predictions"][0]["label"] not in ("blue", "red"):
        fail("POST /predict (image/png): %s %s" % (st, r))
    print("ok   POST /predict image/png: %s" % r["predictions"][0]["label"])
    st, r = http("POST", port, "/predict", b"not a png", ctype="image/png")
    if st != 400:
        fail("a broken PNG must get 400: %s %s" % (st, r))
    img = [[[0.1 * ((c + y + x) % 7) for x in range(32)] for y in range(32)] for c in range(3)]
    st, r = http("POST", port, "/predict", {"image": img})
    if st != 200 or len(r.get("predictions", [])) != 1:
        fail("POST /predict (JSON): %s %s" % (st, r))
    p = r["predictions"][0]
    if not 0 <= p["class"] < 2 or not 0 < p["prob"] <= 1:
        fail("prediction out of range: %s" % p)
    print("ok   POST /predict JSON: class %d p=%.3f" % (p["class"], p["prob"]))
    import struct
    raw = struct.pack("<%df" % (2 * 3 * 32 * 32), *([0.5] * (2 * 3 * 32 * 32)))
    req = urllib.request.Request("http://127.0.0.1:%d/predict" % port, data=raw,
                                 method="POST", headers={"Content-Type":
                                                         "application/octet-stream",
                                                         "X-Shape": "2,3,32,32"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        r = json.loads(resp.read())
    if len(r.get("predictions", [])) != 2:
        fail("POST /predict (raw float32, 2 images): %s" % r)
    print("ok   POST /predict raw float32: 2 predictions")
    st, r = http("POST", port, "/predict", {"image": [[1, 2]]})
    if st != 400 or "error" not in r:
        fail("a malformed image must get 400 with an error: %s %s" % (st, r))
    print("ok   a malformed image gets 400: %s" % r["error"])


def check_text_service(port, work):
    st, info = http("GET", port, "/info")
    if st != 200 or info.get("weights") != os.path.join(work, "model.pt") or \
            info.get("d_model") != 32:
        fail("GET /info: the trained model file was not loaded: %s %s" % (st, info))
    print("ok   serving the trained model file (d_model 32)")
    st, r = http("POST", port, "/generate", {"prompt": "the city ", "max_tokens": 8,
                                             "temperature": 0})
    if st != 200 or not isinstance(r.get("text"), str) or r.get("tokens") != 8:
        fail("POST /generate: %s %s" % (st, r))
    print("ok   POST /generate: %r" % r["text"])
    st, r = http("POST", port, "/score", {"text": "traffic at the station"})
    if st != 200 or not r.get("perplexity", 0) > 0:
        fail("POST /score: %s %s" % (st, r))
    print("ok   POST /score: perplexity %.1f" % r["perplexity"])
    st, r = http("POST", port, "/generate", {"prompt": 5})
    if st != 400:
        fail("a bad prompt must get 400: %s %s" % (st, r))
    print("ok   a bad prompt gets 400")


CASES = {
    # Training recipes run twice: on synthetic data, then on the "data" given.
    "resnet-train": {
        "set": {"steps": 2, "image_size": 32, "batch_size": 4, "workers": 0, "threads": 1,
                "device": "cpu", "log_every": 1, "out": "resnet.pt"},
        "data": lambda w: dict(image_folder(w), amp="true", workers=1),
        "check": trained("resnet.pt"), "needs": ["torchvision"]},
    "segmentation-train": {
        "set": {"steps": 2, "image_size": 64, "batch_size": 2, "threads": 1, "device": "cpu",
                "num_classes": 3, "log_every": 1, "out": "seg.pt"},
        "data": seg_folder, "check": trained("seg.pt"), "needs": ["torchvision"]},
    "transformer-lm-train": {
        "set": {"steps": 3, "seq_len": 32, "batch_size": 4, "d_model": 32, "layers": 1,
                "heads": 2, "threads": 1, "device": "cpu", "log_every": 1, "out": "lm.pt"},
        "data": text_file, "check": trained("lm.pt"), "needs": []},
    # The serving recipes load a model file that their training recipe wrote
    # first (tiny, and of other sizes than the serving defaults: the file's win).
    "image-classifier-serve": {
        "set": {"threads": 1, "device": "cpu"},
        "weights_from": ("resnet-train", {"steps": 1, "image_size": 32, "batch_size": 4,
                                          "lr": 0.01, "workers": 0, "threads": 1,
                                          "device": "cpu", "out": "model.pt"}, image_folder),
        "serve": check_image_service, "needs": ["torchvision"]},
    "transformer-lm-serve": {
        "set": {"threads": 1, "device": "cpu", "max_tokens": 16},
        "weights_from": ("transformer-lm-train", {"steps": 2, "seq_len": 32, "batch_size": 2,
                                                  "d_model": 32, "layers": 1, "heads": 2,
                                                  "threads": 1, "device": "cpu",
                                                  "out": "model.pt"}, None),
        "serve": check_text_service, "needs": []},
}


def resolved_command(name, sets):
    args = [AIDC, "catalog", "run", name, "--dry-run", "--json", "--no-env"]
    for k, v in sets.items():
        args += ["--set", "%s=%s" % (k, v)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)["command"]


def env_of(port=None):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
    if port:
        env["PORT"] = str(port)
    return env


def run_training(case, cmd, work):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, cwd=work, env=env_of(), capture_output=True, text=True,
                           timeout=240)
    except subprocess.TimeoutExpired:
        fail("no exit within 240 s")
    out = p.stdout + p.stderr
    print(p.stdout.strip())
    if p.returncode != 0:
        fail("exit %d:\n%s" % (p.returncode, out[-3000:]))
    print("ok   exit 0 in %.1f s" % (time.time() - t0))
    case["check"](work, out)


def run_service(case, cmd, work):
    port = free_port()
    log = open(os.path.join(work, "server.log"), "w")
    srv = subprocess.Popen(cmd, cwd=work, env=env_of(port), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, ready = time.time() + 120, False
        while time.time() < deadline and srv.poll() is None and not ready:
            try:
                ready = http("GET", port, "/healthz", timeout=2)[0] == 200
            except OSError:
                time.sleep(0.2)
        if not ready:
            fail("GET /healthz never answered 200 (exit %s):\n%s" % (
                srv.poll(), open(os.path.join(work, "server.log")).read()[-3000:]))
        print("ok   GET /healthz on port %d" % port)
        case["serve"](port, work)
    finally:
        os.kill(srv.pid, signal.SIGKILL)
        srv.wait()
        log.close()


def main():
    name = sys.argv[1]
    if name not in CASES:
        fail("recipe %s has no smoke case: add one to tests/cli/catalog_smoke.py "
             "(docs/catalog.md)" % name)
    case = CASES[name]
    for mod in ["torch"] + case["needs"]:
        if subprocess.run([PY, "-c", "import " + mod], capture_output=True).returncode:
            skip("%s cannot import %s (install python3-%s: scripts/deps.sh)" % (PY, mod, mod))
    work = tempfile.mkdtemp(prefix="aidc-catalog-smoke-")
    try:
        if "weights_from" in case:
            train, sets, data = case["weights_from"]
            sets = dict(sets, **(data(work) if data else {}))
            print("training the model to serve with %s" % train)
            run_training({"check": trained(sets["out"])}, resolved_command(train, sets), work)
            case["set"]["weights"] = os.path.join(work, sets["out"])
        cmd = resolved_command(name, case["set"])
        (run_service if "serve" in case else run_training)(case, cmd, work)
        if "data" in case:
            sets = dict(case["set"], **case["data"](work))
            print("again on user-given data: %s" % sets["data"])
            os.remove(os.path.join(work, sets["out"]))
            run_training(case, resolved_command(name, sets), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%s: smoke test passed" % name)


if __name__ == "__main__":
    main()
