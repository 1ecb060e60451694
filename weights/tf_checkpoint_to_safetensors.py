#!/usr/bin/python3
"""Convert a TensorFlow V2 checkpoint (tensor bundle: PREFIX.index + PREFIX.data-NNNNN-of-NNNNN) to photong's
safetensors, keeping the variable names exactly as TensorFlow stored them.

usage: tf_checkpoint_to_safetensors.py CHECKPOINT OUT.safetensors [--include-optimizer]
       tf_checkpoint_to_safetensors.py CHECKPOINT --list [--include-optimizer]

CHECKPOINT is a prefix (`dir/model.ckpt-123`, the `.index` path itself is accepted too) or a directory: then the
`checkpoint` text file's model_checkpoint_path is used, or else the only `*.index` in it.
No TensorFlow or protobuf package is needed; the reader is written from the format's description
(tensorflow/core/util/tensor_bundle, tensorflow/core/lib/io/table*, leveldb's table_format.md):

- PREFIX.index is a leveldb-style sorted table. Its last 48 bytes are the footer: the metaindex and index
  BlockHandles (varint64 offset, varint64 size each), zero padding to 40 bytes, then the magic number
  0xdb4775248b80fb57 (little-endian). Each block is followed by a 5-byte trailer: a compression byte (0 = none,
  1 = snappy) and the masked crc32c of the block contents plus that byte. A block holds entries
  (varint32 shared-prefix length, varint32 unshared length, varint32 value length, the unshared key bytes, the
  value), then uint32 restart offsets and their uint32 count. The index block maps a separator key to the
  BlockHandle of each data block. TensorFlow writes bundle indexes uncompressed; a snappy block is refused.
- The entry under the empty key is a BundleHeaderProto (1 num_shards, 2 endianness LITTLE=0/BIG=1,
  3 version {1 producer, 2 min_consumer}). Every other key is a tensor name whose value is a BundleEntryProto
  (1 dtype, 2 shape {2 dim {1 size}}, 3 shard_id, 4 offset, 5 size, 6 crc32c as fixed32, 7 slices). The tensor's
  raw bytes lie in PREFIX.data-%05d-of-%05d % (shard_id, num_shards) at [offset, offset + size); crc32c is the
  masked CRC-32C (Castagnoli) of those bytes, mask(c) = ((c >> 15 | c << 17) + 0xa282ead8) mod 2^32.
  Every block trailer and every converted tensor is checked against its crc; a mismatch is an error.
- dtypes: float32, float64, float16, int8/16/32/64, uint8/16 are kept; bool is stored as U8 (0/1) and
  bfloat16 widened exactly to F32 (safetensors_io has neither), both noted in the metadata. Strings (TF2's
  `_CHECKPOINTABLE_OBJECT_GRAPH`), resources, variants and other dtypes are skipped and named in the
  metadata's `skipped_tensors`. Partitioned variables (entries with slices) are refused.

Optimizer state is dropped unless --include-optimizer: a name is optimizer state when one of its "/"-separated
parts is Adam, Adam_1, Momentum, RMSProp, RMSProp_1, Adagrad, Ftrl, Ftrl_1, beta1_power, beta2_power,
global_step or save_counter, when it contains ".OPTIMIZER_SLOT", or when it starts with "optimizer/".
Dropped names are listed in the metadata's `dropped_optimizer_tensors`.
Metadata also records the source, format "tf-tensor-bundle", the bundle producer version and the shard count.
The output is written to a temporary file and renamed, so an error leaves nothing behind.
"""
import argparse
import os
import re
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


class ConversionError(Exception):
    pass


# ---------------------------------------------------------------- CRC-32C (Castagnoli, reflected 0x82F63B78)

def _make_tables():
    t0 = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t0.append(c)
    tables = [t0]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[i] >> 8) ^ t0[prev[i] & 0xFF] for i in range(256)])
    return tables


_T = _make_tables()


