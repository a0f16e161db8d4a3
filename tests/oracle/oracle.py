#!/usr/bin/env python3
"""Independent reference implementation (oracle) of the floorgate assessment contract.

Implements the assessment contract v1 (docs/CONTRACT.md) from the page alone, with exact
rational arithmetic (fractions.Fraction; no floats anywhere) and the standard library only.

Usage:
  oracle.py --data DIR --in DECLS.jsonl [--out EXPECTED.jsonl]
      One output line per input declaration, in the format of the public expected.jsonl:
        {"declaration_id", "dlq": REASON, "version"}                        (rejected)
        {"assessment": {...}, "declaration_id", "version"}                  (assessed)
      Keys sorted, json.dumps default separators, money as strings with two decimals.

  oracle.py --data DIR --check-data [--strict]
      Loads the six tables with the refusal rules of contract section 2 and prints
      "FILE:LINE:COLUMN: message" for the first problem (exit 1), or "OK" (exit 0).
      --strict adds sanity checks the contract does not name (see STRICT below).

Input declarations are JSON objects shaped like declaration.avsc: decimals as decimal
strings, acceptance_date as YYYY-MM-DD (an int = days since 1970-01-01 is accepted too),
content null or {"element", "percent"}.  DECODE_ERROR / UNKNOWN_SCHEMA cannot occur here.
"""

import argparse
import csv
import datetime
import io
import json
import os
import re
import sys
from fractions import Fraction

# --------------------------------------------------------------------------------------
# Exact decimal helpers

_DEC_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
HUNDRED = Fraction(100)


def parse_decimal(s):
    """Plain decimal string -> Fraction.  Raises ValueError on anything else."""
    if not isinstance(s, str) or not _DEC_RE.fullmatch(s):
        raise ValueError("not a plain decimal: %r" % (s,))
    return Fraction(s)


def round2(x):
    """Round a Fraction to 0.01, ties away from zero.  Returns a Fraction (k/100)."""
    sign = -1 if x < 0 else 1
    a = abs(x) * 100
    q, r = divmod(a.numerator, a.denominator)
    if 2 * r >= a.denominator:
        q += 1
    return Fraction(sign * q, 100)


