# tests/audit/section.sh: the `audit` section of tests/run.sh (sourced; uses its
# $FG, $T, $PY, check, expect_fail, ok, bad, skipped).
#
# Fixture: generated declarations assessed twice, with data/ and with a copy in
# which two reference prices changed and one currency lost its FX rates (so some
# declarations change duty, some by less than the tolerance, some become dead
# letters). Every expectation is computed independently from `floorgate dump`
# JSON by tests/audit/audit_check.py.
A="$T/audit"
mkdir -p "$A"
AC="$PY tests/audit/audit_check.py"
au_n=${FG_AUDIT_COUNT:-4000}

au_setup() {
	$FG gen --count "$au_n" --seed 41 --data data --out "$A/d.avro" &&
	$FG dump "$A/d.avro" >"$A/d.jsonl" &&
	$AC modify-data data "$A/prop" "$A/d.jsonl" &&
	$FG assess --quiet --data data --in "$A/d.avro" --out "$A/r-a.avro" --dlq "$A/r-q.avro" &&
	$FG assess --quiet --data "$A/prop" --in "$A/d.avro" --out "$A/n-a.avro" --dlq "$A/n-q.avro" &&
	$FG gen --count 3 --seed 42 --data data --out "$A/x.avro" &&
	$FG assess --quiet --data "$A/prop" --in "$A/x.avro" --out "$A/x-a.avro" --dlq "$A/x-q.avro" &&
	$AC cut "$A/n-a.avro" "$A/n-a-cut.avro" --drop 10,20 || return 1
	for f in r-a r-q n-a n-q x-a n-a-cut; do
		$FG dump "$A/$f.avro" >"$A/$f.jsonl" || return 1
	done
}
if au_setup >"$A/setup.out" 2>&1; then
	au_msg=$(grep '^modified' "$A/setup.out")
	ok "audit/fixture ($au_msg)"
else
	bad "audit/fixture" "$A/setup.out"
fi

REC="$A/r-a.avro $A/r-q.avro"
REC_J="$A/r-a.jsonl $A/r-q.jsonl"

# Every field difference, exactly: same rows as the independent flattening.
"$FG" audit --recorded $REC --recomputed "$A/n-a.avro" "$A/n-q.avro" --ignore reference_data_version \
	--csv "$A/all.csv" --html "$A/all.html" >"$A/all.out" 2>&1
rc=$?
if [ $rc = 1 ] && $AC diffs --recorded $REC_J --recomputed "$A/n-a.jsonl" "$A/n-q.jsonl" \
	--ignore reference_data_version --csv "$A/all.csv" --summary "$A/all.out" >>"$A/all.out" 2>&1; then
	ok "audit/finds exactly the changed declarations and fields, exit 1 ($(tail -n1 "$A/all.out"))"
else
	echo "exit $rc" >>"$A/all.out"
	bad "audit/finds exactly the changed declarations and fields, exit 1" "$A/all.out"
fi

# Without --ignore, the changed fingerprint is itself a difference on every declaration.
check "audit/reference_data_version compared unless ignored" sh -c "
	$FG audit --recorded $REC --recomputed $A/n-a.avro $A/n-q.avro --csv $A/rdv.csv >$A/rdv.out;
	[ \$? = 1 ] && $AC diffs --recorded $REC_J --recomputed $A/n-a.jsonl $A/n-q.jsonl --csv $A/rdv.csv &&
	grep -q '^  reference_data_version' $A/rdv.out"

# Tolerance: declarations whose total_duty moved by less than 20.00 USD drop out, no others.
"$FG" audit --recorded $REC --recomputed "$A/n-a.avro" "$A/n-q.avro" --ignore reference_data_version \
	--tolerance 20.00 --csv "$A/tol.csv" >"$A/tol.out" 2>&1
rc=$?
if [ $rc = 1 ] && $AC diffs --recorded $REC_J --recomputed "$A/n-a.jsonl" "$A/n-q.jsonl" \
	--ignore reference_data_version --tolerance 20.00 --expect-suppressed-min 1 \
	--csv "$A/tol.csv" --summary "$A/tol.out" >>"$A/tol.out" 2>&1; then
	ok "audit/--tolerance 20.00 suppresses exactly the declarations under it ($(tail -n1 "$A/tol.out"))"
else
	echo "exit $rc" >>"$A/tol.out"
	bad "audit/--tolerance 20.00 suppresses exactly the declarations under it" "$A/tol.out"
fi

# One-sided: two recomputed assessments removed, three extra declarations added.
"$FG" audit --recorded $REC --recomputed "$A/n-a-cut.avro" "$A/n-q.avro" "$A/x-a.avro" \
	--ignore reference_data_version --csv "$A/one.csv" >"$A/one.out" 2>&1