def crc32c(data, crc=0):
    """CRC-32C of `data` (bytes-like), continuing from `crc` (0 to start). Slicing-by-8 over 8-byte words."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _T
    mv = memoryview(data).cast("B")
    n = len(mv)
    crc ^= 0xFFFFFFFF
    head = n - n % 8
    if head:
        for lo, hi in struct.iter_unpack("<II", mv[:head]):
            c = crc ^ lo
            crc = (t7[c & 0xFF] ^ t6[(c >> 8) & 0xFF] ^ t5[(c >> 16) & 0xFF] ^ t4[c >> 24]
                   ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24])
    for b in mv[head:]:
        crc = t0[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask_crc(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def unmask_crc(m):
    r = (m - 0xA282EAD8) & 0xFFFFFFFF
    return ((r >> 17) | (r << 15)) & 0xFFFFFFFF


# ---------------------------------------------------------------- varints and protobuf wire format

def _varint(buf, pos, end, what):
    result, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise ConversionError("%s: bad or truncated varint" % what)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _signed64(v):
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v


def pb_fields(buf, what):
    """Yield (field_number, wire_type, value) of a serialized protobuf message: ints for varint (0) and
    fixed64/fixed32 (1, 5) fields, bytes for length-delimited (2) ones."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos, end, what)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise ConversionError("%s: protobuf field number 0" % what)
        if wt == 0:
            value, pos = _varint(buf, pos, end, what)
        elif wt == 1:
            if pos + 8 > end:
                raise ConversionError("%s: truncated fixed64 field" % what)
            (value,) = struct.unpack_from("<Q", buf, pos)
            pos += 8
        elif wt == 2:
            n, pos = _varint(buf, pos, end, what)
            if pos + n > end:
                raise ConversionError("%s: length-delimited field %d runs past the message" % (what, field))
            value = bytes(buf[pos:pos + n])
            pos += n
        elif wt == 5:
            if pos + 4 > end:
                raise ConversionError("%s: truncated fixed32 field" % what)
            (value,) = struct.unpack_from("<I", buf, pos)
            pos += 4
        else:
            raise ConversionError("%s: unsupported protobuf wire type %d (field %d)" % (what, wt, field))
        yield field, wt, value


def parse_header(buf, what):
    h = {"num_shards": 0, "endianness": 0, "producer": 0, "min_consumer": 0}
    for f, wt, v in pb_fields(buf, what):
        if f == 1 and wt == 0:
            h["num_shards"] = _signed64(v)
        elif f == 2 and wt == 0:
            h["endianness"] = v
        elif f == 3 and wt == 2:
            for f2, wt2, v2 in pb_fields(v, what + " (version)"):
                if f2 == 1 and wt2 == 0:
                    h["producer"] = _signed64(v2)
                elif f2 == 2 and wt2 == 0:
                    h["min_consumer"] = _signed64(v2)
    return h


def parse_entry(buf, what):
    e = {"dtype": 0, "shape": [], "unknown_rank": False, "shard_id": 0, "offset": 0, "size": 0,
         "crc32c": None, "slices": 0}
    for f, wt, v in pb_fields(buf, what):
        if f == 1 and wt == 0:
            e["dtype"] = v
        elif f == 2 and wt == 2:
            for f2, wt2, v2 in pb_fields(v, what + " (shape)"):
                if f2 == 2 and wt2 == 2:
                    size = 0
                    for f3, wt3, v3 in pb_fields(v2, what + " (shape dim)"):
                        if f3 == 1 and wt3 == 0:
                            size = _signed64(v3)
                    e["shape"].append(size)
                elif f2 == 3 and wt2 == 0:
                    e["unknown_rank"] = bool(v2)
        elif f == 3 and wt == 0:
            e["shard_id"] = _signed64(v)
        elif f == 4 and wt == 0:
            e["offset"] = _signed64(v)
        elif f == 5 and wt == 0:
            e["size"] = _signed64(v)
        elif f == 6 and wt == 5:
            e["crc32c"] = v
        elif f == 7 and wt == 2:
            e["slices"] += 1
    return e


# ---------------------------------------------------------------- the sorted table (.index)

_MAGIC = 0xDB4775248B80FB57
_FOOTER = 48


