from . import encoders, heads, losses, necks, recognizers  # noqa: F401
