package sidecar

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// ProcessStartTime returns the start time of process pid: field 22
// (starttime) of /proc/PID/stat, in clock ticks after boot (Linux). With
// the pid it names one process, never a later one that got the pid again;
// WithHolderPID sends it beside the pid. An error wrapping fs.ErrNotExist
// when no such process runs.
func ProcessStartTime(pid int) (uint64, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold either, or
	// spaces: the fields after it start at the last ')'.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name in %q", pid, stat)
	}
	fields := bytes.Fields(stat[end+1:])
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the command name, not 20 or more", pid, len(fields))
	}
	return strconv.ParseUint(string(fields[19]), 10, 64)
}

// HolderPIDOption is WithHolderPID's option, for AcquireLease and
// EnsureImage (with WithLease) alike.
type HolderPIDOption interface {
	LeaseOption
	EnsureOption
}

type holderPID int

// identity is the pid and start time to send, or the *Error of the call:
// InvalidArgument for a pid that cannot be a process's, FailedPrecondition
// when no such process runs (the daemon's code for it).
func (o holderPID) identity() (uint32, uint64, error) {
	if o <= 0 || int64(o) > int64(^uint32(0)) {
		return 0, 0, &Error{Code: InvalidArgument, Message: fmt.Sprintf("holder pid %d is not a process id", int(o))}
	}
	start, err := ProcessStartTime(int(o))
	if err != nil {
		return 0, 0, &Error{Code: FailedPrecondition, Message: fmt.Sprintf("holder process %d is not running: %v", int(o), err), cause: err}
	}
	return uint32(o), start, nil
}

func (o holderPID) applyLease(r *pb.AcquireLeaseRequest) (err error) {
	r.HolderPid, r.HolderStartTime, err = o.identity()
	return err
}

func (o holderPID) applyEnsure(r *pb.EnsureImageRequest) (err error) {
	r.LeaseHolderPid, r.LeaseHolderStartTime, err = o.identity()
	return err
}

// WithHolderPID binds the lease to process pid (as the daemon's pid
// namespace sees it): the daemon ends the lease as soon as that process
// ends (a pidfd on its loop, or a check every 500 ms where the kernel has
// none), so a holder killed with -9 never pins an image for ever. A ttl of
// 0 then means no time limit: the lease holds for as long as the process
// lives. The process's start time is read from /proc when the call is made
// (ProcessStartTime) and sent with the pid, so a pid reused by another
// process is never mistaken for the holder. A process that is not running
// fails the call with FailedPrecondition, without asking the daemon. For
// EnsureImage it binds the lease WithLease asks for, and needs it.
func WithHolderPID(pid int) HolderPIDOption { return holderPID(pid) }
