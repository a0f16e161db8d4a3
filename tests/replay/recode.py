#!/usr/bin/env python3
"""Rewrite an Avro container file of declarations with another codec and, on request,
another writer schema, in small blocks:
  --evolve  a newer producer: one more optional field at the end, which the reader
            schema resolves by skipping it;
  --older   an older producer: no preference_claim (the reader's default is null),
            the declaration's fields in reverse order, the function codes listed in
            reverse order (Avro resolves fields and symbols by name);
  --finer   a producer with finer decimals: net_mass_kg at scale 6, customs_value at
            scale 4, content.percent at scale 6 (the same values, more zeros).

    recode.py IN.avro OUT.avro [--codec deflate] [--evolve | --older | --finer]
              [--block-records N]
"""
import argparse
import copy

import fastavro


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--codec", default="deflate")
    ap.add_argument("--evolve", action="store_true")
    ap.add_argument("--older", action="store_true")
    ap.add_argument("--finer", action="store_true")
    ap.add_argument("--block-records", type=int, default=333)
    a = ap.parse_args()
    with open(a.src, "rb") as f:
        r = fastavro.reader(f)
        schema = copy.deepcopy(r.writer_schema)
        recs = list(r)
    if a.evolve:
        schema["fields"].append({"name": "channel", "type": ["null", "string"], "default": None})
        for i, rec in enumerate(recs):
            rec["channel"] = None if i % 2 else f"edi-{i % 7}"
    if a.older:
        schema["fields"].reverse()
        for fld in schema["fields"]:
            t = fld["type"]
            if isinstance(t, dict) and t.get("type") == "enum":
                t["symbols"] = list(reversed(t["symbols"]))
            if fld["name"] == "lines":
                items = t["items"]
                items["fields"] = [x for x in items["fields"] if x["name"] != "preference_claim"]
        for rec in recs:
            for line in rec["lines"]:
                line.pop("preference_claim", None)
    if a.finer:
        finer = {"net_mass_kg": 6, "customs_value": 4, "percent": 6}

        def rescale(t):
            if isinstance(t, list):
                return [rescale(b) for b in t]
            if isinstance(t, dict) and t.get("type") == "record":
                for fld in t["fields"]:
                    ft = fld["type"]
                    if fld["name"] in finer and isinstance(ft, dict):
                        ft["precision"] += finer[fld["name"]] - ft["scale"]
                        ft["scale"] = finer[fld["name"]]
                    else:
                        fld["type"] = rescale(ft)
            elif isinstance(t, dict) and t.get("type") == "array":
                t["items"] = rescale(t["items"])
            return t

        rescale(schema)
    with open(a.dst, "wb") as f:
        w = fastavro.write.Writer(f, fastavro.parse_schema(schema), codec=a.codec)
        for i, rec in enumerate(recs):
            w.write(rec)
            if (i + 1) % a.block_records == 0:
                w.flush()
        w.flush()

if __name__ == "__main__":
    main()
