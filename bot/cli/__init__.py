"""The `wanbot` command line: argument parsing (`main`), the subcommands (`commands`, `serve`)
and the terminal progress bar."""
