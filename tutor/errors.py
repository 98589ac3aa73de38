"""The one exception the command line turns into a clear line instead of a traceback."""


class UserError(Exception):
    """Something the user can fix: a wrong argument, a missing file, a broken lesson."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code
