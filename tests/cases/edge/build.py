#!/usr/bin/env python3
"""Writes declarations.jsonl for the edge cases (stdlib only, deterministic).

Each case is (id suffix, acceptance_date, currency, lines, extra header overrides).
A line is (item_no, commodity_code, description, origin, net_mass_kg, customs_value, content)
with decimals as strings already at the schema scale (3 / 2 / 4 places).
Regenerate:  python3 build.py > declarations.jsonl
             python3 ../../oracle/oracle.py --data data --in declarations.jsonl --out expected.jsonl
"""
import datetime
import json
import sys

C = lambda el, pct: {"element": el, "percent": pct}

# fmt: (suffix, date, currency, [lines], {header overrides})
CASES = [
    # ---- validation (section 3) ----------------------------------------------------
    ("V01-NO-LINES", "2025-03-01", "USD", [], {}),
    ("V02-DUP-ITEM", "2025-03-01", "USD", [
        (1, "7100010000", "alpha metal", "ZA", "1.000", "1.00", None),
        (2, "9999999999", "other", "ZA", "1.000", "1.00", None),
        (1, "7100020000", "beta", "ZA", "1.000", "1.00", None)], {}),
    ("V03-CODE-5", "2025-03-01", "USD", [(1, "71000", "five digits", "ZA", "1.000", "1.00", None)], {}),
    ("V04-CODE-11", "2025-03-01", "USD", [(1, "71000100000", "eleven digits", "ZA", "1.000", "1.00", None)], {}),
    ("V05-CODE-ALPHA", "2025-03-01", "USD", [
        (1, "7100010000", "ok", "ZA", "1.000", "1.00", None),
        (2, "7100A10000", "letter", "ZA", "1.000", "1.00", None)], {}),
    ("V06-CODE-DOT", "2025-03-01", "USD", [(1, "7100.10000", "dot", "ZA", "1.000", "1.00", None)], {}),
    ("V07-CODE-FULLWIDTH", "2025-03-01", "USD", [(1, "\uff17\uff11\uff10\uff10\uff10\uff11", "fullwidth digits", "ZA", "1.000", "1.00", None)], {}),
    ("V08-ORIGIN-LOWER", "2025-03-01", "USD", [
        (1, "7100010000", "ok", "CA", "1.000", "1.00", None),
        (2, "7100010000", "lower", "ca", "1.000", "1.00", None)], {}),
    ("V09-EXPORT-3", "2025-03-01", "USD", [(1, "7100010000", "ok", "CA", "1.000", "1.00", None)],
     {"export_country": "USA"}),
    ("V10-ORIGIN-NONASCII", "2025-03-01", "USD", [(1, "7100010000", "x", "\u00c9U", "1.000", "1.00", None)], {}),
    ("V11-CUR-LOWER", "2025-03-01", "eur", [(1, "7100010000", "x", "ZA", "1.000", "1.00", None)], {}),
    ("V12-CUR-2", "2025-03-01", "EU", [(1, "7100010000", "x", "ZA", "1.000", "1.00", None)], {}),
    ("V13-QTY-ZERO", "2025-03-01", "USD", [(1, "7100010000", "x", "ZA", "0.000", "1.00", None)], {}),
    ("V14-QTY-NEG", "2025-03-01", "USD", [
        (1, "9999999999", "x", "ZA", "5.000", "1.00", None),
        (2, "7100010000", "x", "ZA", "-1.000", "1.00", None)], {}),
    ("V15-VALUE-NEG", "2025-03-01", "USD", [(1, "7100010000", "x", "ZA", "1.000", "-0.01", None)], {}),
    ("V16-CONTENT-ZERO", "2025-03-01", "USD", [(1, "7100030000", "x", "ZA", "1.000", "1.00", C("Co", "0.0000"))], {}),
    ("V17-CONTENT-OVER", "2025-03-01", "USD", [(1, "7100030000", "x", "ZA", "1.000", "1.00", C("Co", "100.0001"))], {}),
    ("V18-FX-LATER-ONLY", "2025-12-31", "CHF", [(1, "7100010000", "x", "ZA", "1.000", "1.00", None)], {}),
    ("V19-FX-UNKNOWN", "2025-03-01", "XYZ", [(1, "7100010000", "x", "ZA", "1.000", "1.00", None)], {}),
    # several reasons: the first in table order wins, whatever the line order
    ("M01-DUP-BEATS-CODE", "2025-03-01", "XYZ", [
        (1, "71000", "x", "zz", "0.000", "-1.00", None),
        (1, "7100010000", "x", "ZA", "1.000", "1.00", None)], {}),
    ("M02-CODE-BEATS-COUNTRY", "2025-03-01", "eur", [
        (1, "7100010000", "x", "za", "1.000", "1.00", None),
        (2, "123", "x", "ZA", "1.000", "1.00", None)], {}),
    ("M03-COUNTRY-BEATS-CUR", "2025-03-01", "usd", [(1, "7100010000", "x", "ZA", "-1.000", "1.00", None)],
     {"export_country": "z1"}),
    ("M04-QTY-BEATS-VALUE", "2025-03-01", "XYZ", [
        (1, "7100010000", "x", "ZA", "1.000", "-5.00", C("Co", "0.0000")),
        (2, "7100010000", "x", "ZA", "0.000", "1.00", None)], {}),
    ("M05-VALUE-BEATS-CONTENT", "2025-03-01", "XYZ", [
        (1, "7100030000", "x", "ZA", "1.000", "1.00", C("Co", "150.0000")),
        (2, "7100010000", "x", "ZA", "1.000", "-0.01", None)], {}),
    ("M06-CONTENT-OOS-BEATS-FX", "2025-03-01", "XYZ", [
        (1, "9999999999", "not in scope but bad content", "ZA", "1.000", "1.00", C("Co", "-1.0000"))], {}),
    # ---- valid: floor duty mechanics -----------------------------------------------
    ("A01-HALF-CENT-FLOOR-ZERO-VALUE", "2025-03-01", "USD", [
        (1, "7100010000", "alpha, L1 gap 0.5 no cap", "ZA", "1.001", "0.00", None)], {}),
    ("A02-TP-TO-EQ-D-CAP-BINDS", "2026-06-01", "USD", [
        (1, "7100010000", "alpha, L1 ends on D -> L4 cap 50", "ZA", "100.000", "600.00", None)], {}),
    ("A03-CAP-NOT-BINDING", "2026-07-01", "USD", [
        (1, "7100010000", "alpha L4", "ZA", "100.000", "900.00", None)], {}),
    ("A04-L2-MINERAL-STAR", "2025-03-01", "USD", [
        (1, "7100010000", "alpha PARTNER -> (alpha,*) cap 20", "GB", "10.000", "50.00", None)], {}),
    ("A05-L3-STAR-STAGE-MEMBERSHIP-FROM-EQ-D", "2025-07-01", "USD", [
        (1, "7100060000", "epsilon PARTNER -> (*,REFINED)", "MX", "2.000", "60.00", None)], {}),
    ("A06-MEMBERSHIP-NOT-YET", "2025-06-30", "USD", [
        (1, "7100060000", "epsilon NON_MEMBER -> (*,*)", "MX", "2.000", "60.00", None)], {}),
    ("A07-GAP-ZERO-BELOW-FLOOR", "2025-03-01", "USD", [
        (1, "7100010000", "alpha MEMBER gap 0", "CA", "10.000", "1.00", None)], {}),
    ("A08-FX-EXACT-DATE-L4", "2025-06-15", "EUR", [
        (1, "7100020000", "beta 1.5 t", "ZA", "1500.000", "2000.00", None)], {}),
    ("A09-FX-EARLIER-DATE", "2025-06-14", "EUR", [
        (1, "7100020000", "beta 1.5 t", "ZA", "1500.000", "2000.00", None)], {}),
    ("A10-NO-TARIFF-PARAMETER", "2025-03-01", "USD", [
        (1, "7100020000", "beta PARTNER: no row at any level", "GB", "1500.000", "100.00", None)], {}),
    ("A11-LB-CONTAINED-DECLARED", "2025-03-01", "USD", [
        (1, "7100030000", "gamma Co 50%", "ZA", "100.000", "800.00", C("Co", "50.0000"))], {}),
    ("A12-LB-CONTENT-ABSENT", "2025-03-01", "USD", [
        (1, "7100030000", "gamma no content", "ZA", "100.000", "20.00", None)], {}),
    ("A13-CONTENT-CASE-MISMATCH", "2025-03-01", "USD", [
        (1, "7100030000", "gamma co lowercase", "ZA", "100.000", "20.00", C("co", "50.0000"))], {}),
    ("A14-DEFAULTED-AND-NO-TARIFF", "2025-03-01", "USD", [
        (1, "7100030000", "gamma MEMBER", "CA", "100.000", "20.00", None)], {}),
    ("A15-MTU-CONTENT-100", "2025-03-01", "USD", [
        (1, "7100040000", "delta WO3 100%", "ZA", "10.000", "100.00", C("WO3", "100.0000"))], {}),
    ("A16-MTU-OTHER-ELEMENT-MFN-TO-EQ-D", "2026-01-01", "USD", [
        (1, "7100040000", "delta Mo declared", "ZA", "10.000", "100.00", C("Mo", "30.0000"))], {}),
    ("A17-CAP-ZERO", "2025-12-31", "USD", [
        (1, "7100040000", "delta PARTNER cap 0", "GB", "10.000", "100.00", C("WO3", "50.0000"))], {}),
    ("A18-NO-REFERENCE-PRICE", "2025-03-01", "USD", [
        (1, "7100050000", "omega", "CA", "10.000", "100.00", None),
        (2, "7100050000", "omega", "GB", "10.000", "100.00", None)], {}),
    ("A19-PRICE-TO-EQ-D", "2025-10-01", "USD", [
        (1, "7100070000", "zeta price ended", "ZA", "10.000", "1.00", None)], {}),
    ("A20-LB-GROSS", "2025-09-30", "USD", [
        (1, "7100070000", "zeta lb gross", "ZA", "10.000", "100.00", None)], {}),
    ("A21-PRICE-FROM-EQ-D", "2026-01-01", "USD", [
        (1, "7100060000", "epsilon new price", "ZA", "2.000", "100.00", None),
        (2, "7100060000", "epsilon new price", "GB", "2.000", "100.00", None)], {}),
    ("A22-T-CONTAINED", "2025-03-01", "USD", [
        (1, "7100080000", "eta Ni 100", "ZA", "1000.000", "10000.00", C("Ni", "100.0000")),
        (2, "7100080000", "eta default", "ZA", "1000.000", "10000.00", None)], {}),
    ("A23-MEMBERSHIP-ENDS", "2026-01-01", "GBP", [
        (1, "7100010000", "GB partnership ended on D", "GB", "10.000", "10.00", None)], {}),
    ("A24-MEMBERSHIP-GAP-AND-RESTART", "2026-03-01", "USD", [
        (1, "7100010000", "GB member from D", "GB", "10.000", "10.00", None),
        (2, "9999999999", "not in scope, treatment still set", "MX", "1.000", "3.00", None),
        (3, "7100010000", "non member", "DE", "10.000", "10.00", None)], {}),
    ("A25-FX-ONLY-ROW-ON-D", "2026-01-01", "CHF", [
        (1, "7100010000", "CHF first rate dated D", "CA", "1.000", "8.00", None),
        (2, "9999999999", "zero value, not in scope", "CA", "1.000", "0.00", None)], {}),
    ("A26-LB-EXACT-TIE", "2025-03-01", "USD", [
        (1, "7100030000", "45359.237 kg * 1.2345% = 1234.5 lb exactly", "ZA", "45359.237", "10000.00", C("Co", "1.2345"))], {}),
    ("A27-LB-NEAR-TIE", "2025-03-01", "USD", [
        (1, "7100030000", "1 g less than A26: just below the tie", "ZA", "45359.236", "10000.00", C("Co", "1.2345"))], {}),
    # ---- classification ------------------------------------------------------------
    ("C01-LONGEST-PREFIX-BEATS-PRIORITY", "2025-03-01", "USD", [
        (1, "7201100000", "long prefix prio 99", "ZA", "1.000", "1.00", None),
        (2, "7201200000", "short prefix only", "ZA", "1.000", "1.00", None)], {}),
    ("C02-PRIORITY", "2025-03-01", "USD", [
        (1, "7201300000", "rare earth OXIDE", "ZA", "1.000", "1.00", None),
        (2, "7201300000", "rare earth metal", "ZA", "1.000", "1.00", None)], {}),
    ("C03-RULE-ID-BYTE-ORDER", "2025-03-01", "USD", [
        (1, "7201400000", "metal powder", "ZA", "1.000", "1.00", None),
        (2, "7201400000", "Metal bars", "ZA", "1.000", "1.00", None),
        (3, "7201500000", "foil and sheet", "ZA", "1.000", "1.00", None),
        (4, "7201500000", "FOIL", "ZA", "1.000", "1.00", None)], {}),
    ("C04-KEYWORD-CASE", "2025-03-01", "USD", [
        (1, "7201600000", "SPODUMENE CONCENTRATE", "ZA", "10.000", "1.00", None),
        (2, "7201600000", "crushed spodumene", "ZA", "10.000", "1.00", C("WO3", "10.0000")),
        (3, "7201600000", "spodumen (misspelt)", "ZA", "10.000", "1.00", None)], {}),
    ("C05-KEYWORD-NON-ASCII", "2025-03-01", "USD", [
        (1, "7201700000", "BASTN\u00c4SITE ore", "ZA", "1.000", "1.00", None),
        (2, "7201700000", "Bastn\u00e4site ore", "ZA", "1.000", "1.00", None)], {}),
    ("C06-RULE-TO-EQ-D", "2025-09-01", "USD", [(1, "7201800000", "x", "ZA", "1.000", "1.00", None)], {}),
    ("C07-RULE-DAY-BEFORE", "2025-08-31", "USD", [(1, "7201800000", "x", "ZA", "1.000", "1.00", None)], {}),
    ("C08-RULE-NOT-YET", "2026-05-31", "USD", [(1, "7201900000", "x", "ZA", "1.000", "1.00", None)], {}),
    ("C09-RULE-FROM-EQ-D", "2026-06-01", "USD", [(1, "7201900000", "x", "ZA", "1.000", "1.00", None)], {}),
    # ---- MFN -----------------------------------------------------------------------
    ("F01-MFN-PREFIX-LONGER-THAN-CODE", "2025-03-01", "USD", [
        (1, "710003", "6-digit code; 10-digit mfn prefix does not apply", "ZA", "100.000", "1000.00", C("Co", "1.0000")),
        (2, "7100030000", "10-digit code = mfn prefix", "ZA", "100.000", "1000.00", C("Co", "1.0000")),
        (3, "9999999999", "no mfn match", "ZA", "1.000", "1000.00", None),
        (4, "7100020000", "710002 beats 71", "CA", "1.000", "1000.00", None)], {}),
    # ---- rounding ties -------------------------------------------------------------
    ("R01-FX-HALF-CENT-BGN", "2025-03-01", "BGN", [
        (1, "9999999999", "0.01*0.5=0.005", "ZA", "1.000", "0.01", None),
        (2, "9999999999", "0.03*0.5=0.015", "ZA", "1.000", "0.03", None),
        (3, "9999999999", "1.01*0.5=0.505", "ZA", "1.000", "1.01", None),
        (4, "7150000000", "0.20*0.5=0.10; mfn 71 5% of 0.10 = 0.005", "ZA", "1.000", "0.20", None)], {}),
    ("R02-FX-HALF-CENT-INR", "2025-03-01", "INR", [
        (1, "9999999999", "0.40*0.0125=0.005", "ZA", "1.000", "0.40", None),
        (2, "9999999999", "1.20*0.0125=0.015", "ZA", "1.000", "1.20", None),
        (3, "9999999999", "0.39*0.0125=0.004875", "ZA", "1.000", "0.39", None)], {}),
    ("R03-CAP-HALF-CENT", "2026-07-01", "USD", [
        (1, "7100010000", "cap 50% of 10.01 = 5.005", "ZA", "100.000", "10.01", None)], {}),
    ("R04-BASE-HALF-CENT", "2025-03-01", "USD", [
        (1, "7100010000", "5% of 0.10", "CA", "1.000", "0.10", None),
        (2, "7100010000", "5% of 0.30", "CA", "1.000", "0.30", None)], {}),
    # ---- large values --------------------------------------------------------------
    ("L01-MAX-VALUE-SHORTFALL-EXACTLY-ZERO", "2026-07-01", "USD", [
        (1, "7100010000", "10/kg * 999999999999999.999 kg = value", "ZA", "999999999999999.999", "9999999999999999.99", None)], {}),
    ("L02-HUGE-NO-CAP", "2025-03-01", "USD", [
        (1, "7100010000", "L1 no cap", "ZA", "999999999999999.999", "0.01", None)], {}),
    ("L03-HUGE-JPY", "2025-03-01", "JPY", [
        (1, "7100030000", "gamma lb contained", "ZA", "999999999999999.999", "9999999999999999.99", C("Co", "99.9999"))], {}),
    ("L04-HUGE-MTU-CAP", "2025-03-01", "EUR", [
        (1, "7100040000", "delta mtu", "ZA", "987654321098765.432", "1234567890123456.78", C("WO3", "99.9999"))], {}),
    # ---- multi-line mixes ----------------------------------------------------------
    ("X01-MULTI", "2026-02-15", "EUR", [
        (10, "7100010000", "alpha", "GB", "12.345", "33.33", None),
        (20, "7100020000", "beta", "CA", "2500.000", "1234.56", None),
        (30, "7100030000", "gamma", "MX", "777.777", "4321.09", C("Co", "12.3456")),
        (40, "7100040000", "delta", "ZA", "55.555", "999.99", C("WO3", "65.0000")),
        (50, "7100050000", "omega", "ZA", "1.000", "10.00", None),
        (60, "0101210000", "live horses", "ZA", "500.000", "25000.00", None)], {"version": 4, "function_code": "AMENDMENT"}),
]


def main():
    base = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    for i, (sfx, date, cur, lines, over) in enumerate(CASES):
        d = {
            "declaration_id": "EDGE-" + sfx,
            "version": 1,
            "function_code": "ORIGINAL",
            "submitted_at": int(base.timestamp() * 1000) + i * 1000,
            "acceptance_date": date,
            "declarant_id": "DCL%04d" % i,
            "importer_id": "IMP%06d" % (i * 7),
            "port_code": "0001",
            "export_country": "ZA",
            "invoice_currency": cur,
            "lines": [
                {"item_no": it, "commodity_code": code, "description": desc, "origin_country": orig,
                 "net_mass_kg": mass, "customs_value": val, "content": cont, "preference_claim": None}
                for (it, code, desc, orig, mass, val, cont) in lines
            ],
        }
        d.update(over)
        sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
