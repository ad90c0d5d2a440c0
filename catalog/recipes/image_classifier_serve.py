#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Serve an image classifier over HTTP: the model file of the resnet-train recipe
(or a randomly initialised torchvision ResNet when --weights is empty).

Recipe catalog/image-classifier-serve.json; each replica listens on $PORT.
  GET  /healthz   200 {"ok": true, ...} once the model is loaded (the readiness probe)
  GET  /info      the model: arch, classes, image size, where the weights came from
  POST /predict   an image tensor, as JSON {"image": [C][H][W]} or {"images":
                  [N][C][H][W]} (floats, already normalised), or raw little-endian
                  float32 bytes (Content-Type: application/octet-stream) of shape
                  X-Shape: N,C,H,W (default 1,3,S,S), or an image file (Content-Type:
                  image/png, image/jpeg, ...: resized, cropped and normalised as
                  resnet-train reads an ImageFolder); tensors of another size are
                  resized to the model's. Reply: {"predictions": [{"class", "label",
                  "prob", "top": [[class, prob], ...]}]}. Malformed input: 400.
No weights are downloaded: --weights names a file, else random init (say so in
/info and on stdout).
"""
import time

import torch
import torchvision

import aidc_recipe as R

ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
MAX_BATCH = 64


def args_of():
    ap = R.parser(__doc__)
    ap.add_argument("--weights", default="")
    ap.add_argument("--arch", choices=ARCHS, required=True)
    ap.add_argument("--num_classes", type=int, required=True)
    ap.add_argument("--image_size", type=int, required=True)
    ap.add_argument("--top_k", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], required=True)
    return ap.parse_args()


def load_model(args, dev):
    info = {"arch": args.arch, "num_classes": args.num_classes, "image_size": args.image_size,
            "classes": None, "weights": "random init (no --weights)"}
    state = None
    if args.weights:
        ck = R.load(args.weights, "aidc-catalog-image-classifier")
        for k in ("arch", "num_classes", "image_size"):
            if ck[k] != info[k]:
                print("note: %s: %s is %r; --%s %r is replaced by it" % (args.weights, k, ck[k],
                                                                         k, info[k]), flush=True)
                info[k] = ck[k]
        info["classes"], info["weights"], state = ck.get("classes"), args.weights, ck["state_dict"]
    model = getattr(torchvision.models, info["arch"])(weights=None,
                                                      num_classes=info["num_classes"])
    if state is not None:
        model.load_state_dict(state)
    return model.to(dev).eval(), info


def decoded(body, size):
    """An encoded image (PNG, JPEG, ...) as resnet-train's ImageFolder transform makes it."""
    import io
    from PIL import Image, UnidentifiedImageError
    t = torchvision.transforms
    try:
        img = Image.open(io.BytesIO(body)).convert("RGB")
    except (UnidentifiedImageError, OSError) as e:
        raise R.BadRequest("not an image file: %s" % e)
    return t.Compose([t.Resize(size), t.CenterCrop(size), t.ToTensor(),
                      t.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])(img)[None]


def tensor_of(h, body, size):
    """The request's images as a float tensor N x 3 x size x size."""
    ctype = h.headers.get("Content-Type") or ""
    if ctype.startswith("image/"):
        return decoded(body, size)
    if ctype.startswith("application/octet-stream"):
        shape = [int(v) for v in (h.headers.get("X-Shape") or "1,3,%d,%d" % (size, size))
                 .split(",")]
        if len(shape) != 4 or min(shape) < 1 or shape[0] * shape[1] * shape[2] * shape[3] * 4 \
                != len(body):
            raise R.BadRequest("X-Shape %s does not match %d bytes of float32" % (shape,
                                                                                   len(body)))
        x = torch.frombuffer(bytearray(body), dtype=torch.float32).reshape(shape)
    else:
        req = R.parse_json(body)
        if ("image" in req) == ("images" in req):
            raise R.BadRequest("give \"image\" [C][H][W] or \"images\" [N][C][H][W]")
        try:
            x = torch.tensor(req["images"] if "images" in req else [req["image"]],
                             dtype=torch.float32)
        except (TypeError, ValueError) as e:
            raise R.BadRequest("the image is not a nested list of numbers: %s" % e)
    if x.dim() != 4 or x.shape[1] != 3 or x.shape[0] > MAX_BATCH or min(x.shape) < 1:
        raise R.BadRequest("images must be N x 3 x H x W with N <= %d; got %s" % (MAX_BATCH,
                                                                                 list(x.shape)))
    if not torch.isfinite(x).all():
        raise R.BadRequest("the image holds NaN or infinite values")
    if x.shape[2] != size or x.shape[3] != size:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                            align_corners=False)
    return x


def main():
    args = args_of()
    R.set_threads(args.threads)
    dev = R.device_of(args.device)
    t0 = time.time()
    model, info = load_model(args, dev)
    k = min(args.top_k, info["num_classes"])
    classes = info["classes"]

    def predict(h, body):
        x = tensor_of(h, body, info["image_size"]).to(dev)
        with torch.inference_mode():
            p = torch.softmax(model(x).float(), dim=1).cpu()
        if not torch.isfinite(p).all():
            return 500, {"error": "the model's output is not finite (diverged weights?)"}
        top_p, top_c = p.topk(k, dim=1)
        preds = []
        for row_p, row_c in zip(top_p.tolist(), top_c.tolist()):
            preds.append({"class": row_c[0], "label": classes[row_c[0]] if classes else
                          str(row_c[0]), "prob": row_p[0],
                          "top": [[c, q] for c, q in zip(row_c, row_p)]})
        return 200, {"predictions": preds}

    print("loaded %s (%s) on %s in %.1f s" % (info["arch"], info["weights"], dev,
                                              time.time() - t0), flush=True)
    R.serve({("POST", "/predict"): predict, ("GET", "/info"): lambda h, b: (200, info)},
            info["arch"])


if __name__ == "__main__":
    main()
