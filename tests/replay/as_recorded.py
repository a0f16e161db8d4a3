#!/usr/bin/env python3
"""The as-recorded check: a history assessed with two reference-data versions.

    as_recorded.py mix A.avro B.avro OUT.avro
        OUT holds, in order, the records of A with an even source_index and those of
        B with an odd one: a recorded history where the tables changed back and forth.
        A and B are the same kind (assessments, or dead letters) of the same input.
    as_recorded.py expect A.avro B.avro REPLAYED.avro
        every record of REPLAYED is byte for byte the one of A (even source_index) or
        B (odd), one per record of A, in order. Exit 1 with the differences otherwise.
"""
import os
import sys

import fastavro

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocfraw  # noqa: E402


def chosen(a, b):
    ra, rb = list(ocfraw.records(a)), list(ocfraw.records(b))
    if [r["source_index"] for _, r in ra] != [r["source_index"] for _, r in rb]:
        raise SystemExit(f"{a} and {b} are not outputs of the same input")
    return [(pa if pa[1]["source_index"] % 2 == 0 else pb) for pa, pb in zip(ra, rb)]


def main():
    mode, a, b, out = sys.argv[1:5]
    want = chosen(a, b)
    if mode == "mix":
        with open(out, "wb") as f:
            fastavro.writer(f, fastavro.parse_schema(ocfraw.schema_of(a)), [r for _, r in want])
        return 0
    got = list(ocfraw.records(out))
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} records, wanted {len(want)}")
    versions = set()
    for (graw, grec), (wraw, wrec) in zip(got, want):
        versions.add(wrec["reference_data_version"])
        if graw != wraw:
            problems.append(f"record {grec['source_index']}: version "
                            f"{grec['reference_data_version']}, wanted "
                            f"{wrec['reference_data_version']}")
    if len(versions) < 2 and len(want) > 1:
        problems.append("the expected history does not mix two versions (a weak test)")
    for p in problems[:10]:
        print(p)
    print(f"as-recorded: {len(got)} records, {len(versions)} versions, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
