# lib.sh - shared by the bench scripts (sourced; the script defines die()).

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
