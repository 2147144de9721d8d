"""Writes vectors.json: MessagePack encodings made by PyPI's msgpack (use_bin_type=True), which
the Swift codec must match byte for byte. Each value is described in a small tagged form both
sides can build: ["nil"], ["bool", b], ["int", n], ["float", x], ["str", s], ["bin", hex],
["array", [..]], ["map", [[k, v], ..]].
Run: .venv/bin/python Tests/MessagePackTests/make_vectors.py"""
import json
import os

import msgpack


def build(tagged):
    tag = tagged[0]
    if tag == "nil":
        return None
    if tag in ("bool", "int", "float", "str"):
        return tagged[1]
    if tag == "bin":
        return bytes.fromhex(tagged[1])
    if tag == "array":
        return [build(item) for item in tagged[1]]
    if tag == "map":
        return {build(k): build(v) for k, v in tagged[1]}
    raise ValueError(tag)


ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1,
        -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63]
cases = [["nil"], ["bool", True], ["bool", False]]
cases += [["int", n] for n in ints]
cases += [["float", x] for x in [1.5, -0.25, 3.141592653589793, 1e300]]
cases += [["str", s] for s in ["", "a", "x" * 31, "x" * 32, "x" * 255, "x" * 256, "x" * 65536, "é🙂"]]
cases += [["bin", h] for h in ["", "0001", "ff" * 256]]
cases += [["array", []], ["array", [["int", 1], ["str", "two"], ["nil"]]], ["array", [["int", i] for i in range(16)]]]
cases += [["map", []], ["map", [[["str", "a"], ["int", 1]]]], ["map", [[["str", "k%02d" % i], ["int", i]] for i in range(16)]]]
cases.append(["array", [
    ["str", "emitter"],
    ["map", [[["str", "type"], ["int", 2]],
             [["str", "data"], ["array", [["str", "points_added"],
                                          ["map", [[["str", "amount"], ["int", 5]], [["str", "ratio"], ["float", 0.5]]]]]]],
             [["str", "nsp"], ["str", "/"]]]],
    ["map", [[["str", "rooms"], ["array", [["str", "guest:g1"], ["str", "restaurant:r1"]]]],
             [["str", "flags"], ["map", []]],
             [["str", "except"], ["array", []]]]],
]])
vectors = [{"value": case, "hex": msgpack.packb(build(case), use_bin_type=True).hex()} for case in cases]
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
with open(path, "w") as out:
    json.dump({"generator": f"msgpack {msgpack.version}", "vectors": vectors}, out, indent=0)
    out.write("\n")
print(f"wrote {len(vectors)} vectors to {path}")
