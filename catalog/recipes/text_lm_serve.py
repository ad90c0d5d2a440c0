#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Serve the byte-level Transformer language model over HTTP: the model file of the
transformer-lm-train recipe, or a randomly initialised one when --weights is empty.

Recipe catalog/transformer-lm-serve.json; each replica listens on $PORT.
  GET  /healthz    200 {"ok": true, ...} once the model is loaded (the readiness probe)
  GET  /info       the model's configuration and where its weights came from
  POST /generate   {"prompt": TEXT, "max_tokens": N (default 64, at most --max_tokens),
                   "temperature": T (default 1.0; 0 = greedy), "seed": S (optional)}
                   -> {"text": the continuation, "tokens": N}
  POST /score      {"text": TEXT} -> {"loss": mean next-byte cross-entropy (nats),
                   "perplexity", "bytes"}
Tokens are bytes; a continuation cut inside a UTF-8 character is decoded with
replacement characters. Malformed requests get 400 with the reason.
"""
import math
import time

import torch

import aidc_recipe as R


def args_of():
    ap = R.parser(__doc__)
    ap.add_argument("--weights", default="")
    ap.add_argument("--d_model", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--seq_len", type=int, required=True)
    ap.add_argument("--max_tokens", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], required=True)
    return ap.parse_args()


def load_model(args, dev):
    cfg = R.text_lm_config(args)
    src, state = "random init (no --weights)", None
    if args.weights:
        ck = R.load(args.weights, "aidc-catalog-text-lm")
        for k, v in ck["config"].items():
            if cfg.get(k) != v:
                print("note: %s: %s is %r; --%s %r is replaced by it" % (args.weights, k, v, k,
                                                                         cfg.get(k)), flush=True)
        cfg, src, state = dict(ck["config"]), args.weights, ck["state_dict"]
    R.check_heads(cfg["d_model"], cfg["heads"])
    torch.manual_seed(0)
    model = R.TextLM(cfg["d_model"], cfg["layers"], cfg["heads"], cfg["seq_len"])
    if state is not None:
        model.load_state_dict(state)
    return model.to(dev).eval(), dict(cfg, weights=src)


def number(req, key, dflt, lo, hi, kind):
    v = req.get(key, dflt)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and
                                                                  not isinstance(v, int)):
        raise R.BadRequest("%s: %s" % (key, "an integer" if kind is int else "a number"))
    if not lo <= v <= hi:
        raise R.BadRequest("%s: %s is outside %s..%s" % (key, v, lo, hi))
    return v


def text_of(req, key):
    v = req.get(key)
    if not isinstance(v, str):
        raise R.BadRequest("%s: a string" % key)
    return v.encode()


def main():
    args = args_of()
    R.set_threads(args.threads)
    dev = R.device_of(args.device)
    t0 = time.time()
    model, info = load_model(args, dev)
    n_ctx = info["seq_len"]

    def generate(h, body):
        req = R.parse_json(body)
        prompt = text_of(req, "prompt")
        n = number(req, "max_tokens", min(64, args.max_tokens), 1, args.max_tokens, int)
        temp = number(req, "temperature", 1.0, 0.0, 100.0, float)
        g = torch.Generator().manual_seed(number(req, "seed", 0, 0, 2 ** 31 - 1, int))
        seq = list(prompt) or [ord(" ")]
        out = []
        with torch.inference_mode():
            for _ in range(n):
                x = torch.tensor([seq[-n_ctx:]], device=dev)
                logits = model(x)[0, -1].float().cpu()
                if temp == 0:
                    b = int(logits.argmax())
                else:
                    b = int(torch.multinomial(torch.softmax(logits / temp, 0), 1, generator=g))
                seq.append(b)
                out.append(b)
        return 200, {"text": bytes(out).decode("utf-8", "replace"), "tokens": len(out)}

    def score(h, body):
        t = text_of(R.parse_json(body), "text")
        if len(t) < 2:
            raise R.BadRequest("text: at least 2 bytes")
        losses, count = 0.0, 0
        with torch.inference_mode():
            for i in range(0, len(t) - 1, n_ctx):
                chunk = torch.tensor([list(t[i:i + n_ctx + 1])], device=dev)
                if chunk.shape[1] < 2:
                    break
                k = chunk.shape[1] - 1
                losses += R.lm_loss(model, chunk).item() * k
                count += k
        loss = losses / count
        return 200, {"loss": loss, "perplexity": math.exp(min(loss, 50)), "bytes": len(t)}

    print("loaded the text model (%s) on %s in %.1f s" % (info["weights"], dev,
                                                          time.time() - t0), flush=True)
    R.serve({("POST", "/generate"): generate, ("POST", "/score"): score,
             ("GET", "/info"): lambda h, b: (200, info)}, "byte Transformer LM")


if __name__ == "__main__":
    main()
