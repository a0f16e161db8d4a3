#!/usr/bin/env python3
"""Independent checks for `floorgate audit` and `floorgate whatif` (tests/run.sh, section audit).

Everything expected here is computed from `floorgate dump` JSON lines with Python's
own decimal arithmetic, not from floorgate's audit code.

    audit_check.py modify-data SRC_DIR DST_DIR DECLS.jsonl
    audit_check.py cut IN.avro OUT.avro [--drop I,J] [--dup I] [--dup-modified I]
    audit_check.py diffs --recorded A.jsonl... --recomputed B.jsonl... --csv AUDIT.csv
                   [--ignore FIELD]... [--tolerance USD] [--summary STDOUT.txt]
    audit_check.py whatif --decls D.jsonl --recorded A.jsonl... --proposed B.jsonl... --csv WHATIF.csv
    audit_check.py html --dom DOM.html --recorded A.jsonl... --recomputed B.jsonl...
    audit_check.py produce --bootstrap HOST:PORT --topic T --partitions N DECLS.avro --base-ms MS
    audit_check.py committed --bootstrap HOST:PORT --group G --topics T... --partitions N
"""
import argparse
import csv
import json
import os
import re
import shutil
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from html.parser import HTMLParser

NOT_COMPARED = {"source_topic", "source_partition", "source_offset", "source_index",
                "source_file", "payload", "message"}


def load(paths):
    out = []
    for p in paths:
        with open(p) as f:
            out.extend(json.loads(line) for line in f if line.strip())
    return out


