# Shared by every Sluice script that boots something (sourced, bash):
# ./sluice, sluice-run, test/qemu/run-scenario, bench/linux/run and
# test/qemu/boot-time. It is the one place for QEMU's command line and for
# what an outcome means.

# QEMU as every Sluice boot runs it: TCG (no KVM), 256 MiB, no reboot (a
# triple fault ends QEMU with status 0), no display, no monitor, and the
# isa-debug-exit port through which the kernel powers off: it writes 0x10
# (QEMU exits 33: every silo exited 0) or 0x11 (QEMU exits 35: failure).
SLUICE_QEMU=(qemu-system-x86_64 -accel tcg -m 256M -no-reboot -display none
	-monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04)

# Exit statuses of ./sluice run, sluice-run and ./sluice debug.
SLUICE_EXIT_PASS=0        # every silo exited 0 (QEMU 33)
SLUICE_EXIT_SILO=1        # a silo exited non-zero, was killed or failed to load
SLUICE_EXIT_USAGE=2       # nothing booted: bad argument, missing file or package
SLUICE_EXIT_KERNEL=3      # the kernel failed: panic, leak, triple fault, no report
SLUICE_EXIT_QEMU=4        # the image could not be made or QEMU did not start
SLUICE_EXIT_TIMEOUT=124   # the time limit passed (as timeout(1))
SLUICE_EXIT_INTERRUPTED=130 # Ctrl-C (128 + SIGINT)

# How long a boot may take unless told otherwise, seconds.
SLUICE_TIMEOUT_DEFAULT=120

# sluice_prune_runs DIR: keeps the last 20 run directories that ended (they
# have a verdict file); runs still going are never touched.
sluice_prune_runs() {
	ls -1dt "$1"/*/verdict 2>/dev/null | tail -n +21 | xargs -r dirname | xargs -r rm -rf
}

# The silos of a serial log, one "NAME (id N) WHAT" per line, from the
# kernel's "summary: silo NAME (id N): WHAT" lines at shutdown.
sluice_silo_summaries() {
	tr -d '\r' <"$1" | sed -n 's/^summary: silo \(.*\) (id \([0-9]*\)): \(.*\)$/\1 (id \2) \3/p' |
		sed 's/) server, stopped at shutdown$/) stopped at shutdown (the server)/'
}

# What QEMU's exit status says, in words.
sluice_status_text() {
	case $1 in
	33) echo "the kernel reported success (status 33)" ;;
	35) echo "the kernel reported failure (status 35)" ;;
	0) echo "the guest triple-faulted (QEMU exited with status 0 without the kernel's report)" ;;
	124 | 137) echo "the time limit passed (status $1)" ;;
	*) echo "QEMU exited with status $1" ;;
	esac
}

# sluice_verdict QEMU_STATUS LOG [TIMEOUT_SECONDS [INTERRUPTED]]
# Prints the verdict, "PASS: ..." or "FAIL: ...", naming every silo with
# its own outcome, and returns the exit status above. QEMU_STATUS is the
# status of timeout(1) around QEMU (124/137: the time limit passed).
sluice_verdict() {
	local status=$1 log=$2 limit=${3:-?} interrupted=${4:-0} silos why
	silos=$(sluice_silo_summaries "$log" | paste -sd ';' | sed 's/;/; /g')
	if [ "$interrupted" = 1 ]; then
		echo "FAIL: interrupted (Ctrl-C)${silos:+; $silos}"
		return $SLUICE_EXIT_INTERRUPTED
	fi
	case $status in
	124 | 137)
		echo "FAIL: timed out after ${limit}s${silos:+; $silos}"
		return $SLUICE_EXIT_TIMEOUT ;;
	33)
		echo "PASS: ${silos:-no silos}"
		return $SLUICE_EXIT_PASS ;;
	35)
		if grep -q '^summary: silo .*: \(exited [^0]\|exited -\|killed\|failed\|still\)' "$log"; then
			echo "FAIL: $silos"
			return $SLUICE_EXIT_SILO
		fi
		why=$(tr -d '\r' <"$log" | grep -m1 -o 'PANIC: .*\|LEAK: .*' || echo "no shutdown report")
		echo "FAIL: $(sluice_status_text 35): $why${silos:+; $silos}"
		return $SLUICE_EXIT_KERNEL ;;
	0)
		echo "FAIL: $(sluice_status_text 0)${silos:+; $silos}"
		return $SLUICE_EXIT_KERNEL ;;
	*)
		echo "FAIL: $(sluice_status_text "$status")${silos:+; $silos}"
		return $SLUICE_EXIT_QEMU ;;
	esac
}
