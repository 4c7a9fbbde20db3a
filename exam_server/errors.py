"""The one domain error: bad input or a refused action, named by a message-catalogue key.

Raised before anything is changed (or with the transaction rolled back), and shown to the user in their
language by the web layer or the CLI.
"""


class UserError(Exception):
    def __init__(self, key: str, status: int = 400, **values):
        super().__init__(key)
        self.key, self.status, self.values = key, status, values
