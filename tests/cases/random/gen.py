#!/usr/bin/env python3
"""Deterministic generator of random import declarations (JSONL, the shape of the public
declarations.jsonl) against a reference data directory.  Standard library only, no floats
in any emitted decimal: every decimal is built from random integers at the schema scale
(net_mass_kg 3 places, customs_value 2, content.percent 4).

    gen.py --data DIR --count 2000 --seed 7 > d.jsonl
    ../../oracle/oracle.py --data DIR --in d.jsonl > e.jsonl      # then compare with C

Mix: in-scope codes (classification hs_prefix padded with random digits, mostly to 10),
out-of-scope codes, currencies from fx_rates.csv plus USD, acceptance dates biased to the
boundaries found in the tables (effective_from / effective_to / fx dates, +-1 day), content
with the priced element / a case-mismatched one / another one / none, and about --invalid
(default 5%) declarations broken in one or more ways.  Magnitudes are bounded so that no
output money (value_usd, duties, totals) can exceed decimal(18,2).
"""
import argparse
import csv
import datetime
import json
import os
import random
import sys
from fractions import Fraction

UNITS_KG = {"kg": Fraction(1), "t": Fraction(1000), "lb": Fraction("0.45359237"), "mtu": Fraction(10)}
OUT_LIMIT = Fraction(10) ** 16  # decimal(18,2) holds |x| < 10^16
WORDS = ["ore", "concentrate", "oxide", "powder", "unwrought", "metal", "scrap", "waste",
         "bars", "foil", "sheet", "compounds", "mixtures", "high purity", "99.9%", "grade A"]
FILLER_DESC = ["ROASTED COFFEE", "Cotton T-shirts", "Bicycle parts", "Frozen fish fillets",
               "Wooden furniture", "Plastic toys", "Ceramic tiles", "Electric motors"]
OTHER_COUNTRIES = ["CN", "ZA", "CD", "ID", "BR", "KR", "IN", "RU", "CL", "DE", "ZZ"]


