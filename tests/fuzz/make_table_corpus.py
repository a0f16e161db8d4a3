#!/usr/bin/env python3
"""make_table_corpus.py: writes the seed inputs of fuzz_csv, fuzz_refdata
and fuzz_config into corpus/{csv,refdata,config}/.

- refdata: the six tables of data/ and of tests/cases/edge/data in the
  layout fuzz_refdata.c reads (the files in its order, separated by the
  line "%%"). The edge set fits in one seed; data/ is dealt into CHUNKS
  seeds, row r of every file into seed r % CHUNKS, so each seed stays under
  the 4 KB run.sh gives an input and together they hold every row (a subset
  of a valid set is valid: no new overlaps). A few one-change variants
  start libFuzzer near the loader's refusals.
- csv: each table file cut to 4 KB at a line end, and small inputs for
  what RFC 4180 allows (quoted commas, doubled quotes, line breaks in
  quotes, CRLF, a byte-order mark, empty fields) and what the reader
  refuses.
- config: configuration files of the `key = value` syntax, valid and not.

Run it again after the tables or their columns change:
    python3 tests/fuzz/make_table_corpus.py
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FILES = ["classification.csv", "mfn.csv", "reference_prices.csv",
         "tariff_parameters.csv", "membership.csv", "fx_rates.csv"]
SEP = b"%%\n"
CHUNKS = 7
MAX = 4096


def read_tables(d):
    return [open(os.path.join(ROOT, d, f), "rb").read() for f in FILES]


def layout(tables):
    out = SEP.join(tables)
    assert len(out) <= MAX, f"seed of {len(out)} bytes > {MAX}"
    return out


def deal(tables, chunks):
    """Seed k: every file's header and its rows r with r % chunks == k."""
    seeds = []
    for k in range(chunks):
        part = []
        for t in tables:
            lines = t.splitlines(keepends=True)
            part.append(b"".join([lines[0]] + lines[1:][k::chunks]))
        seeds.append(layout(part))
    return seeds


def fresh(name):
    d = os.path.join(HERE, "corpus", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def refdata():
    d = fresh("refdata")
    edge = read_tables("tests/cases/edge/data")
    write(d, "edge.txt", layout(edge))
    for k, s in enumerate(deal(read_tables("data"), CHUNKS)):
        write(d, f"data_{k}.txt", s)

    def variant(name, i, old, new):
        t = list(edge)
        assert old in t[i], (name, old)
        t[i] = t[i].replace(old, new, 1)
        write(d, name, layout(t))

    variant("bad_decimal.txt", 1, b",5,", b",5.x,")
    variant("bad_date.txt", 5, b"2025-06-15", b"2025-02-30")
    variant("overlap_membership.txt", 4, b"GB,PARTNER,mou,2025-01-01,2026-01-01",
            b"GB,PARTNER,mou,2025-01-01,2026-01-01\nGB,MEMBER,\"a\nb\",2025-06-01,")
    variant("quoted_agreement.txt", 4, b"CA,MEMBER,core,", b"CA,MEMBER,\"co,re\"\"s\",")
    variant("columns_reordered.txt", 5, b"currency,date,usd_per_unit\n",
            b"usd_per_unit,currency,date\n")
    variant("short_row.txt", 2, b"alpha,REFINED,10,kg,gross,,,2025-01-01,",
            b"alpha,REFINED,10,kg")
    variant("contained_pct.txt", 2, b"alpha,REFINED,10,kg,gross,,,",
            b"alpha,REFINED,10,kg,contained,Al,100.5,")
    write(d, "crlf_bom.txt", layout([b"\xef\xbb\xbf" + t.replace(b"\n", b"\r\n")
                                     for t in edge]))
    write(d, "empty.txt", b"")


CSV_CASES = {
    "plain.csv": b"a,bb,ccc\n1,22,333\n",
    "quoted.csv": b'name,note\n"x,y","say ""hi"""\n"",""\n',
    "quoted_newlines.csv": b'a,b\n"line one\nline two","cr\r\nlf"\n3,4\n',
    "crlf.csv": b"a,b\r\n1,2\r\n\r\n3,4\r",
    "bom.csv": b"\xef\xbb\xbfh1,h2\n\xef\xbb\xbfv,\"\xef\xbb\xbf\"\n",
    "empty_fields.csv": b",,\n,\n\n,,,\n",
    "sixteen.csv": b",".join([b"f"] * 16) + b"\n" + b",".join([b"g"] * 16),
    "seventeen.csv": b",".join([b"f"] * 17) + b"\n",
    "unclosed.csv": b'a,"b\nc,d\n',
    "after_quote.csv": b'a,"b"c,d\n',
    "quote_inside.csv": b"a,b\"c\n",
    "lone_cr.csv": b"a\rb,c\r",
    "nul.csv": b"a\x00b,\"c\x00\"\n",
}


def csv():
    d = fresh("csv")
    for name, data in CSV_CASES.items():
        write(d, name, data)
    for src in ("data", "tests/cases/edge/data"):
        tag = "edge" if "edge" in src else "data"
        for f, t in zip(FILES, read_tables(src)):
            if len(t) > MAX:
                t = t[:t.rindex(b"\n", 0, MAX) + 1]
            write(d, f"{tag}_{f}", t)


CONFIG_CASES = {
    "full.conf": b"""# floorgate run configuration
input.topic = declarations
output.topic = assessments
deadletter.topic = deadletters
data.dir = data
schema.dir = schemas/registry
output.assessment.schema_id = 2
output.deadletter.schema_id = 3
run.exit_on_eof = true
run.connect_timeout_ms = 30000
run.workers = 4
run.batches = 8
run.batch_size = 10000
run.progress_interval_ms = 0
run.max_messages = 0
run.flush_timeout_ms = 60000
kafka.bootstrap.servers = 127.0.0.1:9092
kafka.group.id = floorgate
kafka.consumer.auto.offset.reset = earliest
kafka.producer.linger.ms = 5
kafka.acks = all
""",
    "crlf_tabs.conf": b"\tinput.topic\t=\tin \r\n# c\r\n\r\nrun.workers=2\r\nkafka.debug = \r\n",
    "repeated.conf": b"input.topic = a\ninput.topic = b\nkafka.linger.ms = 1\n"
                     b"kafka.producer.linger.ms = 2\n",
    "no_equals.conf": b"input.topic = a\nthis is not a setting\n",
    "unknown_key.conf": b"input.topc = x\n",
    "bad_number.conf": b"run.batch_size = 0\nrun.workers = 99\n",
    "bad_bool.conf": b"run.exit_on_eof = maybe\n",
    "empty_kafka.conf": b"kafka. = 1\n",
    "bad_kafka_value.conf": b"kafka.acks = sometimes\nkafka.no.such.property = 1\n",
    "no_final_newline.conf": b"output.topic = out",
    "value_with_equals.conf": b"kafka.sasl.jaas.config = a=b c=d\ndata.dir = x=y\n",
    # The bugs fuzz_config found, kept as seeds: a NUL byte, a line longer
    # than the old 4095-byte buffer (exactly -max_len), an empty property
    # after kafka.consumer.
    "nul_byte.conf": b"input.topic = in\noutput.topic = out\0put\n",
    "long_line.conf": b"input.topic = " + b"t" * (MAX - 14),
    "empty_consumer_property.conf": b"kafka.consumer. = 1\n",
}


def config():
    d = fresh("config")
    for name, data in CONFIG_CASES.items():
        write(d, name, data)


if __name__ == "__main__":
    refdata()
    csv()
    config()
