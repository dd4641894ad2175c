"""User-facing errors: one line saying what went wrong and how to fix it."""


class UserError(Exception):
    """Bad input from the user (spec, file, arguments). The CLI prints it and exits 2."""

    exit_code = 2
