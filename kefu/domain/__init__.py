"""Domain: plain values and pure rules; no database, no clock, no I/O."""
