# scripts/ports.sh: picking ports for the brokers the tests start (sourced).
#
# The defaults lie below Linux's ephemeral range (32768-60999, see
# /proc/sys/net/ipv4/ip_local_port_range). A port inside it can be taken at
# any moment by an outgoing connection, including those of the cluster's own
# nodes while a later node is still binding: a 3-node start on 40000-40008
# failed with "Address already in use" that way. Below the range only a
# listener holds a port, and fg_port_in_use sees it.

# fg_port_in_use PORT: true when PORT on 127.0.0.1 is the local end of a socket.
fg_port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# fg_free_ports FIRST COUNT STEP LAST: prints the first of FIRST, FIRST+STEP,
# ... up to LAST whose COUNT ports from there are all free; fails if none is.
fg_free_ports() {
	local p=$1 n=$2 step=$3 last=$4 k
	while [ "$p" -le "$last" ]; do
		for ((k = 0; k < n; k++)); do
			fg_port_in_use $((p + k)) && break
		done
		if [ "$k" = "$n" ]; then
			echo "$p"
			return 0
		fi
		p=$((p + step))
	done
	return 1
}