def money(x):
    """Fraction with denominator | 100 -> 'I.FF'."""
    c = x * 100
    assert c.denominator == 1, x
    n = c.numerator
    sign = "-" if n < 0 else ""
    n = abs(n)
    return "%s%d.%02d" % (sign, n // 100, n % 100)


def valid_date(s):
    if not isinstance(s, str) or not _DATE_RE.fullmatch(s):
        return False
    try:
        datetime.date(int(s[0:4]), int(s[5:7]), int(s[8:10]))
    except ValueError:
        return False
    return True


def effective(row, d):
    """effective_from <= D and (effective_to empty or D < effective_to).  ISO dates
    compare correctly as strings."""
    return row["effective_from"] <= d and (row["effective_to"] == "" or d < row["effective_to"])


# --------------------------------------------------------------------------------------
# Reference data

STAGES = ("ORE_CONCENTRATE", "INTERMEDIATE", "REFINED", "SEMI_FINISHED")
TREATMENTS = ("MEMBER", "PARTNER", "NON_MEMBER")
MEMBERSHIP_TREATMENTS = ("MEMBER", "PARTNER")  # "membership.csv lists only the first two"
UNITS_KG = {"kg": Fraction(1), "t": Fraction(1000), "lb": Fraction("0.45359237"), "mtu": Fraction(10)}
BASES = ("gross", "contained")

COLUMNS = {
    "classification.csv": ["rule_id", "hs_prefix", "keyword", "mineral", "stage", "priority",
                           "effective_from", "effective_to"],
    "mfn.csv": ["hs_prefix", "ad_valorem_pct", "effective_from", "effective_to"],
    "reference_prices.csv": ["mineral", "stage", "price_usd", "unit", "basis", "content_element",
                             "default_content_pct", "effective_from", "effective_to"],
    "tariff_parameters.csv": ["mineral", "stage", "treatment", "gap_share", "cap_pct",
                              "effective_from", "effective_to"],
    "membership.csv": ["country", "treatment", "agreement", "effective_from", "effective_to"],
    "fx_rates.csv": ["currency", "date", "usd_per_unit"],
}
FILE_ORDER = ["classification.csv", "mfn.csv", "reference_prices.csv", "tariff_parameters.csv",
              "membership.csv", "fx_rates.csv"]

_HS_PREFIX_RE = re.compile(r"[0-9]{1,10}")
_INT_RE = re.compile(r"-?[0-9]+")
_CC2_RE = re.compile(r"[A-Z]{2}")
_CC3_RE = re.compile(r"[A-Z]{3}")


class DataError(Exception):
    def __init__(self, fname, line, col, msg):
        super().__init__("%s:%d:%d: %s" % (fname, line, col, msg))
        self.fname, self.line, self.col, self.msg = fname, line, col, msg


def _ascii_lower(s):
    return s.encode("utf-8").lower().decode("utf-8")  # bytes.lower() folds ASCII only


def _read_csv(path, fname):
    """Yields (line_no, fields) for data rows; validates header and field counts."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise DataError(fname, line, col, "invalid UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    cols = COLUMNS[fname]
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    prev = 0
    try:
        for rec in reader:
            start = prev + 1
            prev = reader.line_num
            rows.append((start, rec))
    except csv.Error as e:
        raise DataError(fname, prev + 1, 1, "CSV syntax error: %s" % e)
    if not rows:
        raise DataError(fname, 1, 1, "missing header row")
    hline, header = rows[0]
    for i, want in enumerate(cols):
        if i >= len(header) or header[i] != want:
            raise DataError(fname, hline, i + 1, "header: expected column %r" % want)
    if len(header) != len(cols):
        raise DataError(fname, hline, len(cols) + 1, "header: unexpected extra column")
    out = []
    for ln, rec in rows[1:]:
        if rec == [] or rec == [""] and len(cols) > 1:
            continue  # blank line
        if len(rec) != len(cols):
            col = len(rec) + 1 if len(rec) < len(cols) else len(cols) + 1
            raise DataError(fname, ln, col,
                            "expected %d fields, found %d" % (len(cols), len(rec)))
        out.append((ln, dict(zip(cols, rec))))
    return out


def _col(fname, name):
    return COLUMNS[fname].index(name) + 1


def _need(fname, ln, row, name, ok, what):
    if not ok(row[name]):
        raise DataError(fname, ln, _col(fname, name), "%s: %s %r" % (name, what, row[name]))


def _dec_field(fname, ln, row, name, optional=False):
    v = row[name]
    if v == "" and optional:
        return None
    try:
        return parse_decimal(v)
    except ValueError:
        raise DataError(fname, ln, _col(fname, name), "%s: not a plain decimal %r" % (name, v))


def _check_dates(fname, ln, row):
    _need(fname, ln, row, "effective_from", valid_date, "not a YYYY-MM-DD date")
    _need(fname, ln, row, "effective_to", lambda v: v == "" or valid_date(v),
          "not empty or a YYYY-MM-DD date")


def _ranges_overlap(a, b):
    # [a.from, a.to) and [b.from, b.to) share a date; empty to = open end.
    a_lt_bto = b["effective_to"] == "" or a["effective_from"] < b["effective_to"]
    b_lt_ato = a["effective_to"] == "" or b["effective_from"] < a["effective_to"]
    return a_lt_bto and b_lt_ato


def _check_overlaps(fname, rows, keyf, keydesc):
    """rows: list of (ln, row).  Reports the later row of the first overlapping pair (in
    file order of the later row), column = effective_from."""
    seen = {}
    for ln, row in rows:
        k = keyf(row)
        for pln, prow in seen.get(k, []):
            if _ranges_overlap(prow, row):
                raise DataError(fname, ln, _col(fname, "effective_from"),
                                "effective range overlaps line %d for the same %s" % (pln, keydesc))
        seen.setdefault(k, []).append((ln, row))


class RefData:
    def __init__(self, d, strict=False):
        self.dir = d
        self.strict = strict
        self.tables = {}
        for fname in FILE_ORDER:
            path = os.path.join(d, fname)
            if not os.path.exists(path):
                raise DataError(fname, 0, 0, "file missing")
            rows = _read_csv(path, fname)
            getattr(self, "_load_" + fname[:-4])(fname, rows)

    # --- classification
    def _load_classification(self, fname, rows):
        out = []
        for ln, r in rows:
            _need(fname, ln, r, "rule_id", lambda v: v != "", "must not be empty")
            _need(fname, ln, r, "hs_prefix", _HS_PREFIX_RE.fullmatch, "not 1 to 10 ASCII digits")
            _need(fname, ln, r, "mineral", lambda v: v != "", "must not be empty")
            _need(fname, ln, r, "stage", lambda v: v in STAGES, "unknown stage")
            _need(fname, ln, r, "priority", _INT_RE.fullmatch, "not an integer")
            _check_dates(fname, ln, r)
            r = dict(r)
            r["priority"] = int(r["priority"])
            r["_kw"] = _ascii_lower(r["keyword"]).encode("utf-8")
            out.append((ln, r))
        if self.strict:
            self._strict_ranges(fname, out)
            _check_overlaps(fname, out, lambda r: r["rule_id"], "rule_id")
        _check_overlaps(fname, out, lambda r: (r["hs_prefix"], r["_kw"]), "hs_prefix/keyword")
        self.classification = [r for _, r in out]

    # --- mfn
    def _load_mfn(self, fname, rows):
        out = []
        for ln, r in rows:
            _need(fname, ln, r, "hs_prefix", _HS_PREFIX_RE.fullmatch, "not 1 to 10 ASCII digits")
            pct = _dec_field(fname, ln, r, "ad_valorem_pct")
            _check_dates(fname, ln, r)
            if self.strict and pct < 0:
                raise DataError(fname, ln, _col(fname, "ad_valorem_pct"), "negative rate")
            r = dict(r)
            r["pct"] = pct
            out.append((ln, r))
        if self.strict:
            self._strict_ranges(fname, out)
        _check_overlaps(fname, out, lambda r: r["hs_prefix"], "hs_prefix")
        self.mfn = [r for _, r in out]

    # --- reference prices
    def _load_reference_prices(self, fname, rows):
        out = []
        for ln, r in rows:
            _need(fname, ln, r, "mineral", lambda v: v != "", "must not be empty")
            _need(fname, ln, r, "stage", lambda v: v in STAGES, "unknown stage")
            price = _dec_field(fname, ln, r, "price_usd")
            _need(fname, ln, r, "unit", lambda v: v in UNITS_KG, "unknown unit")
            _need(fname, ln, r, "basis", lambda v: v in BASES, "unknown basis")
            dpct = _dec_field(fname, ln, r, "default_content_pct", optional=True)
            _check_dates(fname, ln, r)
            if self.strict:
                if price < 0:
                    raise DataError(fname, ln, _col(fname, "price_usd"), "negative price")
                if r["basis"] == "contained":
                    if r["content_element"] == "":
                        raise DataError(fname, ln, _col(fname, "content_element"),
                                        "contained basis needs a content_element")
                    if dpct is None or dpct <= 0 or dpct > 100:
                        raise DataError(fname, ln, _col(fname, "default_content_pct"),
                                        "contained basis needs default_content_pct in (0, 100]")
            r = dict(r)
            r["price"] = price
            r["dpct"] = dpct
            out.append((ln, r))
        if self.strict:
            self._strict_ranges(fname, out)
        _check_overlaps(fname, out, lambda r: (r["mineral"], r["stage"]), "mineral+stage")
        self.reference_prices = [r for _, r in out]

    # --- tariff parameters
    def _load_tariff_parameters(self, fname, rows):
        out = []
        for ln, r in rows:
            _need(fname, ln, r, "mineral", lambda v: v != "", "must not be empty")
            _need(fname, ln, r, "stage", lambda v: v == "*" or v in STAGES, "unknown stage")
            _need(fname, ln, r, "treatment", lambda v: v in TREATMENTS, "unknown treatment")
            gs = _dec_field(fname, ln, r, "gap_share")
            cap = _dec_field(fname, ln, r, "cap_pct", optional=True)
            _check_dates(fname, ln, r)
            if self.strict:
                if gs < 0:
                    raise DataError(fname, ln, _col(fname, "gap_share"), "negative gap_share")
                if cap is not None and cap < 0:
                    raise DataError(fname, ln, _col(fname, "cap_pct"), "negative cap_pct")
            r = dict(r)
            r["gs"] = gs
            r["cap"] = cap
            out.append((ln, r))
        if self.strict:
            self._strict_ranges(fname, out)
        _check_overlaps(fname, out, lambda r: (r["mineral"], r["stage"], r["treatment"]),
                        "mineral+stage+treatment")
        self.tariff_parameters = [r for _, r in out]

    # --- membership
    def _load_membership(self, fname, rows):
        out = []
        for ln, r in rows:
            _need(fname, ln, r, "country", _CC2_RE.fullmatch, "not two ASCII capital letters")
            _need(fname, ln, r, "treatment", lambda v: v in MEMBERSHIP_TREATMENTS,
                  "unknown treatment (MEMBER or PARTNER)")
            _check_dates(fname, ln, r)
            out.append((ln, dict(r)))
        if self.strict:
            self._strict_ranges(fname, out)
        _check_overlaps(fname, out, lambda r: r["country"], "country")
        self.membership = [r for _, r in out]

    # --- fx
    def _load_fx_rates(self, fname, rows):
        out = []
        seen = {}
        for ln, r in rows:
            _need(fname, ln, r, "currency", _CC3_RE.fullmatch, "not three ASCII capital letters")
            _need(fname, ln, r, "date", valid_date, "not a YYYY-MM-DD date")
            rate = _dec_field(fname, ln, r, "usd_per_unit")
            if self.strict and rate <= 0:
                raise DataError(fname, ln, _col(fname, "usd_per_unit"), "rate must be > 0")
            k = (r["currency"], r["date"])
            if k in seen:
                raise DataError(fname, ln, _col(fname, "date"),
                                "duplicate currency+date (line %d)" % seen[k])
            seen[k] = ln
            r = dict(r)
            r["rate"] = rate
            out.append((ln, r))
        self.fx = {}
        for _, r in out:
            self.fx.setdefault(r["currency"], []).append((r["date"], r["rate"]))
        for v in self.fx.values():
            v.sort()

    def _strict_ranges(self, fname, rows):
        for ln, r in rows:
            if r["effective_to"] != "" and r["effective_to"] <= r["effective_from"]:
                raise DataError(fname, ln, _col(fname, "effective_to"),
                                "effective_to must be after effective_from")

    # --- lookups ---------------------------------------------------------------------
    def fx_rate(self, cur, d):
        if cur == "USD":
            return Fraction(1)
        best = None
        for date, rate in self.fx.get(cur, []):
            if date <= d:
                best = rate
        return best

    def mfn_pct(self, code, d):
        best = None
        for r in self.mfn:
            if effective(r, d) and code.startswith(r["hs_prefix"]):
                if best is None or len(r["hs_prefix"]) > len(best["hs_prefix"]):
                    best = r
        return Fraction(0) if best is None else best["pct"]

    def classify(self, code, desc, d):
        desc_l = desc.encode("utf-8").lower()
        cands = []
        for r in self.classification:
            if not effective(r, d) or not code.startswith(r["hs_prefix"]):
                continue
            if r["_kw"] and r["_kw"] not in desc_l:
                continue
            cands.append(r)
        if not cands:
            return None
        cands.sort(key=lambda r: (-len(r["hs_prefix"]), r["priority"], r["rule_id"].encode("utf-8")))
        return cands[0]

    def treatment(self, country, d):
        for r in self.membership:
            if r["country"] == country and effective(r, d):
                return r["treatment"]
        return "NON_MEMBER"

    def ref_price(self, mineral, stage, d):
        for r in self.reference_prices:
            if r["mineral"] == mineral and r["stage"] == stage and effective(r, d):
                return r
        return None

    def tariff_param(self, mineral, stage, treatment, d):
        for m, s in ((mineral, stage), (mineral, "*"), ("*", stage), ("*", "*")):
            for r in self.tariff_parameters:
                if (r["mineral"] == m and r["stage"] == s and r["treatment"] == treatment
                        and effective(r, d)):
                    return r
        return None


# --------------------------------------------------------------------------------------
# Declarations

_CODE_RE = re.compile(r"[0-9]{6,10}")


def _dec_in(v):
    """Decimal field of a JSON declaration -> Fraction (strings; JSON numbers tolerated)."""
    if isinstance(v, bool):
        raise ValueError("bool")
    if isinstance(v, int):
        return Fraction(v)
    if isinstance(v, str):
        return Fraction(v) if re.fullmatch(r"[+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+", v) else _bad(v)
    if hasattr(v, "as_integer_ratio"):  # Decimal from parse_float
        return Fraction(v)
    raise ValueError(repr(v))


def _bad(v):
    raise ValueError("bad decimal %r" % (v,))


def acceptance_date(decl):
    d = decl["acceptance_date"]
    if isinstance(d, int):
        return (datetime.date(1970, 1, 1) + datetime.timedelta(days=d)).isoformat()
    return d


def validate(decl, ref):
    lines = decl["lines"]
    d = acceptance_date(decl)
    if len(lines) == 0:
        return "NO_LINES"
    items = [li["item_no"] for li in lines]
    if len(set(items)) != len(items):
        return "DUPLICATE_ITEM"
    if any(not _CODE_RE.fullmatch(li["commodity_code"]) for li in lines):
        return "BAD_COMMODITY_CODE"
    if not _CC2_RE.fullmatch(decl["export_country"]) or any(
            not _CC2_RE.fullmatch(li["origin_country"]) for li in lines):
        return "BAD_COUNTRY"
    if not _CC3_RE.fullmatch(decl["invoice_currency"]):
        return "BAD_CURRENCY"
    if any(_dec_in(li["net_mass_kg"]) <= 0 for li in lines):
        return "BAD_QUANTITY"
    if any(_dec_in(li["customs_value"]) < 0 for li in lines):
        return "BAD_VALUE"
    for li in lines:
        c = li.get("content")
        if c is not None:
            p = _dec_in(c["percent"])
            if p <= 0 or p > 100:
                return "BAD_CONTENT"
    if ref.fx_rate(decl["invoice_currency"], d) is None:
        return "FX_RATE_MISSING"
    return None


def assess_line(li, d, rate, ref):
    flags = []
    code = li["commodity_code"]
    value_usd = round2(_dec_in(li["customs_value"]) * rate)
    base_duty = round2(value_usd * ref.mfn_pct(code, d) / HUNDRED)
    rule = ref.classify(code, li["description"], d)
    treatment = ref.treatment(li["origin_country"], d)
    floor_duty = Fraction(0)
    out = {"item_no": li["item_no"], "commodity_code": code, "treatment": treatment,
           "rule_id": None, "mineral": None, "stage": None}
    if rule is None:
        status = "NOT_IN_SCOPE"
    else:
        out["rule_id"], out["mineral"], out["stage"] = rule["rule_id"], rule["mineral"], rule["stage"]
        status = "ASSESSED"
        price = ref.ref_price(rule["mineral"], rule["stage"], d)
        if price is None:
            status = "NO_REFERENCE_PRICE"
        else:
            unit_kg = UNITS_KG[price["unit"]]
            mass = _dec_in(li["net_mass_kg"])
            if price["basis"] == "gross":
                qty = mass / unit_kg
            else:
                c = li.get("content")
                if c is not None and c["element"] == price["content_element"]:
                    f = _dec_in(c["percent"]) / HUNDRED
                else:
                    if price["dpct"] is None:
                        raise RuntimeError("contained basis without default_content_pct for %s/%s"
                                           % (rule["mineral"], rule["stage"]))
                    f = price["dpct"] / HUNDRED
                    flags.append("CONTENT_DEFAULTED")
                qty = mass * f / unit_kg
            tp = ref.tariff_param(rule["mineral"], rule["stage"], treatment, d)
            if tp is None:
                flags.append("NO_TARIFF_PARAMETER")
            else:
                shortfall = max(Fraction(0), price["price"] * qty - value_usd)
                duty = shortfall * tp["gs"]
                if tp["cap"] is not None:
                    duty = min(duty, value_usd * tp["cap"] / HUNDRED)
                floor_duty = round2(duty)
                if shortfall > 0:
                    flags.append("BELOW_FLOOR")
    out.update(status=status, value_usd=value_usd, base_duty=base_duty, floor_duty=floor_duty,
               line_duty=base_duty + floor_duty, flags=flags)
    return out


def process(decl, ref):
    head = {"declaration_id": decl["declaration_id"], "version": decl["version"]}
    reason = validate(decl, ref)
    if reason is not None:
        head["dlq"] = reason
        return head
    d = acceptance_date(decl)
    rate = ref.fx_rate(decl["invoice_currency"], d)
    lines = [assess_line(li, d, rate, ref) for li in decl["lines"]]
    tot = {k: sum((l[k] for l in lines), Fraction(0))
           for k in ("value_usd", "base_duty", "floor_duty", "line_duty")}
    for l in lines:
        for k in ("value_usd", "base_duty", "floor_duty", "line_duty"):
            l[k] = money(l[k])
    head["assessment"] = {
        "lines": lines,
        "total_value_usd": money(tot["value_usd"]),
        "total_base_duty": money(tot["base_duty"]),
        "total_floor_duty": money(tot["floor_duty"]),
        "total_duty": money(tot["line_duty"]),
    }
    return head


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory with the six CSV tables")
    ap.add_argument("--in", dest="inp", help="declarations JSONL")
    ap.add_argument("--out", help="output JSONL (default stdout)")
    ap.add_argument("--check-data", action="store_true", help="only check the reference data")
    ap.add_argument("--strict", action="store_true",
                    help="with --check-data/assessment: also apply sanity checks the contract does not name")
    a = ap.parse_args(argv)
    try:
        ref = RefData(a.data, strict=a.strict)
    except DataError as e:
        print(str(e), file=sys.stdout if a.check_data else sys.stderr)
        return 1
    if a.check_data:
        print("OK")
        return 0
    if not a.inp:
        ap.error("--in is required unless --check-data")
    from decimal import Decimal
    fin = sys.stdin if a.inp == "-" else open(a.inp, encoding="utf-8")
    fout = open(a.out, "w", encoding="utf-8") if a.out else sys.stdout
    with fin:
        for raw in fin:
            if not raw.strip():
                continue
            decl = json.loads(raw, parse_float=Decimal)
            fout.write(json.dumps(process(decl, ref), sort_keys=True) + "\n")
    if a.out:
        fout.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
