"""Chapter 9: the NAS-Bench-201 (NATS-Bench topology) space and its 15,625 trained cells."""
