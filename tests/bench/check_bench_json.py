#!/usr/bin/env python3
"""Checks the one JSON object `floorgate bench --json` prints: the keys a
capacity planner scripts against are there, every phase measured something,
and nothing offered was lost on the way (every acknowledged output was read
back). No figure is compared with a speed: speed belongs to benchmarks."""
import json
import sys

REQUIRED = [
    "pipeline_decl_per_s", "avro_generic_decode_decl_per_s", "e2e_decl_per_s",
    "null_passthrough_msg_per_s", "e2e_p99_ms_at_half_rate", "peak_rss_mb",
]


def main():
    d = json.load(open(sys.argv[1]))
    errors = []
    for k in REQUIRED:
        v = d.get(k)
        if not isinstance(v, (int, float)) or v <= 0:
            errors.append(f"{k}: {v!r}, wanted a positive number")
    # without --rate the latency phase runs at half the measured maximum
    if d.get("latency_at_half_rate") is not True:
        errors.append(f"latency_at_half_rate: {d.get('latency_at_half_rate')!r}, wanted true")
    if d.get("latency_missing", 1) != 0:
        errors.append(f"latency_missing: {d.get('latency_missing')!r}, wanted 0")
    nl = d.get("null_latency", {})
    if not nl.get("samples") or nl.get("missing") != 0:
        errors.append(f"null_latency: {nl!r}, wanted samples and none missing")
    for ph in ("e2e", "null"):
        acked, read = d.get(f"{ph}_outputs_acked"), d.get(f"{ph}_outputs_read_back")
        if not acked or acked != read:
            errors.append(f"{ph}: {acked!r} outputs acknowledged, {read!r} read back")
    # e2e and null take turns in rounds; each headline rate is over all of
    # its rounds, so it lies between the slowest and the fastest round.
    n = d.get("rounds")
    for key, rounds in (("e2e_decl_per_s", "e2e_rounds_decl_per_s"),
                        ("null_passthrough_msg_per_s", "null_rounds_msg_per_s")):
        r = d.get(rounds)
        if not isinstance(n, int) or n < 1 or not isinstance(r, list) or len(r) != n \
                or not all(isinstance(x, (int, float)) and x > 0 for x in r):
            errors.append(f"{rounds}: {r!r}, wanted {n!r} positive rates")
        elif isinstance(d.get(key), (int, float)) and \
                not min(r) - 1 <= d[key] <= max(r) + 1:
            errors.append(f"{key}: {d[key]!r} outside its rounds {r!r}")
    # in process, the pipeline and Avro C take turns the same way
    n = d.get("inprocess_rounds")
    for key, rounds in (("pipeline_decl_per_s", "pipeline_rounds_decl_per_s"),
                        ("avro_generic_decode_decl_per_s",
                         "avro_generic_decode_rounds_decl_per_s")):
        r = d.get(rounds)
        if not isinstance(n, int) or n < 1 or not isinstance(r, list) or len(r) != n \
                or not all(isinstance(x, (int, float)) and x > 0 for x in r):
            errors.append(f"{rounds}: {r!r}, wanted {n!r} positive rates")
        elif isinstance(d.get(key), (int, float)) and \
                not min(r) - 1 <= d[key] <= max(r) + 1:
            errors.append(f"{key}: {d[key]!r} outside its rounds {r!r}")
    cores = d.get("e2e_cores", {})
    if not cores.get("workers", 0) > 0:
        errors.append(f"e2e_cores: {cores!r}, wanted the workers' share")
    if not d.get("null_cores", {}).get("consumer", 0) > 0:
        errors.append(f"null_cores: {d.get('null_cores')!r}, wanted the consumer's share")
    for e in errors:
        print("bench json:", e)
    if errors:
        return 1
    print(f"bench json: OK ({len(d)} keys; {d['e2e_outputs_acked']} e2e outputs read back)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
