"""The top floor: the command line. Each command parses its arguments, calls the library
(the work, then the files asked for) and prints what comes back.

``cli`` is the root group (its global options and one-line errors); ``terminal`` what the
commands print, and --quiet; ``progress`` the progress line; ``types`` and ``options`` the
parameters commands share; every other module holds commands (``cli`` registers them).
"""
