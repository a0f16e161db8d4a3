#!/usr/bin/env python3
"""Convert declarations in JSON lines (the shape of the public cases) into an
Avro object container file written with schemas/declaration.avsc.

    jsonl2avro.py DECLS.jsonl OUT.avro [--schema schemas/declaration.avsc]
"""
import argparse
import datetime
import decimal
import json

import fastavro


def to_record(d):
    r = dict(d)
    r["acceptance_date"] = datetime.date.fromisoformat(d["acceptance_date"])
    r["submitted_at"] = datetime.datetime.fromtimestamp(d["submitted_at"] / 1000, tz=datetime.timezone.utc)
    lines = []
    for line in d["lines"]:
        l = dict(line)
        l["net_mass_kg"] = decimal.Decimal(line["net_mass_kg"])
        l["customs_value"] = decimal.Decimal(line["customs_value"])
        if line.get("content") is not None:
            l["content"] = {"element": line["content"]["element"],
                            "percent": decimal.Decimal(line["content"]["percent"])}
        lines.append(l)
    r["lines"] = lines
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--schema", default="schemas/declaration.avsc")
    a = ap.parse_args()
    with open(a.schema) as f:
        schema = fastavro.parse_schema(json.load(f))
    with open(a.src) as f:
        recs = [to_record(json.loads(l)) for l in f if l.strip()]
    with open(a.dst, "wb") as out:
        fastavro.writer(out, schema, recs)


if __name__ == "__main__":
    main()
