#!/usr/bin/env python3
"""make_corpus.py: writes the seed inputs of fuzz_decode into corpus/decode/.

Each seed is an Avro body (no frame) of floorgate.v1.ImportDeclaration,
encoded by hand here so the seeds do not depend on the code under test:
valid bodies with 0-3 lines, content and preference claim present and
absent, multi-block and negative-count arrays, and a few broken ones the
decoders must refuse. Run it again after changing declaration.avsc.
"""
import os
import sys


def long(v):
    z = ((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return long(len(b)) + b


def decimal(unscaled):
    n = 1
    while not -(1 << (8 * n - 1)) <= unscaled < (1 << (8 * n - 1)):
        n += 1
    return string(unscaled.to_bytes(n, "big", signed=True))


def header(decl_id="FG01-0000000001", version=1, function_code=0):
    return (string(decl_id) + long(version) + long(function_code) +
            long(1767225600000) + long(20454) + string("DCL0042") +
            string("IMP000123") + string("USNYC") + string("CL") + string("USD"))


def line(item, code="2530900000", desc="lithium ore", origin="CL", mass=12500000,
         value=98765432, content=None, claim=None):
    b = (long(item) + string(code) + string(desc) + string(origin) +
         decimal(mass) + decimal(value))
    if content is None:
        b += long(0)
    else:
        b += long(1) + string(content[0]) + decimal(content[1])
    b += long(0) if claim is None else long(1) + string(claim)
    return b


def block(lines):
    return long(len(lines)) + b"".join(lines)


def neg_block(lines):
    body = b"".join(lines)
    return long(-len(lines)) + long(len(body)) + body


L1 = line(1)
L2 = line(2, code="8105200000", desc="cobalt mattes", origin="CD", mass=-1, value=0,
          content=("Co", 123456), claim="CMZ")
L3 = line(3, code="2615100000", desc="", origin="ZA", mass=(1 << 63) - 1,
          value=-(1 << 63), content=("WO3", 1000000))

# decimals with zeros in the places a writer at finer scales (mass 6, value 4,
# percent 6) adds: such a writer's bodies rescale cleanly to the reader's
L4 = line(4, code="2825200000", desc="lithium hydroxide", origin="AR", mass=12500000,
          value=98765400, content=("Li", 1234500), claim="ACP")

SEEDS = {
    "valid_finer_scales": header() + block([L4, L4]) + long(0),
    "valid_no_lines": header() + long(0),
    "valid_one_line": header() + block([L1]) + long(0),
    "valid_two_lines_content_claim": header(version=2, function_code=1) + block([L1, L2]) + long(0),
    "valid_three_lines_extremes": header(function_code=2) + block([L1, L2, L3]) + long(0),
    "valid_two_blocks": header() + block([L1]) + block([L2, L3]) + long(0),
    "valid_negative_count_block": header() + neg_block([L1, L2]) + block([L3]) + long(0),
    # decimals with redundant sign bytes (12 and 17 bytes) are valid Avro
    "valid_padded_decimals": header() + block([
        long(1) + string("2530900000") + string("ore") + string("CL") +
        string(b"\xff" * 11 + b"\xfe") + string(b"\x00" * 9 + b"\x7f" + b"\xff" * 7) +
        long(0) + long(0)]) + long(0),
    "bad_truncated": (header() + block([L1, L2]) + long(0))[:-7],
    "bad_trailing_byte": header() + block([L1]) + long(0) + b"\x00",
    "bad_union_branch": header() + block([L1[:-2] + long(2) + long(0)]) + long(0),
    "bad_enum_symbol": header(function_code=3) + long(0),
    "bad_negative_length": long(-3) + b"abc",
    "bad_empty_decimal": header() + block([long(1) + string("2530900000") + string("ore") +
                                           string("CL") + string(b"") + decimal(5) +
                                           long(0) + long(0)]) + long(0),
    "bad_block_size": header() + long(-1) + long(3) + L1 + long(0),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "decode")
    os.makedirs(out, exist_ok=True)
    for name, body in SEEDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(body)
    print(f"make_corpus: {len(SEEDS)} seeds in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
