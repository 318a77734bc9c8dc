"""Command builders: pure functions returning the exact token lists Kamal 2.11 runs.

Tokens carry their own quoting (Kamal's ``escape_shell_value``) and are joined with spaces,
so a rendered command matches Kamal's byte for byte.
"""
