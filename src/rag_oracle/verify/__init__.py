"""Citation verification: parse markers, check that sentences and numbers are supported by the passages they cite."""
