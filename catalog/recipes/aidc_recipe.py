# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the catalogue's recipes (catalog/*.json, docs/catalog.md).

Not a recipe itself: the entry scripts beside it import it (a script's own
directory is first on sys.path). It holds what every recipe repeats: the
command-line conventions `aidc catalog run` follows (every parameter arrives
as --NAME VALUE, bools as true/false), the choice of device, the torch.distributed
set-up from the environment the center gives each task (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR, MASTER_PORT), atomic saving, the small byte-level
Transformer shared by the text training and serving recipes, and the threaded
HTTP server of the serving recipes (GET /healthz, JSON replies, $PORT).
"""
import argparse
import datetime
import json
import math
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torch.distributed as dist


def str2bool(s):
    """The bool values `aidc catalog run` writes (true/false), and the usual others."""
    v = s.strip().lower()
    if v in ("true", "yes", "on", "1"):
        return True
    if v in ("false", "no", "off", "0"):
        return False
    raise argparse.ArgumentTypeError("not a bool: %r (true or false)" % s)


def parser(doc):
    """An argparse parser whose help is the script's docstring."""
    return argparse.ArgumentParser(description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def device_of(choice):
    """'auto' (a GPU when torch sees one, else the CPU), 'cpu' or 'cuda'. The agent
    makes only the task's own GPUs visible (CUDA_VISIBLE_DEVICES), so a task uses
    its first visible one."""
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            sys.exit("--device cuda: no GPU visible (CUDA_VISIBLE_DEVICES=%s)"
                     % os.environ.get("CUDA_VISIBLE_DEVICES", "unset"))
        torch.cuda.set_device(0)
        return torch.device("cuda", 0)
    return torch.device("cpu")


def set_threads(n):
    """n > 0: torch's intra-op threads; 0 leaves torch's default (all cores)."""
    if n > 0:
        torch.set_num_threads(n)


class Dist:
    """torch.distributed from the task's environment: WORLD_SIZE > 1 starts the
    process group (NCCL on a GPU, gloo on the CPU); otherwise one process."""

    def __init__(self, dev):
        self.rank = int(os.environ.get("RANK", "0"))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.on = self.world > 1
        if self.on:
            dist.init_process_group("nccl" if dev.type == "cuda" else "gloo",
                                    init_method="env://", rank=self.rank,
                                    world_size=self.world,
                                    timeout=datetime.timedelta(seconds=120))

    def wrap(self, model, dev):
        if not self.on:
            return model
        from torch.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda"
                                       else None)

    def mean(self, x):
        """x (a float) averaged over the ranks."""
        if not self.on:
            return x
        t = torch.tensor([float(x)])
        dist.all_reduce(t)
        return t.item() / self.world

    def check(self, step, loss):
        """Stops a run whose loss is no longer finite: its weights are garbage."""
        if not math.isfinite(loss):
            sys.exit("rank %d, step %d: the loss is %s: training diverged (lower --lr)"
                     % (self.rank, step, loss))

    def check_model(self, model):
        """Refuses to save weights that are not all finite (a diverged last step)."""
        bad = [n for n, p in model.state_dict().items()
               if p.is_floating_point() and not torch.isfinite(p).all()]
        if bad:
            sys.exit("rank %d: %d tensors hold NaN or infinity (%s...): training diverged "
                     "(lower --lr); nothing saved" % (self.rank, len(bad), bad[0]))

    def log(self, msg):
        if self.rank == 0:
            print(msg, flush=True)

    def close(self):
        if self.on:
            dist.barrier()
            dist.destroy_process_group()


