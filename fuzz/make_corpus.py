#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<harness>/.

Seeds are small: a few valid files of each format and a few broken ones, from
which libFuzzer's mutations start. The model-file seeds are written by the
backprop command itself (a tiny network trained for one epoch on a tiny data
set made here), so they are exactly what users' files look like.

    python3 fuzz/make_corpus.py build/backprop
"""
import gzip
import json
import pathlib
import struct
import subprocess
import sys
import tempfile

root = pathlib.Path(__file__).resolve().parent / "corpus"


def idx(dims, data):
    header = bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return header + bytes(data)


def write(harness, name, content):
    folder = root / harness
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


def idx_seeds():
    images = idx([3, 2, 2], range(12))
    labels = idx([3], [0, 1, 2])
    seeds = {
        "images": images,
        "labels": labels,
        "one-dim": idx([1], [255]),
        "four-dims": idx([2, 1, 2, 2], [9] * 8),
        "truncated": images[:-3],
        "extra-byte": images + b"\x00",
        "huge-claim": idx([0xFFFFFFFF, 0xFFFFFFFF], []),
        "zero-dim": idx([0, 5], []),
        "float-type": bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + struct.pack(">f", 0.5),
        "empty": b"",
    }
    for name, content in seeds.items():
        write("idx_raw", name, content)
        write("idx_gzip", name, content)  # compressed by the harness
        if content:
            write("idx_gzip", name + ".gz", gzip.compress(content, mtime=0))
    whole = gzip.compress(images, mtime=0)
    write("idx_gzip", "cut-stream.gz", whole[: len(whole) // 2])
    write("idx_gzip", "bad-crc.gz", whole[:-8] + b"\x00\x00\x00\x00" + whole[-4:])


def network2_seeds():
    good = {
        "sizes": [2, 3, 1],
        "weights": [[[0.5, -1.0], [0.25, 2.0], [1e-3, -0.0]], [[1.0, 2.0, 3.0]]],
        "biases": [[[0.1], [0.2], [0.3]], [[-0.5]]],
        "cost": "CrossEntropyCost",
    }
    write("network2_json", "good.json", json.dumps(good).encode())
    write("network2_json", "bom.json", b"\xef\xbb\xbf " + json.dumps(good).encode())
    quadratic = dict(good, cost="QuadraticCost", sizes=[2, 1],
                     weights=[[[1.5, -2.5]]], biases=[[[0.0]]])
    write("network2_json", "quadratic.json", json.dumps(quadratic).encode())
    write("network2_json", "shapes.json", json.dumps(dict(good, sizes=[2, 2, 1])).encode())
    write("network2_json", "words.json", json.dumps(dict(good, weights="many")).encode())
    write("network2_json", "overflow.json", json.dumps(good).replace("2.0", "1e999").encode())
    write("network2_json", "cut.json", json.dumps(good).encode()[:40])


def csv_seeds():
    # The first byte chooses the options (see csv_fuzzer.cpp): 0 detects a header,
    # 1 says there is one, 2 none; +4 regression; +8 the target is the first column.
    seeds = {
        "classes": b"\x00" + b"x1,x2,label\n0.5,0.25,1\n-1,2e-3,0\n",
        "no-header": b"\x02" + b"1,2,3\n4,5,6\n",
        "regression": b"\x04" + b"0.1, 0.2 ,0.75\n\n0.3,0.4,-1.5\n",
        "quoted-first": b"\x09" + b'"label","a"\n2,0.5\n',
        "ragged": b"\x00" + b"1,2,0\n3,1\n",
        "words": b"\x02" + b"1,two,0\n",
        # What the fuzzer found first: a regression target finite as a double but
        # beyond float's range, once read as infinity.
        "target-beyond-float": b"\x0e" + b"0.5,1\n" + b"2" * 60 + b"3,0.7\n",
    }
    for name, content in seeds.items():
        write("csv", name, content)


def config_seeds():
    # The first byte chooses the format (see config_fuzzer.cpp): even JSON, odd TOML.
    seeds = {
        "good.json": b"\x00" + b'{"eta": 0.5, "layers": [784, 30, 10], "no-shuffle": true}',
        "good.toml": b"\x01" + b'eta = 0.5\nlayers = [784, 30, 10]\ncost = "cross-entropy"\n',
        "range.toml": b"\x01" + b"threads = 2000\n",
        "unknown.json": b"\x00" + b'{"etta": 1}',
        "twice.json": b"\x00" + b'{"eta": 1, "eta": 2}',
        "types.toml": b"\x01" + b'eta = "fast"\nthreads = 1.5\n',
        # What the fuzzer found first: a JSON number beyond a double, once an uncaught
        # exception (exit code 1) instead of a message.
        "overflow.json": b"\x00" + b'{"eta": 1e999}',
    }
    for name, content in seeds.items():
        write("config", name, content)


def model_seeds(cli):
    with tempfile.TemporaryDirectory() as scratch:
        folder = pathlib.Path(scratch)
        (folder / "images").write_bytes(idx([8, 2, 2], [(i * 37) % 256 for i in range(32)]))
        (folder / "labels").write_bytes(idx([8], [i % 2 for i in range(8)]))
        data = []
        for flag in ("--train-images", "--test-images"):
            data += [flag, str(folder / "images")]
        for flag in ("--train-labels", "--test-labels"):
            data += [flag, str(folder / "labels")]
        runs = {
            "sigmoid.bpm": ["--layers", "4,3,2", "--save"],
            "softmax-double.bpm": ["--layers", "4,3,2", "--activations", "tanh,softmax",
                                   "--cost", "log-likelihood", "--precision", "double", "--save"],
            "adam-checkpoint.bpm": ["--layers", "4,2", "--optimizer", "adam",
                                    "--checkpoint-every", "1", "--checkpoint"],
        }
        for name, flags in runs.items():
            target = folder / name
            subprocess.run([cli, "train", "--epochs", "1", "--mini-batch", "4",
                            "--validation-size", "0", "--monitor", "none", *flags, str(target),
                            *data], check=True, stdout=subprocess.DEVNULL)
            content = target.read_bytes()
            write("model_file", name, content)
            write("network2_json", name, content)  # read_any_model takes either format
        write("model_file", "truncated.bpm", content[: len(content) // 2])
        write("model_file", "header-only.bpm", content[:12])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py PATH/TO/backprop")
    idx_seeds()
    network2_seeds()
    csv_seeds()
    config_seeds()
    model_seeds(sys.argv[1])