def _read_block(data, handle, path, what):
    off, size = handle
    end = len(data) - _FOOTER
    if off < 0 or size < 0 or off + size + 5 > end:
        raise ConversionError("%s: %s block [%d, +%d) lies outside the file (truncated?)" % (path, what, off, size))
    contents = data[off:off + size + 1]  # the contents and the compression byte are checksummed together
    (stored,) = struct.unpack_from("<I", data, off + size + 1)
    if crc32c(contents) != unmask_crc(stored):
        raise ConversionError("%s: %s block at %d fails its crc32c check (corrupt index)" % (path, what, off))
    kind = data[off + size]
    if kind == 1:
        raise ConversionError("%s: %s block is snappy-compressed; TensorFlow writes bundle indexes uncompressed "
                              "and this reader has no snappy decoder" % (path, what))
    if kind != 0:
        raise ConversionError("%s: %s block has unknown compression type %d" % (path, what, kind))
    return data[off:off + size]


def _block_entries(block, path, what):
    if len(block) < 4:
        raise ConversionError("%s: %s block too short" % (path, what))
    (nrestarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * nrestarts
    if limit < 0:
        raise ConversionError("%s: %s block has a bad restart count %d" % (path, what, nrestarts))
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos, limit, path)
        unshared, pos = _varint(block, pos, limit, path)
        vlen, pos = _varint(block, pos, limit, path)
        if shared > len(key) or pos + unshared + vlen > limit:
            raise ConversionError("%s: corrupt entry in %s block" % (path, what))
        key = key[:shared] + bytes(block[pos:pos + unshared])
        pos += unshared
        yield key, block[pos:pos + vlen]
        pos += vlen


def _handle(buf, pos, end, what):
    off, pos = _varint(buf, pos, end, what)
    size, pos = _varint(buf, pos, end, what)
    return (off, size), pos