def save(obj, path):
    """torch.save to path through a temporary file: a reader never sees half a model."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load(path, fmt):
    """A model file written by save() with format fmt, on the CPU."""
    ck = torch.load(path, map_location="cpu")
    if not isinstance(ck, dict) or ck.get("format") != fmt:
        sys.exit("%s: not a %s model file (format %r)" % (path, fmt,
                 ck.get("format") if isinstance(ck, dict) else type(ck).__name__))
    if ck.get("version") != 1:
        sys.exit("%s: %s version %r; this recipe reads version 1" % (path, fmt,
                 ck.get("version")))
    return ck


# ---- the byte-level Transformer language model ----------------------------------------

class TextLM(torch.nn.Module):
    """A small causal Transformer over bytes (vocabulary 256: no tokenizer to ship)."""

    def __init__(self, d_model, layers, heads, seq_len):
        super().__init__()
        self.seq_len = seq_len
        self.embed = torch.nn.Embedding(256, d_model)
        self.pos = torch.nn.Embedding(seq_len, d_model)
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0,
                                                 batch_first=True, norm_first=True)
        self.body = torch.nn.TransformerEncoder(layer, layers)
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, 256)

    def forward(self, x):
        n = x.shape[1]
        mask = torch.triu(torch.full((n, n), float("-inf"), device=x.device), diagonal=1)
        h = self.embed(x) + self.pos(torch.arange(n, device=x.device))
        return self.head(self.norm(self.body(h, mask=mask)))


def text_lm_config(args):
    return {"d_model": args.d_model, "layers": args.layers, "heads": args.heads,
            "seq_len": args.seq_len}


def check_heads(d_model, heads):
    if d_model % heads:
        sys.exit("d_model %d is not a multiple of heads %d" % (d_model, heads))


def lm_loss(model, x):
    """Mean next-byte cross-entropy of the sequences x (batch, n >= 2)."""
    logits = model(x[:, :-1])
    return torch.nn.functional.cross_entropy(logits.reshape(-1, 256), x[:, 1:].reshape(-1))


# ---- the serving recipes' HTTP server -------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """JSON over HTTP/1.1. A recipe sets routes = {("GET"|"POST", path): fn(handler, body)},
    fn returning (status, object)."""
    routes = {}
    max_body = 64 << 20
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # one line a request on stderr, as a task's log
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % a))

    def reply(self, status, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_one(self, method):
        path = self.path.split("?", 1)[0]
        fn = self.routes.get((method, path))
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > self.max_body:
            self.close_connection = True
            return self.reply(413, {"error": "body over %d bytes" % self.max_body})
        body = self.rfile.read(n) if n else b""
        if not fn:
            known = sorted("%s %s" % k for k in self.routes)
            return self.reply(404, {"error": "no route %s %s" % (method, path),
                                    "routes": known})
        try:
            status, obj = fn(self, body)
        except BadRequest as e:
            status, obj = 400, {"error": str(e)}
        except Exception as e:  # a bad input must not take the replica down
            status, obj = 500, {"error": "%s: %s" % (type(e).__name__, e)}
        self.reply(status, obj)

    def do_GET(self):
        self.handle_one("GET")

    def do_POST(self):
        self.handle_one("POST")


class BadRequest(Exception):
    pass


def parse_json(body):
    try:
        v = json.loads(body or b"null")
    except ValueError as e:
        raise BadRequest("body is not JSON: %s" % e)
    if not isinstance(v, dict):
        raise BadRequest("body must be a JSON object")
    return v


def serve(routes, what):
    """Serves routes on 0.0.0.0:$PORT until killed. GET /healthz answers once the
    model is loaded (the caller loads it first), which is the readiness probe."""
    port = os.environ.get("PORT")
    if not port or not port.isdigit() or not 0 < int(port) < 65536:
        sys.exit("PORT=%r: the center gives each replica its port in $PORT" % port)
    started = time.time()
    handler = type("RecipeHandler", (Handler,), {"routes": dict(routes)})
    handler.routes[("GET", "/healthz")] = lambda h, b: (200, {
        "ok": True, "model": what, "uptime_s": round(time.time() - started, 3)})
    srv = ThreadingHTTPServer(("0.0.0.0", int(port)), handler)
    srv.daemon_threads = True
    print("serving %s on port %s (GET /healthz, %s)" % (what, port, ", ".join(
        "%s %s" % k for k in sorted(routes))), flush=True)
    srv.serve_forever()
