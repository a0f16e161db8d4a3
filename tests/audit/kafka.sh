#!/usr/bin/env bash
# tests/audit/kafka.sh FLOORGATE PYTHON WORKDIR: audit over topic ranges on a real
# Apache Kafka broker (scripts/kafka.sh), for what the mock cluster cannot do
# (offsets by time). Prints one `ok: ...` or `fail: ...` line per check; exit 0
# when all passed, 2 when the broker could not be set up.
#
# Input i of 2000 is on partition i % 3 with timestamp 2026-11-25T00:00Z + i
# minutes, so 10:00Z..12:00Z holds exactly 120 inputs. `floorgate run` answers
# them; the checks then audit the topics.
#   FG_AUDIT_KAFKA_PORT  broker port (controller: port+1); unset: first free pair
#                        from 29292
set -u
FG=$1 PY=$2 W=$3
INST="$W/kafka"
mkdir -p "$W"
. scripts/ports.sh
if [ -n "${FG_AUDIT_KAFKA_PORT:-}" ]; then
	PORT=$FG_AUDIT_KAFKA_PORT
else
	PORT=$(fg_free_ports 29292 2 2 29390) ||
		{ echo "setup: no free port pair in 29292..29391"; exit 2; }
fi
trap 'bash scripts/kafka.sh stop --dir "$INST" >/dev/null 2>&1' EXIT
bash scripts/kafka.sh start --port "$PORT" --dir "$INST" >"$W/kafka-start.out" 2>&1 ||
	{ tail -n 5 "$W/kafka-start.out"; echo "setup: could not start Kafka"; exit 2; }
BS=127.0.0.1:$PORT
for t in declarations assessments deadletters; do
	bash scripts/kafka.sh create-topic "$t" 3 --dir "$INST" >/dev/null 2>&1 || { echo "setup: topic $t"; exit 2; }
done
"$FG" gen --count 2000 --seed 44 --data data --out "$W/k.avro" >/dev/null 2>&1 &&
	"$PY" tests/audit/audit_check.py produce "$W/k.avro" --bootstrap "$BS" --topic declarations \
		--partitions 3 --base-ms 1795564800000 >/dev/null &&
	"$FG" assess --quiet --data data --in "$W/k.avro" --out "$W/k-a.avro" --dlq "$W/k-q.avro" &&
	timeout 300 "$FG" run -X "kafka.bootstrap.servers=$BS" -X run.exit_on_eof=true -X data.dir=data \
		>"$W/run.out" 2>&1 || { tail -n 5 "$W/run.out"; echo "setup: inputs or floorgate run failed"; exit 2; }

rc=0
X="-X kafka.bootstrap.servers=$BS -X kafka.group.id=auditors"
res() { if [ "$1" = 0 ]; then echo "ok: $2"; else echo "fail: $2"; sed 's/^/    /' "$W/k.out" | tail -n 15; rc=1; fi; }

timeout 120 "$FG" audit --completeness --input kafka:declarations --outputs kafka:assessments kafka:deadletters $X >"$W/k.out" 2>&1
[ $? = 0 ] && grep -qx "inputs                         2000" "$W/k.out" && grep -q "COMPLETE, every input" "$W/k.out"
res $? "completeness of the whole topic after floorgate run (2000 inputs, exit 0)"

timeout 120 "$FG" audit --completeness --input kafka:declarations --from 2026-11-25T10:00:00Z --to 2026-11-25T12:00:00Z \
	--outputs kafka:assessments kafka:deadletters $X >"$W/k.out" 2>&1
[ $? = 0 ] && grep -qx "inputs                         120" "$W/k.out" &&
	grep -qx "answered exactly once          120" "$W/k.out"
res $? "a time range (offsets for times) selects exactly its 120 inputs"

timeout 120 "$FG" audit --completeness --input kafka:declarations --from @1795600800000 --to 0:245,1:245,2:245 \
	--outputs kafka:assessments kafka:deadletters $X >"$W/k.out" 2>&1
# From input 600 (offset 200 on each partition) to offset 245: 45 a partition.
[ $? = 0 ] && grep -qx "inputs                         135" "$W/k.out"
res $? "a time lower bound with per-partition offset upper bounds (135 inputs)"

timeout 120 "$FG" audit --recorded kafka:assessments kafka:deadletters --recomputed "$W/k-a.avro" "$W/k-q.avro" $X \
	>"$W/k.out" 2>&1
[ $? = 0 ] && grep -q "matched 2000: 2000 equal, 0 differing" "$W/k.out"
res $? "the output topics audit equal to assess over the same declarations (exit 0)"

"$PY" tests/audit/audit_check.py committed --bootstrap "$BS" --group auditors \
	--topics declarations assessments deadletters --partitions 3 >"$W/k.out" 2>&1
res $? "no committed offsets for the group the audits ran with"
exit $rc
