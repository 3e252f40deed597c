"""Complaint cases, pure: the five steps, SLA clocks that pause while waiting on the buyer, severity, the settlement
ladder and the call script. No clock and no I/O: `now` and the case's history are always given."""
