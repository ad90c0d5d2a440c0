#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Text: train a small causal Transformer language model over bytes on synthetic
sentences or a text file you give, single process or multi-node DDP, and save it.

Recipe catalog/transformer-lm-train.json. Bytes are the vocabulary (256), so no
tokenizer is needed and the transformer-lm-serve recipe loads the model file as
it is. Synthetic text: sentences of a small city-services grammar ("the bus to
the station is late."), learnable within a few hundred steps. --data FILE:
UTF-8 (or any) text, read as bytes; each rank samples its own windows. With
WORLD_SIZE > 1 the center's RANK/WORLD_SIZE/MASTER_* start DDP (NCCL on GPUs,
gloo on CPUs); rank 0 writes the model file.
"""
import math
import time

import torch

import aidc_recipe as R

SUBJECTS = ["the bus", "the tram", "the permit office", "the water supply", "the camera",
            "the clinic", "the road works", "the parking meter", "the service desk"]
VERBS = ["is", "was", "will be", "seems"]
STATES = ["late", "open", "closed", "busy", "repaired", "on time", "out of order", "quiet"]
PLACES = ["at the station", "in the old town", "near the river", "on main street",
          "by the school", "downtown"]


def synthetic_text(n_bytes, seed):
    g = torch.Generator().manual_seed(seed)

    def pick(xs):
        return xs[int(torch.randint(len(xs), (1,), generator=g))]
    out, n = [], 0
    while n < n_bytes:
        s = "%s %s %s %s. " % (pick(SUBJECTS), pick(PLACES), pick(VERBS), pick(STATES))
        out.append(s)
        n += len(s)
    return "".join(out).encode()


def args_of():
    ap = R.parser(__doc__)
    ap.add_argument("--data", default="")
    ap.add_argument("--d_model", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--seq_len", type=int, required=True)
    ap.add_argument("--batch_size", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--log_every", type=int, required=True)
    ap.add_argument("--out", required=True)
    return ap.parse_args()


def main():
    args = args_of()
    R.check_heads(args.d_model, args.heads)
    R.set_threads(args.threads)
    dev = R.device_of(args.device)
    d = R.Dist(dev)
    if args.data:
        with open(args.data, "rb") as f:
            text = f.read()
    else:
        text = synthetic_text(200000, args.seed)
    if len(text) < args.seq_len + 2:
        raise SystemExit("%s: %d bytes, fewer than seq_len + 2" % (args.data, len(text)))
    data = torch.frombuffer(bytearray(text), dtype=torch.uint8).long()
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    model = R.TextLM(args.d_model, args.layers, args.heads, args.seq_len).to(dev)
    net = d.wrap(model, dev)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr)
    g = torch.Generator().manual_seed(args.seed * 1000 + d.rank)  # each rank its own windows
    d.log("training a %d-layer byte Transformer (%d parameters, d_model %d) on %s, "
          "%d rank(s), %s text of %d bytes" % (args.layers, sum(p.numel() for p in
                                                                 model.parameters()),
                                                args.d_model, dev, d.world,
                                                args.data or "synthetic", len(text)))
    t0 = time.time()
    net.train()
    for step in range(1, args.steps + 1):
        starts = torch.randint(0, len(data) - args.seq_len - 1, (args.batch_size,), generator=g)
        x = torch.stack([data[s:s + args.seq_len + 1] for s in starts.tolist()]).to(dev)
        loss = R.lm_loss(net, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        d.check(step, loss.item())
        if step % args.log_every == 0 or step == args.steps:
            m = d.mean(loss.item())
            d.log("step %d loss %.4f (perplexity %.1f)" % (step, m, math.exp(min(m, 50))))
    dt = time.time() - t0
    d.check_model(model)
    if d.rank == 0:
        R.save({"format": "aidc-catalog-text-lm", "version": 1,
                "config": R.text_lm_config(args), "state_dict": model.state_dict()}, args.out)
    d.log("saved the model to %s: %d steps in %.1f s, %.0f tokens/s over %d rank(s)"
          % (args.out, args.steps, dt, args.steps * args.batch_size * args.seq_len * d.world
             / max(dt, 1e-9), d.world))
    d.close()


if __name__ == "__main__":
    main()
