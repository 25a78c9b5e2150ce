"""The top floor: the command line. Each command parses, calls one library function and
prints what it returns."""