def read_table(path):
    """Return the (key bytes, value bytes) pairs of a leveldb-format table file, in stored order."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConversionError("cannot read the index: %s" % e)
    if len(data) < _FOOTER:
        raise ConversionError("%s: %d bytes is too short for a table (footer alone is 48; truncated?)" % (path, len(data)))
    footer = data[-_FOOTER:]
    (magic,) = struct.unpack_from("<Q", footer, 40)
    if magic != _MAGIC:
        raise ConversionError("%s: no table magic number at the end (truncated, or not a TF V2 checkpoint index)" % path)
    _, pos = _handle(footer, 0, 40, path)  # metaindex: unused by bundles
    index_handle, _ = _handle(footer, pos, 40, path)
    index = _read_block(data, index_handle, path, "index")
    out, last = [], None
    for sep, hval in _block_entries(index, path, "index"):
        handle, _ = _handle(hval, 0, len(hval), path)
        for key, value in _block_entries(_read_block(data, handle, path, "data"), path, "data"):
            if last is not None and key <= last:
                raise ConversionError("%s: keys out of order at %r (corrupt index)" % (path, key))
            last = key
            out.append((key, bytes(value)))
    return out


# ---------------------------------------------------------------- the bundle

# DataType enum -> (name, numpy storage dtype, output conversion)
_DTYPES = {
    1: ("float32", "f4", None), 2: ("float64", "f8", None), 3: ("int32", "i4", None), 4: ("uint8", "u1", None),
    5: ("int16", "i2", None), 6: ("int8", "i1", None), 9: ("int64", "i8", None), 10: ("bool", "u1", "bool_as_u8"),
    14: ("bfloat16", "u2", "bfloat16_as_f32"), 17: ("uint16", "u2", None), 19: ("float16", "f2", None),
}
_OTHER = {7: "string", 8: "complex64", 11: "qint8", 12: "quint8", 13: "qint32", 15: "qint16", 16: "quint16",
          18: "complex128", 20: "resource", 21: "variant", 22: "uint32", 23: "uint64"}

_OPT_PARTS = {"Adam", "Adam_1", "Momentum", "RMSProp", "RMSProp_1", "Adagrad", "Ftrl", "Ftrl_1",
              "beta1_power", "beta2_power", "global_step", "save_counter"}


def is_optimizer_state(name):
    return (".OPTIMIZER_SLOT" in name or name.startswith("optimizer/")
            or any(p in _OPT_PARTS for p in name.split("/")))


def resolve_prefix(src):
    """Map a prefix, an .index path or a directory to the checkpoint prefix."""
    if src.endswith(".index") and os.path.isfile(src):
        return src[:-len(".index")]
    if os.path.isdir(src):
        state = os.path.join(src, "checkpoint")
        if os.path.isfile(state):
            with open(state) as f:
                m = re.search(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"', f.read(), re.M)
            if m:
                p = m.group(1)
                p = p if os.path.isabs(p) else os.path.join(src, p)
                if os.path.isfile(p + ".index"):
                    return p
                # the file may name the prefix as it was on the training machine; try its base name here
                q = os.path.join(src, os.path.basename(p))
                if os.path.isfile(q + ".index"):
                    return q
                raise ConversionError("%s: model_checkpoint_path %r has no .index here" % (state, m.group(1)))
        idx = sorted(n for n in os.listdir(src) if n.endswith(".index"))
        if len(idx) != 1:
            raise ConversionError("%s: expected one *.index (or a `checkpoint` file), found %d" % (src, len(idx)))
        return os.path.join(src, idx[0][:-len(".index")])
    if not os.path.isfile(src + ".index"):
        raise ConversionError("%s.index: no such file (give a checkpoint prefix or directory)" % src)
    return src


def read_bundle(prefix):
    """Return (header dict, list of (name, entry dict)) from PREFIX.index."""
    path = prefix + ".index"
    pairs = read_table(path)
    if not pairs or pairs[0][0] != b"":
        raise ConversionError("%s: the first entry is not the bundle header (empty key)" % path)
    header = parse_header(pairs[0][1], path + ": header")
    if header["num_shards"] < 1:
        raise ConversionError("%s: header gives %d data shards" % (path, header["num_shards"]))
    if header["min_consumer"] > 1:
        raise ConversionError("%s: bundle needs a reader of version >= %d (this one reads version 1)"
                              % (path, header["min_consumer"]))
    entries = []
    for key, value in pairs[1:]:
        try:
            name = key.decode("utf-8")
        except UnicodeDecodeError:
            raise ConversionError("%s: tensor name %r is not UTF-8" % (path, key))
        entries.append((name, parse_entry(value, "%s: tensor %s" % (path, name))))
    return header, entries


def dtype_name(code):
    return _DTYPES[code][0] if code in _DTYPES else _OTHER.get(code, "dtype%d" % code)


def convert(src, include_optimizer=False, log=None):
    prefix = resolve_prefix(src)
    index_path = prefix + ".index"
    header, entries = read_bundle(prefix)
    nshards = header["num_shards"]
    big = header["endianness"] == 1
    tensors, skipped, dropped, notes = {}, [], [], {}
    shard_files, checked = {}, 0
    try:
        for name, e in entries:
            if not include_optimizer and is_optimizer_state(name):
                dropped.append(name)
                continue
            if e["slices"]:
                raise ConversionError("%s: tensor %s is a partitioned (sliced) variable; not supported"
                                      % (index_path, name))
            if e["dtype"] not in _DTYPES:
                skipped.append("%s:%s" % (name, dtype_name(e["dtype"])))
                continue
            if e["unknown_rank"] or any(d < 0 for d in e["shape"]):
                raise ConversionError("%s: tensor %s has an unknown shape" % (index_path, name))
            tname, store, conv = _DTYPES[e["dtype"]]
            dt = np.dtype((">" if big else "<") + store) if store not in ("u1", "i1") else np.dtype(store)
            count = int(np.prod(e["shape"], dtype=np.int64))
            if e["size"] != count * dt.itemsize:
                raise ConversionError("%s: tensor %s: %s %s needs %d bytes, the index says %d"
                                      % (index_path, name, tname, e["shape"], count * dt.itemsize, e["size"]))
            sid = e["shard_id"]
            if not 0 <= sid < nshards:
                raise ConversionError("%s: tensor %s is in shard %d of %d" % (index_path, name, sid, nshards))
            if sid not in shard_files:
                spath = "%s.data-%05d-of-%05d" % (prefix, sid, nshards)
                try:
                    shard_files[sid] = (spath, open(spath, "rb"))
                except OSError as ex:
                    raise ConversionError("data shard %d of %d missing or unreadable (needed by tensor %s): %s"
                                          % (sid, nshards, name, ex))
            spath, f = shard_files[sid]
            f.seek(e["offset"])
            raw = f.read(e["size"])
            if e["offset"] < 0 or len(raw) != e["size"]:
                raise ConversionError("%s: tensor %s: bytes [%d, +%d) lie past the end of the file (truncated?)"
                                      % (spath, name, e["offset"], e["size"]))
            if e["crc32c"] is None:
                raise ConversionError("%s: tensor %s has no crc32c in the index" % (index_path, name))
            got, want = crc32c(raw), unmask_crc(e["crc32c"])
            if got != want:
                raise ConversionError("%s: tensor %s: crc32c mismatch (stored %08x, computed %08x): corrupt data"
                                      % (spath, name, want, got))
            checked += 1
            arr = np.frombuffer(raw, dtype=dt).reshape(e["shape"])
            if big:
                arr = arr.astype(dt.newbyteorder("<"))
            if conv == "bool_as_u8":
                arr = (arr != 0).astype(np.uint8)
            elif conv == "bfloat16_as_f32":
                arr = (arr.astype(np.uint32) << 16).view(np.float32)
            if conv:
                notes.setdefault(conv, []).append(name)
            tensors[name] = arr.copy()
    finally:
        for _, f in shard_files.values():
            f.close()
    meta = {"format": "tf-tensor-bundle", "source": os.path.abspath(prefix),
            "bundle_version": str(header["producer"]), "num_shards": str(nshards),
            "crc32c_checked": str(checked), "optimizer_included": str(bool(include_optimizer)).lower()}
    if skipped:
        meta["skipped_tensors"] = ",".join(skipped)
    if dropped:
        meta["dropped_optimizer_tensors"] = ",".join(dropped)
    if big:
        meta["byteswapped_from"] = "big-endian"
    for conv, names in sorted(notes.items()):
        meta[conv] = ",".join(names)
    return tensors, meta


def list_bundle(src, include_optimizer, out=sys.stdout):
    prefix = resolve_prefix(src)
    header, entries = read_bundle(prefix)
    print("# %s.index: %d entries, %d shard(s), producer %d" % (prefix, len(entries), header["num_shards"],
                                                               header["producer"]), file=out)
    for name, e in entries:
        tag = ""
        if is_optimizer_state(name):
            tag = "  (optimizer, kept)" if include_optimizer else "  (optimizer, dropped)"
        elif e["dtype"] not in _DTYPES:
            tag = "  (skipped)"
        elif e["slices"]:
            tag = "  (partitioned: unsupported)"
        print("%s\t%s\t%s%s" % (name, dtype_name(e["dtype"]), e["shape"], tag), file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="checkpoint prefix, its .index, or a directory")
    ap.add_argument("output", nargs="?", help="output .safetensors path (not needed with --list)")
    ap.add_argument("--include-optimizer", action="store_true",
                    help="keep optimizer slots and counters (Adam/Momentum/RMSProp slots, beta powers, "
                         "global_step, save_counter, optimizer/...)")
    ap.add_argument("--list", action="store_true", help="print each tensor's name, dtype and shape, then exit")
    args = ap.parse_args(argv)
    try:
        if args.list:
            list_bundle(args.checkpoint, args.include_optimizer)
            return 0
        if not args.output:
            ap.error("the output path is required unless --list is given")
        t0 = time.time()
        tensors, meta = convert(args.checkpoint, args.include_optimizer)
    except ConversionError as e:
        print("tf_checkpoint_to_safetensors: error: %s" % e, file=sys.stderr)
        return 1
    safetensors_io.save(args.output, tensors, meta)
    print("wrote %s: %d tensors, %d parameters, all %s crc32c matched, %d optimizer tensors dropped, %d skipped "
          "(%.2f s)" % (args.output, len(tensors), sum(t.size for t in tensors.values()), meta["crc32c_checked"],
                        len(meta.get("dropped_optimizer_tensors", "").split(",")) if "dropped_optimizer_tensors" in meta else 0,
                        len(meta["skipped_tensors"].split(",")) if "skipped_tensors" in meta else 0,
                        time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
