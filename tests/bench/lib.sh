# lib.sh - shared by the bench scripts (bash; sourced; the script defines die()).

# stamp VAR: VAR = microseconds now, bash's clock read in this shell (its decimal
# point is the locale's: '.' or ',').  A `date` process at each end of a timed
# command added its own start and exit to the time (about 100 ms each in the VM,
# 5 ms on the host), the same for both sides of a ratio, which pulled every ratio
# towards 1.
stamp() {
	printf -v "$1" '%s' "${EPOCHREALTIME//[.,]/}"
}

# wait_sock SOCKET LOG WHAT TRIES: wait up to TRIES x 50 ms for a server started in
# the background to create SOCKET; if it does not, show its LOG and die.
wait_sock() {
	_ws=0
	until [ -S "$1" ]; do
		_ws=$((_ws + 1))
		[ $_ws -gt "$4" ] && { cat "$2"; die "$3 did not start"; }
		sleep 0.05
	done
}