def read(d, name):
    with open(os.path.join(d, name), newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def iso(d):
    return d.isoformat()


def parse_date(s):
    return datetime.date(int(s[0:4]), int(s[5:7]), int(s[8:10]))


class Gen:
    def __init__(self, data, seed, invalid_share):
        self.r = random.Random(seed)
        self.invalid_share = float(invalid_share)  # probabilities only; no float reaches a decimal
        self.cls = read(data, "classification.csv")
        self.mfn = read(data, "mfn.csv")
        self.prices = read(data, "reference_prices.csv")
        self.tp = read(data, "tariff_parameters.csv")
        self.members = read(data, "membership.csv")
        self.fx = read(data, "fx_rates.csv")

        self.currencies = sorted({row["currency"] for row in self.fx})
        self.first_rate = {}
        for row in self.fx:
            dt = parse_date(row["date"])
            if row["currency"] not in self.first_rate or dt < self.first_rate[row["currency"]]:
                self.first_rate[row["currency"]] = dt
        self.max_rate = max([Fraction(row["usd_per_unit"]) for row in self.fx] + [Fraction(1)])
        self.elements = sorted({row["content_element"] for row in self.prices if row["content_element"]})
        self.countries = sorted({row["country"] for row in self.members}) + OTHER_COUNTRIES
        self.keywords = sorted({row["keyword"] for row in self.cls if row["keyword"]})
        # bound on USD per kg of net mass any price row can ask for, times the largest gap share
        ppk = [Fraction(row["price_usd"]) / UNITS_KG.get(row["unit"], Fraction(1)) for row in self.prices]
        self.max_price_per_kg = max(ppk + [Fraction(1)])
        self.max_gs = max([Fraction(row["gap_share"]) for row in self.tp] + [Fraction(1)])

        dates = set()
        for table in (self.cls, self.mfn, self.prices, self.tp, self.members):
            for row in table:
                for k in ("effective_from", "effective_to"):
                    if row.get(k):
                        dates.add(parse_date(row[k]))
        for row in self.fx:
            dates.add(parse_date(row["date"]))
        if not dates:
            dates = {datetime.date(2025, 1, 1)}
        self.boundaries = sorted(dates)
        self.lo = min(dates) - datetime.timedelta(days=60)
        self.hi = max(dates) + datetime.timedelta(days=200)

    # --- pieces ------------------------------------------------------------------------
    def date(self):
        r = self.r
        if r.random() < 0.35:
            return self.r.choice(self.boundaries) + datetime.timedelta(days=r.choice((-1, 0, 0, 1)))
        return self.lo + datetime.timedelta(days=r.randint(0, (self.hi - self.lo).days))

    def digits(self, n):
        return "".join(self.r.choice("0123456789") for _ in range(n))

    def code_and_desc(self):
        r = self.r
        x = r.random()
        if x < 0.72 and self.cls:
            row = r.choice(self.cls)
            p = row["hs_prefix"]
            total = 10 if r.random() < 0.8 else r.randint(max(6, len(p)), 10)
            code = p + self.digits(total - len(p)) if total > len(p) else p
            words = r.sample(WORDS, r.randint(1, 3))
            kw = row["keyword"]
            if kw and r.random() < 0.85:
                words.insert(r.randint(0, len(words)), self.recase(kw))
            if self.keywords and r.random() < 0.15:
                words.insert(r.randint(0, len(words)), self.recase(r.choice(self.keywords)))
            desc = " ".join(words)
            desc = desc[0].upper() + desc[1:] if r.random() < 0.5 else desc
            return code, desc
        if x < 0.85 and self.mfn:
            # share an MFN prefix but (likely) not a classification prefix
            p = r.choice(self.mfn)["hs_prefix"]
            return (p + self.digits(10 - len(p)))[:10], r.choice(FILLER_DESC)
        return self.digits(r.choice((6, 8, 10, 10, 10))), r.choice(FILLER_DESC)

    def recase(self, s):
        k = self.r.random()
        if k < 0.4:
            return s
        if k < 0.6:
            return s.upper()
        if k < 0.8:
            return s.lower()
        return "".join(c.upper() if self.r.random() < 0.5 else c.lower() for c in s)

    def magnitude(self, scale, max_units):
        """Random positive decimal with `scale` places, log-uniform-ish, at most max_units."""
        r = self.r
        cap = int(max_units * 10 ** scale)
        if cap < 1:
            cap = 1
        e = r.randint(0, max(0, len(str(cap)) - 1))
        lo, hi = 10 ** e, min(10 ** (e + 1) - 1, cap)
        if lo > hi:
            lo = 1
        return r.randint(lo, hi)

    @staticmethod
    def fmt(n, scale):
        sign = "-" if n < 0 else ""
        n = abs(n)
        s = str(n).rjust(scale + 1, "0")
        return "%s%s.%s" % (sign, s[:-scale], s[-scale:])

    def content(self):
        r = self.r
        x = r.random()
        if x < 0.45 or not self.elements:
            return None
        el = r.choice(self.elements)
        if x > 0.9:
            el = el.lower() if el.lower() != el else el.upper()  # case mismatch -> defaulted
        elif x > 0.85:
            el = r.choice(["Mo", "Fe", "Cu", "Sn"])
        y = r.random()
        if y < 0.05:
            pct = 1000000  # 100.0000 exactly (valid)
        elif y < 0.08:
            pct = 1  # 0.0001 (valid)
        else:
            pct = r.randint(1, 1000000)
        return {"element": el, "percent": self.fmt(pct, 4)}

    # --- one declaration ---------------------------------------------------------------
    def declaration(self, i, seed):
        r = self.r
        n = r.choice((1, 1, 1, 2, 2, 3, 4, 5, 6))
        d = self.date()
        cur = "USD"
        if self.currencies and r.random() >= 0.4:
            # mostly a currency that has a rate by D; sometimes any (FX_RATE_MISSING arises)
            known = [c for c in self.currencies if self.first_rate[c] <= d]
            cur = r.choice(known if known and r.random() < 0.95 else self.currencies)
        big = r.random() < 0.02
        # per-line budgets keep every output money below decimal(18,2) limits
        budget = OUT_LIMIT * Fraction(2, 5) / n
        max_value = budget / self.max_rate if big else min(budget / self.max_rate, Fraction(10) ** 9)
        max_mass = budget / (self.max_price_per_kg * self.max_gs) if big else min(
            budget / (self.max_price_per_kg * self.max_gs), Fraction(10) ** 7)
        start = r.choice((1, 1, 1, 10))
        step = r.choice((1, 1, 1, 10))
        lines = []
        for k in range(n):
            code, desc = self.code_and_desc()
            mass = self.magnitude(3, max_mass)
            z = r.random()
            if z < 0.04:
                value = 0
            elif z < 0.5:
                # near the floor: value around mass * a price-per-kg from the tables
                if self.prices:
                    row = r.choice(self.prices)
                    ppk = Fraction(row["price_usd"]) / UNITS_KG.get(row["unit"], Fraction(1))
                else:
                    ppk = Fraction(1)
                approx = Fraction(mass, 1000) * ppk * Fraction(r.randint(1, 200), 100)
                value = int(min(approx, max_value) * 100)
            else:
                value = self.magnitude(2, max_value)
            lines.append({
                "item_no": start + k * step,
                "commodity_code": code,
                "description": desc,
                "origin_country": r.choice(self.countries),
                "net_mass_kg": self.fmt(max(mass, 1), 3),
                "customs_value": self.fmt(value, 2),
                "content": self.content(),
                "preference_claim": r.choice((None, None, "S", "CMZ")),
            })
        decl = {
            "declaration_id": "RND%d-%07d" % (seed, i),
            "version": r.choice((1, 1, 1, 2, 3)),
            "function_code": "ORIGINAL",
            "submitted_at": 1735689600000 + i * 1000,
            "acceptance_date": iso(d),
            "declarant_id": "DCL%04d" % r.randint(0, 9999),
            "importer_id": "IMP%06d" % r.randint(0, 999999),
            "port_code": "%04d" % r.randint(0, 9999),
            "export_country": r.choice(self.countries),
            "invoice_currency": cur,
            "lines": lines,
        }
        if decl["version"] > 1:
            decl["function_code"] = "AMENDMENT"
        if r.random() < self.invalid_share:
            for _ in range(r.choice((1, 1, 1, 2, 3))):
                self.break_it(decl)
        return decl

    def break_it(self, decl):
        r = self.r
        lines = decl["lines"]
        kind = r.choice(["no_lines", "dup", "code", "country", "export", "currency", "qty",
                         "value", "content", "fx_unknown", "fx_early"])
        li = r.choice(lines) if lines else None
        if kind == "no_lines":
            decl["lines"] = []
        elif li is None:
            return
        elif kind == "dup" and len(lines) > 1:
            r.choice(lines[1:])["item_no"] = lines[0]["item_no"]
        elif kind == "code":
            li["commodity_code"] = r.choice([self.digits(5), self.digits(11), self.digits(4) + "A" + self.digits(5),
                                             self.digits(4) + "." + self.digits(4), "", " " + self.digits(9)])
        elif kind == "country":
            li["origin_country"] = r.choice(["ca", "U", "USA", "1A", "\u00c9U", ""])
        elif kind == "export":
            decl["export_country"] = r.choice(["us", "X", "DEU", ""])
        elif kind == "currency":
            decl["invoice_currency"] = r.choice(["usd", "EU", "EURO", "U5D", ""])
        elif kind == "qty":
            li["net_mass_kg"] = r.choice(["0.000", "-0.001", "-%d.000" % r.randint(1, 999)])
        elif kind == "value":
            li["customs_value"] = r.choice(["-0.01", "-%d.00" % r.randint(1, 99999)])
        elif kind == "content":
            el = r.choice(self.elements) if self.elements else "X"
            li["content"] = {"element": el, "percent": r.choice(["0.0000", "100.0001", "-5.0000", "250.0000"])}
        elif kind == "fx_unknown":
            decl["invoice_currency"] = r.choice(["XYZ", "QQQ"])
        elif kind == "fx_early" and self.currencies:
            cur = r.choice(self.currencies)
            first = min(parse_date(row["date"]) for row in self.fx if row["currency"] == cur)
            decl["invoice_currency"] = cur
            decl["acceptance_date"] = iso(first - datetime.timedelta(days=r.randint(1, 30)))


def main():
    ap = argparse.ArgumentParser(description="deterministic random declarations (JSONL)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--invalid", default="0.05", help="share of declarations broken on purpose")
    a = ap.parse_args()
    g = Gen(a.data, a.seed, a.invalid)
    out = sys.stdout
    for i in range(a.count):
        out.write(json.dumps(g.declaration(i, a.seed), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
