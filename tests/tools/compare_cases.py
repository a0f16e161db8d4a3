#!/usr/bin/env python3
"""Compare floorgate's file-mode output with an expected.jsonl.

    compare_cases.py EXPECTED.jsonl ASSESSMENTS.jsonl DEADLETTERS.jsonl

The two output files are `floorgate dump` of the assessment and dead-letter
files. Every input record must have exactly one output (by source_index);
each is compared field by field with the expected line at the same index.
Prints one line per mismatch and a closing `cases: N passed, N failed`.
"""
import json
import sys

LINE_FIELDS = ["item_no", "commodity_code", "status", "rule_id", "mineral", "stage",
               "treatment", "value_usd", "base_duty", "floor_duty", "line_duty", "flags"]
TOTALS = ["total_value_usd", "total_base_duty", "total_floor_duty", "total_duty"]


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def main():
    expected = load(sys.argv[1])
    got = {}
    problems = []
    for kind, path in (("assessment", sys.argv[2]), ("dlq", sys.argv[3])):
        for rec in load(path):
            i = rec["source_index"]
            if i in got:
                problems.append(f"record {i}: more than one output")
            got[i] = (kind, rec)
    passed = failed = 0
    for i, exp in enumerate(expected):
        errs = []
        if i not in got:
            errs.append("no output")
        else:
            kind, rec = got[i]
            if rec.get("declaration_id") != exp["declaration_id"] or rec.get("version") != exp["version"]:
                errs.append(f"id/version {rec.get('declaration_id')}/{rec.get('version')}")
            if "dlq" in exp:
                if kind != "dlq":
                    errs.append(f"expected dead letter {exp['dlq']}, got an assessment")
                elif rec["reason"] != exp["dlq"]:
                    errs.append(f"reason {rec['reason']} != {exp['dlq']}")
            else:
                ea = exp["assessment"]
                if kind != "assessment":
                    errs.append(f"expected an assessment, got dead letter {rec['reason']}: {rec['message']}")
                else:
                    for t in TOTALS:
                        if rec[t] != ea[t]:
                            errs.append(f"{t} {rec[t]} != {ea[t]}")
                    if len(rec["lines"]) != len(ea["lines"]):
                        errs.append("line count differs")
                    for gl, el in zip(rec["lines"], ea["lines"]):
                        for fld in LINE_FIELDS:
                            if gl[fld] != el[fld]:
                                errs.append(f"item {el['item_no']} {fld}: {gl[fld]!r} != {el[fld]!r}")
        if errs:
            failed += 1
            print(f"record {i} ({exp['declaration_id']} v{exp['version']}): " + "; ".join(errs))
        else:
            passed += 1
    extra = set(got) - set(range(len(expected)))
    for i in sorted(extra):
        problems.append(f"record {i}: output for an input that does not exist")
    for p in problems:
        print(p)
        failed += 1
    print(f"cases: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
