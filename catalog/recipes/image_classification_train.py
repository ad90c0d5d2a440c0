#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Image classification: train a ResNet (torchvision.models) on synthetic images or
an ImageFolder directory, single process or multi-node DDP, and save the model.

Recipe catalog/resnet-train.json; `aidc catalog run resnet-train` passes every
parameter as --NAME VALUE. With WORLD_SIZE > 1 (the center sets RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT for each task of a job) each
rank trains on its own shard and DDP averages the gradients (NCCL on GPUs,
gloo on CPUs); rank 0 saves the model file, which the image-classifier-serve
recipe loads. No weights are downloaded: the network starts from random init.

Synthetic data: every class has its own fixed random pattern plus noise, so the
loss falls within a few steps. --data DIR: torchvision's ImageFolder layout
(DIR/CLASS/*.jpg|png); the number of classes is the number of folders.
"""
import time

import torch
import torchvision

import aidc_recipe as R

ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def args_of():
    ap = R.parser(__doc__)
    ap.add_argument("--arch", choices=ARCHS, required=True)
    ap.add_argument("--data", default="", help="ImageFolder directory; empty: synthetic")
    ap.add_argument("--num_classes", type=int, required=True)
    ap.add_argument("--image_size", type=int, required=True)
    ap.add_argument("--batch_size", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--workers", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], required=True)
    ap.add_argument("--amp", type=R.str2bool, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--log_every", type=int, required=True)
    ap.add_argument("--out", required=True)
    return ap.parse_args()


class Synthetic(torch.utils.data.Dataset):
    """n images of size s: class c is pattern[c] plus noise (deterministic per index)."""

    def __init__(self, n, classes, s, seed):
        g = torch.Generator().manual_seed(seed)
        self.patterns = torch.randn(classes, 3, s, s, generator=g)
        self.n, self.classes, self.seed = n, classes, seed

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed * 1000003 + i)
        c = i % self.classes
        return self.patterns[c] + 0.5 * torch.randn(self.patterns[c].shape, generator=g), c


def dataset_of(args):
    if not args.data:
        return Synthetic(max(args.batch_size * args.steps, args.batch_size), args.num_classes,
                         args.image_size, args.seed), None
    t = torchvision.transforms
    ds = torchvision.datasets.ImageFolder(args.data, transform=t.Compose([
        t.Resize(args.image_size), t.CenterCrop(args.image_size), t.ToTensor(),
        t.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]))
    return ds, ds.classes


def main():
    args = args_of()
    R.set_threads(args.threads)
    dev = R.device_of(args.device)
    d = R.Dist(dev)
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    ds, classes = dataset_of(args)
    if classes is not None and len(classes) != args.num_classes:
        d.log("note: --data has %d classes (folders); --num_classes %d is replaced by it"
              % (len(classes), args.num_classes))
        args.num_classes = len(classes)
    sampler = torch.utils.data.distributed.DistributedSampler(
        ds, d.world, d.rank, shuffle=True, seed=args.seed) if d.on else None
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, sampler=sampler,
                                         shuffle=sampler is None, num_workers=args.workers,
                                         persistent_workers=args.workers > 0,
                                         drop_last=len(ds) >= args.batch_size * d.world)
    model = getattr(torchvision.models, args.arch)(weights=None,
                                                   num_classes=args.num_classes).to(dev)
    net = d.wrap(model, dev)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    d.log("training %s (%d parameters) on %s%s, %d rank(s), %s data, %d classes, %dx%d"
          % (args.arch, sum(p.numel() for p in model.parameters()), dev,
             " with bfloat16 autocast" if args.amp else "", d.world,
             args.data or "synthetic", args.num_classes, args.image_size, args.image_size))
    step, epoch, t0, seen = 0, 0, time.time(), 0
    net.train()
    while step < args.steps:
        if sampler is not None:
            sampler.set_epoch(epoch)
        for x, y in loader:
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            # bfloat16 autocast: no loss scaling needed, on CPUs and GPUs alike.
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.amp):
                loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            d.check(step, loss.item())
            seen += x.shape[0]
            if step % args.log_every == 0 or step == args.steps:
                d.log("step %d loss %.4f" % (step, d.mean(loss.item())))
            if step == args.steps:
                break
        epoch += 1
    dt = time.time() - t0
    rate = d.mean(seen / dt) * d.world
    d.check_model(model)
    if d.rank == 0:
        R.save({"format": "aidc-catalog-image-classifier", "version": 1, "arch": args.arch,
                "num_classes": args.num_classes, "image_size": args.image_size,
                "classes": classes, "state_dict": model.state_dict()}, args.out)
    d.log("saved %s to %s: %d steps in %.1f s, %.1f images/s over %d rank(s)"
          % (args.arch, args.out, args.steps, dt, rate, d.world))
    d.close()


if __name__ == "__main__":
    main()