rc=$?
if [ $rc = 1 ] && $AC diffs --recorded $REC_J --recomputed "$A/n-a-cut.jsonl" "$A/n-q.jsonl" "$A/x-a.jsonl" \
	--ignore reference_data_version --csv "$A/one.csv" >>"$A/one.out" 2>&1 &&
	[ "$(grep -c ',(declaration),present,absent,' "$A/one.csv")" = 2 ] &&
	[ "$(grep -c ',(declaration),absent,present,' "$A/one.csv")" = 3 ] &&
	grep -qE 'only on this side +2 +3' "$A/one.out"; then
	ok "audit/declarations on one side only are listed (2 recorded-only, 3 recomputed-only)"
else
	echo "exit $rc" >>"$A/one.out"
	bad "audit/declarations on one side only are listed" "$A/one.out"
fi

expect_fail "audit/identical sides exit 0" 0 "no differences beyond the tolerance" \
	$FG audit --recorded $REC --recomputed $REC --csv "$A/none.csv"
# Only price changes of cobalt/tungsten (no FX removal): a tolerance above every delta passes.
mkdir -p "$A/prices" && cp data/*.csv "$A/prices/" && cp "$A/prop/reference_prices.csv" "$A/prices/"
expect_fail "audit/every difference under the tolerance exits 0" 0 "0 differing, [0-9]+ within tolerance" sh -c "
	$FG assess --quiet --data $A/prices --in $A/d.avro --out $A/p-a.avro --dlq $A/p-q.avro &&
	$FG audit --recorded $REC --recomputed $A/p-a.avro $A/p-q.avro --tolerance 1000000000000.00"
expect_fail "audit/unreadable input exits 2" 2 "cannot read $A/nope.avro: No such file" \
	$FG audit --recorded $REC --recomputed "$A/nope.avro"
expect_fail "audit/bad tolerance exits 2" 2 "--tolerance: \"20,00\" is not an amount" \
	$FG audit --recorded $REC --recomputed $REC --tolerance 20,00
expect_fail "audit/declaration file is not an output file" 2 "neither a DutyAssessment nor a DeadLetter" \
	$FG audit --recorded "$A/d.avro" --recomputed $REC
expect_fail "audit/missing sides exit 2" 2 "--recorded and --recomputed are required" \
	$FG audit --recorded $REC

# Completeness from files: complete, then an injected gap and injected duplicates.
expect_fail "audit/completeness: every input answered once, exit 0" 0 "COMPLETE" \
	$FG audit --completeness --input "$A/d.avro" --outputs $REC
$AC cut "$A/r-a.avro" "$A/gap-a.avro" --drop 7 --dup 12 --dup-modified 30 >"$A/cut.out" 2>&1
idx() { sed -n "$(($2 + 1))p" "$A/r-a.jsonl" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["source_index"])'; }
g_i=$(idx r-a 7) d_i=$(idx r-a 12) m_i=$(idx r-a 30)
"$FG" audit --completeness --input "$A/d.avro" --outputs "$A/gap-a.avro" "$A/r-q.avro" \
	--csv "$A/gap.csv" >"$A/gap.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -qx "gaps (inputs without an output): 1" "$A/gap.out" &&
	grep -qx "  record $g_i" "$A/gap.out" &&
	grep -qx "duplicates (inputs with more than one output): 2" "$A/gap.out" &&
	grep -qx "  record $d_i: 2 outputs, identical" "$A/gap.out" &&
	grep -qx "  record $m_i: 2 outputs, NOT identical" "$A/gap.out" &&
	grep -qx "gap,$A/d.avro,,$g_i,0," "$A/gap.csv" && grep -q INCOMPLETE "$A/gap.out"; then
	ok "audit/completeness finds the injected gap (record $g_i) and duplicates, identical or not"
else
	echo "exit $rc; wanted gap $g_i, duplicates $d_i (identical) and $m_i (not)" >>"$A/gap.out"
	bad "audit/completeness finds the injected gap and duplicates" "$A/gap.out"
fi

# What-if: impact by mineral, treatment, origin and stage = the difference of two assess runs.
"$FG" whatif --in "$A/d.avro" --recorded $REC --data "$A/prop" --csv "$A/wi.csv" \
	--html "$A/wi.html" >"$A/wi.out" 2>&1
rc=$?
if [ $rc = 1 ] && $AC whatif --decls "$A/d.jsonl" --recorded $REC_J --proposed "$A/n-a.jsonl" "$A/n-q.jsonl" \
	--csv "$A/wi.csv" >>"$A/wi.out" 2>&1; then
	ok "audit/whatif totals equal the difference of the two assess runs ($(tail -n1 "$A/wi.out"))"
else
	echo "exit $rc" >>"$A/wi.out"
	bad "audit/whatif totals equal the difference of the two assess runs" "$A/wi.out"
fi
expect_fail "audit/whatif with the recorded data changes nothing, exit 0" 0 "delta 0.00 USD" \
	$FG whatif --in "$A/d.avro" --recorded $REC --data data
expect_fail "audit/whatif bad data dir exits 2" 2 "reference data refused" \
	$FG whatif --in "$A/d.avro" --recorded $REC --data "$A/nodata"

# The HTML report, rendered by a real browser.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	skipped "audit/html report renders" "chromium is not installed (scripts/deps.sh installs it)"
else
	if timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --user-data-dir="$A/chrome-profile" \
		--dump-dom "file://$A/all.html" \
		>"$A/dom.html" 2>"$A/chrome.err" &&
		$AC html --dom "$A/dom.html" --recorded $REC_J --recomputed "$A/n-a.jsonl" "$A/n-q.jsonl" \
			>"$A/html.out" 2>&1; then
		ok "audit/html report renders: totals table and one bar per mineral ($(tail -n1 "$A/html.out"))"
	else
		cat "$A/chrome.err" >>"$A/html.out" 2>/dev/null
		bad "audit/html report renders" "$A/html.out"
	fi
	check "audit/html report is self-contained (no script, no external resource)" sh -c "
		! grep -Eiq '<script|<link|src=|@import|url\\(|https?://[^\"]*\\.(js|css|woff)' $A/all.html $A/wi.html"
fi

# Bounded memory: a large audit with a small budget stays small (RSS reported, time not asserted).
big_n=${FG_AUDIT_BIG:-1000000}
[ -n "${SANITIZER_BUILD:-}" ] && big_n=${FG_AUDIT_BIG:-20000}
au_big() {
	$FG gen --count "$big_n" --seed 43 --data data --out "$A/big.avro" &&
	$FG assess --quiet --data data --in "$A/big.avro" --out "$A/bra.avro" --dlq "$A/brq.avro" &&
	$FG assess --quiet --data "$A/prices" --in "$A/big.avro" --out "$A/bna.avro" --dlq "$A/bnq.avro" &&
	rm -f "$A/big.avro" || return 2
	# The audit reports its own peak RSS (getrusage) on its `join:` line.
	$FG audit --recorded "$A/bra.avro" "$A/brq.avro" \
		--recomputed "$A/bna.avro" "$A/bnq.avro" --ignore reference_data_version \
		--memory 32 --spill-dir "$A" --csv "$A/big.csv"
}
au_big >"$A/big.out" 2>&1
rc=$?
rss=$(sed -n 's/^join: .*; peak RSS \([0-9]*\) kB$/\1/p' "$A/big.out")
in_kb=$(($(cat "$A/bra.avro" "$A/bna.avro" 2>/dev/null | wc -c) / 1024))
spill=$(sed -n 's/^join: [0-9]* records spilled (\([0-9]*\) bytes).*/\1/p' "$A/big.out")
if [ $rc = 1 ] && [ -n "${SANITIZER_BUILD:-}" ] && [ -n "$rss" ]; then
	# ASan's shadow memory and quarantine make RSS meaningless here: reported only.
	ok "audit/large audit under the sanitizer: $big_n declarations a side, peak RSS $((rss / 1024)) MB (not asserted)"
