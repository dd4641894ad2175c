"""The `evalkit` subcommands, one module per group; each adds its parsers with `add_parsers`.
Heavy libraries are imported inside the command functions, so `evalkit --help` is instant."""
