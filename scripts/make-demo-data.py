#!/usr/bin/python3
"""Build Tessera's committed demo data set (demo/) from public data.

Usage:
    /usr/bin/python3 scripts/make-demo-data.py [DATA_DIR] [--out DEMO_DIR]
    /usr/bin/python3 scripts/make-demo-data.py --check [--out DEMO_DIR]

DATA_DIR is the shared data folder (default: $TESSERA_SHARED_DATA or
/work/shared/data); it must hold images/coco128/ and
llm/oasst1-en-100-trees.jsonl. DEMO_DIR defaults to demo/ beside scripts/.

Writes (and first removes the old copies of):
    media/coco/*.jpg          ~40 COCO (coco128) photos with person/car/traffic light
    image_tasks.jsonl         {"data":{"image","width","height","source"}, "gold"?}
    pairwise_tasks.jsonl      {"data":{"prompt","responses":[a,b],"source","tree_id"}, "gold"?}
    rating_tasks.jsonl        {"data":{"prompt","response","source","tree_id"}}
    rewrite_tasks.jsonl       {"data":{"prompt","response","source","tree_id"}}
README.md and LICENSES.md in DEMO_DIR are hand-written and left alone.

Everything is deterministic: the same input gives byte-identical output.
--check validates an existing DEMO_DIR only (no input data needed): every
JSONL line parses and has the expected shape, every referenced image exists
and has the stated size, every gold box lies inside its image.
Standard library only.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys

# ---- choices ------------------------------------------------------------------

COCO_CLASSES = {0: "person", 2: "car", 9: "traffic light"}  # YOLO index -> name
N_IMAGES = 40
IMAGE_BUDGET_BYTES = 2_900_000  # keep demo/media under ~3 MB
GOLD_EVERY = 4  # every 4th image task (and pairwise task) carries gold

N_PAIRWISE = 30
N_RATING = 30
N_REWRITE = 20
MAX_TEXT_CHARS = 3000

IMAGE_SOURCE = "coco128"
TEXT_SOURCE = "oasst1"
TASK_FILES = ("image_tasks.jsonl", "pairwise_tasks.jsonl", "rating_tasks.jsonl",
              "rewrite_tasks.jsonl")


def die(msg):
    print(f"make-demo-data: error: {msg}", file=sys.stderr)
    sys.exit(1)


# ---- JPEG size from the SOF marker ----------------------------------------------

SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7,
               0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(path):
    """Return (width, height) read from the first SOFn segment of a JPEG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\xff\xd8":
        raise ValueError(f"{path}: not a JPEG (no SOI marker)")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError(f"{path}: bad marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # EOI / start of scan before any SOF
            break
        seglen = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in SOF_MARKERS:
            if i + 9 > len(data):
                break
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return width, height
        i += 2 + seglen
    raise ValueError(f"{path}: no SOF marker found")


# ---- images -----------------------------------------------------------------------

def read_yolo(path):
    """YOLO label file -> list of (class, cx, cy, w, h), normalised."""
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 5:
                raise ValueError(f"{path}: bad YOLO line {line!r}")
            rows.append((int(parts[0]), *map(float, parts[1:])))
    return rows


def yolo_to_pixels(cx, cy, w, h, width, height):
    """Normalised centre box -> integer pixel {x,y,w,h} clipped to the image,
    or None when nothing of it is left inside."""
    x1 = max(0.0, (cx - w / 2) * width)
    y1 = max(0.0, (cy - h / 2) * height)
    x2 = min(float(width), (cx + w / 2) * width)
    y2 = min(float(height), (cy + h / 2) * height)
    ix1, iy1 = round(x1), round(y1)
    ix2, iy2 = min(width, round(x2)), min(height, round(y2))
    if ix2 - ix1 < 1 or iy2 - iy1 < 1:
        return None
    return {"x": ix1, "y": iy1, "w": ix2 - ix1, "h": iy2 - iy1}


def build_images(coco_dir, out_dir):
    img_dir = os.path.join(coco_dir, "images", "train2017")
    lbl_dir = os.path.join(coco_dir, "labels", "train2017")
    if not os.path.isdir(img_dir) or not os.path.isdir(lbl_dir):
        die(f"{coco_dir}: expected images/train2017 and labels/train2017")

    candidates = []  # (priority, stem, target rows)
    for name in sorted(os.listdir(img_dir)):
        if not name.endswith(".jpg"):
            continue
        stem = name[:-4]
        lbl = os.path.join(lbl_dir, stem + ".txt")
        if not os.path.exists(lbl):
            continue  # upstream has two images without labels
        rows = [r for r in read_yolo(lbl) if r[0] in COCO_CLASSES]
        if not rows:
            continue
        classes = {r[0] for r in rows}
        # Street-scene classes (car, traffic light) first, then person.
        priority = 0 if classes & {2, 9} else 1
        candidates.append((priority, stem, rows))
    candidates.sort(key=lambda c: (c[0], c[1]))

    chosen, used = [], 0
    for _, stem, rows in candidates:
        if len(chosen) == N_IMAGES:
            break
        src = os.path.join(img_dir, stem + ".jpg")
        size = os.path.getsize(src)
        if used + size > IMAGE_BUDGET_BYTES:
            continue
        used += size
        chosen.append((stem, rows))
    chosen.sort()

    media = os.path.join(out_dir, "media", "coco")
    os.makedirs(media, exist_ok=True)
    tasks = []
    for idx, (stem, rows) in enumerate(chosen):
        src = os.path.join(img_dir, stem + ".jpg")
        shutil.copyfile(src, os.path.join(media, stem + ".jpg"))
        width, height = jpeg_size(src)
        task = {"data": {"image": f"coco/{stem}.jpg", "width": width,
                         "height": height, "source": IMAGE_SOURCE}}
        if idx % GOLD_EVERY == 0:
            boxes = []
            for cls, cx, cy, w, h in rows:
                px = yolo_to_pixels(cx, cy, w, h, width, height)
                if px is not None:
                    boxes.append({"label": COCO_CLASSES[cls], **px})
            task["gold"] = {"boxes": boxes}
        tasks.append(task)
    return tasks, used


# ---- oasst1 text tasks ------------------------------------------------------------

def usable(msg, role):
    return (msg.get("role") == role and msg.get("lang") == "en"
            and not msg.get("deleted") and not msg.get("synthetic")
            and 0 < len(msg.get("text", "").strip()) <= MAX_TEXT_CHARS)


def stable_bit(key):
    """A deterministic coin flip from a string."""
    return hashlib.sha256(key.encode()).digest()[0] & 1


def build_text_tasks(oasst_path):
    trees = []
    with open(oasst_path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                trees.append(json.loads(line))
            except json.JSONDecodeError as e:
                die(f"{oasst_path}:{n}: {e}")

    eligible = []  # (tree_id, prompt text, replies sorted best first)
    for t in trees:
        prompt = t.get("prompt", {})
        if not usable(prompt, "prompter"):
            continue
        replies = [r for r in prompt.get("replies", [])
                   if usable(r, "assistant") and r.get("rank") is not None]
        if len(replies) < 2:
            continue
        replies.sort(key=lambda r: (r["rank"], r["message_id"]))
        eligible.append((t["message_tree_id"], prompt["text"].strip(), replies))

    need = N_PAIRWISE + N_RATING + N_REWRITE
    if len(eligible) < need:
        die(f"{oasst_path}: only {len(eligible)} usable prompts, need {need}")

    # Each prompt is used by one task type only, in file order.
    pair_src = eligible[:N_PAIRWISE]
    rate_src = eligible[N_PAIRWISE:N_PAIRWISE + N_RATING]
    rewrite_src = eligible[N_PAIRWISE + N_RATING:need]

    def base(tree_id, prompt):
        return {"prompt": prompt}, {"source": TEXT_SOURCE, "tree_id": tree_id}

    pairwise = []
    for idx, (tree_id, prompt, replies) in enumerate(pair_src):
        best, second = replies[0]["text"].strip(), replies[1]["text"].strip()
        # Put the better answer in a deterministic but unpredictable slot.
        swap = stable_bit(tree_id) == 1
        responses = [second, best] if swap else [best, second]
        head, tail = base(tree_id, prompt)
        task = {"data": {**head, "responses": responses, **tail}}
        if idx % GOLD_EVERY == 0:
            task["gold"] = {"choice": "b" if swap else "a",
                            "rationale": "The answer OpenAssistant's human "
                                         "rankers placed higher."}
        pairwise.append(task)

    rating = []
    for idx, (tree_id, prompt, replies) in enumerate(rate_src):
        # Vary quality: walk through the ranks (best, second, third, ...).
        reply = replies[idx % len(replies)]
        head, tail = base(tree_id, prompt)
        rating.append({"data": {**head, "response": reply["text"].strip(), **tail}})

    rewrite = []
    for tree_id, prompt, replies in rewrite_src:
        reply = replies[-1]  # the lowest-ranked answer is the one worth rewriting
        head, tail = base(tree_id, prompt)
        rewrite.append({"data": {**head, "response": reply["text"].strip(), **tail}})

    return pairwise, rating, rewrite


# ---- output and validation -----------------------------------------------------------

def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def check(out_dir):
    """Validate DEMO_DIR; return a list of problems (empty when all is well)."""
    problems = []

    def load(name):
        path = os.path.join(out_dir, name)
        rows = []
        if not os.path.exists(path):
            problems.append(f"{name}: missing")
            return rows
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    problems.append(f"{name}:{n}: not JSON: {e}")
                    continue
                if not isinstance(row, dict) or not isinstance(row.get("data"), dict):
                    problems.append(f"{name}:{n}: no data object")
                    continue
                rows.append((n, row))
        if not rows:
            problems.append(f"{name}: no tasks")
        return rows

    def text(v):
        return isinstance(v, str) and v.strip() != ""

    media = os.path.join(out_dir, "media")
    for n, row in load("image_tasks.jsonl"):
        d, where = row["data"], f"image_tasks.jsonl:{n}"
        img = d.get("image")
        if not text(img) or img.startswith("/") or ".." in img.split("/"):
            problems.append(f"{where}: bad image path {img!r}")
            continue
        path = os.path.join(media, img)
        if not os.path.isfile(path):
            problems.append(f"{where}: {img} does not exist under media/")
            continue
        try:
            size = jpeg_size(path)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            continue
        if (d.get("width"), d.get("height")) != size:
            problems.append(f"{where}: size {d.get('width')}x{d.get('height')} != {size}")
        W, H = size
        if "gold" in row:
            for b in row["gold"].get("boxes", []):
                ok = (b.get("label") in COCO_CLASSES.values()
                      and all(isinstance(b.get(k), int) for k in "xywh")
                      and b["x"] >= 0 and b["y"] >= 0 and b["w"] > 0 and b["h"] > 0
                      and b["x"] + b["w"] <= W and b["y"] + b["h"] <= H)
                if not ok:
                    problems.append(f"{where}: bad gold box {b}")

    for n, row in load("pairwise_tasks.jsonl"):
        d = row["data"]
        r = d.get("responses")
        if not (text(d.get("prompt")) and isinstance(r, list) and len(r) == 2
                and all(text(x) for x in r) and r[0] != r[1]):
            problems.append(f"pairwise_tasks.jsonl:{n}: bad shape")
        if "gold" in row and row["gold"].get("choice") not in ("a", "b", "tie"):
            problems.append(f"pairwise_tasks.jsonl:{n}: bad gold")
    for name in ("rating_tasks.jsonl", "rewrite_tasks.jsonl"):
        for n, row in load(name):
            d = row["data"]
            if not (text(d.get("prompt")) and text(d.get("response"))):
                problems.append(f"{name}:{n}: bad shape")
    return problems


def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?",
                    default=os.environ.get("TESSERA_SHARED_DATA", "/work/shared/data"),
                    help="shared data folder (default: %(default)s)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(here), "demo"),
                    help="demo folder to write (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="only validate the existing demo folder")
    args = ap.parse_args()
    out = args.out

    if not args.check:
        coco = os.path.join(args.data_dir, "images", "coco128")
        oasst = os.path.join(args.data_dir, "llm", "oasst1-en-100-trees.jsonl")
        for p in (coco, oasst):
            if not os.path.exists(p):
                die(f"{p} not found (give the shared data folder as the first argument)")
        # Remove what this script generated before; keep hand-written files.
        shutil.rmtree(os.path.join(out, "media", "coco"), ignore_errors=True)
        for name in TASK_FILES:
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        os.makedirs(out, exist_ok=True)

        images, image_bytes = build_images(coco, out)
        pairwise, rating, rewrite = build_text_tasks(oasst)
        for name, rows in zip(TASK_FILES, (images, pairwise, rating, rewrite)):
            write_jsonl(os.path.join(out, name), rows)
            gold = sum(1 for r in rows if "gold" in r)
            print(f"wrote {name}: {len(rows)} tasks ({gold} with gold)")
        print(f"copied {len(images)} images, {image_bytes} bytes")

    problems = check(out)
    for p in problems:
        print(f"make-demo-data: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{out}: valid, {dir_size(out)} bytes in all")


if __name__ == "__main__":
    main()
