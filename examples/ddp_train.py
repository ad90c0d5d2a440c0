#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny PyTorch DistributedDataParallel training run on CPU (gloo backend).

Launched once per task by AIDC (e.g. `aidc submit -n 2 -c 2 -- /usr/bin/python3
examples/ddp_train.py`), it reads only the environment the agent provides:
RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (torch's env://
rendezvous), plus AIDC_NODE and AIDC_JOB_ID for the printout. Each rank trains
the same small model on its own random batches; DDP all-reduces the gradients,
so after every step the parameters must be identical on all ranks. Rank 0
prints the loss averaged over the ranks, every rank checks its gradients and
parameters against rank 0's, and the run exits non-zero on any mismatch.

    --steps N   training steps (default 5)
    --cuda      train on the task's GPU (the first in CUDA_VISIBLE_DEVICES, which
                the agent sets to the devices it gave the task) with NCCL
"""
import argparse
import datetime
import faulthandler
import os
import signal
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def flat(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def same_everywhere(t, world):
    """True if t is bitwise equal on every rank (all_gather, compare with rank 0)."""
    got = [torch.zeros_like(t) for _ in range(world)]
    dist.all_gather(got, t)
    return all(torch.equal(got[0], g) for g in got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--cuda", action="store_true")
    args = ap.parse_args()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where a rank is stuck
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    torch.set_num_threads(1)  # one CPU per rank is plenty for this model
    dev = torch.device("cpu")
    if args.cuda:
        if not torch.cuda.is_available():
            sys.exit("--cuda: no GPU visible (CUDA_VISIBLE_DEVICES=%s)"
                     % os.environ.get("CUDA_VISIBLE_DEVICES", "unset"))
        dev = torch.device("cuda", 0)  # the agent made only this task's GPUs visible
        torch.cuda.set_device(dev)
        print("rank %d: CUDA_VISIBLE_DEVICES=%s, training on %s"
              % (rank, os.environ.get("CUDA_VISIBLE_DEVICES", "unset"),
                 torch.cuda.get_device_name(dev)), flush=True)
    dist.init_process_group("nccl" if args.cuda else "gloo", init_method="env://", rank=rank,
                            world_size=world, timeout=datetime.timedelta(seconds=60))
    torch.manual_seed(0)  # the same initial weights everywhere (DDP also broadcasts them)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 1)).to(dev)
    ddp = DistributedDataParallel(model, device_ids=[0] if args.cuda else None)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05)
    data = torch.Generator().manual_seed(1000 + rank)  # each rank its own batches
    grads_ok = True
    for step in range(args.steps):
        x = torch.randn(32, 8, generator=data).to(dev)
        y = x.sum(dim=1, keepdim=True)
        loss = torch.nn.functional.mse_loss(ddp(x), y)
        opt.zero_grad()
        loss.backward()  # DDP all-reduces (averages) the gradients here
        grads_ok &= same_everywhere(flat(p.grad for p in model.parameters()), world)
        opt.step()
        mean = loss.detach().clone()
        dist.all_reduce(mean)
        mean /= world
        if rank == 0:
            print("step %d loss %.6f" % (step, mean.item()), flush=True)
    params_ok = same_everywhere(flat(model.parameters()), world)
    print("rank %d/%d on %s (local rank %s, master %s:%s): gradients_match=%s params_match=%s"
          % (rank, world, os.environ.get("AIDC_NODE", "?"), os.environ.get("LOCAL_RANK", "?"),
             os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"], grads_ok, params_ok),
          flush=True)
    ok = grads_ok and params_ok
    if rank == 0:
        print("DDP OK" if ok else "DDP MISMATCH", flush=True)
    # Leave together: rank 0 hosts the rendezvous store.
    dist.barrier()
    dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    # torch 1.13 (Debian 12) can hang destroying the DDP reducer and gloo
    # objects when this frame's locals go away (seen ~1 run in 3 on 2 CPUs);
    # all work is done and flushed, so leave without running the destructors.
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
