// Package sysio is what the event loops of the relay (proxy/relay), the
// load generator (loadgen) and the echo backend (echo) need below package
// net, defined once:
//
//   - DupFD takes a socket's descriptor out of Go's poller;
//   - Recv, Send, Splice, EpollPoll and EpollWait are the system calls the
//     loops make on descriptors they own, each retried on EINTR (a signal,
//     such as the Go runtime's preemption signal, can land on any thread);
//   - Waker wakes a loop from other goroutines, Timer wakes it at a
//     deadline to the microsecond, and Waiter sleeps a goroutine as
//     precisely;
//   - TimerHeap orders a loop's deadlines;
//   - IsFileLimit, FileLimit and LimitErr recognise and explain the file
//     limit.
//
// The descriptor and epoll parts are Linux-only, as the engines that use
// them are; the rest builds everywhere (Waiter falls back to time.Sleep).
package sysio
