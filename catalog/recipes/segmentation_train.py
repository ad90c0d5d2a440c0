#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Semantic segmentation: train a torchvision segmentation model (LR-ASPP or
DeepLabV3 on MobileNetV3, FCN or DeepLabV3 on ResNet-50) on synthetic scenes or a
directory of images and masks, single process or multi-node DDP, and save it.

Recipe catalog/segmentation-train.json. Random init: no weights and no backbone
weights are downloaded. Synthetic scenes: a noisy background (class 0) with
rectangles of the other classes, each class its own colour, so the masks are
learnable within a few hundred steps. --data DIR: DIR/images/NAME.(png|jpg) and
DIR/masks/NAME.png, the mask's pixel values being class ids (0..num_classes-1,
255 ignored). With WORLD_SIZE > 1 the center's RANK/WORLD_SIZE/MASTER_* start
DDP (NCCL on GPUs, gloo on CPUs); rank 0 writes the model file.
"""
import os
import time

import torch
import torchvision

import aidc_recipe as R

ARCHS = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "fcn_resnet50",
         "deeplabv3_resnet50"]


def args_of():
    ap = R.parser(__doc__)
    ap.add_argument("--arch", choices=ARCHS, required=True)
    ap.add_argument("--data", default="")
    ap.add_argument("--num_classes", type=int, required=True)
    ap.add_argument("--image_size", type=int, required=True)
    ap.add_argument("--batch_size", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--log_every", type=int, required=True)
    ap.add_argument("--out", required=True)
    return ap.parse_args()


class Scenes(torch.utils.data.Dataset):
    """Synthetic scenes: up to 3 rectangles of classes 1.. on a class-0 background."""

    def __init__(self, n, classes, s, seed):
        self.n, self.classes, self.s, self.seed = n, classes, s, seed
        self.colours = torch.rand(classes, 3, 1, 1, generator=torch.Generator().manual_seed(seed))

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed * 1000003 + i)
        s = self.s
        mask = torch.zeros(s, s, dtype=torch.long)
        for _ in range(3):
            c = int(torch.randint(1, self.classes, (1,), generator=g))
            y0, x0 = (int(v) for v in torch.randint(0, s - s // 4, (2,), generator=g))
            h, w = (int(v) for v in torch.randint(s // 8, s // 2, (2,), generator=g))
            mask[y0:y0 + h, x0:x0 + w] = c
        img = self.colours[mask].squeeze(-1).squeeze(-1).permute(2, 0, 1)
        return img + 0.1 * torch.randn(3, s, s, generator=g), mask


class Folder(torch.utils.data.Dataset):
    """DIR/images/NAME.* with DIR/masks/NAME.png, resized to s x s."""

    def __init__(self, root, s):
        from PIL import Image
        self.Image, self.s = Image, s
        imgs = sorted(os.listdir(os.path.join(root, "images")))
        self.items = []
        for f in imgs:
            m = os.path.join(root, "masks", os.path.splitext(f)[0] + ".png")
            if os.path.isfile(m):
                self.items.append((os.path.join(root, "images", f), m))
        if not self.items:
            raise SystemExit("%s: no images/NAME.* with masks/NAME.png" % root)
        t = torchvision.transforms
        self.img_t = t.Compose([t.Resize((s, s)), t.ToTensor(),
                                t.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        ip, mp = self.items[i]
        img = self.img_t(self.Image.open(ip).convert("RGB"))
        m = self.Image.open(mp).resize((self.s, self.s), self.Image.NEAREST)
        import numpy
        return img, torch.from_numpy(numpy.array(m, dtype=numpy.int64))


def model_of(arch, classes):
    """Random init throughout: weights=None and weights_backbone=None (no download)."""
    seg = torchvision.models.segmentation
    kw = {"weights": None, "weights_backbone": None, "num_classes": classes}
    if arch != "lraspp_mobilenet_v3_large":
        kw["aux_loss"] = False
    return getattr(seg, arch)(**kw)


def main():
    args = args_of()
    R.set_threads(args.threads)
    dev = R.device_of(args.device)
    d = R.Dist(dev)
    torch.manual_seed(args.seed)
    ds = (Folder(args.data, args.image_size) if args.data else
          Scenes(max(args.batch_size * args.steps, args.batch_size), args.num_classes,
                 args.image_size, args.seed))
    sampler = torch.utils.data.distributed.DistributedSampler(
        ds, d.world, d.rank, shuffle=True, seed=args.seed) if d.on else None
    # BatchNorm needs 2 or more samples a batch: drop a last batch of one.
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, sampler=sampler,
                                         shuffle=sampler is None, drop_last=True)
    if len(loader) == 0:
        raise SystemExit("%d samples make no full batch of %d" % (len(ds), args.batch_size))
    model = model_of(args.arch, args.num_classes).to(dev)
    net = d.wrap(model, dev)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr)
    d.log("training %s (%d parameters) on %s, %d rank(s), %s data, %d classes, %dx%d"
          % (args.arch, sum(p.numel() for p in model.parameters()), dev, d.world,
             args.data or "synthetic", args.num_classes, args.image_size, args.image_size))
    step, epoch, t0 = 0, 0, time.time()
    net.train()
    while step < args.steps:
        if sampler is not None:
            sampler.set_epoch(epoch)
        for x, y in loader:
            x, y = x.to(dev), y.to(dev)
            out = net(x)["out"]
            loss = torch.nn.functional.cross_entropy(out, y, ignore_index=255)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            d.check(step, loss.item())
            if step % args.log_every == 0 or step == args.steps:
                with torch.no_grad():
                    acc = (out.argmax(1) == y).float().mean().item()
                d.log("step %d loss %.4f pixel accuracy %.3f" % (step, d.mean(loss.item()),
                                                                 d.mean(acc)))
            if step == args.steps:
                break
        epoch += 1
    dt = time.time() - t0
    d.check_model(model)
    if d.rank == 0:
        R.save({"format": "aidc-catalog-segmentation", "version": 1, "arch": args.arch,
                "num_classes": args.num_classes, "image_size": args.image_size,
                "state_dict": model.state_dict()}, args.out)
    d.log("saved %s to %s: %d steps in %.1f s" % (args.arch, args.out, args.steps, dt))
    d.close()


if __name__ == "__main__":
    main()
