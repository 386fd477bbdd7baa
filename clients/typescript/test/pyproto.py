#!/usr/bin/env python3
"""The other side of the codec tests: Google's protobuf (python3-protobuf)
on Python code that protoc generates from proto/ into a temp dir.

  pyproto.py samples PYOUT SEED COUNT   for every message, COUNT random
      messages with every field set or not: one JSON line each, with the
      bytes Python serializes (deterministic: maps sorted by key) and the
      fields as the TypeScript codec represents them
  pyproto.py verify PYOUT < lines        each line {"type", "hex", "expectHex"}:
      parses hex with Python and checks it equals the message expectHex
      parses to, and re-serializes to the same bytes; prints "ok N"
"""
import json
import random
import sys

SAFE = 2**53 - 1


def load(pyout):
    sys.path.insert(0, pyout)
    import sidecar_pb2  # noqa: E402
    import wire_pb2  # noqa: E402

    types = {}
    for module in (wire_pb2, sidecar_pb2):
        for name, desc in module.DESCRIPTOR.message_types_by_name.items():
            types[name] = getattr(module, name)
    return types


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def is_optional(field):
    o = field.containing_oneof
    return o is not None and o.name.startswith("optional_") and len(o.fields) == 1


STRINGS = ["", "a", "Health", "é✓ 😀 naïve", "x" * 200, "line\nbreak"]


def random_scalar(rng, field):
    from google.protobuf.descriptor import FieldDescriptor as FD

    t = field.type
    if t == FD.TYPE_STRING:
        return rng.choice(STRINGS)
    if t == FD.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 5, 300])))
    if t == FD.TYPE_BOOL:
        return rng.random() < 0.5
    if t == FD.TYPE_DOUBLE:
        return rng.choice([0.0, 1.5, -2.25, 1e300, rng.uniform(-1e6, 1e6), 5e-324])
    if t == FD.TYPE_INT32:
        return rng.choice([0, 1, -1, 127, 128, 2**31 - 1, -(2**31), rng.randrange(-(2**31), 2**31)])
    if t == FD.TYPE_UINT32:
        return rng.choice([0, 1, 127, 128, 16384, 2**32 - 1, rng.randrange(2**32)])
    if t == FD.TYPE_INT64:
        if field.name.endswith("_ms"):
            return rng.choice([0, 1796121001788, -1, rng.randrange(-SAFE, SAFE)])
        return rng.choice([0, 1, -1, 2**63 - 1, -(2**63), SAFE, SAFE + 1, rng.randrange(-(2**63), 2**63)])
    if t == FD.TYPE_UINT64:
        return rng.choice([0, 1, 2**32, SAFE, SAFE + 1, 2**64 - 1, rng.randrange(2**64)])
    if t == FD.TYPE_ENUM:
        return rng.choice(field.enum_type.values).number
    raise ValueError(f"unhandled type {t} of {field.full_name}")


def fill(rng, msg, depth=0):
    from google.protobuf.descriptor import FieldDescriptor as FD

    for field in msg.DESCRIPTOR.fields:
        if rng.random() < 0.25:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            m = getattr(msg, field.name)
            for _ in range(rng.randrange(4)):
                m[rng.choice(STRINGS[:4]) + str(rng.randrange(100))] = rng.choice(STRINGS)
        elif field.label == FD.LABEL_REPEATED:
            items = getattr(msg, field.name)
            for _ in range(rng.randrange(4)):
                if field.type == FD.TYPE_MESSAGE:
                    if depth < 3:
                        fill(rng, items.add(), depth + 1)
                else:
                    items.append(random_scalar(rng, field))
        elif field.type == FD.TYPE_MESSAGE:
            if depth < 3:
                fill(rng, getattr(msg, field.name), depth + 1)
                getattr(msg, field.name).SetInParent()
        else:
            setattr(msg, field.name, random_scalar(rng, field))
    return msg


def to_ts(msg):
    """The message as the TypeScript codec decodes it."""
    from google.protobuf.descriptor import FieldDescriptor as FD

    out = {}
    for field in msg.DESCRIPTOR.fields:
        key = camel(field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            out[key] = dict(getattr(msg, field.name))
        elif field.label == FD.LABEL_REPEATED:
            out[key] = [to_ts(v) if field.type == FD.TYPE_MESSAGE else scalar_ts(field, v) for v in getattr(msg, field.name)]
        elif field.type == FD.TYPE_MESSAGE:
            if msg.HasField(field.name):
                out[key] = to_ts(getattr(msg, field.name))
        elif is_optional(field):
            if msg.HasField(field.name):
                out[key] = scalar_ts(field, getattr(msg, field.name))
        else:
            out[key] = scalar_ts(field, getattr(msg, field.name))
    return out


def scalar_ts(field, v):
    from google.protobuf.descriptor import FieldDescriptor as FD

    if field.type == FD.TYPE_ENUM:
        return field.enum_type.values_by_number[v].name
    if field.type == FD.TYPE_BYTES:
        return {"$bytes": v.hex()}
    if field.type in (FD.TYPE_INT64, FD.TYPE_UINT64) and not field.name.endswith("_ms"):
        return v if -SAFE <= v <= SAFE else {"$bigint": str(v)}
    return v


def main():
    command, pyout = sys.argv[1], sys.argv[2]
    types = load(pyout)
    if command == "samples":
        rng = random.Random(int(sys.argv[3]))
        count = int(sys.argv[4])
        for name, cls in types.items():
            for i in range(count):
                msg = cls() if i == 0 else fill(rng, cls())
                print(json.dumps({"type": name, "hex": msg.SerializeToString(deterministic=True).hex(), "fields": to_ts(msg)}))
    elif command == "verify":
        n = 0
        for line in sys.stdin:
            item = json.loads(line)
            cls = types[item["type"]]
            got = cls.FromString(bytes.fromhex(item["hex"]))
            want = cls.FromString(bytes.fromhex(item["expectHex"]))
            if got != want:
                sys.exit(f"{item['type']}: Python reads the TypeScript bytes as {got}, not {want}")
            again = got.SerializeToString(deterministic=True).hex()
            if again != item["hex"]:
                sys.exit(f"{item['type']}: Python re-serializes {item['hex']} as {again}")
            n += 1
        print(f"ok {n}")


if __name__ == "__main__":
    main()