elif [ $rc = 1 ] && [ -n "$rss" ] && [ "$rss" -lt 131072 ] &&
	{ [ "$in_kb" -lt 262144 ] || [ "$rss" -lt "$((in_kb / 4))" ]; }; then
	# Under 128 MB, and (for inputs that are large) under a quarter of their size.
	ok "audit/bounded memory: $big_n declarations a side, --memory 32: peak RSS $((rss / 1024)) MB, spilled $((${spill:-0} / 1048576)) MB, inputs $((in_kb / 1024)) MB"
else
	echo "exit $rc, peak RSS ${rss:-?} kB, inputs $in_kb kB" >>"$A/big.out"
	bad "audit/bounded memory" "$A/big.out"
fi
rm -f "$A"/b*.avro "$A/big.csv"

# Topic ranges on a real broker: offsets by time need one (the mock cluster has no index).
if [ "${FG_SKIP_E2E:-0}" = 1 ]; then
	skipped "audit/kafka topic ranges on a real broker" "FG_SKIP_E2E=1"
elif [ -n "${SANITIZER_BUILD:-}" ]; then
	skipped "audit/kafka topic ranges on a real broker" "the plain build runs it; test_audit_kafka covers this code under the sanitizer"
elif ! command -v java >/dev/null 2>&1; then
	skipped "audit/kafka topic ranges on a real broker" "no java for the broker"
else
	timeout 600 bash tests/audit/kafka.sh "$FG" "$PY" "$A/kw" >"$A/kafka.out" 2>&1
	rc=$?
	while IFS= read -r l; do
		case $l in
		"ok: "*) ok "audit/kafka: ${l#ok: }" ;;
		"fail: "*) bad "audit/kafka: ${l#fail: }" "$A/kafka.out" ;;
		esac
	done <"$A/kafka.out"
	[ $rc = 2 ] && bad "audit/kafka: broker setup" "$A/kafka.out"
fi