def text(v):
    if v is None:
        return "null"
    if isinstance(v, list):
        return "|".join(text(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def is_assessment(r):
    return "lines" in r


def key(r):
    if r.get("declaration_id") is None:
        if r.get("source_topic"):
            src = "%s/%s@%s" % (r["source_topic"], r["source_partition"], r["source_offset"])
        else:
            src = "record %s" % r["source_index"]
        return ("(undecoded input %s)" % src, 0)
    return (r["declaration_id"], r["version"] or 0)


def flatten(r, ignore):
    """{(item or -1, field): text} of the compared fields."""
    out = {}
    skip = NOT_COMPARED | set(ignore)
    for k, v in r.items():
        if k in skip:
            continue
        if k == "lines" and isinstance(v, list):
            for line in v:
                for lk, lv in line.items():
                    if lk == "item_no" or lk in skip:
                        continue
                    out[(line["item_no"], lk)] = text(lv)
            continue
        out[(-1, k)] = text(v)
    return out


def outcome(r):
    return "ASSESSED" if is_assessment(r) else "DEAD_LETTER " + r["reason"]


def cents(s):
    return int(Decimal(s) * 100)


def duty(r):
    """total_duty in cents; a dead letter's is 0."""
    return cents(r["total_duty"]) if is_assessment(r) else 0


def by_key(recs):
    d = {}
    for r in recs:
        d.setdefault(key(r), r)  # the first of duplicates, as audit does
    return d


def expected_rows(rec, recomp, ignore, tolerance):
    rows, suppressed, differing = [], 0, set()
    a, b = by_key(rec), by_key(recomp)
    for k in set(a) | set(b):
        ra, rb = a.get(k), b.get(k)
        date = ""
        for r in (ra, rb):
            if r is not None and is_assessment(r):
                date = r["acceptance_date"]
                break
        if ra is None or rb is None:
            rows.append((k[0], str(k[1]), "", "(declaration)", "present" if ra else "absent",
                         "present" if rb else "absent", date))
            continue
        diffs = []
        if outcome(ra) != outcome(rb):
            diffs.append((-1, "outcome", outcome(ra), outcome(rb)))
        else:
            fa, fb = flatten(ra, ignore), flatten(rb, ignore)
            for fk in set(fa) | set(fb):
                va, vb = fa.get(fk, "(absent)"), fb.get(fk, "(absent)")
                if va != vb:
                    diffs.append((fk[0], fk[1], va, vb))
        if not diffs:
            continue
        duty = lambda r: cents(r["total_duty"]) if is_assessment(r) else 0
        if (tolerance is not None and outcome(ra) == outcome(rb)
                and abs(duty(rb) - duty(ra)) < tolerance):
            suppressed += 1
            continue
        differing.add(k)
        for item, field, va, vb in diffs:
            rows.append((k[0], str(k[1]), "" if item < 0 else str(item), field, va, vb, date))
    return sorted(rows), suppressed, differing


def cmd_diffs(o):
    tol = cents(o.tolerance) if o.tolerance is not None else None
    exp, suppressed, differing = expected_rows(load(o.recorded), load(o.recomputed), o.ignore, tol)
    with open(o.csv, newline="") as f:
        got = list(csv.reader(f))
    if got[0] != ["declaration_id", "version", "item_no", "field", "recorded", "recomputed",
                  "acceptance_date"]:
        print("bad CSV header:", got[0])
        return 1
    got = sorted(tuple(r) for r in got[1:])
    if got != exp:
        print("CSV differs from the independent expectation")
        for r in sorted(set(exp) - set(got))[:10]:
            print("  missing:   ", r)
        for r in sorted(set(got) - set(exp))[:10]:
            print("  unexpected:", r)
        return 1
    if o.summary:
        s = open(o.summary).read()
        m = re.search(r"(\d+) differing", s)
        if not m or int(m.group(1)) != len(differing):
            print("summary says %s differing, expected %d" % (m and m.group(1), len(differing)))
            return 1
        if tol is not None:
            m = re.search(r"(\d+) within tolerance", s)
            if not m or int(m.group(1)) != suppressed:
                print("summary says %s within tolerance, expected %d" % (m and m.group(1), suppressed))
                return 1
    if o.expect_suppressed_min and suppressed < o.expect_suppressed_min:
        print("the fixture suppresses only %d declarations; the test needs some" % suppressed)
        return 1
    print("diffs: %d rows, %d differing declarations, %d within tolerance" %
          (len(exp), len(differing), suppressed))
    return 0


def cmd_modify_data(o):
    """Copies the data dir, changes two reference prices and drops one currency's FX rates."""
    shutil.copytree(o.src, o.dst, dirs_exist_ok=True)
    p = o.dst + "/reference_prices.csv"
    rows = list(csv.reader(open(p)))
    changed = []
    for r in rows[1:]:
        if r[8] == "" and (r[0], r[1]) in {("cobalt", "ORE_CONCENTRATE"), ("tungsten", "INTERMEDIATE")}:
            factor = Decimal("1.5") if r[0] == "cobalt" else Decimal("2")
            r[2] = str((Decimal(r[2]) * factor).quantize(Decimal("0.01")))
            changed.append("%s %s" % (r[0], r[1]))
    csv.writer(open(p, "w", newline=""), lineterminator="\n").writerows(rows)
    # The least used invoice currency (but used) loses its rates: FX_RATE_MISSING.
    decls = load([o.decls])
    used = Counter(d["invoice_currency"] for d in decls)
    p = o.dst + "/fx_rates.csv"
    fx = list(csv.reader(open(p)))
    have = {r[0] for r in fx[1:]}
    cur = min((c for c in used if c in have and c != "USD"), key=lambda c: (used[c], c))
    csv.writer(open(p, "w", newline=""), lineterminator="\n").writerows(
        [fx[0]] + [r for r in fx[1:] if r[0] != cur])
    print("modified: prices of %s; removed FX rates of %s (%d declarations)" %
          (", ".join(changed), cur, used[cur]))
    return 0


def cmd_cut(o):
    import fastavro
    with open(o.inp, "rb") as f:
        rd = fastavro.reader(f)
        schema = rd.writer_schema
        recs = list(rd)
    drop = {int(x) for x in o.drop.split(",")} if o.drop else set()
    out = []
    for i, r in enumerate(recs):
        if i in drop:
            continue
        out.append(r)
        if o.dup is not None and i == o.dup:
            out.append(r)
        if o.dup_modified is not None and i == o.dup_modified:
            r2 = dict(r)
            r2["reference_data_version"] = "0" * 32
            out.append(r2)
    with open(o.out, "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(schema), out)
    return 0


def line_totals(assessments, origins, dim):
    t = defaultdict(lambda: [0, 0])
    for a in assessments:
        if not is_assessment(a):
            continue
        for line in a["lines"]:
            if dim == "mineral":
                k = line["mineral"] or "(not in scope)"
            elif dim == "treatment":
                k = line["treatment"]
            elif dim == "stage":
                k = line["stage"] or "(none)"
            else:
                k = origins.get((a["declaration_id"], a["version"], line["item_no"]), "(unknown)")
            t[k][0] += 1
            t[k][1] += cents(line["line_duty"])
    return t


def cmd_whatif(o):
    decls = load([o.decls])
    origins = {(d["declaration_id"], d["version"], l["item_no"]): l["origin_country"]
               for d in decls for l in d["lines"]}
    rec, prop = list(by_key(load(o.recorded)).values()), list(by_key(load(o.proposed)).values())
    got = {}
    with open(o.csv, newline="") as f:
        for r in csv.DictReader(f):
            got[(r["dimension"], r["key"])] = r
    bad = 0
    for dim in ("mineral", "treatment", "origin", "stage"):
        ta, tb = line_totals(rec, origins, dim), line_totals(prop, origins, dim)
        for k in set(ta) | set(tb):
            a, b = ta.get(k, [0, 0]), tb.get(k, [0, 0])
            g = got.get((dim, k))
            exp = (a[0], b[0], a[1], b[1], b[1] - a[1])
            if g is None:
                print("whatif CSV lacks %s %s" % (dim, k))
                bad += 1
                continue
            have = (int(g["recorded_count"]), int(g["proposed_count"]), cents(g["recorded_duty"]),
                    cents(g["proposed_duty"]), cents(g["delta_duty"]))
            if have != exp:
                print("whatif %s %s: got %s, expected %s" % (dim, k, have, exp))
                bad += 1
    # Declarations by outcome: counts, and how many moved (outcome or total_duty, or one
    # side only), under the recorded side's outcome.
    ra, rb = by_key(rec), by_key(prop)
    exp_o = defaultdict(lambda: [0, 0, 0])
    for k in set(ra) | set(rb):
        a, b = ra.get(k), rb.get(k)
        if a:
            exp_o[outcome(a)][0] += 1
        if b:
            exp_o[outcome(b)][1] += 1
        if not a or not b or outcome(a) != outcome(b) or duty(a) != duty(b):
            exp_o[outcome(a or b)][2] += 1
    for k, e in exp_o.items():
        g = got.get(("outcome", k))
        have = g and (int(g["recorded_count"]), int(g["proposed_count"]), int(g["changed"]))
        if have != tuple(e):
            print("whatif outcome %s: got %s, expected %s" % (k, have, tuple(e)))
            bad += 1
    tot_a = sum(cents(a["total_duty"]) for a in rec if is_assessment(a))
    tot_b = sum(cents(b["total_duty"]) for b in prop if is_assessment(b))
    g = got.get(("total", "total_duty"))
    if not g or cents(g["delta_duty"]) != tot_b - tot_a:
        print("whatif total delta %s, expected %s" % (g and g["delta_duty"], Decimal(tot_b - tot_a) / 100))
        bad += 1
    if not bad:
        print("whatif: every group and the total delta (%s USD) match the two assess runs" %
              (Decimal(tot_b - tot_a) / 100))
    return 1 if bad else 0


class Tables(HTMLParser):
    """Rows of every <table id=...> and the rects of every <figure id=...>."""

    def __init__(self):
        super().__init__()
        self.tables, self.rects = defaultdict(list), defaultdict(list)
        self.table = self.figure = None
        self.row = self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self.table = a["id"]
        elif tag == "figure":
            self.figure = a.get("id")
        elif tag == "rect" and self.figure:
            self.rects[self.figure].append(a)
        elif tag == "tr" and self.table:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "figure":
            self.figure = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def cmd_html(o):
    p = Tables()
    p.feed(open(o.dom).read())
    rec = list(by_key(load(o.recorded)).values())
    recomp = list(by_key(load(o.recomputed)).values())
    ta, tb = line_totals(rec, {}, "mineral"), line_totals(recomp, {}, "mineral")
    rows = {r[0]: r for r in p.tables["totals-mineral"][1:] if r and r[0] != "total"}
    bad = 0
    minerals = set(ta) | set(tb)
    if set(rows) != minerals:
        print("totals-mineral rows %s, expected %s" % (sorted(rows), sorted(minerals)))
        bad += 1
    for m in minerals & set(rows):
        r = rows[m]
        exp = (ta[m][0], tb[m][0], ta[m][1], tb[m][1], tb[m][1] - ta[m][1])
        have = (int(r[1]), int(r[2]), cents(r[3].replace(",", "")), cents(r[4].replace(",", "")),
                cents(r[5].replace(",", "")))
        if have != exp:
            print("totals-mineral %s: rendered %s, expected %s" % (m, have, exp))
            bad += 1
    for s in ("s0", "s1"):
        bars = [r for r in p.rects["chart-mineral"] if r.get("class") == "bar " + s]
        keys = [b.get("data-key") for b in bars]
        if sorted(keys) != sorted(minerals):
            print("chart-mineral %s bars %s, expected one per mineral %s" % (s, keys, sorted(minerals)))
            bad += 1
    summ = {r[0]: r[1:] for r in p.tables["summary"]}
    tot_a = sum(cents(a["total_duty"]) for a in rec if is_assessment(a))
    tot_b = sum(cents(b["total_duty"]) for b in recomp if is_assessment(b))
    got = summ.get("total duty (USD)")
    if not got or [cents(x.replace(",", "")) for x in got] != [tot_a, tot_b]:
        print("summary total duty %s, expected %s %s" % (got, tot_a, tot_b))
        bad += 1
    if not p.tables["differences"] or not p.rects["chart-time"]:
        print("no difference list or no time chart rendered")
        bad += 1
    if not bad:
        print("html: %d mineral rows and %d bars per side as expected; totals %s -> %s" %
              (len(rows), len(minerals), Decimal(tot_a) / 100, Decimal(tot_b) / 100))
    return 1 if bad else 0


def cmd_produce(o):
    """Declarations, Confluent-framed (schema id 1), input i on partition i % N, one a minute from base."""
    import io
    import struct
    import fastavro
    from confluent_kafka import Producer
    schema = fastavro.parse_schema(fastavro.schema.load_schema("schemas/declaration.avsc"))
    p = Producer({"bootstrap.servers": o.bootstrap})
    n = 0
    with open(o.decls, "rb") as f:
        for i, r in enumerate(fastavro.reader(f)):
            b = io.BytesIO()
            b.write(b"\0" + struct.pack(">i", 1))
            fastavro.schemaless_writer(b, schema, r)
            p.produce(o.topic, key=r["declaration_id"], value=b.getvalue(),
                      partition=i % o.partitions, timestamp=o.base_ms + i * 60000)
            n += 1
            if i % 1000 == 0:
                p.poll(0)
    if p.flush(60):
        print("produce: not every message was delivered")
        return 1
    print("produced %d declarations" % n)
    return 0


def cmd_committed(o):
    """Fails when the group has a committed offset on any partition of the topics."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    "pylib"))
    from fgkafka import committed
    got = committed(o.bootstrap, o.group, o.topics, o.partitions)
    moved = ["%s/%d@%d" % (t, p, off) for (t, p), off in sorted(got.items()) if off >= 0]
    if moved:
        print("group %s has committed offsets: %s" % (o.group, " ".join(moved)))
        return 1
    print("group %s: no committed offset on %d partitions" % (o.group, len(got)))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("diffs")
    s.add_argument("--recorded", nargs="+", required=True)
    s.add_argument("--recomputed", nargs="+", required=True)
    s.add_argument("--csv", required=True)
    s.add_argument("--ignore", action="append", default=[])
    s.add_argument("--tolerance")
    s.add_argument("--summary")
    s.add_argument("--expect-suppressed-min", type=int, default=0)
    s = sub.add_parser("modify-data")
    s.add_argument("src")
    s.add_argument("dst")
    s.add_argument("decls")
    s = sub.add_parser("cut")
    s.add_argument("inp")
    s.add_argument("out")
    s.add_argument("--drop")
    s.add_argument("--dup", type=int)
    s.add_argument("--dup-modified", type=int)
    s = sub.add_parser("whatif")
    s.add_argument("--decls", required=True)
    s.add_argument("--recorded", nargs="+", required=True)
    s.add_argument("--proposed", nargs="+", required=True)
    s.add_argument("--csv", required=True)
    s = sub.add_parser("html")
    s.add_argument("--dom", required=True)
    s.add_argument("--recorded", nargs="+", required=True)
    s.add_argument("--recomputed", nargs="+", required=True)
    s = sub.add_parser("produce")
    s.add_argument("decls")
    s.add_argument("--bootstrap", required=True)
    s.add_argument("--topic", required=True)
    s.add_argument("--partitions", type=int, required=True)
    s.add_argument("--base-ms", type=int, required=True)
    s = sub.add_parser("committed")
    s.add_argument("--bootstrap", required=True)
    s.add_argument("--group", required=True)
    s.add_argument("--topics", nargs="+", required=True)
    s.add_argument("--partitions", type=int, required=True)
    o = ap.parse_args()
    return {"diffs": cmd_diffs, "modify-data": cmd_modify_data, "cut": cmd_cut,
            "whatif": cmd_whatif, "html": cmd_html, "produce": cmd_produce,
            "committed": cmd_committed}[o.cmd](o)


if __name__ == "__main__":
    sys.exit(main())
